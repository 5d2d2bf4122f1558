"""What every benchmark here prints about the machine, and how it times: shared by the bench_*.py scripts
(they run as `python bench/x.py`, so this folder is on the import path)."""
import os, platform, subprocess, sys
from pathlib import Path
import torch
from gpt_nbdev.core import usable_cores

def cpu_name()->str:
    "The CPU's model name (lscpu), or what platform knows"
    try: return next(l.split(':', 1)[1].strip() for l in subprocess.run(['lscpu'], capture_output=True, text=True, timeout=10).stdout.splitlines()
                     if l.startswith('Model name'))
    except Exception: return platform.processor() or 'unknown CPU'

def machine(device=None)->str:
    "One line: the device (a GPU's name, else the CPU's), cores and threads, Python and torch"
    device = torch.device(device or ('cuda' if torch.cuda.is_available() else 'cpu'))
    name = torch.cuda.get_device_name(device) if device.type == 'cuda' else cpu_name()
    return (f'{name}, {usable_cores()} cores, {torch.get_num_threads()} threads, Python {platform.python_version()}, '
            f'torch {torch.__version__}')

def load()->str: return 'load average %.2f %.2f %.2f' % os.getloadavg()

def sync(device):
    "Wait for the device's queued work, so that a clock read after it measures it (nothing to wait for on a CPU)"
    if torch.device(device).type == 'cuda': torch.cuda.synchronize()

def require_file(path, what:str, flag:str):
    "Before any work: if the input file `path` is missing, say so in one line naming the flag that gives it, and exit 2"
    if not Path(path).is_file():
        print(f'error: no {what} at {Path(path).resolve()}: pass {flag}', file=sys.stderr); sys.exit(2)
