#!/usr/bin/env python
"""Benchmark of gpt_nbdev.data: tokenization throughput on 1 core vs all cores, and the loader against the trainer.

    python bench/bench_data.py [--text ../shared/data/tinyshakespeare.txt] [--mb 20] [--repeats 3]

Offline: the text is repeated to at least `--mb` MB in a temporary folder (nothing is written into the project).
Prints two tables. Rates are the best of `--repeats` runs, the variants run in turns so that noise from other work on the
machine hits them alike. "CPU efficiency" = CPU seconds of the 1-core run / CPU seconds of the all-core run (this process
and its workers): the share of the work that is not overhead, whatever else the machine is doing.
"""
import argparse, itertools, os, tempfile, time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
import numpy as np
import torch
from gpt_nbdev.data import TokenLoader, assign_splits, encode_batches, prepare, text_pieces
from gpt_nbdev.tokenizers import GPT2_URLS, get_tokenizer, tiktoken_cached
from _common import machine, load

REPO = Path(__file__).resolve().parents[1]
H100_GPT2_TOKENS_PER_S = 468_000   # llm.c, GPT-2 124M on 8xH100, per GPU (see shared/REFERENCES.md)


def timed(fn):
    "(wall seconds, CPU seconds of this process and its finished children) of one call of `fn`"
    c0, t0 = os.times(), time.perf_counter()
    fn()
    t1, c1 = time.perf_counter(), os.times()
    return t1 - t0, sum(c1[i] - c0[i] for i in range(4))


def alternate(fns, repeats):
    "Best (wall, cpu) of each function in `fns`, the functions run in turns"
    best = [(float('inf'), float('inf'))] * len(fns)
    for _ in range(repeats):
        for i, f in enumerate(fns): best[i] = min(best[i], timed(f))
    return best


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--text', default=str(REPO.parent / 'shared/data/tinyshakespeare.txt'), help='a UTF-8 text file to repeat')
    ap.add_argument('--mb', type=float, default=20, help='megabytes of text to tokenize (the text is repeated)')
    ap.add_argument('--repeats', type=int, default=3, help='runs per measurement (the best counts)')
    ap.add_argument('--bpe_vocab', type=int, default=4096, help='vocabulary of the trained BPE')
    args = ap.parse_args()
    cores = len(os.sched_getaffinity(0))
    text = Path(args.text).read_text(encoding='utf-8')
    reps = int(np.ceil(args.mb * 1e6 / len(text.encode())))
    print(f"machine: {machine('cpu')}, {load()} at start")
    rows, loads = [], []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        corpus = tmp / 'corpus.txt'
        corpus.write_text(text * reps, encoding='utf-8')
        nbytes = corpus.stat().st_size
        print(f"corpus: {Path(args.text).name} x {reps} = {nbytes / 1e6:.1f} MB")
        pairs = list(assign_splits(text_pieces(corpus), 0.1))
        batches = [[d for d, _ in pairs[i:i + 128]] for i in range(0, len(pairs), 128)]   # ~1 MB each

        # the trainer that consumes the loader's batches, measured first, on a quiet process
        from gpt_nbdev.model import GPT, GPTConfig
        data_dir = prepare(corpus, out_dir=tmp / 'bytes', progress=False)
        torch.manual_seed(0)
        model = GPT(GPTConfig.from_preset('small', vocab_size=257))
        opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
        L = TokenLoader(data_dir, 64, 12)
        def train_step(s):
            x, y = L.batch(s)
            _, loss = model(x, y); opt.zero_grad(set_to_none=True); loss.backward(); opt.step()
        for s in range(3): train_step(s)
        n_steps = 30
        trainer = n_steps / min(timed(lambda: [train_step(s) for s in range(n_steps)])[0] for _ in range(args.repeats))

        t = time.perf_counter()
        bpe_dir = prepare(corpus, out_dir=tmp / 'bpe', tokenizer='bpe', vocab_size=args.bpe_vocab, progress=False)
        print(f"trained and applied a {args.bpe_vocab}-token BPE in {time.perf_counter() - t:.1f}s")
        toks = [('bytes', None), (f'bpe ({args.bpe_vocab})', bpe_dir)]
        if tiktoken_cached(GPT2_URLS): toks.append(('gpt2', None))
        else: print("gpt2: skipped (its vocabulary is not cached and this benchmark does not use the network)")

        for label, data in toks:
            name = label.split()[0]
            enc = get_tokenizer(name, data)
            encode = lambda docs: [enc.encode_to_numpy(d, allowed_special=set(), disallowed_special=()) for d in docs]
            def threads(k):   # the reference: tiktoken alone, in k threads of one process
                def f():
                    with ThreadPoolExecutor(k) as ex: list(ex.map(encode, batches))
                return f
            ours = lambda k: (lambda: sum(len(b[0]) for b in encode_batches(pairs, name, data, 'uint16', num_proc=k)))
            (t1, _), (tn, _), (o1, c1), (on, cn) = alternate([threads(1), threads(cores), ours(1), ours(cores)], args.repeats)
            rows.append((f'encode_batches: {label}', nbytes / t1, nbytes / tn, nbytes / o1, nbytes / on, c1 / cn))

        n = itertools.count()
        e2e = lambda k: (lambda: prepare(corpus, out_dir=tmp / f'e2e{next(n)}', num_proc=k, progress=False))
        (o1, c1), (on, cn) = alternate([e2e(1), e2e(cores)], args.repeats)
        rows.append(('prepare(): bytes, end to end', None, None, nbytes / o1, nbytes / on, c1 / cn))

        for B, T, n_batches in [(12, 64, 20000), (16, 1024, 5000), (64, 1024, 2000)]:
            L = TokenLoader(data_dir, T, B)
            L.batch(0)
            wall = min(timed(lambda: [L.batch(s) for s in range(n_batches)])[0] for _ in range(args.repeats))
            loads.append((B, T, n_batches / wall))

    mbs = lambda r: '' if r is None else f'{r / 1e6:,.1f}'
    print("\nMB of text per second; reference: tiktoken alone in threads; ours: processes "
          "(for bytes, the 1-process path takes the UTF-8 bytes directly)")
    print(f"| {'measurement':30} | {'tiktoken 1 thread':>17} | {f'tiktoken {cores} threads':>18} | {'ours, 1 core':>12} "
          f"| {f'ours, {cores} cores':>13} | {'speed-up':>8} | {'CPU efficiency':>14} |")
    print(f"|{'-' * 32}|{'-' * 19}|{'-' * 20}|{'-' * 14}|{'-' * 15}|{'-' * 10}|{'-' * 16}|")
    for what, t1, tn, r1, rn, eff in rows:
        print(f"| {what:30} | {mbs(t1):>17} | {mbs(tn):>18} | {mbs(r1):>12} | {mbs(rn):>13} | {rn / r1:7.2f}x | {eff:14.2f} |")
    print(f"target for the speed-up: >= 0.85 x {cores} = {0.85 * cores:.2f}x")
    gpu = H100_GPT2_TOKENS_PER_S / (16 * 1024)
    consumers = [("'small' GPT training here (fwd+bwd+AdamW)", trainer), ('GPT-2 124M on one H100 (llm.c)', gpu),
                 ('GPT-2 124M on one H100 (llm.c)', gpu / 4)]
    print(f"\n| {'loader, one process':20} | {'batches/s':>10} | {'consumer':42} | {'its batches/s':>13} | {'ratio':>8} |")
    print(f"|{'-' * 22}|{'-' * 12}|{'-' * 44}|{'-' * 15}|{'-' * 10}|")
    for (B, T, rate), (who, need) in zip(loads, consumers):
        print(f"| {f'B={B}, T={T}':20} | {rate:10,.0f} | {who:42} | {need:13,.1f} | {rate / need:7,.0f}x |")
    print(f"target: the loader >= 10x faster than its consumer; {load()} at the end")


if __name__ == '__main__': main()
