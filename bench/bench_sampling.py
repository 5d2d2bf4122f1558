"""Decoding speed at batch 1, against transformers and against the memory-read limit, side by side in one run.

    python bench/bench_sampling.py                      # gpt2 preset (124M), 32-token prompt, 256 new tokens, CPU
    python bench/bench_sampling.py --device cuda        # the same on a GPU: compiled = CUDA graphs; also transformers' static cache
    python bench/bench_sampling.py --preset tiny --new 32 --reps 1    # a quick smoke run

Variants: transformers' `GPT2LMHeadModel.generate` (greedy, its KV cache) in fp32 (the reference) and bf16; our `generate`
eager and compiled (a static cache and a compiled one-token step: frozen weights on a CPU, CUDA graphs on a GPU) in fp32
and bf16; weight-only int8 through torchao (if installed), compiled; and **the default path**: the model in the precision
`--dtype auto` gives (as the CLI loads it) and `generate` with its defaults (`compile='auto'`), after as many warm-up
calls as a long-lived CLI process (`--interactive`) makes before compiling (see `compile_pays` in the sampling chapter),
greedy and also sampled as the CLI samples by default (top-k 200, temperature 0.8: the cost of drawing a token is in it).
The widget takes another way to the same compiled step (it starts compiling in the background when it is created).

The memory-read limit: a decode step reads every weight once (all parameters but the tables it looks up one row of: the
position table, and the token table unless it is the tied head). Streaming those bytes once, in their dtype (a sum over every tensor's bytes viewed as float32: the fastest
reduction, reading each byte once), takes the time that bounds a token; its inverse is the limit in tokens/s. It is
measured in every round, between the variants, and each variant is reported against the limit for its weights' dtype.

Tokens/s: new tokens over the time of the whole call (prefill included); the median of --reps rounds after warm-up, the
variants interleaved so that they share the machine's noise. Ratios (against transformers, against the limit) are the
median over rounds of each round's ratio, so that a machine whose speed drifts between rounds does not bias them. Each variant's greedy tokens are compared with
transformers' fp32 ones; where they part, the reference's margin between the two tokens is shown against the variant's
largest logit error at that point (a margin below twice the error is a near tie that the precision may flip).
Compiled variants also report the compile cost and the break-even: compile seconds over the time saved per token."""
import argparse, copy, statistics, sys, time, warnings
import torch
from transformers import GPT2Config, GPT2LMHeadModel
from transformers.utils import logging as hf_logging
from gpt_nbdev.core import rel_err, fast_dtype
from gpt_nbdev.model import GPT, GPTConfig
from gpt_nbdev.sampling import (generate, compiled_ready, cache_slots, sampling_for, decoding_dtype, bf16_decode_speedup, generation_threads,
                                 threads_for, COMPILE_AFTER)
from _common import machine, load, sync

def name_of(dt): return {torch.float32: 'fp32', torch.bfloat16: 'bf16', torch.float16: 'fp16', torch.int8: 'int8'}[dt]

def decode_bytes(model)->list:
    "The weights a decode step reads, as flat float32 views of their bytes (tables looked up one row a token left out; tied tensors once)"
    seen, out, head = set(), [], id(model.lm_head.weight)
    for name, p in model.named_parameters():
        if id(p) in seen or (p.dim() == 2 and name.startswith('transformer.') and 'transformer.h.' not in name and id(p) != head): continue
        seen.add(id(p))
        t = getattr(p, 'qdata', p.data)             # torchao's int8 tensors keep their bytes in `qdata`
        raw = t.contiguous().view(-1).view(torch.uint8)
        out.append(raw[:raw.numel() // 4 * 4].view(torch.float32))
        if hasattr(p, 'scale'): out.append(p.scale.float().view(-1))   # and a scale per output channel
    return out

def stream_time(tensors, device, reps=3)->float:
    "Seconds to read every byte of `tensors` once (best of `reps`)"
    best = float('inf')
    for _ in range(reps):
        sync(device); t = time.perf_counter()
        for x in tensors: x.sum()
        sync(device); best = min(best, time.perf_counter() - t)
    return best

def int8_copy(model):
    "A copy of `model` with torchao's weight-only int8 linear layers (a scale per output channel); None without torchao"
    try: from torchao.quantization import quantize_, Int8WeightOnlyConfig
    except ImportError: return None
    q = copy.deepcopy(model); quantize_(q, Int8WeightOnlyConfig())
    return q

def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--preset', default='gpt2', help='a GPTConfig preset (default gpt2: 124M)')
    p.add_argument('--prompt_len', type=int, default=32)
    p.add_argument('--new', type=int, default=256, help='new tokens per call')
    p.add_argument('--reps', type=int, default=3, help='timed rounds (median reported)')
    p.add_argument('--nocache_reps', type=int, default=0, help="timed runs of the (slow) no-cache variant (nanoGPT's way); 0 skips it")
    p.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    p.add_argument('--wte_std', type=float, default=None,
                   help='scale the random token embedding (and tied head) to this std: larger logits, fewer near ties (default: init, 0.02)')
    p.add_argument('--only', default=None, help='comma-separated variant keys to run (default all): hf32 hf16 e32 e16 c32 c16 int8 default sampled nocache hfstatic')
    a = p.parse_args()
    warnings.filterwarnings('ignore'); hf_logging.set_verbosity_error()
    dev = torch.device(a.device)
    if dev.type == 'cuda' and not torch.cuda.is_available():
        print('error: --device cuda, but no CUDA GPU is visible: use --device cpu', file=sys.stderr); sys.exit(2)
    torch.manual_seed(0)
    cfg = GPTConfig.from_preset(a.preset, **({} if a.preset.startswith('gpt2') else {'vocab_size': 50257}))
    hf = GPT2LMHeadModel(GPT2Config(vocab_size=cfg.vocab_size, n_positions=cfg.block_size, n_embd=cfg.n_embd,
                                    n_layer=cfg.n_layer, n_head=cfg.n_head)).eval()
    if a.wte_std:
        with torch.no_grad(): hf.transformer.wte.weight.mul_(a.wte_std / hf.transformer.wte.weight.std())
    low = torch.bfloat16 if dev.type == 'cpu' or torch.cuda.is_bf16_supported() else torch.float16
    ours = lambda dt: GPT.from_hf(hf).eval().to(dev, dt)
    hf_low = GPT2LMHeadModel(hf.config).eval(); hf_low.load_state_dict(hf.state_dict()); hf_low.to(dev, low)
    hf.to(dev)
    prompt = torch.randint(0, cfg.vocab_size, (1, a.prompt_len), device=dev)
    models = {'e32': ours(torch.float32), 'e16': ours(low)}
    measured = dev.type == 'cpu' and fast_dtype(dev) is torch.bfloat16    # where `--dtype auto` times bf16 against float32
    with threads_for(generation_threads(models['e32'])):    # what `--dtype auto` loads (the CLI, the widget), under their threads
        auto = decoding_dtype(models['e32'])
        print(f'--dtype auto decodes in {name_of(auto)}' + (f" (bf16's products measured {bf16_decode_speedup(models['e32']):.2f}x float32's)" if measured else ''))
    models['c32'], models['c16'], models['default'] = ours(torch.float32), ours(low), ours(auto)

    def hf_gen(m, n, **kw):
        with torch.inference_mode():
            return m.generate(prompt, attention_mask=torch.ones_like(prompt), max_new_tokens=n, min_new_tokens=n,
                              do_sample=False, pad_token_id=0, use_cache=True, **kw)
    V = []   # key, name, weights dtype, function(n) -> tokens, model (ours) for the logit check
    V.append(('hf32', 'transformers generate (KV cache)', torch.float32, lambda n: hf_gen(hf, n), None))
    V.append(('hf16', 'transformers generate (KV cache)', low, lambda n: hf_gen(hf_low, n), None))
    if dev.type == 'cuda':   # transformers' own fast path on a GPU: a static cache, its forward compiled by generate
        V.append(('hfstatic', 'transformers, static cache + compile', low, lambda n: hf_gen(hf_low, n, cache_implementation='static'), None))
    V.append(('e32', 'ours, eager KV cache', torch.float32, lambda n: generate(models['e32'], prompt, n, temperature=0, compile=False), models['e32']))
    V.append(('e16', 'ours, eager KV cache', low, lambda n: generate(models['e16'], prompt, n, temperature=0, compile=False), models['e16']))
    step = 'CUDA graphs' if dev.type == 'cuda' else 'frozen'
    V.append(('c32', f'ours, compiled step ({step})', torch.float32, lambda n: generate(models['c32'], prompt, n, temperature=0, compile=True), models['c32']))
    V.append(('c16', f'ours, compiled step ({step})', low, lambda n: generate(models['c16'], prompt, n, temperature=0, compile=True), models['c16']))
    q8 = int8_copy(ours(low)) if a.only is None or 'int8' in a.only else None
    if q8 is not None:
        models['int8'] = q8
        V.append(('int8', 'ours, int8 weights (torchao), compiled', torch.int8, lambda n: generate(q8, prompt, n, temperature=0, compile=True), q8))
    else: print('int8: skipped (torchao is not installed: pip install torchao)', file=sys.stderr)
    V.append(('default', "ours, the CLI's default path", auto, lambda n: generate(models['default'], prompt, n, temperature=0), models['default']))
    V.append(('sampled', "ours, default path, the CLI's sampling", auto, lambda n: generate(models['default'], prompt, n, sampling_for(), seed=0), None))
    if a.nocache_reps:
        V.append(('nocache', 'ours, no cache (nanoGPT)', torch.float32, lambda n: generate(models['e32'], prompt, n, temperature=0, use_cache=False), models['e32']))
    if a.only: V = [v for v in V if v[0] in a.only.split(',') or v[0] == 'hf32']

    weights = {torch.float32: decode_bytes(models['e32']), low: decode_bytes(models['e16'])}
    if q8 is not None: weights[torch.int8] = decode_bytes(q8)
    if dev.type == 'cuda': weights = {dt: [torch.cat(ts)] for dt, ts in weights.items()}   # one read: a GPU streams 250 MB faster than it launches 150 kernels
    nbytes = {dt: sum(t.numel() * 4 for t in ts) for dt, ts in weights.items()}
    print(f'machine: {machine(dev)}; {load()}', flush=True)

    outs, first, times, limits = {}, {}, {v[0]: [] for v in V}, {dt: [] for dt in weights}
    for v in list(V):                                                 # warm up (and compile) once each
        key, name, dt, f, m = v
        calls = 0
        try:
            while True:                                               # the default path: as a long-lived process would
                sync(dev); t0 = time.perf_counter(); outs[key] = f(a.new); sync(dev); calls += 1
                first.setdefault(key, time.perf_counter() - t0)
                if key != 'default' or compiled_ready(m, 1, cache_slots(m, a.prompt_len + a.new)): break
                if calls * a.new >= COMPILE_AFTER.get(dev.type, 0) + a.new: break   # it would have compiled by now
        except Exception as e:                                        # report and go on: a GPU run is not easily repeated
            if key == 'hf32': raise
            print(f'{name} {name_of(dt)}: failed ({type(e).__name__}: {str(e)[:300]}); left out', file=sys.stderr, flush=True)
            V.remove(v); del times[key]; continue
        if key == 'default': first['default_calls'] = calls
        print(f'warm-up: {name} {name_of(dt)}: {first[key]:.1f} s' + (f' ({calls} calls)' if key == 'default' else ''), file=sys.stderr, flush=True)
    for r in range(a.reps):
        for dt, ts in weights.items(): limits[dt].append(stream_time(ts, dev))
        for key, name, dt, f, m in V:
            if key == 'nocache' and r >= a.nocache_reps: continue
            sync(dev); t0 = time.perf_counter(); f(a.new); sync(dev); times[key].append(time.perf_counter() - t0)
            print(f'round {r + 1}: {name} {name_of(dt)}: {a.new / times[key][-1]:.1f} tokens/s', file=sys.stderr, flush=True)

    tps = {k: a.new / statistics.median(ts) for k, ts in times.items()}
    limit = {dt: 1 / statistics.median(ts) for dt, ts in limits.items()}
    def ratio(key, of):   # the median over rounds of this round's key / this round's `of`: the machine's drift cancels
        other = (lambda r: 1 / limits[of][r]) if isinstance(of, torch.dtype) else (lambda r: a.new / times[of][r])
        return statistics.median(a.new / t / other(r) for r, t in enumerate(times[key]))
    ref = outs['hf32'][0, a.prompt_len:].tolist()
    seq = torch.tensor([prompt[0].tolist() + ref], device=dev)
    with torch.inference_mode(): ref_logits = models['e32'](seq)[0][0].float()    # fp32 logits along the reference tokens

    def agreement(key, m):
        if key == 'sampled': return f'n/a (sampled: top-k {sampling_for().top_k}, temperature {sampling_for().temperature})'
        got = outs[key][0, a.prompt_len:].tolist()
        k = next((i for i, (x, y) in enumerate(zip(got, ref)) if x != y), None)
        if k is None: return 'yes'
        if m is None: return f'first {k} of {len(ref)}'
        with torch.inference_mode(): lg = m(seq[:, :a.prompt_len + k])[0][0, -1].float()
        r32 = ref_logits[a.prompt_len + k - 1]
        margin, err = (r32[ref[k]] - r32[got[k]]).item(), (lg - r32).abs().max().item()
        return f'first {k} of {len(ref)}: margin {margin:.3f} vs error {err:.3f}' + (' (near tie)' if margin <= 2 * err else '')

    print(f'\n{a.preset} ({models["e32"].num_params() / 1e6:.0f}M params, random weights{f", wte std {a.wte_std}" if a.wte_std else ""}), '
          f'batch 1, {a.prompt_len}-token prompt, {a.new} new tokens, greedy; {machine(dev)}; {load()}')
    print('memory-read limit (stream the weights a token reads once): ' + ', '.join(
        f'{name_of(dt)} {nbytes[dt] / 1e6:.0f} MB in {1e3 / limit[dt]:.1f} ms = {nbytes[dt] * limit[dt] / 1e9:.1f} GB/s -> {limit[dt]:.1f} tokens/s'
        for dt in weights) + '\n')
    print(f"| {'decoding':40} | {'weights':7} | {'tokens/s':>8} | {'vs transformers fp32':>20} | {'vs limit':>8} | {'same greedy tokens as transformers fp32':40} |")
    print(f"|{'-' * 42}|{'-' * 9}|{'-' * 9}:|{'-' * 21}:|{'-' * 9}:|{'-' * 42}|")
    for key, name, dt, f, m in V:
        lim = f'{ratio(key, dt):7.0%}' if dt in limit else '    n/a'
        extra = ''
        if key.startswith('c') or key in ('int8', 'default'):
            eager = 'e32' if dt == torch.float32 else 'e16'
            saved = 1 / tps[eager] - 1 / tps[key] if eager in tps else 0
            cost = first[key] - statistics.median(times[key])
            if key == 'default': extra = f"; compiled after {first['default_calls']} calls" if compiled_ready(m, 1, cache_slots(m, a.prompt_len + a.new)) else '; eager'
            elif saved > 0: extra = f'; compile {cost:.0f} s, repaid after {cost / saved:,.0f} tokens'
        print(f"| {name:40} | {name_of(dt):7} | {tps[key]:8.1f} | {ratio(key, 'hf32'):19.2f}x | {lim:>8} | {agreement(key, m) + extra:40} |")
    d = tps.get('default')
    if d: print(f"\ndefault path: {ratio('default', 'hf32'):.2f}x transformers fp32 (target >= 2x), {ratio('default', auto):.0%} of the {name_of(auto)} "
          f"memory-read limit (target >= 70%); {machine(dev)}")
    if tps.get('sampled'): print(f"sampled as the CLI samples: {tps['sampled']:.1f} tokens/s, {ratio('sampled', auto):.0%} of the limit")
    with torch.inference_mode():
        full = models['e32'](prompt)[0].float()
        for key in ('e16', 'int8'):
            if key in models:
                half = models[key](prompt)[0].float()
                print(f'{key} weights vs fp32, logits over the prompt: relative error {rel_err(half, full):.2e}, '
                      f'max abs error {(half - full).abs().max().item():.3f} (logit std {full.std().item():.3f}), '
                      f'same argmax at {(half.argmax(-1) == full.argmax(-1)).float().mean().item():.0%} of positions')

if __name__ == '__main__': main()
