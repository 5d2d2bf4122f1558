#!/bin/bash
# The training image's entry point: this machine's share of a job, `torchrun scripts/train_ddp.py ARGS`, where ARGS are
# the arguments given after the image name (`docker run IMAGE --config configs/tinystories_gpu.yaml`).
# The job's shape comes from the environment (docker run -e NAME=VALUE):
#   NPROC_PER_NODE  processes on this machine: auto (the default) starts one per GPU that CUDA sees, and on a machine
#                   with no GPU 2 CPU processes (1 on a single core), as `make train` does; or a number.
#   NNODES NODE_RANK MASTER_ADDR MASTER_PORT  the machines and where they meet (a c10d rendezvous), passed to torchrun
#   RDZV_ID MAX_RESTARTS  the job's name at the rendezvous, and how often torchrun restarts it after a failure
#   OMP_NUM_THREADS  threads per process (default: this machine's cores shared out among the processes)
set -euo pipefail

cuda_devices() {  # the GPUs the processes will see, as torch counts them (honours CUDA_VISIBLE_DEVICES)
  python -c 'import torch; print(torch.cuda.device_count())'
}

nproc_per_node=${NPROC_PER_NODE:-auto}
cores=$(env -u OMP_NUM_THREADS -u OMP_THREAD_LIMIT nproc)   # nproc alone would answer OMP_NUM_THREADS
if [[ $nproc_per_node == auto ]]; then
  gpus=$(cuda_devices)
  if (( gpus > 0 )); then nproc_per_node=$gpus; why="$gpus GPU(s) visible"
  else nproc_per_node=$(( cores >= 2 ? 2 : 1 )); why="no GPU visible, $cores CPU core(s)"; fi
elif [[ ! $nproc_per_node =~ ^[1-9][0-9]*$ ]]; then
  echo "error: NPROC_PER_NODE=$nproc_per_node: give a number of processes, or auto (one per GPU, else 2 on the CPU)" >&2
  exit 2
else why="NPROC_PER_NODE=$nproc_per_node"; fi
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-$(( cores / nproc_per_node > 0 ? cores / nproc_per_node : 1 ))}
echo "gpt_nbdev: $nproc_per_node process(es) on this machine ($why), $OMP_NUM_THREADS thread(s) each" >&2

if [[ ${NNODES:-1} != 1 ]] && [[ -z ${MASTER_ADDR:-} || $MASTER_ADDR == 127.* || $MASTER_ADDR == localhost || $MASTER_ADDR == ::1 ]]; then
  echo "error: NNODES=$NNODES, but MASTER_ADDR is '${MASTER_ADDR:-}', which the other machines cannot reach: give -e MASTER_ADDR=the first machine's address" >&2
  exit 2
fi

exec torchrun --nnodes="${NNODES:-1}" --node_rank="${NODE_RANK:-0}" --nproc_per_node="$nproc_per_node" \
  --rdzv_backend=c10d --rdzv_endpoint="${MASTER_ADDR:-127.0.0.1}:${MASTER_PORT:-29500}" --rdzv_id="${RDZV_ID:-gpt_nbdev}" \
  --max_restarts="${MAX_RESTARTS:-3}" scripts/train_ddp.py "$@"
