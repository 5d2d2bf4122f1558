#!/usr/bin/env python
"""What `--activation_checkpointing` saves and costs: GPT-2 124M (the `gpt2` preset, random weights) at context 1024 on
the CPU, one training step (forward and backward, float32) with and without recomputing the blocks.

  python bench/bench_activation_checkpointing.py [--batch 1] [--steps 2]

Memory, two ways, neither an RSS guess:
- saved for backward: the bytes of the tensors autograd keeps for the backward pass (`saved_tensors_hooks`), plus,
  with checkpointing, the block inputs `torch.utils.checkpoint` keeps (its own hooks hide what it saves from ours);
- peak allocated: the CPU allocator's events during the step (`torch.profiler`, profile_memory=True), summed in time
  order (each operator's own allocations net of its own frees): the most bytes live at once, over what was allocated
  before the step.
Time: the mean wall time of `--steps` timed steps after one warm-up step, each way.
"""
import argparse, time
import torch
from gpt_nbdev.model import GPT, GPTConfig, PRESETS
from gpt_nbdev.trainer import recompute_blocks
from _common import machine, load

def step(model, x, y):
    _, loss = model(x, y); loss.backward()
    for p in model.parameters(): p.grad = None

def saved_bytes(model, x, y)->int:
    "Bytes of the tensors saved for backward during one forward pass (each storage once)"
    seen = {}
    def pack(t):
        try: seen[t.untyped_storage().data_ptr()] = t.untyped_storage().nbytes()
        except Exception: pass
        return t
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t): _, loss = model(x, y)
    loss.backward()
    for p in model.parameters(): p.grad = None
    return sum(seen.values())

def peak_bytes(model, x, y)->int:
    "The most bytes the CPU allocator held at once during one step, over what it held before"
    from torch.profiler import profile, ProfilerActivity
    with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof: step(model, x, y)
    evs = sorted((e.time_range.start, e.self_cpu_memory_usage) for e in prof.events())   # each op's own net allocation, in time order
    live = peak = 0
    for _, b in evs: live += b; peak = max(peak, live)
    return peak

def timed(model, x, y, n)->float:
    step(model, x, y)                                                  # warm-up
    t = time.perf_counter()
    for _ in range(n): step(model, x, y)
    return (time.perf_counter() - t) / n

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--batch', type=int, default=1); ap.add_argument('--steps', type=int, default=2)
    a = ap.parse_args()
    print(machine('cpu')); print(load())
    torch.manual_seed(0)
    model = GPT(GPTConfig(**PRESETS["gpt2"])).train()
    T = model.config.block_size
    x = torch.randint(0, model.config.vocab_size, (a.batch, T)); y = torch.roll(x, -1, 1)
    blocks_in = model.config.n_layer * a.batch * T * model.config.n_embd * 4      # what checkpoint keeps: each block's input
    res = {}
    for name, on in (('plain', False), ('activation checkpointing', True)):
        recompute_blocks(model, on)
        saved = saved_bytes(model, x, y) + (blocks_in if on else 0)
        res[name] = (saved, peak_bytes(model, x, y), timed(model, x, y, a.steps))
        print(f'{name:25} saved for backward {res[name][0] / 2**20:8.0f} MiB | peak allocated {res[name][1] / 2**20:8.0f} MiB | '
              f'{res[name][2]:.2f} s per step', flush=True)
    (s0, p0, t0), (s1, p1, t1) = res.values()
    print(f'GPT-2 124M, context {T}, batch {a.batch}, float32: activation checkpointing keeps {s1 / s0:.1%} of the saved '
          f'activations ({(s0 - s1) / 2**20:,.0f} MiB less), peak allocated {p1 / p0:.1%} ({(p0 - p1) / 2**20:,.0f} MiB less), '
          f'step time x{t1 / t0:.2f}')
    print(load())
