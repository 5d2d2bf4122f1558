"""Where an eager decode token's time goes (a one-off CLI call decodes eagerly): the weights streamed once (the memory-read
limit), the products alone on packed weights in decode order, and the whole token through the model, side by side in
rounds on the same machine, GPT-2 124M (random weights) in bf16, one token at position 128 of the cache.

    python bench/bench_decode_parts.py              # --rounds 5 --tokens 20
    python bench/bench_decode_parts.py --preset tiny --rounds 1

Each round times, in turn: the stream (bench_sampling's `stream_time`), the products (each `nn.Linear`'s packed oneDNN
product, `torch.ops.mkldnn._linear_pointwise`, on a zero input of its width), and the token (the forward of chapter 07's
`packed_model` over a KV cache). It prints each against the stream, and the fixed cost of one packed product (a 48 x 48
one: no data to speak of)."""
import argparse, statistics, time, warnings
import torch
from transformers import GPT2Config, GPT2LMHeadModel
from gpt_nbdev.model import GPT, GPTConfig
from gpt_nbdev.sampling import _linears, _pack, packed_model
from _common import machine, load
from bench_sampling import decode_bytes, stream_time

def per_call(f, n:int)->float:
    "Seconds per call of `f`, over `n` calls after one untimed"
    f(); t = time.perf_counter()
    for _ in range(n): f()
    return (time.perf_counter() - t) / n

def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--preset', default='gpt2', help='a GPTConfig preset (default gpt2: 124M)')
    p.add_argument('--rounds', type=int, default=5, help='rounds of the three timings, in turn')
    p.add_argument('--tokens', type=int, default=20, help='calls timed per measurement')
    a = p.parse_args()
    warnings.filterwarnings('ignore')
    torch.manual_seed(0)
    cfg = GPTConfig.from_preset(a.preset, **({} if a.preset.startswith('gpt2') else {'vocab_size': 50257}))
    hf = GPT2LMHeadModel(GPT2Config(vocab_size=cfg.vocab_size, n_positions=cfg.block_size, n_embd=cfg.n_embd,
                                    n_layer=cfg.n_layer, n_head=cfg.n_head))
    model = GPT.from_hf(hf).eval().to(torch.bfloat16)
    weights, linears = decode_bytes(model), _linears(model)
    packed, net = _pack(linears), packed_model(model)
    xs = [torch.zeros(1, m.in_features, dtype=torch.bfloat16) for m in linears]
    def products():
        for x, m in zip(xs, linears): torch.ops.mkldnn._linear_pointwise(x, packed[id(m.weight)], m.bias, 'none', [], '')
    cache, idx, at = model.new_kv_cache(1, cfg.block_size), torch.zeros(1, 1, dtype=torch.long), min(128, cfg.block_size - 1)
    def token():
        cache.pos = at; net(idx, kv_cache=cache)
    w, x = torch.randn(48, 48).bfloat16(), torch.randn(1, 48).bfloat16()
    small = torch.ops.mkldnn._reorder_linear_weight(w, 1)
    print(f'machine: {machine(torch.device("cpu"))}; {load()}', flush=True)
    rows = []
    with torch.inference_mode():
        for r in range(a.rounds):
            s, pr, tk = stream_time(weights, torch.device('cpu')), per_call(products, a.tokens), per_call(token, a.tokens)
            rows.append((s, pr, tk))
            print(f'round {r + 1}: stream {s * 1e3:.2f} ms, products {pr * 1e3:.2f} ms, token {tk * 1e3:.2f} ms', flush=True)
        fixed = statistics.median(per_call(lambda: torch.ops.mkldnn._linear_pointwise(x, small, None, 'none', [], ''), 2000)
                                  for _ in range(3))
    nbytes = sum(t.numel() * 4 for t in weights)
    s, pr, tk = (statistics.median(v) for v in zip(*rows))
    print(f'\n{cfg.n_layer} layers x {cfg.n_embd}, bf16, one token at position {at}; medians of {a.rounds} rounds:')
    print(f'weights streamed once: {nbytes / 1e6:.0f} MB in {s * 1e3:.2f} ms = {nbytes / s / 1e9:.1f} GB/s')
    print(f'the {len(linears)} products alone: {pr * 1e3:.2f} ms ({statistics.median(r[0] / r[1] for r in rows):.0%} of the stream\'s speed)')
    print(f'the whole token: {tk * 1e3:.2f} ms ({statistics.median(r[0] / r[2] for r in rows):.0%}); beyond the products: '
          f'{(tk - pr) * 1e3:.2f} ms')
    print(f'fixed cost of one packed product (48 x 48): {fixed * 1e6:.1f} us, x {len(linears)} = {fixed * len(linears) * 1e3:.2f} ms a token')

if __name__ == '__main__': main()
