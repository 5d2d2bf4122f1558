#!/bin/bash
# Fetch a remote run's results: rsync HOST:$REMOTE_DIR/out/ (checkpoints, metrics, logs) into local_dir (default: this
# project's out/). Only what changed is copied, so run it as often as you like, during the run or after it.
#   deploy/remote/fetch_remote.sh ubuntu@203.0.113.7 [local_dir]
set -euo pipefail

usage='usage: deploy/remote/fetch_remote.sh USER@HOST [local_dir]'
if [[ ${1:-} == -h || ${1:-} == --help ]]; then
  echo "$usage"
  echo "Copies HOST:\$REMOTE_DIR/out/ (REMOTE_DIR as for train_remote.sh, default gpt_nbdev) into local_dir (default: out/)."
  exit 0
fi
if (( $# < 1 || $# > 2 )); then echo "$usage" >&2; exit 2; fi
host=$1
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
local_dir=${2:-$root/out}
remote_dir=${REMOTE_DIR:-gpt_nbdev}
remote_dir=${remote_dir%/}

rsync -az "$host:$remote_dir/out/" "${local_dir%/}/"
echo "fetched $host:$remote_dir/out/ into $local_dir"
