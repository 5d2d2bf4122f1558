# gpt_nbdev training image: CUDA PyTorch, the package installed exactly as `make test` installs it, torchrun to start.
#   docker build -t gpt_nbdev .
#   docker run --gpus all --ipc=host -v $PWD/data:/app/data -v $PWD/out:/app/out gpt_nbdev --config configs/tinystories_gpu.yaml
# Two nodes: pass NNODES=2, NODE_RANK=0|1, MASTER_ADDR=<node 0's address>, MASTER_PORT=29500 with -e, and --network host.
FROM pytorch/pytorch:2.5.1-cuda12.4-cudnn9-runtime

RUN apt-get update && apt-get install -y --no-install-recommends make git && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY . /app
# The same steps as `make test`/`make train` use: `make install` keeps the image's torch (>= 2.4) and installs
# the package with constraints.txt (PIP_CONSTRAINT=constraints.txt pip install -e ".[dev]") into the image's Python.
RUN make install VENV=/opt/conda

RUN useradd --create-home --uid 1000 trainer && mkdir -p /app/data /app/out && chown -R trainer /app
USER trainer

ENV NNODES=1 NODE_RANK=0 NPROC_PER_NODE=gpu MASTER_ADDR=127.0.0.1 MASTER_PORT=29500 OMP_NUM_THREADS=8
ENTRYPOINT ["/bin/sh", "-c", "exec torchrun --nnodes=$NNODES --node_rank=$NODE_RANK --nproc_per_node=$NPROC_PER_NODE --rdzv_backend=c10d --rdzv_endpoint=$MASTER_ADDR:$MASTER_PORT --max_restarts=3 scripts/train_ddp.py \"$@\"", "--"]
CMD ["--config", "configs/quickstart_cpu.yaml"]
