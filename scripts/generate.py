#!/usr/bin/env python
"Generate text from a checkpoint or OpenAI's GPT-2: `python scripts/generate.py --help` (the logic is `gpt_nbdev.sampling.main`)"
from gpt_nbdev.sampling import main

if __name__ == '__main__': main()
