#!/usr/bin/env python
"""Benchmark of gpt_nbdev.data: tokenization throughput on 1 core vs all cores, and the loader against the trainer.

    python bench/bench_data.py --text path/to/tinyshakespeare.txt [--mb 20] [--repeats 3]
    python bench/bench_data.py --scale --text path/to/tinyshakespeare.txt [--mb 300]   # prepare at scale: GPT-2 tokens/s, peak RSS, projection

Offline: the text is repeated to at least `--mb` MB in a temporary folder (nothing is written into the project).
Prints two tables. Rates are the best of `--repeats` runs, the variants run in turns so that noise from other work on the
machine hits them alike. "CPU efficiency" = CPU seconds of the 1-core run / CPU seconds of the all-core run (this process
and its workers): the share of the work that is not overhead, whatever else the machine is doing.
"""
import argparse, itertools, json, os, shutil, subprocess, sys, tempfile, time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
import numpy as np
import torch
from gpt_nbdev.data import TokenLoader, assign_splits, encode_batches, prepare, text_pieces
from gpt_nbdev.tokenizers import GPT2_URLS, get_tokenizer, tiktoken_cached
from _common import machine, load, require_file
from gpt_nbdev.core import usable_cores

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


SCALE_CHILD = """
import json, shutil, sys, time
from pathlib import Path
import gpt_nbdev.data as data
src, out, bpe, vocab, num_proc, shard = sys.argv[1:7]
work = data._work_dir(Path(out)); work.mkdir(parents=True)
shutil.copy(bpe, work / 'bpe.tiktoken')      # the GPT-2-like BPE, where prepare_shards keeps the one it trains
t = time.perf_counter()
d = data.prepare_shards(src, out, tokenizer='bpe', vocab_size=int(vocab), num_proc=int(num_proc), shard_tokens=int(shard), progress=False)
m = data.load_meta(d)
print(json.dumps(dict(seconds=time.perf_counter() - t, tokens=m['train_tokens'] + m['val_tokens'], shards=len(m['shards']))))
"""

def corpus_parquet(text:str, folder:Path, mb:float, file_mb:float=50, seed:int=0)->list:
    "Parquet files of about `mb` MB of documents, each a random stretch (200-6000 characters) of `text`"
    import pyarrow as pa, pyarrow.parquet as pq
    rng, files, total = np.random.default_rng(seed), [], 0
    while total < mb * 1e6:
        docs, n = [], 0
        while n < file_mb * 1e6 and total + n < mb * 1e6:
            k = int(rng.integers(200, 6000)); a = int(rng.integers(0, len(text) - k))
            docs.append(text[a:a + k]); n += k
        files.append(folder / f'part{len(files):03d}.parquet')
        pq.write_table(pa.table({'text': docs}), files[-1], row_group_size=1000); total += n
    return files


def scale(args):
    "prepare at scale: GPT-2 tokens/s on 1 and all cores against tiktoken's batch encoder, end-to-end rate, peak RSS, projection"
    import tiktoken
    from gpt_nbdev.data import encode_batches, assign_splits, HFSource
    from gpt_nbdev.tokenizers import train_bpe, bpe_ranks, save_bpe, bpe_encoding
    cores = usable_cores()
    print(f"machine: {machine('cpu')}, {load()} at start")
    text = Path(args.text).read_text(encoding='utf-8')
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        if tiktoken_cached(GPT2_URLS):
            enc, what = tiktoken.get_encoding('gpt2'), "GPT-2's own BPE (50,257 tokens)"
            ranks = enc._mergeable_ranks
        else:
            t = time.perf_counter()
            ranks = bpe_ranks(train_bpe([text], 50257))
            enc = bpe_encoding(ranks)
            what = (f"a stand-in for GPT-2's BPE: GPT-2's pattern and a {enc.n_vocab:,}-token vocabulary trained here on "
                    f"{Path(args.text).name} in {time.perf_counter() - t:.0f}s (GPT-2's own is not cached and the network is off)")
        print(f"tokenizer: {what}")
        save_bpe(ranks, tmp / 'bpe.tiktoken')
        (tmp / 'corpus').mkdir()
        files = corpus_parquet(text, tmp / 'corpus', args.mb)
        mb = sum(f.stat().st_size for f in files) / 1e6
        docs = list(itertools.islice(HFSource('parquet', data_files=[str(f) for f in files]).documents(), 20000))
        nbytes = sum(len(d.encode()) for d in docs)
        print(f"corpus: {len(files)} Parquet files, {mb:.0f} MB on disk, documents of 200-6000 characters of "
              f"{Path(args.text).name}; the encoder comparison uses its first {len(docs):,} documents ({nbytes / 1e6:.0f} MB)")
        n_tokens = sum(len(t) + 1 for t in enc.encode_ordinary_batch(docs, num_threads=cores))
        pairs = list(assign_splits(docs, 0.1))
        tik = lambda k: (lambda: enc.encode_ordinary_batch(docs, num_threads=k))
        ours = lambda k: (lambda: sum(len(b[0]) + len(b[1]) for b in encode_batches(pairs, 'bpe', tmp, 'uint16', num_proc=k)))
        (t1, _), (tn, _), (o1, _), (on, _) = alternate([tik(1), tik(cores), ours(1), ours(cores)], args.repeats)
        rate = lambda s: n_tokens / s

        e2e = {}
        meter = ("import resource, subprocess, sys; r = subprocess.run(sys.argv[1:], capture_output=True, text=True); "
                 "sys.stderr.write(r.stderr); print(r.stdout.strip()); print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
        for k in (1, cores):
            out = tmp / f'shards-{k}'
            r = subprocess.run([sys.executable, '-c', meter, sys.executable, '-c', SCALE_CHILD, str(tmp / 'corpus'), str(out),
                                str(tmp / 'bpe.tiktoken'), str(enc.n_vocab), str(k), str(args.shard_tokens)],
                               capture_output=True, text=True, timeout=3600)
            if r.returncode or len(r.stdout.strip().split('\n')) < 2: raise SystemExit(f"prepare_shards failed: {r.stdout[-500:]} {r.stderr[-2000:]}")
            res, rss = r.stdout.strip().split('\n')[-2:]
            e2e[k] = dict(json.loads(res), rss_mb=int(rss) / 1024)
            shutil.rmtree(out)

    print(f"\nGPT-2 tokens per second ({n_tokens:,} tokens; best of {args.repeats}, run in turns)")
    print(f"| {'encoder':58} | {'1 core':>10} | {f'{cores} cores':>10} | {'speed-up':>8} |")
    print(f"|{'-' * 60}|{'-' * 12}|{'-' * 12}|{'-' * 10}|")
    print(f"| {'tiktoken encode_ordinary_batch (num_threads=N), reference':58} | {rate(t1):10,.0f} | {rate(tn):10,.0f} | {t1 / tn:7.2f}x |")
    print(f"| {'ours: encode_batches (N worker processes)':58} | {rate(o1):10,.0f} | {rate(on):10,.0f} | {o1 / on:7.2f}x |")
    print(f"| {'ours / reference':58} | {t1 / o1:9.2f}x | {tn / on:9.2f}x | {'':8} |")
    print(f"targets: ours >= 0.85x tiktoken on 1 core; ours on {cores} cores >= 1.8x ours on 1 core")
    print(f"\nprepare_shards end to end: {mb:.0f} MB of Parquet read by datasets, encoded, written in shards of {args.shard_tokens:,} tokens")
    print(f"| {'processes':9} | {'tokens':>12} | {'seconds':>8} | {'tokens/s':>10} | {'peak RSS (largest process)':>26} |")
    print(f"|{'-' * 11}|{'-' * 14}|{'-' * 10}|{'-' * 12}|{'-' * 28}|")
    for k, e in e2e.items():
        print(f"| {k:9} | {e['tokens']:12,} | {e['seconds']:8.1f} | {e['tokens'] / e['seconds']:10,.0f} | {e['rss_mb']:23,.0f} MB |")
    per_core = e2e[cores]['tokens'] / e2e[cores]['seconds'] / cores
    hours = 10e9 / (per_core * 32) / 3600
    print(f"\nprojection, not a measurement: FineWeb-Edu sample-10BT (10B GPT-2 tokens) on a 32-core machine at this machine's "
          f"measured end-to-end rate of {per_core:,.0f} tokens/s per core ({cores}-core run), assuming it scales linearly to 32 "
          f"cores and the source keeps up: {hours * 60:.1f} minutes (~{10e9 * 2 / 1e9:.0f} GB of uint16 shards); {load()} at the end")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--text', default=str(REPO.parent / 'shared/data/tinyshakespeare.txt'), help='a UTF-8 text file to repeat')
    ap.add_argument('--mb', type=float, default=20, help='megabytes of text to tokenize (the text is repeated)')
    ap.add_argument('--repeats', type=int, default=3, help='runs per measurement (the best counts)')
    ap.add_argument('--bpe_vocab', type=int, default=4096, help='vocabulary of the trained BPE')
    ap.add_argument('--scale', action='store_true', help='benchmark prepare at scale instead (GPT-2 BPE, Parquet, shards)')
    ap.add_argument('--shard_tokens', type=int, default=10_000_000, help='with --scale: tokens per shard')
    args = ap.parse_args()
    require_file(args.text, 'text file', '--text path/to/tinyshakespeare.txt')   # the default is the development machines' copy
    if args.scale:
        if '--mb' not in sys.argv: args.mb = 300
        return scale(args)
    cores = usable_cores()
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
