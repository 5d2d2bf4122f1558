#!/usr/bin/env python
"""Training benchmarks for gpt_nbdev.trainer, each against a reference run side by side in the same process.

  python bench/bench_train.py throughput            # tokens/s and MFU: ours vs transformers' GPT2LMHeadModel
  python bench/bench_train.py quality --text PATH   # val loss per wall time on tinyshakespeare vs nanoGPT's CPU recipe
  python bench/bench_train.py gpu                   # GPT-2 124M (context 1024, bf16, compiled) tokens/s and MFU
  python bench/bench_train.py race --text PATH --nanogpt DIR   # nanoGPT's own train.py vs ours, its CPU recipe, medians of 3 (--quick: plumbing)
  python bench/bench_train.py speedrun --text PATH --plot P --json J [--race --nanogpt DIR]   # chapter 15's ablations; --race: configs/speedrun_cpu.yaml vs nanoGPT

throughput: a 30M-parameter GPT-2 (6 layers, 384 wide, context 256, batch 8, vocabulary 50304), trained with the same
step (`forward_backward`, gradient clipping, fused AdamW with decay on matrices only) as transformers' GPT2LMHeadModel
(the reference) and as our GPT, then through our real `Trainer` (data loading, logging and all). MFU is reported
against a peak this script measures and states (a large bfloat16 matmul on all threads), since CPUs publish none.
The Trainer runs in a fresh process and, on a CPU, keeps freed memory (chapter 00's `keep_freed_memory`); the other runs
keep glibc's default, as a user's script would, unless `--keep-freed` gives them the Trainer's setting too.
Machines are shared: the load average is printed before and after; compare ratios within one run.
"""
import argparse, contextlib, json, statistics, subprocess, sys, tempfile, time
from pathlib import Path
import numpy as np
import torch, torch.nn as nn, torch.nn.functional as F
from gpt_nbdev.core import cpu_has_bf16, resolve_dtype, keep_freed_memory
from gpt_nbdev.model import GPT, GPTConfig
from gpt_nbdev.run import TrainConfig, read_metrics, peak_tflops, matmul_tflops
from gpt_nbdev.trainer import train, forward_backward, estimate_loss
from gpt_nbdev.data import TokenLoader
from _common import machine, load, require_file

REPO = Path(__file__).resolve().parents[1]

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
    def forward(self, x, y, return_logits=True):
        logits = self.hf(x).logits
        return logits if return_logits else None, F.cross_entropy(logits.float().view(-1, logits.size(-1)), y.reshape(-1))

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
    """Seconds per step of our real Trainer (from metrics.jsonl), the first steps (warm-up, compilation) left out. It runs in
    a fresh process, as a user runs it: the memory settings it makes for its process (chapter 00's `keep_freed_memory`)
    stay there, and do not change the reference runs in this one"""
    warm = 3 if compile else 2
    cfg = dict(data=str(data), out_dir=str(out), overwrite=True, n_layer=L, n_head=H, n_embd=C, block_size=T, batch_size=B,
               max_iters=warm + steps, warmup_iters=0, lr=6e-4, min_lr=6e-4, eval_interval=10_000, eval_iters=1,
               sample_tokens=0, progress=False, compile=compile, dtype=dtype)
    code = f'from gpt_nbdev.run import TrainConfig\nfrom gpt_nbdev.trainer import train\ntrain(TrainConfig(**{cfg!r}))'
    p = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True)
    if p.returncode: sys.exit(f'the Trainer failed:\n{p.stderr[-2000:]}')
    return [B * T / r['tok_s'] for r in read_metrics(out) if 'tok_s' in r][warm:]

def throughput(args):
    torch.manual_seed(0)
    print(f'machine: {machine()}\n{load()}')
    if args.keep_freed: print(f"the runs in this process keep freed memory as the Trainer does: {keep_freed_memory()}")
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
    rounds = []                                      # each round's median seconds a step, by run
    for r in range(args.rounds):                     # rounds interleave the runs, so that a burst of load hits all of them
        now = {}
        for h in (harnesses if r % 2 == 0 else harnesses[::-1]):
            now[h.name] = h.run(args.steps)
        now[tr_names[0]] = trainer_steps(data, Path(tmp.name) / 'out', args.steps)
        if args.compile: now[tr_names[1]] = trainer_steps(data, Path(tmp.name) / 'out', args.steps, compile=True)
        for name, ts in now.items():
            times[name] += ts; print(f'  round {r + 1}: {name}: {statistics.median(ts) * 1e3:.0f} ms/step', flush=True)
        rounds.append({name: statistics.median(ts) for name, ts in now.items()})
    ref = statistics.median(times[harnesses[0].name])
    print(f'\n{load()}\nGPT-2 {L} layers x {C}, context {T}, batch {B}, vocab {V}: {fpt / 6 / 1e6:.1f}M parameters (as 6N), '
          f'{fpt / 1e6:.0f} MFLOP per token; median of {args.steps} x {args.rounds} steps\n')
    print(f"| {'run':52} | tokens/s | ms/step | MFU   | vs reference |\n|{'-' * 54}|---------:|--------:|------:|-------------:|")
    for name, ts in times.items():
        s = statistics.median(ts); tok = B * T / s
        print(f'| {name:52} | {tok:8,.0f} | {s * 1e3:7.0f} | {fpt * tok / (peak * 1e12):5.1%} | {ref / s:11.2f}x |')
    comp = [h for h in harnesses if h.net is not h.model]
    if comp: print(f'\n(torch.compile: first step {comp[0].first:.0f} s, compilation included)')
    hf_bf16, bare_auto = harnesses[1].name, harnesses[3].name        # transformers in bf16; our bare step in the auto dtype
    def ratio(slow, fast)->str:   # the median over rounds of each round's ratio: the machine's speed drifts between rounds
        each = [r[slow] / r[fast] for r in rounds]
        return f"{statistics.median(each):.2f}x (rounds: {', '.join(f'{x:.2f}' for x in each)})"
    print(f"\nthe Trainer's default path / the bare {str(auto)[6:]} step: {ratio(bare_auto, tr_names[0])} "
          f"(target: within 10%, >= 0.90x); {machine()}")
    if args.compile: print(f"the Trainer --compile / transformers in bf16: {ratio(hf_bf16, tr_names[1])} (target >= 1.5x)")

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

# ---------------------------------------------------------------------------------------------------------------- race
NANOGPT = REPO.parent / 'shared' / 'nanogpt'
RECIPE_ITERS = 2000          # nanoGPT's CPU recipe (its README): 4 layers, 4 heads, 128 wide, context 64, batch 12, 2000 steps

def nanogpt_flags(iters:int)->list:
    "nanoGPT's CPU recipe on shakespeare_char, as its README gives it (lr 1e-3 -> 1e-4, warmup 100, beta2 0.99 from the config file)"
    return ['config/train_shakespeare_char.py', '--device=cpu', '--compile=False', '--eval_iters=20', '--log_interval=1',
            '--block_size=64', '--batch_size=12', '--n_layer=4', '--n_head=4', '--n_embd=128', f'--max_iters={iters}',
            f'--lr_decay_iters={iters}', '--dropout=0.0']

def our_recipe_flags(iters:int)->list:
    "The same recipe in our flags, and nothing else: every other setting is our default (--dtype auto, eval every 250, ...)"
    return ['--n_layer', '4', '--n_head', '4', '--n_embd', '128', '--block_size', '64', '--batch_size', '12', '--max_iters', str(iters),
            '--lr', '1e-3', '--min_lr', '1e-4', '--warmup_iters', '100', '--beta2', '0.99', '--dropout', '0']

def nanogpt_copy(text:Path, d:Path, src:Path=NANOGPT)->Path:
    "nanoGPT's source in a temporary folder `d` (never in the project), with `text` prepared as its shakespeare_char/prepare.py does"
    import pickle, shutil
    shutil.copytree(src, d, ignore=shutil.ignore_patterns('.git', 'out*', '__pycache__'))
    s = text.read_text(); chars = sorted(set(s)); stoi = {ch: i for i, ch in enumerate(chars)}
    ids, n = np.array([stoi[ch] for ch in s], dtype=np.uint16), int(len(s) * 0.9)
    data = d / 'data' / 'shakespeare_char'; data.mkdir(parents=True, exist_ok=True)
    ids[:n].tofile(data / 'train.bin'); ids[n:].tofile(data / 'val.bin')
    with open(data / 'meta.pkl', 'wb') as f: pickle.dump(dict(vocab_size=len(chars), itos=dict(enumerate(chars)), stoi=stoi), f)
    return d

def timed(cmd:list, cwd=None, name='run')->tuple:
    "(wall seconds from process start to exit, stdout) of a command"
    t = time.perf_counter()
    p = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=3600)
    wall = time.perf_counter() - t
    if p.returncode: sys.exit(f'{name} failed (exit {p.returncode}):\n{(p.stdout + p.stderr)[-3000:]}')
    return wall, p.stdout

def held_out_loss(logits_fn, ids:np.ndarray, T:int=64, batch:int=256)->float:
    "The yardstick for every model: mean next-character loss over the whole validation text cut into windows of T inputs"
    n = (len(ids) - 1) // T
    x = torch.from_numpy(ids[:n * T].astype(np.int64)).view(n, T)
    y = torch.from_numpy(ids[1:n * T + 1].astype(np.int64)).view(n, T)
    total = 0.0
    with torch.no_grad():
        for i in range(0, n, batch):
            total += F.cross_entropy(logits_fn(x[i:i + batch]).float().flatten(0, 1), y[i:i + batch].flatten(), reduction='sum').item()
    return total / (n * T)

def score_nanogpt(nano:Path, out:str='out-shakespeare-char')->float:
    "nanoGPT's saved model (its own model.py, from the temporary copy) on its validation split"
    import importlib.util
    spec = importlib.util.spec_from_file_location('nanogpt_model', nano / 'model.py'); mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    ck = torch.load(nano / out / 'ckpt.pt', map_location='cpu', weights_only=True)
    m = mod.GPT(mod.GPTConfig(**ck['model_args']))
    m.load_state_dict({k.removeprefix('_orig_mod.'): v for k, v in ck['model'].items()}); m.eval()
    ids = np.fromfile(nano / 'data' / 'shakespeare_char' / 'val.bin', dtype=np.uint16)
    return held_out_loss(lambda x: m(x, x)[0], ids)        # targets given: nanoGPT then returns every position's logits

def score_ours(out:Path, data:Path)->float:
    "Our saved model (the best checkpoint, as nanoGPT keeps its best) on the same validation text, byte by byte"
    m = GPT.load(out / 'best' if (out / 'best').exists() else out).eval()
    return held_out_loss(lambda x: m(x)[0], np.fromfile(data / 'val.bin', dtype=np.uint16))

def run_nanogpt(nano:Path, iters:int)->dict:
    import shutil
    shutil.rmtree(nano / 'out-shakespeare-char', ignore_errors=True)
    wall, out = timed([sys.executable, 'train.py', *nanogpt_flags(iters)], cwd=nano, name='nanoGPT')
    own = [float(l.split('val loss ')[1]) for l in out.splitlines() if 'val loss ' in l]
    return dict(name='nanoGPT train.py', wall=wall, own_val=own[-1] if own else None, val=score_nanogpt(nano))

def run_ours(data:Path, out:Path, flags:list, name='ours')->dict:
    "Our trainer, one process, `flags` only (plus where the data is and where to write)"
    wall, _ = timed([sys.executable, str(REPO / 'scripts' / 'train_ddp.py'), '--data', str(data), '--out_dir', str(out), *flags], name=name)
    recs = read_metrics(out)
    return dict(name=name, wall=wall, own_val=[r['val_loss'] for r in recs if 'val_loss' in r][-1], val=score_ours(out, data),
                train_time=recs[-1].get('time'))

def race(args):
    "nanoGPT's train.py against ours, its CPU recipe, alternating, scored by one function on one validation text"
    print(f'machine: {machine()}\n{load()}')
    iters = 250 if args.quick else RECIPE_ITERS
    runs = 1 if args.quick else args.runs
    tmp = tempfile.TemporaryDirectory()
    nano = nanogpt_copy(Path(args.text).resolve(), Path(tmp.name) / 'nanogpt', Path(args.nanogpt))
    data = nanogpt_split(Path(args.text).resolve(), Path(tmp.name) / 'shakespeare-nanogpt-split')
    res = {'nanoGPT': [], 'ours': []}
    for r in range(runs):                            # alternate who goes first, so that a burst of load hits both
        order = ['nanoGPT', 'ours'] if r % 2 == 0 else ['ours', 'nanoGPT']
        for who in order:
            x = run_nanogpt(nano, iters) if who == 'nanoGPT' else run_ours(data, Path(tmp.name) / f'ours{r}', our_recipe_flags(iters))
            res[who].append(x); print(f"  run {r + 1}: {who:8} {x['wall']:6.1f} s, held-out loss {x['val']:.4f} (its own eval {x['own_val']:.4f})", flush=True)
    med = {k: dict(wall=statistics.median(x['wall'] for x in v), val=statistics.median(x['val'] for x in v)) for k, v in res.items()}
    n, o = med['nanoGPT'], med['ours']
    print(f"\n{load()}\nnanoGPT's CPU recipe ({iters} steps), tinyshakespeare split as nanoGPT splits it; held-out loss = "
          f"mean next-character loss over the whole validation text (windows of 64), one function for both; medians of {runs}\n")
    print(f"| run | held-out loss | wall time (s) |\n|---|---:|---:|\n| nanoGPT train.py (float32) | {n['val']:.4f} | {n['wall']:.1f} |\n"
          f"| ours, the recipe's flags only (defaults: --dtype auto) | {o['val']:.4f} | {o['wall']:.1f} |")
    print(f"\nours / nanoGPT: wall time {o['wall'] / n['wall']:.2f}x (target <= 0.80), held-out loss {o['val'] - n['val']:+.4f} "
          f"({'<=' if o['val'] <= n['val'] else '>'} nanoGPT's; target <=)")
    if args.json:
        Path(args.json).write_text(json.dumps(dict(machine=machine(), iters=iters, runs=res, median=med), indent=1))
        print(f'wrote {args.json}')

# ------------------------------------------------------------------------------------------------------------ speedrun
def ablation_results(names:list, tmp:Path, data:Path, steps:int, eval_every:int)->dict:
    "The ablation runs in `tmp`: curves against steps, each run's step cost (the median of its own steps: the runs went side by side, one thread each, under the same load), the time to the baseline's final loss"
    from gpt_nbdev.speedrun import val_curve, time_to_loss
    runs = {}
    for n in names:
        out = tmp / f'ablation-{n}'; recs = read_metrics(out)
        cost = statistics.median(r['tokens'] / r['step'] / r['tok_s'] for r in recs if r.get('tok_s') and r.get('step', 0) > 5)
        curve = [(step * cost, step, v) for _, step, v in val_curve(recs)]            # (seconds, step, val loss)
        runs[n] = dict(curve=curve, step_cost=cost, own_val=curve[-1][2], val=score_ours(out, data))
        print(f"  {n:15} {cost * 1e3:6.1f} ms/step, val loss {runs[n]['own_val']:.4f} (own eval), held-out {runs[n]['val']:.4f}", flush=True)
    target = runs['baseline']['own_val']                    # the fixed loss: where the baseline ends
    for r in runs.values():
        r['time_to_target'] = time_to_loss(r['curve'], target)
        r['steps_to_target'] = r['time_to_target'] and r['time_to_target'] / r['step_cost']
    return dict(target=target, steps=steps, eval_every=eval_every, runs=runs)

def speedrun_ablations(args, data:Path, tmp:Path)->dict:
    """Each change of chapter 15 alone on top of nanoGPT's recipe. The runs go side by side, one thread each, so that the
    machine's load (shared machines) falls on all of them alike; each run's curve is exact whatever the load (seeded),
    and its time is its steps times its own median step time"""
    import os
    from gpt_nbdev.speedrun import ABLATIONS
    from gpt_nbdev.testing import flags as to_flags
    names = args.only.split(',') if args.only else list(ABLATIONS)
    if 'baseline' not in names: names = ['baseline'] + names
    base = our_recipe_flags(args.steps) + ['--eval_interval', str(args.eval_every), '--eval_iters', '40', '--sample_tokens', '0',
                                           '--dtype', 'float32']
    env = dict(os.environ, OMP_NUM_THREADS='1')
    procs = {n: subprocess.Popen([sys.executable, str(REPO / 'scripts' / 'train_ddp.py'), '--data', str(data), '--out_dir',
                                  str(tmp / f'ablation-{n}'), *base, *to_flags(**ABLATIONS[n])], env=env, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.PIPE, text=True) for n in names}
    for n, p in procs.items():
        err = p.communicate(timeout=7200)[1]
        if p.returncode: sys.exit(f'ablation {n} failed:\n{err[-2000:]}')
    return ablation_results(names, tmp, data, args.steps, args.eval_every)

def plot_ablations(res:dict, path:Path, title:str):
    import matplotlib; matplotlib.use('Agg'); import matplotlib.pyplot as plt
    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4))
    base_t = res['runs']['baseline']['time_to_target']
    for name, r in res['runs'].items():
        t, _, v = zip(*r['curve'][1:]) if len(r['curve']) > 1 else ([], [], [])
        a.plot(t, v, label=name, lw=2.5 if name == 'baseline' else 1.2, color='k' if name == 'baseline' else None)
    a.axhline(res['target'], ls=':', color='grey'); a.set_xlabel('training time (s)'); a.set_ylabel('validation loss')
    a.set_ylim(res['target'] - 0.25, res['target'] + 0.6); a.legend(fontsize=8); a.set_title('validation loss against time')
    names = [n for n in res['runs'] if n != 'baseline']
    rel = [(res['runs'][n]['time_to_target'] or float('nan')) / base_t for n in names]
    b.barh(names, rel, color=['tab:green' if x < 1 else 'tab:red' for x in rel]); b.axvline(1, color='k')
    b.set_xlabel(f"time to the baseline's final loss {res['target']:.3f}, vs the baseline"); b.set_ylim(len(names) - 0.5, -0.5)
    b.set_title('each change alone (missing bar: never reached)')
    fig.suptitle(title, fontsize=9); fig.tight_layout(); fig.savefig(path, dpi=110); print(f'wrote {path}')

def speedrun(args):
    "Chapter 15's ablations, and the race of configs/speedrun_cpu.yaml against nanoGPT's recipe"
    print(f'machine: {machine()}\n{load()}')
    if args.threads: import os; os.environ['OMP_NUM_THREADS'] = str(args.threads)     # for the training processes
    tmp = Path(tempfile.mkdtemp())
    text = Path(args.text).resolve()
    data = nanogpt_split(text, tmp / 'shakespeare-nanogpt-split')
    res = dict(machine=machine(), threads=args.threads or torch.get_num_threads())
    if not args.no_ablations:
        res['ablations'] = speedrun_ablations(args, data, tmp)
        a = res['ablations']; base = a['runs']['baseline']
        print(f"\n{load()}\nablations: nanoGPT's recipe for {a['steps']} steps (float32) + each change alone; target = the baseline's "
              f"final validation loss {a['target']:.4f}; time = steps x the step's cost\n\n| change | ms/step | steps to target | time to target (s) "
              f"| vs baseline | final val loss | held-out loss |\n|---|---:|---:|---:|---:|---:|---:|")
        for n, r in a['runs'].items():
            tt, bt, st = r['time_to_target'], base['time_to_target'], r['steps_to_target']
            print(f"| {n} | {r['step_cost'] * 1e3:.1f} | {'never' if st is None else round(st)} | {'-' if tt is None else round(tt, 1)} | "
                  f"{'never' if tt is None else f'{tt / bt:.2f}x'} | {r['own_val']:.4f} | {r['val']:.4f} |")
        if args.plot: plot_ablations(a, Path(args.plot), f"tinyshakespeare, nanoGPT's CPU recipe ({a['steps']} steps); {res['machine']}")
    if args.race:
        nano = nanogpt_copy(text, tmp / 'nanogpt', Path(args.nanogpt))
        config = Path(args.config).resolve()
        rs = {'nanoGPT': [], 'speedrun': []}
        for r in range(args.runs):
            for who in (['nanoGPT', 'speedrun'] if r % 2 == 0 else ['speedrun', 'nanoGPT']):
                x = (run_nanogpt(nano, RECIPE_ITERS) if who == 'nanoGPT' else
                     run_ours(data, tmp / f'speedrun{r}', ['--config', str(config)], 'speedrun'))
                rs[who].append(x); print(f"  run {r + 1}: {who:8} {x['wall']:6.1f} s, held-out loss {x['val']:.4f}", flush=True)
        med = {k: dict(wall=statistics.median(x['wall'] for x in v), val=statistics.median(x['val'] for x in v)) for k, v in rs.items()}
        n, o = med['nanoGPT'], med['speedrun']
        print(f"\n{load()}\n| run | held-out loss | wall time (s) |\n|---|---:|---:|\n| nanoGPT train.py, its CPU recipe | {n['val']:.4f} | {n['wall']:.1f} |\n"
              f"| ours, {config.name} | {o['val']:.4f} | {o['wall']:.1f} |\n\nspeedrun / nanoGPT: wall time {o['wall'] / n['wall']:.2f}x "
              f"(target <= 0.33), held-out loss {o['val'] - n['val']:+.4f} (target <= 0)  [medians of {args.runs}]")
        res['race'] = dict(config=config.name, runs=rs, median=med)
    if args.json: Path(args.json).write_text(json.dumps(res, indent=1)); print(f'wrote {args.json}')

# ------------------------------------------------------------------------------------------------------------------ gpu
def gpu(args):
    "GPT-2 124M, context 1024, bf16, compiled, through the real Trainer on random token ids: tokens/s and MFU vs the dense bf16 peak"
    if not torch.cuda.is_available():
        print('error: bench_train.py gpu needs a CUDA GPU (torch.cuda.is_available() is False here)', file=sys.stderr); sys.exit(2)
    print(f'machine: {machine()}')
    tmp = tempfile.TemporaryDirectory(); data = fake_prepared(Path(tmp.name) / 'data', 50_000_000, 1_000_000)
    peak = peak_tflops(torch.device('cuda'), torch.bfloat16, args.peak_tflops)      # --peak_tflops first, else a known GPU's
    cfg = TrainConfig(data=str(data), out_dir=str(Path(tmp.name) / 'out'), n_layer=12, n_head=12, n_embd=768, block_size=1024,
                      batch_size=args.batch_size, max_iters=args.steps + 5, warmup_iters=0, lr=6e-4, min_lr=6e-4,
                      eval_interval=10_000, eval_iters=1, sample_tokens=0, progress=False, compile=True, dtype='bfloat16', peak_tflops=peak)
    t0 = time.perf_counter(); train(cfg); wall = time.perf_counter() - t0
    recs = [r for r in read_metrics(cfg.out_dir) if 'tok_s' in r][5:]              # the first steps compile
    tok = statistics.median(r['tok_s'] for r in recs)
    fpt = GPT(GPTConfig(n_layer=12, n_head=12, n_embd=768, block_size=1024, vocab_size=50304)).flops_per_token()
    print(f'GPT-2 124M (vocab padded to 50304), context 1024, batch {args.batch_size}, bf16 autocast, compiled, the real Trainer; '
          f'median of {len(recs)} steps after 5 (compile): {tok:,.0f} tokens/s, {fpt / 1e6:.0f} MFLOP per token (6N + 12LHQT); run {wall:.0f} s')
    if peak: print(f'MFU {fpt * tok / (peak * 1e12):.1%} of the dense bf16 peak {peak:g} TFLOP/s (target >= 50%; llm.c and the best '
                   f'PyTorch trainers reach about 38-46% on H100); {machine()}')
    else: print(f'MFU: no known peak for {torch.cuda.get_device_name()}: give --peak_tflops (dense bf16)')

if __name__ == '__main__':
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest='what', required=True)
    t = sub.add_parser('throughput'); t.add_argument('--steps', type=int, default=4); t.add_argument('--rounds', type=int, default=3)
    t.add_argument('--no-compile', dest='compile', action='store_false')
    t.add_argument('--keep-freed', action='store_true', help="give the runs in this process the Trainer's memory setting")
    q = sub.add_parser('quality'); q.add_argument('--text', default=str(REPO.parent / 'shared' / 'data' / 'tinyshakespeare.txt'))
    q.add_argument('--nproc', type=int, default=2)
    r = sub.add_parser('race'); r.add_argument('--text', default=str(REPO.parent / 'shared' / 'data' / 'tinyshakespeare.txt'))
    r.add_argument('--nanogpt', default=str(NANOGPT)); r.add_argument('--runs', type=int, default=3)
    r.add_argument('--quick', action='store_true', help='250 steps, one run each: checks the plumbing, measures nothing')
    r.add_argument('--json', default=None, help='also write the runs and medians to this file')
    s = sub.add_parser('speedrun'); s.add_argument('--text', default=str(REPO.parent / 'shared' / 'data' / 'tinyshakespeare.txt'))
    s.add_argument('--steps', type=int, default=RECIPE_ITERS, help='steps of each ablation run'); s.add_argument('--eval_every', type=int, default=100)
    s.add_argument('--only', default=None, help='comma-separated ablations to run (the baseline always runs)')
    s.add_argument('--no-ablations', dest='no_ablations', action='store_true'); s.add_argument('--race', action='store_true', help='also race --config against nanoGPT')
    s.add_argument('--config', default=str(REPO / 'configs' / 'speedrun_cpu.yaml')); s.add_argument('--runs', type=int, default=3)
    s.add_argument('--nanogpt', default=str(NANOGPT)); s.add_argument('--threads', type=int, default=None, help='OMP_NUM_THREADS of the training processes')
    s.add_argument('--json', default=None); s.add_argument('--plot', default=None)
    g = sub.add_parser('gpu'); g.add_argument('--steps', type=int, default=20); g.add_argument('--batch_size', type=int, default=16)
    g.add_argument('--peak_tflops', type=float, default=None)
    args = p.parse_args()
    # the inputs outside the repository (the defaults are the development machines' copies), checked before any work
    if 'text' in args: require_file(args.text, 'text file', '--text path/to/tinyshakespeare.txt')
    if args.what == 'race' or (args.what == 'speedrun' and args.race):
        require_file(Path(args.nanogpt) / 'train.py', 'nanoGPT train.py', '--nanogpt path/to/nanoGPT (a checkout of karpathy/nanoGPT)')
    if args.what == 'speedrun': require_file(args.config, 'config file', '--config path/to/config.yaml')
    dict(throughput=throughput, quality=quality, gpu=gpu, race=race, speedrun=speedrun)[args.what](args)
