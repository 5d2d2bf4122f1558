#!/usr/bin/env python
"""Train a GPT: see `python scripts/train_ddp.py --help` (gpt_nbdev.trainer.main). One process, CPU or GPU, or many:
    torchrun --standalone --nproc_per_node=8 scripts/train_ddp.py --config configs/gpt2_124m_8gpu.yaml"""
from gpt_nbdev.trainer import main

if __name__ == '__main__': main()
