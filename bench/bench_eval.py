"""Evaluation speed and accuracy: whole-split loss (`token_nlls`, the engine of `evaluate_tokens`) in float32 against bfloat16 autocast, side by side.

    python bench/bench_eval.py                      # presets small, mini and gpt2 (124M), random weights
    python bench/bench_eval.py --presets small --tokens 20000

For each preset: tokens/s in fp32 and under bf16 autocast (the median of --reps runs, the two interleaved so that they
share the machine's noise), the speed-up, and the relative difference of the loss. Random weights give near-uniform
logits, so the loss difference here is a lower bound; the chapter (nbs/09_eval.ipynb) measures it on trained models."""
import argparse, statistics, time
import numpy as np
import torch
from gpt_nbdev.model import GPT, GPTConfig
from gpt_nbdev.core import fast_dtype
from gpt_nbdev.eval import token_nlls
from _common import machine, sync

def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--presets', default='small,mini,gpt2', help='GPTConfig presets, comma-separated')
    p.add_argument('--tokens', type=int, default=None, help='tokens to evaluate (default: 16 windows of block_size)')
    p.add_argument('--batch_size', type=int, default=8)
    p.add_argument('--reps', type=int, default=3)
    p.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    a = p.parse_args()
    dev = torch.device(a.device)
    print(f"machine: {machine(dev)}; bf16 native: {fast_dtype(dev) == torch.bfloat16}")
    print(f"{'preset':>7} {'params':>7} {'tokens':>7} {'fp32 tok/s':>10} {'bf16 tok/s':>10} {'speed-up':>8} {'loss rel diff':>13}")
    for name in a.presets.split(','):
        torch.manual_seed(0)
        cfg = GPTConfig.from_preset(name, vocab_size=50257 if name.startswith('gpt2') else 257)
        model = GPT(cfg).to(dev).eval()
        n = a.tokens or 16 * cfg.block_size
        toks = np.random.default_rng(0).integers(0, cfg.vocab_size, n)
        def loss(dtype): return np.concatenate([nll for *_, nll in token_nlls(model, toks, batch_size=a.batch_size, device=dev, dtype=dtype)]).mean()
        dtypes = (torch.float32, torch.bfloat16)
        for dt in dtypes: loss(dt)                                                     # warm-up: kernels for these shapes
        times, losses = {dt: [] for dt in dtypes}, {}
        for _ in range(a.reps):
            for dt in dtypes:
                sync(dev); t = time.perf_counter()
                losses[dt] = loss(dt)
                sync(dev); times[dt].append(time.perf_counter() - t)
        t32, t16 = (statistics.median(times[dt]) for dt in dtypes)
        print(f"{name:>7} {model.num_params() / 1e6:>6.1f}M {n:>7,} {n / t32:>10,.0f} {n / t16:>10,.0f} {t32 / t16:>7.2f}x "
              f"{abs(losses[torch.bfloat16] / losses[torch.float32] - 1):>13.1e}")

if __name__ == '__main__': main()
