#!/usr/bin/env python
"""Check this machine's distributed setup: a tiny GPT trained a few steps under torchrun on N processes and on one
process with the same global batch must end with the same weights (gpt_nbdev.scaling.ddp_check). `make ddp-test`.
    python scripts/ddp_check.py --nproc_per_node 2"""
from gpt_nbdev.scaling import ddp_check

if __name__ == '__main__': ddp_check()
