#!/bin/bash
# Train on a rented GPU machine: copy this project there (rsync), build its image there (or pull $IMAGE), and start the
# run in a detached container, so that it goes on after you log out. See --help.
set -euo pipefail

usage='usage: deploy/remote/train_remote.sh USER@HOST NGPUS [train flags...]'
help() {
  cat <<EOF
$usage

Copies this project to HOST:\$REMOTE_DIR (rsync, without .git, .venv, data and out), builds the image there from the
Dockerfile (or pulls \$IMAGE), and starts the training in a detached container named \$RUN_NAME: torchrun with NGPUS
processes, one per GPU, running scripts/train_ddp.py with the train flags, e.g.
  deploy/remote/train_remote.sh ubuntu@203.0.113.7 8 --config configs/gpt2_124m_8gpu.yaml
data/ and out/ in HOST:\$REMOTE_DIR are mounted in the container: downloads and prepared data stay there between runs,
checkpoints and logs land in out/. It prints how to follow the log and how to fetch out/ (deploy/remote/fetch_remote.sh).

HOST must already have Docker (usable by USER without sudo), the NVIDIA driver and the NVIDIA container toolkit
(docker run --gpus), and rsync: installing drivers is not this project's job. ssh settings (port, key) come from
~/.ssh/config.

Environment:
  REMOTE_DIR  the project's folder on HOST, relative to USER's home or absolute (default: gpt_nbdev); kept in step with
              this checkout (rsync --delete), except its data/ and out/
  IMAGE       an image to pull instead of building one on HOST, e.g. ghcr.io/OWNER/gpt_nbdev:1.0
  RUN_NAME    the container's name (default: gpt_nbdev-DATE-TIME)
EOF
}

if [[ ${1:-} == -h || ${1:-} == --help ]]; then help; exit 0; fi
if (( $# < 2 )) || [[ ! $2 =~ ^[1-9][0-9]*$ ]]; then echo "$usage" >&2; exit 2; fi
host=$1 ngpus=$2
shift 2
remote_dir=${REMOTE_DIR:-gpt_nbdev}
remote_dir=${remote_dir%/}
# plain names only: rsync --delete empties whatever this names (never ., .., ~ or /), and rsync's remote paths need no quoting
if [[ ! $remote_dir =~ ^/?[A-Za-z0-9_][A-Za-z0-9._-]*(/[A-Za-z0-9_][A-Za-z0-9._-]*)*$ ]]; then
  echo "error: REMOTE_DIR='$remote_dir': name a folder of its own for the project, a path of plain names (letters, digits, . _ -)" >&2
  exit 2
fi
run_name=${RUN_NAME:-gpt_nbdev-$(date +%Y%m%d-%H%M%S)}
image=${IMAGE:-}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

echo "copying $root to $host:$remote_dir"
rsync -az --delete --exclude=/.git --exclude=/.venv --exclude=/data --exclude=/out "$root/" "$host:$remote_dir/"

# The commands to run on HOST, read by its bash from standard input: the values first, quoted for bash (printf %q),
# then the steps, inside a function so that bash has read them all before anything runs.
remote_script() {
  printf 'set -euo pipefail\n'
  printf 'remote_dir=%q ngpus=%q run_name=%q image=%q\n' "$remote_dir" "$ngpus" "$run_name" "$image"
  printf 'set --'; (( $# == 0 )) || printf ' %q' "$@"; printf '\n'
  cat <<'EOF'
main() {
  cd "$remote_dir"
  local tool gpus
  for tool in docker nvidia-smi; do
    command -v "$tool" >/dev/null && continue
    echo "error: $HOSTNAME has no $tool: this needs a host with Docker, the NVIDIA driver and the NVIDIA container toolkit" >&2
    exit 1
  done
  gpus=$(nvidia-smi -L | grep -c '^GPU ' || true)
  if (( gpus < ngpus )); then echo "error: $HOSTNAME has $gpus GPU(s) (nvidia-smi -L), $ngpus asked for" >&2; exit 1; fi
  mkdir -p data out
  if [[ -n $image ]]; then docker pull "$image"
  else image=gpt_nbdev; docker build -t "$image" .; fi
  # as USER, so that USER owns what the run writes in data/ and out/; HOME, for tools that want one
  docker run -d --name "$run_name" --gpus all --ipc=host --user "$(id -u):$(id -g)" -e HOME=/tmp \
    -e NPROC_PER_NODE="$ngpus" -v "$PWD/data:/app/data" -v "$PWD/out:/app/out" "$image" "$@"
}
main "$@"
EOF
}

echo "starting $run_name on $host ($ngpus GPU(s))"
remote_script "$@" | ssh "$host" bash -s

fetch=$(printf '%q' "$root/deploy/remote/fetch_remote.sh")
[[ -z ${REMOTE_DIR:-} ]] || fetch="REMOTE_DIR=$(printf '%q' "$remote_dir") $fetch"
cat <<EOF
started $run_name on $host: the run goes on after you log out
  follow its log:     ssh $host docker logs -f $run_name
  stop it:            ssh $host docker stop $run_name
  fetch its results:  $fetch $host    (copies $host:$remote_dir/out/ to out/; run it again at any time)
EOF
