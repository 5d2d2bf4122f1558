# syntax=docker/dockerfile:1
# gpt_nbdev training image, in two stages:
#   builder  Python with compilers; installs CUDA torch, the package and its dependencies into a virtualenv, /opt/venv
#   runtime  the same slim Python with only that virtualenv, the scripts and configs, a non-root user, torchrun to start
#
#   docker build -t gpt_nbdev .
#   docker run --rm gpt_nbdev                    # no GPU: the quick start (configs/quickstart_cpu.yaml) on 2 CPU processes
#   docker run --rm --gpus all --ipc=host -v "$PWD/data:/app/data" -v "$PWD/out:/app/out" gpt_nbdev --config configs/tinystories_gpu.yaml
# The entry point (deploy/docker/entrypoint.sh) starts one process per visible GPU (NPROC_PER_NODE=auto) and passes
# NNODES, NODE_RANK, MASTER_ADDR, MASTER_PORT to torchrun: for two machines add --network host and
# -e NNODES=2 -e NODE_RANK=0|1 -e MASTER_ADDR=<the first machine's address> -e MASTER_PORT=29500.
# torch comes from PyPI, whose Linux wheel is the CUDA build (CUDA's libraries included, so no CUDA base image); for an
# older driver pick another build: --build-arg TORCH_INDEX_URL=https://download.pytorch.org/whl/cu126
ARG PYTHON_VERSION=3.11
ARG TORCH_VERSION=2.13.0

FROM python:${PYTHON_VERSION}-slim-bookworm AS builder
# compilers, for any dependency that has no wheel for this platform
RUN apt-get update && apt-get install -y --no-install-recommends build-essential && rm -rf /var/lib/apt/lists/*
ENV VIRTUAL_ENV=/opt/venv PATH=/opt/venv/bin:$PATH PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
WORKDIR /src
# Three layers, from the least to the most often changed, so that a code change rebuilds only the last one:
# 1. torch (the largest, several GB), 2. the requirements (settings.ini's, with transformers for --init_from gpt2,
# and constraints.txt as `make install` uses it), 3. the package itself.
ARG TORCH_VERSION
ARG TORCH_INDEX_URL=
RUN pip install "torch==${TORCH_VERSION}" ${TORCH_INDEX_URL:+--index-url "$TORCH_INDEX_URL"}
COPY settings.ini constraints.txt ./
RUN python -c "import configparser, shlex; c = configparser.ConfigParser(delimiters=['=']); c.read('settings.ini'); \
d = c['DEFAULT']; print('\n'.join(shlex.split(d['requirements']) + shlex.split(d.get('hf_requirements', ''))))" > requirements.txt \
 && PIP_CONSTRAINT=constraints.txt pip install -r requirements.txt
COPY setup.py README.md LICENSE MANIFEST.in ./
COPY gpt_nbdev ./gpt_nbdev
RUN pip install --no-deps . && pip check

FROM python:${PYTHON_VERSION}-slim-bookworm AS runtime
# No build tools here. gcc and the C headers are the one exception, and a run-time need: Triton, behind torch.compile
# (`compile: true` in the GPU recipes), compiles small C launchers when a run starts, and stops without a C compiler.
RUN apt-get update && apt-get install -y --no-install-recommends gcc libc6-dev && rm -rf /var/lib/apt/lists/*
COPY --from=builder /opt/venv /opt/venv
RUN groupadd --gid 1000 trainer && useradd --create-home --uid 1000 --gid 1000 trainer
WORKDIR /app
COPY scripts ./scripts
COPY configs ./configs
COPY deploy/docker/entrypoint.sh ./deploy/docker/entrypoint.sh
RUN mkdir -p data out && chown 1000:1000 data out
# Downloads (tokenizers, Hugging Face datasets) are kept with the data, so a mounted data/ keeps them between runs;
# compiler caches go to /tmp, so the image also runs as any user (docker run --user "$(id -u):$(id -g)").
ENV VIRTUAL_ENV=/opt/venv PATH=/opt/venv/bin:$PATH PYTHONUNBUFFERED=1 \
    XDG_CACHE_HOME=/app/data/.cache HF_HOME=/app/data/.cache/huggingface TIKTOKEN_CACHE_DIR=/app/data/.cache/tiktoken \
    TORCHINDUCTOR_CACHE_DIR=/tmp/torchinductor TRITON_CACHE_DIR=/tmp/triton \
    NVIDIA_DRIVER_CAPABILITIES=compute,utility \
    NNODES=1 NODE_RANK=0 NPROC_PER_NODE=auto MASTER_ADDR=127.0.0.1 MASTER_PORT=29500
# numeric, so that Kubernetes (runAsNonRoot) can tell it is not root
USER 1000:1000
ENTRYPOINT ["/app/deploy/docker/entrypoint.sh"]
CMD ["--config", "configs/quickstart_cpu.yaml"]
