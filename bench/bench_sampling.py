"""Decoding speed at batch 1: our `generate` (KV cache, fp32 and bf16, no cache, static cache + compiled step) against
transformers' `GPT2LMHeadModel.generate` (greedy, its KV cache) on the same random weights, side by side in one run.

    python bench/bench_sampling.py                      # gpt2 preset (124M), 32-token prompt, 256 new tokens
    python bench/bench_sampling.py --preset tiny --new 64 --reps 1    # a quick smoke run

Tokens/s: new tokens divided by the time of the whole call (prefill included); the median of --reps runs after one
warm-up run (which also compiles), the variants interleaved so that they share the machine's noise. Also reported: whether the greedy tokens equal transformers' and the
logit error that bf16 weights introduce (relative to fp32, over the prompt)."""
import argparse, statistics, sys, time, warnings
import torch
from transformers import GPT2Config, GPT2LMHeadModel
from transformers.utils import logging as hf_logging
from gpt_nbdev.core import rel_err, fast_dtype
from gpt_nbdev.model import GPT, GPTConfig
from gpt_nbdev.sampling import generate
from _common import machine, sync

def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--preset', default='gpt2', help='a GPTConfig preset (default gpt2: 124M)')
    p.add_argument('--prompt_len', type=int, default=32)
    p.add_argument('--new', type=int, default=256, help='new tokens per call')
    p.add_argument('--reps', type=int, default=3, help='timed runs per variant (median reported)')
    p.add_argument('--nocache_reps', type=int, default=1, help='timed runs of the (slow) no-cache variant; 0 skips it')
    p.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    p.add_argument('--compile', action=argparse.BooleanOptionalAction, default=True,
                   help='also time the static cache + compiled step (default; --no-compile skips it)')
    a = p.parse_args()
    warnings.filterwarnings('ignore'); hf_logging.set_verbosity_error()
    dev = torch.device(a.device)
    torch.manual_seed(0)
    cfg = GPTConfig.from_preset(a.preset, **({} if a.preset.startswith('gpt2') else {'vocab_size': 50257}))
    hf = GPT2LMHeadModel(GPT2Config(vocab_size=cfg.vocab_size, n_positions=cfg.block_size, n_embd=cfg.n_embd,
                                    n_layer=cfg.n_layer, n_head=cfg.n_head)).eval()
    ours = GPT.from_hf(hf).eval()
    low = fast_dtype(dev)                       # the low-precision dtype to compare: bf16 (fp16 on GPUs without bf16),
    if low == torch.float32: low = torch.bfloat16   # and bf16 even where fast_dtype would stay in float32
    models = {('hf', torch.float32): hf.to(dev), ('ours', torch.float32): ours.to(dev)}
    models[('hf', low)] = GPT2LMHeadModel(hf.config).eval().to(dev)
    models[('hf', low)].load_state_dict(hf.state_dict()); models[('hf', low)].to(low)
    models[('ours', low)] = GPT.from_hf(hf).eval().to(dev, low)
    prompt = torch.randint(0, cfg.vocab_size, (1, a.prompt_len), device=dev)

    def hf_gen(m, n):
        with torch.inference_mode():
            return m.generate(prompt, attention_mask=torch.ones_like(prompt), max_new_tokens=n, min_new_tokens=n,
                              do_sample=False, pad_token_id=0, use_cache=True)
    variants = [  # name, dtype, function(n) -> tokens, timed runs
        ('transformers generate (KV cache)', torch.float32, lambda n: hf_gen(models[('hf', torch.float32)], n), a.reps),
        ('ours, KV cache', torch.float32, lambda n: generate(models[('ours', torch.float32)], prompt, n, temperature=0), a.reps),
        ('transformers generate (KV cache)', low, lambda n: hf_gen(models[('hf', low)], n), a.reps),
        ('ours, KV cache', low, lambda n: generate(models[('ours', low)], prompt, n, temperature=0), a.reps)]
    if a.nocache_reps:
        variants.append(('ours, no cache (nanoGPT)', torch.float32, lambda n: generate(
            models[('ours', torch.float32)], prompt, n, temperature=0, use_cache=False), a.nocache_reps))
    if a.compile:
        for dt in (torch.float32, low):
            variants.append(('ours, static cache + compiled step', dt, lambda n, dt=dt: generate(
                models[('ours', dt)], prompt, n, temperature=0, compile=True), a.reps))

    outs, times, warm = {}, {i: [] for i in range(len(variants))}, {}
    for i, (name, dt, f, reps) in enumerate(variants):                  # warm up (and compile) once each
        t0 = time.perf_counter(); outs[i] = f(a.new); sync(dev); warm[i] = time.perf_counter() - t0
        print(f'warm-up: {name} {str(dt).split(".")[-1]}: {warm[i]:.1f} s', file=sys.stderr, flush=True)
    for r in range(max(v[3] for v in variants)):
        for i, (name, dt, f, reps) in enumerate(variants):
            if r >= reps: continue
            sync(dev); t0 = time.perf_counter(); f(a.new); sync(dev); times[i].append(time.perf_counter() - t0)
            print(f'run {r + 1}: {name} {str(dt).split(".")[-1]}: {a.new / times[i][-1]:.1f} tokens/s', file=sys.stderr, flush=True)

    ref = outs[0][0, a.prompt_len:].tolist()
    ref_tps = a.new / statistics.median(times[0])
    print(f'\n{a.preset} ({ours.num_params() / 1e6:.0f}M params, random weights), batch 1, {a.prompt_len}-token prompt, '
          f'{a.new} new tokens, greedy; {machine(dev)}\n')
    print(f"| {'decoding':38} | {'dtype':8} | {'runs':>4} | {'tokens/s':>8} | {'vs transformers fp32':>20} | {'same tokens as transformers fp32':32} |")
    print(f"|{'-' * 40}|{'-' * 10}|{'-' * 5}:|{'-' * 9}:|{'-' * 21}:|{'-' * 34}|")
    for i, (name, dt, f, reps) in enumerate(variants):
        tps = a.new / statistics.median(times[i])
        got = outs[i][0, a.prompt_len:].tolist()
        agree = next((k for k, (x, y) in enumerate(zip(got, ref)) if x != y), min(len(got), len(ref)))
        same = 'yes' if agree == min(len(got), len(ref)) else f'first {agree} of {min(len(got), len(ref))}'
        extra = f' (first call {warm[i]:.1f} s: compile)' if 'compiled' in name else ''
        print(f"| {name:38} | {str(dt).split('.')[-1]:8} | {reps:4d} | {tps:8.1f} | {tps / ref_tps:19.2f}x | {same + extra:32} |")
    with torch.inference_mode():
        full = models[('ours', torch.float32)](prompt)[0].float()
        half = models[('ours', low)](prompt)[0].float()
    print(f'\n{str(low).split(".")[-1]} weights vs fp32, logits over the prompt: relative error {rel_err(half, full):.2e}, '
          f'max abs error {(half - full).abs().max().item():.3f} (logit std {full.std().item():.3f}), '
          f'same argmax at {(half.argmax(-1) == full.argmax(-1)).float().mean().item():.0%} of positions')

if __name__ == '__main__': main()
