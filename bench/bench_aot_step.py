"""Could a one-off call decode with a compiled step kept on disk? AOTInductor's frozen step against the eager decoder.

    python bench/bench_aot_step.py                 # GPT-2 124M (random weights), bf16, 32-token prompt, 256 new tokens
    python bench/bench_aot_step.py --reps 3 --new 128

A one-off `generate` (the CLI) decodes eagerly, because compiling the frozen one-token step takes longer than it saves
in 256 tokens, and inductor does not cache a frozen graph across processes. AOTInductor can: it compiles the same step
(the same `StaticDecodeStep`, frozen weights, the products' kernels chosen as `frozen_backends` chooses them) into a
shared library with the weights inside, which a later process loads. This measures, in one run:
- the one-time costs: export and compile, the library's size;
- the per-call costs a fresh process would pay: loading the library, and hashing the weights (a cache kept across
  processes must know that they are the same weights; sha256 of every byte);
- tokens/s of a one-off call both ways, interleaved round by round with the memory-read limit (as in bench_sampling):
  eager (`generate(compile=False)`, what the CLI does today) and the loaded step (its load counted in, the prompt
  eagerly into the cache buffers the library shares, then one library call a token).
The loaded step's greedy tokens are compared with the eager decoder's."""
import argparse, glob, hashlib, statistics, tempfile, time, zipfile
from pathlib import Path
import torch
from gpt_nbdev.model import GPT, GPTConfig
from gpt_nbdev.sampling import StaticDecodeStep, generate, frozen_backends, cache_slots
from _common import machine, load
from bench_sampling import decode_bytes, stream_time

@torch.no_grad()
def compile_library(model, slots, backends, folder)->tuple:
    "The frozen one-token step exported and compiled by AOTInductor; (the shared library's path, seconds to export, to compile)"
    step = StaticDecodeStep(model, 1, slots, frozen=True)
    args = (torch.zeros(1, 1, dtype=torch.long), torch.zeros(1, 1, dtype=torch.long), torch.zeros(1, dtype=torch.long),
            torch.ones(1, 1, dtype=torch.bool))   # distinct tensors: export would take one tensor passed twice as one input
    t = time.perf_counter(); exported = torch.export.export(step, args, strict=False); t_export = time.perf_counter() - t
    t = time.perf_counter()
    package = torch._inductor.aoti_compile_and_package(exported, package_path=str(Path(folder) / 'step.pt2'), inductor_configs=dict(
        freezing=True, max_autotune=True, max_autotune_gemm_backends=backends, autotune_num_choices_displayed=0))
    t_compile = time.perf_counter() - t
    with zipfile.ZipFile(package) as z: z.extractall(folder)
    return glob.glob(f'{folder}/**/*.so', recursive=True)[0], t_export, t_compile

def loaded_step(model, slots, library):
    "A fresh cache (`StaticDecodeStep`, run eagerly for the prompt) and the library's runner, sharing that cache's buffers"
    step = StaticDecodeStep(model, 1, slots, frozen=True)
    runner = torch._C._aoti.AOTIModelContainerRunnerCpu(library, 1)
    buffers = dict(step.named_buffers())
    runner.update_constant_buffer({name: buffers[fqn] for name, fqn in runner.get_constant_names_to_original_fqns().items()
                                   if fqn in buffers}, False, False, True)   # user-managed: the library writes these very tensors
    return step, runner

@torch.inference_mode()
def decode_loaded(model, slots, library, prompt, new:int)->list:
    "A one-off greedy call through the library, its load included: the new tokens"
    step, runner = loaded_step(model, slots, library)
    T = prompt.size(1)
    logits = step(prompt, torch.arange(T)[None], torch.arange(T), torch.ones(1, T, dtype=torch.bool))
    token, out, real = logits.float().argmax(-1), [], torch.ones(1, 1, dtype=torch.bool)
    for i in range(T, T + new):
        out.append(int(token))
        if len(out) == new: break
        (logits,) = runner.run([token[:, None], torch.tensor([[i]]), torch.tensor([i]), real])
        token = logits.float().argmax(-1)
    return out

def weights_sha256(model)->str:
    h = hashlib.sha256()
    for p in model.parameters(): h.update(p.detach().contiguous().view(-1).view(torch.uint8).numpy().data)
    return h.hexdigest()

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--prompt', type=int, default=32, help='prompt tokens')
    ap.add_argument('--new', type=int, default=256, help='new tokens per call')
    ap.add_argument('--reps', type=int, default=5, help='interleaved rounds')
    ap.add_argument('--wte_std', type=float, default=0.1, help="the token table's std (larger logits: fewer near ties between random weights' top tokens)")
    a = ap.parse_args()
    torch.manual_seed(0)
    model = GPT(GPTConfig(n_layer=12, n_head=12, n_embd=768, vocab_size=50257, block_size=1024)).eval()
    with torch.no_grad(): model.transformer.wte.weight.normal_(0, a.wte_std)
    model = model.to(torch.bfloat16)
    prompt = torch.randint(0, 50257, (1, a.prompt))
    slots = cache_slots(model, a.prompt + a.new)
    backends = frozen_backends(model)
    print(f'{machine()}, {load()}')
    with tempfile.TemporaryDirectory() as folder:
        library, t_export, t_compile = compile_library(model, slots, backends, folder)
        print(f'GPT-2 124M, bf16, {slots} cache slots, products among {backends}: export {t_export:.1f} s, AOTInductor compile '
              f'{t_compile:.1f} s, library {Path(library).stat().st_size / 1e6:.0f} MB')
        loads, hashes = [], []
        for _ in range(3):
            t = time.perf_counter(); loaded_step(model, slots, library); loads.append(time.perf_counter() - t)
            t = time.perf_counter(); weights_sha256(model); hashes.append(time.perf_counter() - t)
        print(f'per call: load the library and share the cache {statistics.median(loads):.3f} s; sha256 of the weights {statistics.median(hashes):.3f} s')
        weights = decode_bytes(model)
        eager_tokens = generate(model, prompt, a.new, compile=False)[0, a.prompt:].tolist()   # (warm-up; the reference tokens)
        same = decode_loaded(model, slots, library, prompt, a.new) == eager_tokens
        rounds = []
        for _ in range(a.reps):
            r = {'limit': 1 / stream_time(weights, 'cpu')}
            t = time.perf_counter(); generate(model, prompt, a.new, compile=False); r['eager'] = a.new / (time.perf_counter() - t)
            t = time.perf_counter(); decode_loaded(model, slots, library, prompt, a.new); r['loaded'] = a.new / (time.perf_counter() - t)
            rounds.append(r)
            print('  round: ' + ', '.join(f'{k} {v:.1f}' for k, v in r.items()) + ' tokens/s')
    med = lambda f: statistics.median(f(r) for r in rounds)
    print(f'\nmedians of {a.reps} rounds, {a.new} new tokens a call, tokens/s with the call\'s start-up (the load) counted in:')
    print(f"| one-off call | tokens/s | vs the memory-read limit ({med(lambda r: r['limit']):.1f} tokens/s) |")
    print('|---|--:|--:|')
    for k, name in (('eager', 'eager (today)'), ('loaded', 'the kept AOTInductor step, loaded')):
        print(f"| {name} | {med(lambda r: r[k]):.1f} | {med(lambda r: r[k] / r['limit']):.0%} |")
    print(f"the loaded step over eager: {med(lambda r: r['loaded'] / r['eager']):.2f}x (per-round medians); the same greedy tokens: {same}")

if __name__ == '__main__': main()
