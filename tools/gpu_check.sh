#!/usr/bin/env bash
# `make gpu-check`: the GPU figures of issue #15 (part 6) in one run, at most 8 minutes on one H100/H200, in this order:
#   1. the `gpu`-flagged notebook tests (nbdev_test --flags gpu, the notebooks that have them, 3 at a time): CUDA-graph
#      decoding against eager decoding (chapter 07); a bf16 step against fp32, fused AdamW, fp16 with GradScaler,
#      --compile (chapter 11); FSDP against DDP over NCCL (chapter 14). No notebook with `#| gpu` cells is a failure;
#   2. bench/bench_train.py gpu: GPT-2 124M, context 1024, bf16, compiled: tokens/s and MFU against the dense bf16 peak;
#   3. bench/bench_sampling.py --device cuda: batch-1 decoding with CUDA graphs against transformers in fp32 (and the
#      memory limit); transformers in bf16 (hf16, 19 s of warm-up) is left out: no target needs it.
# Each part has its own time limit (300, 100 and 110 s; measured on an H200: the tests not within 240 s, train 76 s,
# decode 114 s with hf16, an estimated 90 s without it), and none runs past 8 minutes from the start
# ($GPU_CHECK_SECONDS, default 480): the tests, which have not yet run to the end, go first, and the benchmarks get
# what they leave. If the tests take all their 300 s, decode gets about 75 s: run `tools/gpu_check.sh decode` again.
# Each part's log is in $GPU_CHECK_OUT (default out/gpu-check); a part that fails does not stop the others; the exit
# status is 1 if any failed. Without CUDA it refuses at once: one line, exit status 2.
# The tests' CPU cells compute on the CPU (GPT_NBDEV_DEVICE=cpu, as in `make test`).
# Usage: tools/gpu_check.sh [tests] [train] [decode]   (default: all three, in this order)
#        PY=python (default .venv/bin/python; a name on PATH works too); nbdev_test is looked for beside it, then on PATH
set -uo pipefail
cd "$(dirname "$0")/.."
parts=${*:-tests train decode}
for part in $parts; do
  case $part in tests|train|decode) ;; *) echo "gpu-check: unknown part '$part': use tests, train or decode" >&2; exit 2 ;; esac
done
PY=${PY:-.venv/bin/python}
found=$(command -v "$PY") || { echo "gpu-check: no python at '$PY': set PY=path/to/python" >&2; exit 2; }
PY=$found
BIN=$(cd "$(dirname "$PY")" && pwd)     # absolute, without resolving the venv's python symlink
PY="$BIN/$(basename "$PY")"
NBDEV_TEST="$BIN/nbdev_test"; [ -x "$NBDEV_TEST" ] || NBDEV_TEST=$(command -v nbdev_test || echo "$BIN/nbdev_test")
if ! "$PY" -c 'import sys, torch; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null; then
  echo "gpu-check needs a CUDA GPU, and torch.cuda.is_available() is False here: run it on a machine with an NVIDIA GPU" >&2
  exit 2
fi
OUT=${GPU_CHECK_OUT:-out/gpu-check}
mkdir -p "$OUT"
failed=()
BUDGET=${GPU_CHECK_SECONDS:-480}   # the whole check's time: no part runs past it
run() {  # run NAME SECONDS COMMAND...: the command under a time limit (and within what is left of BUDGET), its output shown and kept in $OUT/NAME.log
  local name=$1 limit=$2; shift 2
  local left=$((BUDGET - SECONDS - 20))   # 20 s for a part that must be killed
  if [ "$left" -lt 30 ]; then echo "== $name: skipped, ${BUDGET}s used up"; failed+=("$name (skipped: no time left)"); return; fi
  [ "$left" -lt "$limit" ] && limit=$left
  echo "== $name (at most ${limit}s): $*"
  local t0=$SECONDS
  timeout --kill-after=20 "$limit" "$@" 2>&1 | tee "$OUT/$name.log"
  local rc=${PIPESTATUS[0]}
  echo "== $name: exit status $rc after $((SECONDS - t0))s"
  [ "$rc" -eq 0 ] || failed+=("$name (exit status $rc$([ "$rc" -eq 124 ] || [ "$rc" -eq 137 ] && echo ': time limit'))")
}
"$PY" -c 'import torch; p = torch.cuda.get_device_properties(0); print(f"GPU: {p.name}, {p.total_memory / 2**30:.0f} GiB; torch {torch.__version__}, CUDA {torch.version.cuda}")' | tee "$OUT/machine.txt"
export PATH="$BIN:$PATH"
for part in $parts; do
  case $part in
    tests)   # the notebooks with gpu-flagged cells (a `#| gpu` directive line), side by side (each also runs its CPU tests)
      nbs=$(grep -lE '"#[[:space:]]*\|[[:space:]]*gpu[[:space:]]*(\\n)?"' nbs/*.ipynb | xargs -rn1 basename | sed 's/\.ipynb$//' | paste -sd'|')
      if [ -z "$nbs" ]; then   # nbdev_test would say "No files were eligible" and exit 0: nothing tested is no pass
        echo "== tests-gpu: no notebook in nbs/ has a '#| gpu' cell"; failed+=("tests-gpu (no notebook has gpu-flagged cells)")
      else
        run tests-gpu 300 env GPT_NBDEV_DEVICE=cpu "$NBDEV_TEST" --flags gpu --n_workers 3 --path nbs --file_re "^($nbs)\.ipynb$"
      fi ;;
    train)  run bench-train-gpu 100 bash -c "cd bench && '$PY' bench_train.py gpu --steps 20 --batch_size 32" ;;
    decode) run bench-sampling-cuda 110 bash -c "cd bench && '$PY' bench_sampling.py --device cuda --reps 2 --only hf32,e16,c16,default" ;;
  esac
done
if [ ${#failed[@]} -gt 0 ]; then printf 'gpu-check: failed: %s\n' "${failed[@]}"; exit 1; fi
echo "gpu-check: all passed; logs in $OUT"
