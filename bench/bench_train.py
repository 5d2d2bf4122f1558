#!/usr/bin/env python
"""Training benchmarks for gpt_nbdev.trainer, each against a reference run side by side in the same process.

  python bench/bench_train.py throughput            # tokens/s and MFU: ours vs transformers' GPT2LMHeadModel
  python bench/bench_train.py quality --text PATH   # val loss per wall time on tinyshakespeare vs nanoGPT's CPU recipe
  python bench/bench_train.py gpu                   # GPT-2 124M (context 1024, bf16, compiled) tokens/s and MFU

throughput: a 30M-parameter GPT-2 (6 layers, 384 wide, context 256, batch 8, vocabulary 50304), trained with the same
step (`forward_backward`, gradient clipping, fused AdamW with decay on matrices only) as transformers' GPT2LMHeadModel
(the reference) and as our GPT, then through our real `Trainer` (data loading, logging and all). MFU is reported
against a peak this script measures and states (a large bfloat16 matmul on all threads), since CPUs publish none.
Machines are shared: the load average is printed before and after; compare ratios within one run.
"""
import argparse, contextlib, io, json, statistics, subprocess, sys, tempfile, time
from pathlib import Path
import numpy as np
import torch, torch.nn as nn, torch.nn.functional as F
from gpt_nbdev.core import cpu_has_bf16, resolve_dtype
from gpt_nbdev.model import GPT, GPTConfig
from gpt_nbdev.run import TrainConfig, read_metrics, peak_tflops
from gpt_nbdev.trainer import train, forward_backward, estimate_loss
from gpt_nbdev.data import TokenLoader
from _common import machine, load, sync

REPO = Path(__file__).resolve().parents[1]

def matmul_tflops(dtype, n=2048, reps=10, device='cpu')->float:
    "Measured throughput of an n x n x n matmul: the peak we state for MFU on a CPU"
    a, b = (torch.randn(n, n, dtype=dtype, device=device) for _ in range(2))
    for _ in range(3): a @ b
    sync(device); t = time.perf_counter()
    for _ in range(reps): a @ b
    sync(device)
    return 2 * n ** 3 * reps / (time.perf_counter() - t) / 1e12

# ---------------------------------------------------------------------------------------------------------- throughput
V, T, B, L, H, C = 50304, 256, 8, 6, 6, 384

class HFAdapter(nn.Module):
    "GPT2LMHeadModel behind our model's call: `model(x, y) -> (logits, loss)`, with the same loss computation"
    def __init__(self):
        super().__init__()
        from transformers import GPT2Config, GPT2LMHeadModel
        cfg = GPT2Config(vocab_size=V, n_positions=T, n_embd=C, n_layer=L, n_head=H, resid_pdrop=0.0, embd_pdrop=0.0,
                         attn_pdrop=0.0, activation_function='gelu_new', tie_word_embeddings=True)
        self.hf = GPT2LMHeadModel(cfg)
    def forward(self, x, y):
        logits = self.hf(x).logits
        return logits, F.cross_entropy(logits.float().view(-1, logits.size(-1)), y.reshape(-1))

def decay_groups(model, wd=0.1):   # the rule of GPT.param_groups, for any model
    ps = [p for p in model.parameters() if p.requires_grad]
    return [{'params': [p for p in ps if p.dim() >= 2], 'weight_decay': wd}, {'params': [p for p in ps if p.dim() < 2], 'weight_decay': 0.0}]

class Harness:
    "One model trained with the trainer's step; `run(n)` returns the seconds of each of n steps"
    def __init__(self, name, model, dtype, compile=False):
        self.name, self.dtype = name, dtype
        self.model = model
        self.net = torch.compile(model) if compile else model
        self.opt = torch.optim.AdamW(decay_groups(model), lr=6e-4, betas=(0.9, 0.95), fused=True)
        g = torch.Generator().manual_seed(0)
        self.batches = [(torch.randint(0, 50257, (B, T), generator=g), torch.randint(0, 50257, (B, T), generator=g)) for _ in range(4)]
        self.i, self.first = 0, None
    def autocast(self):
        return torch.autocast('cpu', dtype=self.dtype) if self.dtype != torch.float32 else contextlib.nullcontext()
    def step(self):
        loss = forward_backward(self.net, [self.batches[self.i % 4]], self.autocast)
        nn.utils.clip_grad_norm_(self.model.parameters(), 1.0)
        loss.item()
        self.opt.step(); self.opt.zero_grad(set_to_none=True); self.i += 1
    def run(self, n, warmup=2):
        for _ in range(warmup if self.first is None else 1):
            t = time.perf_counter(); self.step()
            if self.first is None: self.first = time.perf_counter() - t
        out = []
        for _ in range(n):
            t = time.perf_counter(); self.step(); out.append(time.perf_counter() - t)
        return out

def fake_prepared(d:Path, n_train=2_000_000, n_val=200_000)->Path:
    "A prepared directory of random GPT-2 token ids (throughput does not depend on the text)"
    d.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    rng.integers(0, 50257, n_train, dtype=np.uint16).tofile(d / 'train.bin')
    rng.integers(0, 50257, n_val, dtype=np.uint16).tofile(d / 'val.bin')
    (d / 'meta.json').write_text(json.dumps(dict(format=1, tokenizer='gpt2', vocab_size=50257, eot_token=50256, dtype='uint16',
                                                 train_tokens=n_train, val_tokens=n_val, source='random token ids (benchmark)')))
    return d

def trainer_steps(data, out, steps, compile=False, dtype='auto')->list:
    "Seconds per step of our real Trainer (from metrics.jsonl), the first steps (warm-up, compilation) left out"
    warm = 3 if compile else 2
    cfg = TrainConfig(data=str(data), out_dir=str(out), overwrite=True, n_layer=L, n_head=H, n_embd=C, block_size=T, batch_size=B,
                      max_iters=warm + steps, warmup_iters=0, lr=6e-4, min_lr=6e-4, eval_interval=10_000, eval_iters=1,
                      sample_tokens=0, progress=False, compile=compile, dtype=dtype)
    with contextlib.redirect_stdout(io.StringIO()): train(cfg)
    return [B * T / r['tok_s'] for r in read_metrics(out) if 'tok_s' in r][warm:]

def throughput(args):
    torch.manual_seed(0)
    print(f'machine: {machine()}\n{load()}')
    fp32_peak, bf16_peak = matmul_tflops(torch.float32), matmul_tflops(torch.bfloat16)
    peak = bf16_peak if cpu_has_bf16() else fp32_peak
    print(f'measured 2048^3 matmul: float32 {fp32_peak * 1e3:.0f} GFLOP/s, bfloat16 {bf16_peak * 1e3:.0f} GFLOP/s '
          f'(CPU bf16 instructions: {cpu_has_bf16()}); MFU below is against {peak * 1e3:.0f} GFLOP/s')
    auto = resolve_dtype('auto', torch.device('cpu'))
    gcfg = GPTConfig(vocab_size=V, block_size=T, n_layer=L, n_head=H, n_embd=C)
    with torch.device('meta'): fpt = GPT(gcfg).flops_per_token()
    harnesses = [Harness('transformers GPT2LMHeadModel, float32 (reference)', HFAdapter(), torch.float32),
                 Harness('transformers GPT2LMHeadModel, bf16 autocast', HFAdapter(), torch.bfloat16),
                 Harness('ours: GPT, float32', GPT(gcfg), torch.float32),
                 Harness(f'ours: GPT, {str(auto)[6:]} autocast', GPT(gcfg), auto)]
    if args.compile: harnesses.append(Harness(f'ours: GPT, {str(auto)[6:]}, torch.compile', GPT(gcfg), auto, compile=True))
    times = {h.name: [] for h in harnesses}
    tmp = tempfile.TemporaryDirectory(); data = fake_prepared(Path(tmp.name) / 'data')
    tr_names = ['ours: the Trainer (train(), auto dtype)'] + (['ours: the Trainer, --compile'] if args.compile else [])
    times.update({n: [] for n in tr_names})
    for r in range(args.rounds):                     # rounds interleave the runs, so that a burst of load hits all of them
        for h in (harnesses if r % 2 == 0 else harnesses[::-1]):
            times[h.name] += h.run(args.steps); print(f'  round {r + 1}: {h.name}: {statistics.median(times[h.name]) * 1e3:.0f} ms/step', flush=True)
        times[tr_names[0]] += trainer_steps(data, Path(tmp.name) / 'out', args.steps)
        if args.compile: times[tr_names[1]] += trainer_steps(data, Path(tmp.name) / 'out', args.steps, compile=True)
    ref = statistics.median(times[harnesses[0].name])
    print(f'\n{load()}\nGPT-2 {L} layers x {C}, context {T}, batch {B}, vocab {V}: {fpt / 6 / 1e6:.1f}M parameters (as 6N), '
          f'{fpt / 1e6:.0f} MFLOP per token; median of {args.steps} x {args.rounds} steps\n')
    print(f"| {'run':52} | tokens/s | ms/step | MFU   | vs reference |\n|{'-' * 54}|---------:|--------:|------:|-------------:|")
    for name, ts in times.items():
        s = statistics.median(ts); tok = B * T / s
        print(f'| {name:52} | {tok:8,.0f} | {s * 1e3:7.0f} | {fpt * tok / (peak * 1e12):5.1%} | {ref / s:11.2f}x |')
    comp = [h for h in harnesses if h.net is not h.model]
    if comp: print(f'\n(torch.compile: first step {comp[0].first:.0f} s, compilation included)')

# ------------------------------------------------------------------------------------------------------------- quality
def run_recipe(name, flags, out, nproc=1)->dict:
    "Time one training command end to end (process start to exit), then measure its model on fixed validation batches"
    cmd = ([sys.executable, '-m', 'torch.distributed.run', '--standalone', f'--nproc_per_node={nproc}'] if nproc > 1 else [sys.executable])
    cmd += [str(REPO / 'scripts' / 'train_ddp.py'), *flags, '--out_dir', str(out), '--overwrite', '--sample_tokens', '0', '--no-progress']
    t = time.perf_counter()
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=3600)
    wall = time.perf_counter() - t
    if p.returncode: sys.exit(f'{name} failed:\n{p.stderr[-2000:]}')
    recs = read_metrics(out)
    return dict(name=name, wall=wall, train_time=recs[-1].get('time'), val=[r['val_loss'] for r in recs if 'val_loss' in r][-1])

def nanogpt_split(text:Path, d:Path)->Path:
    "tinyshakespeare prepared as nanoGPT's shakespeare_char is: one sequence, the first 90% train, the last 10% validation"
    from gpt_nbdev.data import get_tokenizer
    enc = get_tokenizer('bytes')
    ids = np.array(enc.encode_ordinary(text.read_text()), dtype=np.uint16)
    n = int(0.9 * len(ids))
    d.mkdir(parents=True, exist_ok=True)
    ids[:n].tofile(d / 'train.bin'); ids[n:].tofile(d / 'val.bin')
    (d / 'meta.json').write_text(json.dumps(dict(format=1, tokenizer='bytes', vocab_size=enc.n_vocab, eot_token=enc.eot_token, dtype='uint16',
                                                 train_tokens=n, val_tokens=len(ids) - n, source=f'{text.name}, split as nanoGPT')))
    return d

def quality(args):
    print(f'machine: {machine()}\n{load()}')
    tmp = tempfile.TemporaryDirectory()
    # nanoGPT's split, so that its 1.88 is comparable (the data chapter holds out random 8 KB pieces instead: an easier
    # validation set, on which the same recipe scores about 0.1 lower)
    data = nanogpt_split(Path(args.text).resolve(), Path(tmp.name) / 'shakespeare-nanogpt-split')
    nano = ['--data', str(data), '--n_layer', '4', '--n_head', '4', '--n_embd', '128', '--block_size', '64', '--batch_size', '12',
            '--max_iters', '2000', '--lr', '1e-3', '--min_lr', '1e-4', '--warmup_iters', '100', '--beta2', '0.99', '--dropout', '0',
            '--eval_interval', '250', '--eval_iters', '20']
    runs = [('nanoGPT recipe, float32, 1 process', nano + ['--dtype', 'float32'], 1),
            ('nanoGPT recipe, auto dtype, 1 process', nano, 1),
            ('ours: configs/shakespeare_cpu.yaml', ['--config', str(REPO / 'configs' / 'shakespeare_cpu.yaml'), '--data', str(data)], args.nproc)]
    res = []
    for i, (name, flags, nproc) in enumerate(runs):
        r = run_recipe(name, flags, Path(tmp.name) / f'run{i}', nproc)
        # the same yardstick for every run: 200 fixed validation batches of 12 x 64 tokens
        m = GPT.load(Path(tmp.name) / f'run{i}').eval()
        vb = TokenLoader(data, 64, 12).val_batches(200)
        r['val200'] = estimate_loss(m, vb)
        res.append(r); print(f"  {name}: {r['wall']:.0f} s, val loss {r['val']:.4f} (its own eval), {r['val200']:.4f} (200 batches)", flush=True)
    print(f'\n{load()}\ntinyshakespeare, byte-level; anchor: nanoGPT reaches val loss 1.88 in about 70 s on 2 cores of the development machines\n')
    print(f"| {'run':40} | wall time (s) | val loss (own eval) | val loss (200 batches) |\n|{'-' * 42}|--------------:|--------------------:|-----------------------:|")
    for r in res: print(f"| {r['name']:40} | {r['wall']:13.0f} | {r['val']:19.4f} | {r['val200']:22.4f} |")

# ------------------------------------------------------------------------------------------------------------------ gpu
def gpu(args):
    "GPT-2 124M, context 1024, bf16, compiled, through the real Trainer on random token ids"
    if not torch.cuda.is_available(): sys.exit('no CUDA GPU here: the gpu benchmark needs one')
    print(f'machine: {machine()}')
    tmp = tempfile.TemporaryDirectory(); data = fake_prepared(Path(tmp.name) / 'data', 50_000_000, 1_000_000)
    peak = peak_tflops(torch.device('cuda'), torch.bfloat16, args.peak_tflops)      # --peak_tflops first, else a known GPU's
    cfg = TrainConfig(data=str(data), out_dir=str(Path(tmp.name) / 'out'), n_layer=12, n_head=12, n_embd=768, block_size=1024,
                      batch_size=args.batch_size, max_iters=args.steps + 5, warmup_iters=0, lr=6e-4, min_lr=6e-4, eval_interval=10_000,
                      eval_iters=1, sample_tokens=0, progress=False, compile=True, dtype='bfloat16', peak_tflops=peak)
    train(cfg)
    recs = [r for r in read_metrics(cfg.out_dir) if 'tok_s' in r][5:]
    tok = statistics.median(r['tok_s'] for r in recs)
    print(f'GPT-2 124M, context 1024, batch {args.batch_size}, bf16, compiled: {tok:,.0f} tokens/s, '           # the Trainer logs MFU
          + (f"MFU {statistics.median(r['mfu'] for r in recs):.1%} of {peak} TFLOP/s" if peak else 'MFU n/a (give --peak_tflops)'))

if __name__ == '__main__':
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest='what', required=True)
    t = sub.add_parser('throughput'); t.add_argument('--steps', type=int, default=6); t.add_argument('--rounds', type=int, default=2)
    t.add_argument('--no-compile', dest='compile', action='store_false')
    q = sub.add_parser('quality'); q.add_argument('--text', default=str(REPO.parent / 'shared' / 'data' / 'tinyshakespeare.txt'))
    q.add_argument('--nproc', type=int, default=2)
    g = sub.add_parser('gpu'); g.add_argument('--steps', type=int, default=20); g.add_argument('--batch_size', type=int, default=16)
    g.add_argument('--peak_tflops', type=float, default=None)
    args = p.parse_args()
    dict(throughput=throughput, quality=quality, gpu=gpu)[args.what](args)
