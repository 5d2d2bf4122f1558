#!/usr/bin/env python
"Evaluate a checkpoint: loss, perplexity and bits per byte on a split, HellaSwag accuracy; see `python scripts/evaluate.py --help` (gpt_nbdev.eval.main)"
from gpt_nbdev.eval import main

if __name__ == '__main__': main()
