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
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-13s %s\n", $$1, $$2}'

$(PY):
	python3 -m venv $(VENV)

# torch first, pinned to the release the project is checked with (2.13.0), unless the virtualenv already has a torch
# >= 2.4 (kept, CUDA or CPU build). Which build of 2.13.0 pip gets depends on where it looks: on the development
# machines pip's find-links (a local wheel folder) hold the CPU build; from PyPI on Linux x86_64 it is the CUDA build,
# several GB. For the CPU build elsewhere, put it into the virtualenv first, and this step keeps it:
#   python3 -m venv .venv && .venv/bin/pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu
# Then the package with nbdev 2's pinned set.
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

# The suite computes on the CPU on every machine (--device auto means $GPT_NBDEV_DEVICE when set), so its exact checks
# hold on a GPU machine too; the GPU tests name cuda themselves (make gpu-check).
test test-slow: export GPT_NBDEV_DEVICE ?= cpu
test: check-clean check-sync lint  ## run every notebook as the test suite (nbdev_test), after the clean, sync and lint checks
	PATH="$(abspath $(BIN)):$$PATH" timeout $(TEST_TIMEOUT) $(BIN)/nbdev_test --n_workers 2

test-slow: $(STAMP)  ## also run the cells flagged slow
	PATH="$(abspath $(BIN)):$$PATH" timeout $(TEST_TIMEOUT) $(BIN)/nbdev_test --n_workers 2 --flags slow

export: $(STAMP)  ## write gpt_nbdev/ and scripts/ from the notebooks
	$(BIN)/nbdev_export
	$(PY) tools/export_scripts.py

clean-nbs: $(STAMP)  ## strip notebook metadata nbdev does not keep
	$(BIN)/nbdev_clean

docs: $(STAMP)  ## build the docs site (needs quarto)
	@command -v quarto >/dev/null || { echo "error: make docs needs quarto: install it from https://quarto.org/docs/get-started/ and run again" >&2; exit 2; }
	$(BIN)/nbdev_docs

preview: $(STAMP)  ## preview the docs site (needs quarto)
	@command -v quarto >/dev/null || { echo "error: make preview needs quarto: install it from https://quarto.org/docs/get-started/ and run again" >&2; exit 2; }
	$(BIN)/nbdev_preview

.PHONY: help install check-clean check-sync test test-slow export clean-nbs docs preview

# JupyterLab on the notebooks. The pre-save hook is nbdev's own (`jupyter_hooks = True` in settings.ini): a notebook saved
# in JupyterLab is written clean (no execution counts, no kernel or language metadata beyond the committed kernelspec).
# `make hooks` installs the same hook in ~/.jupyter for any JupyterLab you start yourself, and nbdev's git merge driver.
LAB_ARGS ?=
lab: $(STAMP)  ## open the notebooks in JupyterLab, with nbdev's clean-on-save hook
	cd nbs && $(abspath $(BIN))/jupyter-lab --ContentsManager.pre_save_hook=nbdev.clean.clean_jupyter $(LAB_ARGS)

hooks: $(STAMP)  ## install nbdev's Jupyter clean-on-save hook (in ~/.jupyter) and its git merge driver for notebooks
	$(BIN)/nbdev_install_hooks
.PHONY: lab hooks

# The notebooks as a reader meets them: JupyterLab in a real headless Chromium (Debian's, driven by playwright) opens the
# widget chapter from a copy, runs all cells, generates with the live widget and stops it. Screenshots in out/ui-test.
UI_TIMEOUT ?= 300
test-ui: $(STAMP)  ## JupyterLab in a real (headless) Chromium: Run All on the widget chapter, generate, Stop; out/ui-test/*.png
	tools/install_ui_deps.sh $(VENV)
	timeout $$(( $(UI_TIMEOUT) + 60 )) $(PY) tools/ui_test.py --notebook 12_widget.ipynb --out out/ui-test --timeout $(UI_TIMEOUT)
.PHONY: test-ui

# The GPU figures, on a machine with one NVIDIA GPU (about 8 minutes on an H100/H200): the gpu-flagged notebook tests,
# GPT-2 124M training tokens/s and MFU (bench_train.py gpu), and batch-1 decoding with CUDA graphs against transformers
# (bench_sampling.py --device cuda). Logs in out/gpu-check. Without CUDA it refuses in one line (exit status 2).
GPU_PARTS ?=
gpu-check: $(STAMP)  ## on a CUDA GPU: gpu-flagged tests, GPT-2 124M training MFU, CUDA-graph decoding vs transformers (~8 min)
	@PY=$(PY) tools/gpu_check.sh $(GPU_PARTS)
.PHONY: gpu-check

readme: $(STAMP)  ## write README.md from nbs/index.ipynb (no quarto needed)
	$(PY) tools/render_readme.py
.PHONY: readme

# The main job. On 2 CPU cores, 2 processes of 1 thread match 1 process of 2 threads on a quiet machine and are far
# faster when other work shares the cores; on a GPU machine set NPROC to the number of GPUs. On an Apple silicon Mac,
# whose device is MPS, one process (gloo cannot pass MPS tensors between processes). The cores are shared out among the processes
# (OMP_NUM_THREADS). TRAIN_ARGS adds flags, e.g. `make train TRAIN_ARGS="--max_iters 300"`; each run starts afresh
# (--overwrite), unless TRAIN_ARGS has --resume: `make train TRAIN_ARGS=--resume` continues it. scripts/torchrun.py is
# torchrun without its report when a process stopped on bad input (chapter 13): the one line that says why is all.
NPROC ?= $(if $(filter Darwin-arm64,$(shell uname -s)-$(shell uname -m)),1,2)
TRAIN_ARGS ?=
# $(call processes,NAME,VALUE): stop with one line unless VALUE, a count of processes, is a positive whole number
processes = case "$(2)" in ''|*[!0-9]*) false;; *) [ "$(2)" -ge 1 ];; esac || { echo "error: $(1)=$(2): give the number of processes, a positive whole number ($(1)=2)" >&2; exit 2; }
train: $(STAMP)  ## the main job: train a small GPT on the embedded corpus (about 3 min on 2 CPU cores), sample, plot loss.png
	@$(call processes,NPROC,$(NPROC))
	n=$(NPROC); OMP_NUM_THREADS=$${OMP_NUM_THREADS:-$$(( $$(nproc) / n > 0 ? $$(nproc) / n : 1 ))} \
	  $(PY) scripts/torchrun.py --standalone --nproc_per_node=$$n scripts/train_ddp.py --config configs/quickstart_cpu.yaml $(if $(findstring --resume,$(TRAIN_ARGS)),,--overwrite) $(TRAIN_ARGS)

# Around the run: prepare a corpus once, sample from a checkpoint.
DATA ?=
TOKENIZER ?= gpt2
PREPARE_ARGS ?=
prepare-data: $(STAMP)  ## tokenize a corpus once: DATA=tinystories|fineweb-edu|path/to/text TOKENIZER=gpt2|bytes|bpe (fineweb-edu: in shards, resumable)
	@test -n "$(DATA)" || { echo "make prepare-data needs DATA=...: a file, folder or glob of text, tinystories, fineweb-edu or a Hugging Face dataset"; exit 2; }
	$(PY) scripts/prepare_data.py --source "$(DATA)" --tokenizer $(TOKENIZER) $(PREPARE_ARGS)

CHECKPOINT ?= out/quickstart
PROMPT ?=
GENERATE_ARGS ?=
generate: $(STAMP)  ## sample from a checkpoint: CHECKPOINT=out/quickstart (or gpt2) PROMPT="..." GENERATE_ARGS="--max_new_tokens 200"
	$(PY) scripts/generate.py --checkpoint "$(CHECKPOINT)" --prompt "$(PROMPT)" --stream $(GENERATE_ARGS)
inference: generate  ## the same as make generate

# ruff reads notebooks natively (ruff.toml). The code keeps the project's compact style, so `fmt` applies ruff's safe
# fixes (unused imports, f-strings without placeholders) rather than reformatting everything.
lint: $(STAMP)  ## ruff on the notebooks, the library, scripts, benchmarks and tools
	$(BIN)/ruff check .
fmt: $(STAMP)  ## apply ruff's safe fixes
	$(BIN)/ruff check --fix .
.PHONY: train prepare-data generate inference lint fmt

# Distributed runs (chapter 13). `make ddp-test N_PROCS_PER_NODE=2`: a few steps of a tiny model under torchrun on N
# processes and on one, checked against each other. `make ddp-train ...`: this machine's share of a job; run it on every
# machine with the same NNODES, MASTER_ADDR (the first machine's address) and MASTER_PORT. The c10d rendezvous numbers
# the machines itself: NODE_RANK is passed to torchrun, which ignores it under c10d (and says so).
N_PROCS_PER_NODE ?= 2
NNODES ?= 1
NODE_RANK ?= 0
MASTER_ADDR ?= 127.0.0.1
MASTER_PORT ?= 29500
MAX_RESTARTS ?= 0
RDZV_ID ?= gpt_nbdev
CONFIG ?= configs/quickstart_cpu.yaml
DDP_DEVICE ?= $$($(PY) -c "import torch; print('cuda' if torch.cuda.is_available() else 'cpu')")
ddp-test: $(STAMP)  ## check distributed training: N_PROCS_PER_NODE processes under torchrun vs 1 process (nccl on GPUs, gloo on CPUs)
	@$(call processes,N_PROCS_PER_NODE,$(N_PROCS_PER_NODE))
	$(PY) scripts/ddp_check.py --nproc_per_node $(N_PROCS_PER_NODE) --device $(DDP_DEVICE)

ddp-train: $(STAMP)  ## this machine's share of a job: NNODES NODE_RANK MASTER_ADDR MASTER_PORT N_PROCS_PER_NODE CONFIG TRAIN_ARGS
	@$(call processes,N_PROCS_PER_NODE,$(N_PROCS_PER_NODE))
	@if [ "$(NNODES)" != 1 ] && case "$(MASTER_ADDR)" in ''|127.*|localhost|::1) true;; *) false;; esac; then \
	  echo "error: NNODES=$(NNODES), but MASTER_ADDR is '$(MASTER_ADDR)', which the other machines cannot reach: give MASTER_ADDR=the first machine's address" >&2; exit 2; fi
	$(PY) scripts/torchrun.py --nnodes=$(NNODES) --node_rank=$(NODE_RANK) --nproc_per_node=$(N_PROCS_PER_NODE) --max_restarts=$(MAX_RESTARTS) \
	  --rdzv_backend=c10d --rdzv_endpoint=$(MASTER_ADDR):$(MASTER_PORT) --rdzv_id=$(RDZV_ID) scripts/train_ddp.py --config $(CONFIG) $(TRAIN_ARGS)
.PHONY: ddp-test ddp-train
