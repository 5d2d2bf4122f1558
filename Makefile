# gpt_nbdev: `make train` (the main job) and `make test` (the whole suite) work on a fresh machine.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# Use the active virtualenv if there is one, else ./.venv (created on first use).
VENV ?= $(if $(VIRTUAL_ENV),$(VIRTUAL_ENV),.venv)
BIN := $(VENV)/bin
PY := $(BIN)/python
STAMP := $(VENV)/.gpt_nbdev-installed
TEST_TIMEOUT ?= 1500

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(PY):
	python3 -m venv $(VENV)

# torch first: a pinned CPU-friendly build unless a torch >= 2.4 is already there (an unpinned
# `torch` would pull the newest CUDA build, several GB). Then the package with nbdev 2's pinned set.
$(STAMP): $(PY) setup.py settings.ini constraints.txt
	$(PY) -m pip install -q --upgrade pip
	$(PY) -c "import torch, sys; v = tuple(int(x) for x in torch.__version__.split('+')[0].split('.')[:2]); sys.exit(v < (2, 4))" 2>/dev/null \
	  || $(PY) -m pip install -q torch==2.13.0
	PIP_CONSTRAINT=constraints.txt $(PY) -m pip install -q -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)  ## create/reuse the virtualenv and install gpt_nbdev with its dev tools

# The same checks nbdev's own CI makes: notebooks clean, library in sync, every notebook passes.
# We compare the tree before and after, so the checks also work in a checkout with work in progress.
check-clean: $(STAMP)  ## fail if nbdev_clean changes any notebook
	@before="$$(git status --porcelain; git diff)"; $(BIN)/nbdev_clean; \
	 if [ "$$before" != "$$(git status --porcelain; git diff)" ]; then \
	   echo "notebooks are not clean: nbdev_clean changed them (review and commit):"; git status --porcelain; exit 1; fi

check-sync: $(STAMP)  ## fail if the export step (nbdev_export, then the scripts) changes the library or scripts/
	@before="$$(git status --porcelain; git diff)"; $(BIN)/nbdev_export && $(PY) tools/export_scripts.py; \
	 if [ "$$before" != "$$(git status --porcelain; git diff)" ]; then \
	   echo "gpt_nbdev/ or scripts/ is out of step with the notebooks: make export changed them (review and commit):"; git status --porcelain; exit 1; fi

test: check-clean check-sync  ## run every notebook as the test suite (nbdev_test)
	PATH="$(abspath $(BIN)):$$PATH" timeout $(TEST_TIMEOUT) $(BIN)/nbdev_test --n_workers 2

test-slow: $(STAMP)  ## also run the cells flagged slow
	PATH="$(abspath $(BIN)):$$PATH" timeout $(TEST_TIMEOUT) $(BIN)/nbdev_test --n_workers 2 --flags slow

export: $(STAMP)  ## write gpt_nbdev/ and scripts/ from the notebooks
	$(BIN)/nbdev_export
	$(PY) tools/export_scripts.py

clean-nbs: $(STAMP)  ## strip notebook metadata nbdev does not keep
	$(BIN)/nbdev_clean

docs: $(STAMP)  ## build the docs site (needs quarto)
	@command -v quarto >/dev/null || { echo "make docs needs quarto: install it from https://quarto.org/docs/get-started/ and run again"; exit 1; }
	$(BIN)/nbdev_docs

preview: $(STAMP)  ## preview the docs site (needs quarto)
	@command -v quarto >/dev/null || { echo "make preview needs quarto: install it from https://quarto.org/docs/get-started/ and run again"; exit 1; }
	$(BIN)/nbdev_preview

.PHONY: help install check-clean check-sync test test-slow export clean-nbs docs preview

readme: $(STAMP)  ## write README.md from nbs/index.ipynb (no quarto needed)
	$(PY) tools/render_readme.py
.PHONY: readme

# The main job. On 2 CPU cores, 2 processes of 1 thread match 1 process of 2 threads on a quiet machine and are far
# faster when other work shares the cores; on a GPU machine set NPROC to the number of GPUs. The cores are shared out
# among the processes (OMP_NUM_THREADS). TRAIN_ARGS adds flags, e.g. `make train TRAIN_ARGS="--max_iters 300"`.
NPROC ?= 2
TRAIN_ARGS ?=
train: $(STAMP)  ## the main job: train a small GPT on the embedded corpus (about 3 min on 2 CPU cores), sample, plot loss.png
	OMP_NUM_THREADS=$${OMP_NUM_THREADS:-$$(( $$(nproc) / $(NPROC) > 0 ? $$(nproc) / $(NPROC) : 1 ))} \
	  $(BIN)/torchrun --standalone --nproc_per_node=$(NPROC) scripts/train_ddp.py --config configs/quickstart_cpu.yaml --overwrite $(TRAIN_ARGS)
.PHONY: train

# Distributed runs (chapter 07). `make ddp-test N_PROCS_PER_NODE=2`: a few steps of a tiny model under torchrun on N
# processes and on one, checked against each other. `make ddp-train ...`: this machine's share of a job; run it on every
# machine with the same NNODES, MASTER_ADDR (the first machine's address) and MASTER_PORT. The c10d rendezvous numbers
# the machines itself; NODE_RANK is passed along for logs and for a static rendezvous.
N_PROCS_PER_NODE ?= 2
NNODES ?= 1
NODE_RANK ?= 0
MASTER_ADDR ?= 127.0.0.1
MASTER_PORT ?= 29500
MAX_RESTARTS ?= 0
RDZV_ID ?= gpt_nbdev
CONFIG ?= configs/quickstart_cpu.yaml
ddp-test: $(STAMP)  ## check distributed training: N_PROCS_PER_NODE processes under torchrun vs 1 process
	$(PY) scripts/ddp_check.py --nproc_per_node $(N_PROCS_PER_NODE)

ddp-train: $(STAMP)  ## this machine's share of a job: NNODES NODE_RANK MASTER_ADDR MASTER_PORT N_PROCS_PER_NODE CONFIG TRAIN_ARGS
	$(BIN)/torchrun --nnodes=$(NNODES) --node_rank=$(NODE_RANK) --nproc_per_node=$(N_PROCS_PER_NODE) --max_restarts=$(MAX_RESTARTS) \
	  --rdzv_backend=c10d --rdzv_endpoint=$(MASTER_ADDR):$(MASTER_PORT) --rdzv_id=$(RDZV_ID) scripts/train_ddp.py --config $(CONFIG) $(TRAIN_ARGS)
.PHONY: ddp-test ddp-train
