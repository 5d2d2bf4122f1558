"""Render nbs/index.ipynb to README.md without quarto (nbconvert's Markdown exporter), so the two never drift.
`python tools/render_readme.py` writes README.md; `--check` exits 1 if README.md differs from the rendering."""
import re, sys
from pathlib import Path
import nbformat
from nbconvert import MarkdownExporter

ROOT = Path(__file__).resolve().parents[1]

def render(nb_path=ROOT / 'nbs' / 'index.ipynb') -> str:
    nb = nbformat.read(nb_path, as_version=4)
    nb.cells = [c for c in nb.cells if not re.search(r'^\s*#\s*\|\s*hide\s*$', c.source, re.M)]  # as nbdev does
    body, _ = MarkdownExporter(exclude_raw=True).from_notebook_node(nb)
    out, in_code = [], False
    for line in body.splitlines():
        if line.startswith('```'):
            if not in_code and line == '```': line = '```python'    # code cells are Python
            in_code = not in_code
        out.append(line)
    text = '\n'.join(out)
    text = re.sub(r'\]\((\d\d_[\w]+)\.ipynb\)', r'](nbs/\1.ipynb)', text)   # chapter links work on GitHub too
    text = re.sub(r'\]\(images/', '](nbs/images/', text)                 # and pictures
    text = re.sub(r'\n{3,}', '\n\n', text).strip() + '\n'
    return '<!-- generated from nbs/index.ipynb by tools/render_readme.py (make readme): edit the notebook -->\n' + text

if __name__ == '__main__':
    readme = ROOT / 'README.md'
    if '--check' in sys.argv:
        if readme.read_text() != render(): sys.exit('README.md is out of date with nbs/index.ipynb: run `make readme`')
    else:
        readme.write_text(render())
