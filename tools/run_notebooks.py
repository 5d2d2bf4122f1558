#!/usr/bin/env python
"""Run notebooks as a reader's "Run All" in Jupyter does: every code cell, top to bottom, `#| eval: false` and `#| slow`
cells included (nbdev_test skips those), in the notebook's own folder, each notebook in a fresh process. Prints one line
per notebook with its time, and the first error if there is one; exits 1 if any notebook failed.

    python tools/run_notebooks.py                  # every chapter
    python tools/run_notebooks.py nbs/07_sampling.ipynb --save

`--save` writes the new outputs back into the notebooks (then `nbdev_clean` them), which is how the saved outputs that
the docs show are refreshed; each run starts from no outputs, so none is left over from an earlier run. Cells marked
`#| gpu` print that they need a CUDA GPU and do nothing else on a machine without one. Widget views are dropped from
saved outputs (their state is not saved), keeping the text."""
import argparse, os, subprocess, sys, time
from pathlib import Path

root = Path(__file__).resolve().parents[1]

def run_one(path:Path, save:bool, timeout:float)->tuple:
    "Run the notebook at `path` in a child process; (seconds, error message or None)"
    code = f'''
import os, sys
os.chdir({str(path.parent)!r}); sys.path.insert(0, {str(root)!r})
from execnb.nbio import read_nb, write_nb
from execnb.shell import CaptureShell
nb = read_nb({str(path)!r})
for c in nb.cells:                   # a cell that now prints nothing must not keep what it printed before
    if c.cell_type == 'code': c['outputs'] = []
sh = CaptureShell()
sh.run_all(nb, exc_stop=True)
if {save!r}:
    for c in nb.cells:
        for o in c.get('outputs', []):
            o.get('data', {{}}).pop('application/vnd.jupyter.widget-view+json', None)
    write_nb(nb, {str(path)!r})
'''
    t0 = time.time()
    try: p = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, timeout=timeout,
                            env={**os.environ, 'PYTHONPATH': str(root)})
    except subprocess.TimeoutExpired: return time.time() - t0, f'still running after {timeout:.0f} s'
    err = None
    if p.returncode:
        lines = [l for l in (p.stderr or p.stdout).strip().splitlines() if l.strip()]
        err = lines[-1] if lines else f'exit status {p.returncode}'
    return time.time() - t0, err

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0], allow_abbrev=False)
    ap.add_argument('notebooks', nargs='*', help='notebooks to run (default: every chapter in nbs/)')
    ap.add_argument('--save', action='store_true', help='write the outputs back into the notebooks, then nbdev_clean them')
    ap.add_argument('--timeout', type=float, default=600, help='seconds one notebook may take')
    a = ap.parse_args()
    nbs = [Path(n).resolve() for n in a.notebooks] or sorted((root / 'nbs').glob('[!_.]*.ipynb'))
    failed = 0
    for nb in nbs:
        secs, err = run_one(nb, a.save, a.timeout)
        failed += err is not None
        print(f'{nb.name:24} {secs:6.1f} s  ' + ('ok' if err is None else f'FAILED: {err}'), flush=True)
    if a.save:                       # only the notebooks written here (others may be mid-edit)
        for nb in nbs: subprocess.run([str(Path(sys.executable).parent / 'nbdev_clean'), '--fname', str(nb)], cwd=root, check=False)
    print(f'run all: {len(nbs) - failed} passed, {failed} failed')
    sys.exit(1 if failed else 0)

if __name__ == '__main__': main()
