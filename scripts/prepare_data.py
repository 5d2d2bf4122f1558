#!/usr/bin/env python
"Prepare a corpus into train.bin/val.bin/meta.json: see `python scripts/prepare_data.py --help` (gpt_nbdev.data.prepare)"
from gpt_nbdev.data import prepare_cli

if __name__ == '__main__': prepare_cli()
