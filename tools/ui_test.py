#!/usr/bin/env python
"""A real-browser test of the live generation widget in JupyterLab (`make test-ui`).

    .venv/bin/python tools/ui_test.py [--notebook 12_widget.ipynb] [--out out/ui-test] [--timeout 300]

What it does, in order (every wait is on page or server state, each with an explicit timeout capped by --timeout):

1. Checks its prerequisites: a Chromium at --chromium (default /usr/bin/chromium, Debian's `chromium` package), the
   Python `playwright` package, and `jupyter-lab` next to this Python. If one is missing it prints one line saying
   what is missing and how to install it (`tools/install_ui_deps.sh` does both) and exits 2: it never passes silently.
   It never runs `playwright install` (Playwright's own browser download); it drives the system Chromium.
2. Serves a COPY, so the real notebook is never modified (JupyterLab saves, autosaves and writes
   .ipynb_checkpoints/ next to what it opens). The served folder (--root, default the repo's nbs/) is copied into a
   temporary directory as <tmp>/tree/<name of root>/ (skipping .ipynb_checkpoints, .quarto, _proc, _docs; its
   folders named _* -- nbdev's caches such as _data, _out -- are linked, not copied). When the
   root's parent is an nbdev project (it has settings.ini), as nbs/ is, every other top-level entry of the project is
   symlinked next to the copy (<tmp>/tree/scripts -> <repo>/scripts, ...), so the paths the chapters use relative to
   nbs/ (`../scripts/generate.py`, `../configs/...`, `../out/...`) resolve exactly as under `nbdev_test`; the
   exceptions are .git (not linked) and the library folder named by settings.ini's lib_path (gpt_nbdev/), which is
   copied too, so a chapter's `nbdev_export()` cell writes into the copy and never into the real library. The kernel
   imports gpt_nbdev from the venv (an editable install), so the copy changes nothing about what code runs.
   Files a notebook writes next to itself stay in the temporary directory; files it writes through a link (into
   ../out/ if the repo has an out/ folder, or nbs/_data/) land in the repo, as they would under nbdev_test. The
   temporary directory is removed at the end.
3. Starts `jupyter-lab` on 127.0.0.1 at a free port with a random token (passed in the JUPYTER_TOKEN environment
   variable, which jupyter_server 2's IdentityProvider reads, so the token is not visible in `ps`; the equivalent flag
   is --IdentityProvider.token, --ServerApp.token is deprecated), with nothing fetched from the network
   (--LabApp.news_url=None, NeverCheckForUpdate, fetchNews "false"), private settings/workspace/runtime folders,
   autosave off and notebook windowing off (every cell stays in the DOM), and window.jupyterapp exposed. It waits
   for /api/status to answer, and stops that server (its kernels, then its process group) in a `finally`.
4. Opens the notebook with Playwright (sync API, headless system Chromium, external hosts unresolvable), waits for
   the notebook panel and a started kernel, and FAILS if JupyterLab asks to select a kernel (the notebook carries no
   kernelspec; --accept-kernel-dialog clicks through it, for development). Runs all cells (the notebook:run-all-cells
   command), waits for its completion, for no `[*]` prompt, an idle kernel and an execution count on every non-empty
   code cell, and fails on any error output, printing the cell's error. (In the DOM JupyterLab renders an error
   exactly like stderr, as `.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]`, so errors are
   read from the cell models, where they keep output_type "error"; plain stderr is allowed.)
5. Finds the generation widget: the element with class `gpt-generation-widget` if the notebook adds it
   (`w.box.add_class('gpt-generation-widget')`), else the innermost widget box holding a textarea and the buttons
   "Generate" and "Stop". Types a prompt and a seed (--seed, so that the text is repeatable), clicks Generate, waits
   for the status line "done: N tokens, X tokens/s", and checks the new text (>= 20 characters, >= --min-printable of
   them printable ASCII or whitespace, >= 3 words; the sample may be prose or one of the corpus' tables, and a broken
   decode shows as U+FFFD or control bytes) and the candidates table (a table headed "next token" with rows, and not
   the one shown before the click: Run All's own generation has drawn one already). Then sets "new tokens" to its
   maximum, clicks Generate, clicks Stop as soon as text streams in, and checks that the status says
   "stopped after N tokens", Generate is enabled again, Stop disabled, and the output does not change for a quiet
   period of 1 s (20x the widget's 50 ms update cadence: the one fixed-length wait, which asserts the absence of
   change and so cannot race). Page state is polled every 100 ms (20 ms while waiting to click Stop), not on every
   animation frame, so the test does not keep the browser busy while the widget generates.
6. Writes screenshots to --out: widget.png (the widget after the first generation), final.png, and failure.png on
   a failure, plus jupyter-server.log and browser-console.log.
7. Prints one summary line last, `ui test: passed (...)` (exit 0) or `ui test: FAILED: <reason>` (exit 1).

--bench-threads default,1,2 additionally times the widget with its worker thread using n CPU threads (the widget's
`threads` attribute, or for a widget without one torch.set_num_threads(n) in the kernel, which a new thread inherits;
"default" is the widget's own choice), --bench-tokens tokens each, --bench-repeats times, and the same stream_steps
loop run in a new thread of the kernel with nothing displayed, for comparison.

--root and --notebook test another folder, e.g. a scratch notebook outside the repo:
    .venv/bin/python tools/ui_test.py --root /tmp/uidev --notebook demo.ipynb --out /tmp/uidev/out
"""
import argparse, json, os, re, secrets, shutil, signal, socket, subprocess, sys, tempfile, threading, time
import urllib.parse, urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
# Tested by default: the first of these that exists (the widget chapter; the pattern finds it if it is renumbered)
DEFAULT_NOTEBOOKS = ('12_widget.ipynb', '*_widget.ipynb')
CHROMIUM = '/usr/bin/chromium'
CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
                 '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage',
                 '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1']  # offline: every host but ours fails at once
WIDGET_CLASS = 'gpt-generation-widget'
QUIET_MS = 1000                                                  # "the text stops growing": no change for this long


class Failure(Exception):
    "A test failure: its message becomes the summary line"


# ------------------------------------------------------------------------------------------------ prerequisites
def check_prerequisites(chromium: str):
    "One line and exit 2 when something the test needs is missing"
    missing = []
    if not (os.path.isfile(chromium) and os.access(chromium, os.X_OK)):
        missing.append(f'Chromium at {chromium} (Debian: apt-get update && apt-get install -y chromium)')
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing.append(f'the Python package playwright ({sys.executable} -m pip install playwright; '
                       f'never `playwright install`: the system Chromium is used)')
    if not (Path(sys.executable).parent / 'jupyter-lab').exists():
        missing.append(f'jupyter-lab next to {sys.executable} (run `make install`)')
    if missing:
        print(f'ui test: cannot run: missing {"; ".join(missing)} -- or run tools/install_ui_deps.sh', flush=True)
        sys.exit(2)


# ------------------------------------------------------------------------------------------------ the served copy
_SKIP = ('.ipynb_checkpoints', '.quarto', '_proc', '_docs', '__pycache__')   # never copied or linked

def make_served_copy(root: Path, tmp: Path) -> Path:
    "Copy `root` (and link its nbdev project around it) under `tmp`; return the copy of `root` (see the docstring, 2.)"
    tree = tmp / 'tree'
    served = tree / root.name
    served.mkdir(parents=True)
    for entry in root.iterdir():
        if entry.name in _SKIP: continue
        if entry.is_dir() and entry.name.startswith('_'): (served / entry.name).symlink_to(entry)   # _data, _out: caches
        elif entry.is_dir(): shutil.copytree(entry, served / entry.name, symlinks=True, ignore=shutil.ignore_patterns(*_SKIP))
        else: shutil.copy2(entry, served / entry.name, follow_symlinks=False)
    project = root.parent
    if (project / 'settings.ini').is_file():
        lib = _lib_path(project / 'settings.ini')
        for entry in project.iterdir():
            if entry.name in (root.name, '.git'): continue
            if entry.name == lib and entry.is_dir():
                shutil.copytree(entry, tree / entry.name, symlinks=True, ignore=shutil.ignore_patterns(*_SKIP))
            else: (tree / entry.name).symlink_to(entry)
    return served

def _lib_path(ini: Path) -> str:
    "settings.ini's lib_path (nbdev's library folder), or ''"
    import configparser
    try:
        cp = configparser.ConfigParser()
        cp.read(ini)
        return cp['DEFAULT'].get('lib_path', '')
    except (configparser.Error, KeyError): return ''


# ------------------------------------------------------------------------------------------------ the server
# JupyterLab user settings for the test: no network, no autosave, every cell in the DOM (windowing off).
LAB_SETTINGS = {
    '@jupyterlab/apputils-extension/notification.jupyterlab-settings': {'fetchNews': 'false', 'checkForUpdates': False},
    '@jupyterlab/docmanager-extension/plugin.jupyterlab-settings': {'autosave': False},
    '@jupyterlab/notebook-extension/tracker.jupyterlab-settings': {'windowingMode': 'none'},
}

def free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]

class LabServer:
    "jupyter-lab in its own process group, on a served folder, with private settings; `stop()` ends it and its kernels"
    def __init__(self, served: Path, tmp: Path, log_path: Path):
        self.port, self.token = free_port(), secrets.token_hex(24)
        settings, workspaces, runtime, config = (tmp / n for n in ('lab-settings', 'lab-workspaces', 'runtime', 'config'))
        for d in (workspaces, runtime, config): d.mkdir()
        for rel, value in LAB_SETTINGS.items():
            p = settings / rel
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_text(json.dumps(value))
        bindir = str(Path(sys.executable).parent)
        env = dict(os.environ, JUPYTER_TOKEN=self.token, JUPYTER_RUNTIME_DIR=str(runtime), JUPYTER_CONFIG_DIR=str(config),
                   PATH=bindir + os.pathsep + os.environ.get('PATH', ''), PYTHONUNBUFFERED='1')
        env.pop('JUPYTER_PASSWORD', None)
        cmd = [str(Path(bindir) / 'jupyter-lab'), '--no-browser', '--allow-root',
               '--ServerApp.ip=127.0.0.1', f'--ServerApp.port={self.port}', '--ServerApp.port_retries=0',
               f'--ServerApp.root_dir={served}', '--ServerApp.terminals_enabled=False',
               '--LabApp.news_url=None', '--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate',
               '--LabApp.expose_app_in_browser=True',
               f'--LabApp.user_settings_dir={settings}', f'--LabApp.workspaces_dir={workspaces}']
        self.log = open(log_path, 'w')
        self.proc = subprocess.Popen(cmd, cwd=served, env=env, stdout=self.log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, start_new_session=True)
        self.url = f'http://127.0.0.1:{self.port}'

    def api(self, path, method='GET', timeout=5):
        req = urllib.request.Request(f'{self.url}{path}', method=method, headers={'Authorization': f'token {self.token}'})
        with urllib.request.urlopen(req, timeout=timeout) as r:
            body = r.read()
            return json.loads(body) if body else None

    def wait_ready(self, timeout: float):
        "Poll /api/status until it answers (the server is not a page yet, so this is a short poll), or fail"
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                raise Failure(f'jupyter-lab exited with code {self.proc.returncode} before answering: {self.log_tail()}')
            try:
                self.api('/api/status', timeout=2)
                return
            except OSError:
                time.sleep(0.2)
        raise Failure(f'jupyter-lab did not answer /api/status within {timeout:.0f} s: {self.log_tail()}')

    def log_tail(self, n=3):
        self.log.flush()
        lines = [l.strip() for l in Path(self.log.name).read_text(errors='replace').splitlines() if l.strip()]
        return ' | '.join(lines[-n:])

    def _descendants(self):
        "Pids whose parent chain leads to the server (its kernels run in their own sessions, so killpg misses them)"
        parent = {}
        for d in Path('/proc').iterdir():
            if not d.name.isdigit(): continue
            try: parent[int(d.name)] = int((d / 'stat').read_text().rsplit(')', 1)[1].split()[1])
            except (OSError, IndexError, ValueError): pass
        out, todo = set(), [self.proc.pid]
        while todo:
            p = todo.pop()
            for c, pp in parent.items():
                if pp == p and c not in out: out.add(c); todo.append(c)
        return out

    def stop(self):
        "Shut down this server's kernels, then its process group; SIGKILL whatever of it is left after 10 s"
        if self.proc.poll() is None:
            try:
                for k in self.api('/api/kernels'): self.api(f'/api/kernels/{k["id"]}', method='DELETE', timeout=10)
            except (OSError, ValueError): pass
        kids = self._descendants() if self.proc.poll() is None else set()
        try: os.killpg(self.proc.pid, signal.SIGTERM)
        except ProcessLookupError: pass
        try: self.proc.wait(10)
        except subprocess.TimeoutExpired:
            try: os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError: pass
            self.proc.wait(5)
        for pid in kids:                                   # only processes this server started
            try: os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError): pass
        self.log.close()


# ------------------------------------------------------------------------------------------------ page helpers
# Injected once into the page. The widget is marked data-ui-test="widget" so Python locators can scope to it;
# a MutationObserver keeps a log of its state so that quick transitions (Generate -> done) are never missed.
PAGE_JS = r"""
(() => {
  const U = window.__uit = {events: [], since: 0, results: {}};
  U.app = () => window.jupyterapp;
  U.panelFor = (path) => {
    const app = U.app(); if (!app) return null;
    for (const w of app.shell.widgets('main'))
      if (w.context && w.context.path === path && w.content && w.sessionContext) return w;
    return null;
  };
  U.kernelState = () => {
    const dlg = document.querySelector('.jp-Dialog');
    if (dlg) return {dialog: dlg.innerText.replace(/\s+/g, ' ').trim()};
    const sc = U.panel && U.panel.sessionContext, k = sc && sc.session && sc.session.kernel;
    return {status: k ? k.status : null, connection: k ? k.connectionStatus : null,
            name: sc ? sc.kernelDisplayName : null};
  };
  U.cells = () => U.panel.content.widgets.map((c, i) => {
    const m = c.model, code = m.type === 'code', p = c.node.querySelector('.jp-InputPrompt');
    return {i, type: m.type, empty: !m.sharedModel.getSource().trim(), count: code ? m.executionCount : null,
            prompt: code && p ? p.textContent.trim() : '',
            errors: code ? m.outputs.toJSON().filter(o => o.output_type === 'error')
                                     .map(o => ({ename: o.ename, evalue: o.evalue, traceback: o.traceback})) : [],
            head: m.sharedModel.getSource().split('\n')[0].slice(0, 80)};
  });
  U.runAllDone = () => {
    if (!U.runAll) return false;
    const k = U.kernelState();
    if (k.dialog || k.status === 'dead') return true;
    const queued = [...U.panel.node.querySelectorAll('.jp-InputPrompt')].some(p => p.textContent.includes('*'));
    return U.runAll.done && k.status === 'idle' && !queued;
  };
  U.startRunAll = () => {
    const app = U.app();
    app.shell.activateById(U.panel.id);
    if (app.shell.currentWidget !== U.panel) throw new Error('could not make the notebook the current widget');
    U.runAll = {done: false};
    app.commands.execute('notebook:run-all-cells').then(r => Object.assign(U.runAll, {done: true, result: r}),
                                                        e => Object.assign(U.runAll, {done: true, error: String(e)}));
  };
  // Run code in the notebook's kernel; the result lands in U.results[key] (Python waits on it with a timeout).
  U.exec = (key, code) => {
    const k = U.panel.sessionContext.session.kernel, f = k.requestExecute({code, store_history: false});
    let out = '', err = null;
    f.onIOPub = (msg) => {
      const t = msg.header.msg_type, c = msg.content;
      if (t === 'stream') out += c.text;
      else if (t === 'execute_result') out += c.data['text/plain'];
      else if (t === 'error') err = `${c.ename}: ${c.evalue}`;
    };
    f.done.then(() => U.results[key] = {out, err}, e => U.results[key] = {out, err: String(e)});
  };
  // --- the widget
  const txt = (el) => el ? el.textContent.replace(/\s+$/, '') : '';
  U.findWidget = () => {
    let w = document.querySelector('.__CLASS__'), how = 'class .__CLASS__';
    if (!w) {
      how = 'button labels';
      for (const b of document.querySelectorAll('button')) {
        if (b.textContent.trim() !== 'Generate') continue;
        for (let el = b.parentElement; el && !w; el = el.parentElement)
          if (el.classList.contains('widget-box') && el.querySelector('textarea') &&
              [...el.querySelectorAll('button')].some(x => x.textContent.trim() === 'Stop')) w = el;
        if (w) break;
      }
    }
    if (!w) return null;
    w.setAttribute('data-ui-test', 'widget');
    U.widget = w;
    new MutationObserver(() => U.events.push(U.state())).observe(w, {subtree: true, childList: true, characterData: true,
                                                                      attributes: true, attributeFilter: ['disabled']});
    return how;
  };
  U.button = (label) => [...U.widget.querySelectorAll('button')].find(b => b.textContent.trim() === label);
  U.statusEl = () => {
    const own = U.widget.querySelector('.gpt-status');
    if (own) return own;
    // the HTML widget after the Generate/Stop row, in the same box
    const row = U.button('Generate').closest('.widget-hbox'), box = row && row.parentElement;
    const htmls = box ? [...box.children].filter(c => c.classList.contains('widget-html')) : [];
    return htmls.length ? htmls[htmls.length - 1] : null;
  };
  U.outputEl = () => U.widget.querySelector('.gpt-output pre') || U.widget.querySelector('.widget-html-content > pre');
  U.table = () => [...U.widget.querySelectorAll('table')].find(t => /next token/.test(txt(t.querySelector('th'))));
  U.chart = () => { const t = U.table(); return t ? t.outerHTML : ''; };   // the candidates table as drawn
  U.state = () => {
    const out = U.outputEl(), b = out && out.querySelector('b'), t = U.table();
    const g = U.button('Generate'), s = U.button('Stop');
    return {status: txt(U.statusEl()).trim(), text: out ? out.textContent : '', prompt: b ? b.textContent : null,
            rows: t ? t.querySelectorAll('tr').length - 1 : 0, genDisabled: !g || g.disabled,
            stopDisabled: !s || s.disabled};
  };
  U.mark = () => { U.since = U.events.length; U.markText = U.state().text; };
  U.finished = /^(done:|stopped after|error)/;
  U.running = /^(generating|compiling)/;                  // the status while generating (compiling: the step, first)
  // a generation started after mark() and has ended
  U.generationDone = () => {
    const ev = U.events.slice(U.since), s = U.state();
    const started = ev.some(e => e.genDisabled || U.running.test(e.status));
    return started && !s.genDisabled && U.finished.test(s.status);
  };
  // a generation started after mark(): 'streaming' once its text comes in, 'ended' if it is already over
  U.streaming = () => {
    if (U.generationDone()) return 'ended';
    const ev = U.events.slice(U.since), s = U.state();
    return ev.some(e => U.running.test(e.status) || e.genDisabled) && s.text !== U.markText ? 'streaming' : null;
  };
  U.quiet = (ms) => new Promise((resolve) => {
    let n = 0;
    const o = new MutationObserver((m) => { n += m.length; });
    o.observe(U.outputEl() || U.widget, {subtree: true, childList: true, characterData: true});
    setTimeout(() => { o.disconnect(); resolve(n); }, ms);
  });
})()
""".replace('__CLASS__', WIDGET_CLASS)


class Browser:
    "The Playwright side: a page on the served notebook, with waits capped by the overall deadline"
    def __init__(self, page, deadline, log):
        self.page, self.deadline, self.log = page, deadline, log

    def ms(self, step_s: float) -> float:
        "A step's timeout in ms: its own limit, or what is left of --timeout if less"
        left = self.deadline - time.monotonic()
        if left <= 1: raise Failure('the overall --timeout ran out')
        return 1000 * min(step_s, left)

    def wait(self, js, what, step_s, arg=None, poll_ms=100):
        """Wait until `js` (a function of arg) returns something truthy in the page; its value, or a Failure naming `what`.
        It is checked every poll_ms, not on every animation frame (Playwright's default), so that the test itself does not
        keep the browser busy while the widget generates (transitions between checks are kept by the MutationObserver)"""
        from playwright.sync_api import TimeoutError as PWTimeout
        ms = self.ms(step_s)
        try: return self.page.wait_for_function(js, arg=arg, timeout=ms, polling=poll_ms).json_value()
        except PWTimeout:
            limit = '' if ms >= 1000 * step_s else ' (the rest of --timeout)'
            raise Failure(f'timed out after {ms / 1000:.0f} s{limit} waiting for {what}') from None

    def js(self, js, arg=None): return self.page.evaluate(js, arg)

    def exec_kernel(self, code, step_s=60, what=None):
        "Run `code` in the notebook's kernel; its printed output (a Failure on an error)"
        key, what = secrets.token_hex(4), what or repr(code)
        self.js('([k, c]) => __uit.exec(k, c)', [key, code])
        r = self.wait('k => __uit.results[k]', f'the kernel to run {what}', step_s, key)
        if r['err']: raise Failure(f'the kernel could not run {what}: {r["err"]}')
        return r['out'].strip()


# For --bench-threads, run once in the kernel: finds the widget on the page (the GenerationWidget whose prompt and length
# are the ones the test typed), sets the threads its worker uses (its `threads` attribute when it has one, else torch's
# count, which a new thread inherits), and times the widget's own loop -- stream_steps with its knobs, in a new thread as
# the widget runs it -- with nothing displayed: the difference to the widget's tokens/s is the cost of showing it.
KERNEL_BENCH = '''
import sys as _s, threading as _t, time as _tm, inspect as _in, torch as _torch
_uit_w = [v for v in list(globals().values()) if hasattr(v, 'generate_button') and hasattr(v, 'model')
          and getattr(getattr(v, 'prompt', None), 'value', None) == %r and v.max_new_tokens.value == %d][-1]
_uit_torch_default = _torch.get_num_threads()
_uit_default = getattr(_uit_w, 'threads', None) or _uit_torch_default
def _uit_threads(n):
    if hasattr(_uit_w, 'threads'): _uit_w.threads = n
    else: _torch.set_num_threads(n)
def _uit_loop(prompt, n_tokens, threads):
    w = _uit_w
    m = next((_s.modules[c.__module__] for c in type(w).__mro__ if hasattr(_s.modules.get(c.__module__), 'stream_steps')), None)
    if m is None: import gpt_nbdev.sampling as m
    sp = w.sampling() if callable(getattr(w, 'sampling', None)) else \\
         m.sampling_for(w.method.value, w.temperature.value, w.top_k.value, w.top_p.value)
    kw = dict(sampling=sp) if 'sampling' in _in.signature(m.stream_steps).parameters else \\
         dict(temperature=sp.temperature, top_k=sp.top_k, top_p=sp.top_p)
    out = []
    def run():
        _torch.set_num_threads(threads)
        t0, k = _tm.perf_counter(), 0
        for st in m.stream_steps(w.model, w.enc, prompt, n_tokens, n_candidates=w.n_candidates, **kw): k += st.token is not None
        out.append(k / (_tm.perf_counter() - t0))
    th = _t.Thread(target=run); th.start(); th.join()
    _torch.set_num_threads(_uit_torch_default)
    return out[0]
print(_uit_default)
'''

ANSI = re.compile(r'\x1b\[[0-9;]*[A-Za-z]')
TOKENS = re.compile(r'(done:|stopped after) (\d+) tokens?, ([\d.]+) tokens/s')

def printable_ratio(s: str) -> float:
    "The share of `s` that is printable ASCII or whitespace (a broken decode gives U+FFFD, control bytes or other junk)"
    return sum(c.isascii() and (c.isprintable() or c.isspace()) for c in s) / max(len(s), 1)


def words(s: str) -> list:
    "Runs of three or more ASCII letters: the text is made of words, not only symbols"
    return re.findall(r'[A-Za-z]{3,}', s)


# ------------------------------------------------------------------------------------------------ the test
def run_test(args, b: Browser, nb_path: str, server: LabServer, out: Path, say) -> str:
    from playwright.sync_api import TimeoutError as PWTimeout
    page = b.page
    # --- open the notebook and wait for its panel and kernel
    page.goto(f'{server.url}/lab/tree/{urllib.parse.quote(nb_path)}?token={server.token}', timeout=b.ms(60))
    page.wait_for_selector('.jp-NotebookPanel .jp-Notebook .jp-Cell', timeout=b.ms(90))
    b.js(PAGE_JS)
    b.wait('p => (__uit.panel = __uit.panelFor(p)) !== null', f'the notebook panel of {nb_path}', 30, nb_path)
    say('notebook open')
    k = b.wait('''() => { const k = __uit.kernelState();
                          return (k.dialog || (k.status === 'idle' && k.connection === 'connected')) ? k : null; }''',
               'the kernel to start (or JupyterLab to ask for one)', 90)
    notes = []
    if k.get('dialog'):
        if 'Select Kernel' not in k['dialog']: raise Failure(f'JupyterLab showed a dialog: {k["dialog"][:300]}')
        if not args.accept_kernel_dialog:
            raise Failure(f'JupyterLab asked to select a kernel for {nb_path}: the notebook has no kernelspec in its '
                          f'metadata (add {{"kernelspec": {{"name": "python3", ...}}}}; --accept-kernel-dialog clicks through)')
        say('the notebook has no kernelspec: accepting the "Select Kernel" dialog (--accept-kernel-dialog)')
        notes.append('kernel dialog accepted')
        sel = page.locator('.jp-Dialog select')
        if sel.locator('option[value=\'{"name":"python3"}\']').count(): sel.select_option(value='{"name":"python3"}')
        page.locator('.jp-Dialog .jp-mod-accept').click(timeout=b.ms(10))
        page.locator('.jp-Dialog').wait_for(state='detached', timeout=b.ms(10))
        b.wait('''() => { const k = __uit.kernelState();
                          return k.dialog ? k : (k.status === 'idle' && k.connection === 'connected'); }''',
               'the selected kernel to start', 90)
        again = b.js('() => __uit.kernelState().dialog')
        if again: raise Failure(f'JupyterLab showed another dialog: {again[:300]}')
    say(f'kernel ready ({b.js("() => __uit.kernelState().name")})')

    # --- run all cells
    t0 = time.monotonic()
    b.js('() => __uit.startRunAll()')
    b.wait('() => __uit.runAllDone()', 'Run All Cells to finish', args.timeout)
    t_run = time.monotonic() - t0
    k = b.js('() => __uit.kernelState()')
    if k.get('dialog'): raise Failure(f'JupyterLab showed a dialog during Run All: {k["dialog"][:300]}')
    if k.get('status') == 'dead': raise Failure('the kernel died during Run All')
    cells = b.js('() => __uit.cells()')
    for c in cells:
        for e in c['errors']:
            tb = [ANSI.sub('', l) for l in e.get('traceback') or []]
            where = '\n'.join(tb[-6:]) if tb else ''
            print(f'--- cell {c["i"]} ({c["prompt"]} {c["head"]!r}) raised {e["ename"]}: {e["evalue"]}\n{where}', flush=True)
            raise Failure(f'cell {c["i"]} ({c["prompt"]} {c["head"]!r}) raised {e["ename"]}: {e["evalue"]}')
    not_run = [c for c in cells if c['type'] == 'code' and not c['empty'] and c['count'] is None]
    if not_run:
        raise Failure(f'{len(not_run)} code cell(s) did not run, the first: cell {not_run[0]["i"]} {not_run[0]["head"]!r}')
    n_code = sum(c['type'] == 'code' and not c['empty'] for c in cells)
    say(f'ran all {n_code} code cells in {t_run:.1f} s, no errors')

    # --- the widget
    how = b.wait('() => __uit.findWidget()', f'the generation widget (class {WIDGET_CLASS}, or a widget box with a '
                 f'textarea and the buttons Generate and Stop)', 30)
    if how != f'class .{WIDGET_CLASS}':
        notes.append(f'widget found by its button labels (add_class {WIDGET_CLASS!r} recommended)')
    say(f'widget found by {how}')
    w = page.locator('[data-ui-test=widget]')
    w.scroll_into_view_if_needed(timeout=b.ms(10))
    generate = w.locator('button', has_text=re.compile(r'^\s*Generate\s*$'))
    stop = w.locator('button', has_text=re.compile(r'^\s*Stop\s*$'))
    label = page.locator('.widget-label', has_text=re.compile(r'^\s*new tokens\s*$'))
    readout = w.locator('.widget-slider', has=label).locator('.widget-readout')

    def set_new_tokens(value: int) -> int:
        "Type into the 'new tokens' slider's readout (values above its max are clamped to it); the value shown"
        readout.fill(str(value), timeout=b.ms(10))
        readout.press('Enter', timeout=b.ms(10))
        return b.wait('''([v]) => {
            const el = [...__uit.widget.querySelectorAll('.widget-slider')]
                         .find(s => s.querySelector('.widget-label').textContent.trim() === 'new tokens');
            const max = parseFloat(el.querySelector('[aria-valuemax]').getAttribute('aria-valuemax'));
            const now = parseInt(el.querySelector('.widget-readout').textContent);
            return now === Math.min(v, max) ? now : null; }''', f'"new tokens" to show {value}', 10, [value])

    def generate_once(what, step_s=120):
        b.js('() => __uit.mark()')
        generate.click(timeout=b.ms(10))
        b.wait('() => __uit.generationDone()', what, step_s)
        return b.js('() => __uit.state()')

    # 5a: a prompt (and a seed, so that the text is repeatable for a given model), Generate, text and candidates
    w.locator('textarea').fill(args.prompt, timeout=b.ms(10))
    if args.seed >= 0:
        seed = w.locator('.widget-text', has=page.locator('.widget-label', has_text=re.compile(r'^\s*seed'))).locator('input')
        seed.fill(str(args.seed), timeout=b.ms(10))
        seed.press('Enter', timeout=b.ms(10))          # IntText sends its value on Enter (or blur)
    chart_before = b.js('() => __uit.chart()')         # Run All's own generation has drawn one: this one must replace it
    s = generate_once('the first generation to finish (status "done: ...")')
    if not s['status'].startswith('done:'): raise Failure(f'the first generation did not finish: status {s["status"]!r}')
    if s['prompt'] is not None and s['prompt'] != args.prompt:        # the widget shows the prompt in bold, then the text
        raise Failure(f'the widget generated from {s["prompt"]!r}, not the prompt typed, {args.prompt!r}')
    new = s['text'][len(args.prompt):] if s['text'].startswith(args.prompt) else s['text']
    ratio, n_words = printable_ratio(new), len(words(new))
    if len(new) < 20 or ratio < args.min_printable or n_words < 3:
        raise Failure(f'the generated text is not readable ({len(new)} characters, {100 * ratio:.0f}% printable ASCII, '
                      f'{n_words} words): {new[:120]!r}')
    if s['rows'] < 1: raise Failure('the candidates table ("next token") has no rows after generating')
    if b.js('() => __uit.chart()') == chart_before:
        raise Failure('the candidates table ("next token") did not change: it still shows the generation before the click')
    m = TOKENS.search(s['status'])
    if not m: raise Failure(f'no tokens/s in the status line {s["status"]!r}')
    n_tok, tps = int(m.group(2)), float(m.group(3))
    say(f'generated {n_tok} tokens at {tps:.1f} tokens/s, {len(new)} characters ({100 * ratio:.0f}% printable ASCII, {n_words} words), '
        f'{s["rows"]} candidate rows: {new[:60]!r}')
    w.screenshot(path=str(out / 'widget.png'), timeout=b.ms(30))

    # 5b: a long generation, stopped as soon as text streams in
    top = set_new_tokens(10 ** 6)
    for attempt in (1, 2):
        b.js('() => __uit.mark()')
        generate.click(timeout=b.ms(10))
        streamed = b.wait('() => __uit.streaming()', 'the long generation to stream text', 60, poll_ms=20) == 'streaming'
        if streamed:
            try: stop.click(timeout=b.ms(5))       # Stop is disabled again if the generation ended meanwhile: judged below
            except PWTimeout: pass
        b.wait('() => __uit.generationDone()', 'the stopped generation to end', 60)
        s = b.js('() => __uit.state()')
        m = TOKENS.search(s['status'])
        if m and m.group(1) == 'done:' and int(m.group(2)) >= top and attempt == 1:
            say(f'all {top} tokens were generated before Stop reached the kernel: trying once more')
            continue
        break
    if not streamed:
        raise Failure(f'no text streamed in while generating {top} tokens (the output changed only at the end): '
                      f'status {s["status"]!r}')
    if not (m and m.group(1) == 'stopped after'):
        raise Failure(f'Stop did not stop the generation: status {s["status"]!r} (new tokens {top})')
    if s['genDisabled'] or not s['stopDisabled']:
        raise Failure(f'after Stop, Generate should be enabled and Stop disabled (Generate disabled={s["genDisabled"]}, '
                      f'Stop disabled={s["stopDisabled"]})')
    changes = b.page.evaluate('ms => __uit.quiet(ms)', QUIET_MS)
    if changes:
        raise Failure(f'the output still changed {changes} times in the {QUIET_MS} ms after the status said stopped')
    n_stop = int(m.group(2))
    say(f'Stop worked: {s["status"]!r} of up to {top}, then no change for {QUIET_MS} ms')

    # --- optional: the widget's tokens/s per thread count, and the same loop with nothing displayed
    bench = ''
    if args.bench_threads:
        set_new_tokens(args.bench_tokens)
        default = int(b.exec_kernel(KERNEL_BENCH % (args.prompt, args.bench_tokens), 30, 'the benchmark set-up').split()[-1])
        results = []
        for setting in args.bench_threads.split(','):
            n = default if setting == 'default' else int(setting)
            b.exec_kernel(f'_uit_threads({n})')
            rates = []
            for _ in range(args.bench_repeats):
                s = generate_once(f'a {args.bench_tokens}-token generation with {n} thread(s)')
                m = TOKENS.search(s['status'])
                if not m: raise Failure(f'benchmark: no tokens/s in {s["status"]!r}')
                rates.append(float(m.group(3)))
            code = f'print(_uit_loop({args.prompt!r}, {args.bench_tokens}, {n}))'
            loop = [float(b.exec_kernel(code, 120, 'the no-display loop')) for _ in range(args.bench_repeats)]
            say(f'bench: {n} thread(s){" (the widget default)" if setting == "default" else ""}: widget '
                f'{" ".join(f"{r:.1f}" for r in rates)} tokens/s (best {max(rates):.1f}); the same loop in the kernel with '
                f'nothing displayed {" ".join(f"{r:.1f}" for r in loop)} (best {max(loop):.1f})')
            results.append(f'{setting}={max(rates):.0f}/{max(loop):.0f}')
        b.exec_kernel(f'_uit_threads({default})')
        bench = ', bench tokens/s widget/no-display ' + ' '.join(results)
    page.screenshot(path=str(out / 'final.png'), timeout=b.ms(30))
    extra = f'; {"; ".join(notes)}' if notes else ''
    return (f'run all {t_run:.0f} s, widget {n_tok} tokens at {tps:.0f} tokens/s, stopped after {n_stop}{bench}{extra}')


def pick_notebook(args, root: Path) -> str:
    if args.notebook:
        if not (root / args.notebook).is_file(): raise Failure(f'no notebook {args.notebook} in {root}')
        return args.notebook
    for pattern in DEFAULT_NOTEBOOKS:
        found = sorted(p for p in root.glob(pattern) if p.is_file())
        if found: return found[0].name
    raise Failure(f'none of {", ".join(DEFAULT_NOTEBOOKS)} in {root}: pass --notebook')


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--notebook', help=f'the notebook, relative to --root '
                                       f'(default: the first of {", ".join(DEFAULT_NOTEBOOKS)} that exists)')
    ap.add_argument('--root', default=str(REPO / 'nbs'), help='the folder served, a copy of it (default: the repo\'s nbs/)')
    ap.add_argument('--out', default='out/ui-test', help='folder for screenshots and logs (default out/ui-test)')
    ap.add_argument('--timeout', type=float, default=300, help='overall seconds (default 300)')
    ap.add_argument('--prompt', default='The ', help="the prompt typed into the widget (default 'The ')")
    ap.add_argument('--seed', type=int, default=0,
                    help="typed into the widget's seed box, for repeatable text (default 0; -1: leave it random)")
    ap.add_argument('--min-printable', type=float, default=0.95,
                    help='the least share of printable ASCII and whitespace in the new text (default 0.95)')
    ap.add_argument('--accept-kernel-dialog', action='store_true',
                    help='click through "Select Kernel" (for notebooks with no kernelspec) instead of failing')
    ap.add_argument('--chromium', default=CHROMIUM, help=f'the browser (default {CHROMIUM})')
    ap.add_argument('--headed', action='store_true', help='show the browser (needs a display)')
    ap.add_argument('--bench-threads', default='', help='also time the widget per CPU thread count, e.g. default,1,2')
    ap.add_argument('--bench-tokens', type=int, default=400, help='tokens per benchmark generation (default 400)')
    ap.add_argument('--bench-repeats', type=int, default=3, help='generations per thread count (default 3)')
    args = ap.parse_args()
    check_prerequisites(args.chromium)
    from playwright.sync_api import sync_playwright, Error as PWError

    t_start = time.monotonic()
    deadline = t_start + args.timeout
    out = Path(args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    for f in ('widget.png', 'final.png', 'failure.png'): (out / f).unlink(missing_ok=True)
    say = lambda msg: print(f'[{time.monotonic() - t_start:5.1f} s] {msg}', flush=True)

    # A watchdog for a hang outside any bounded wait: 30 s past the deadline it stops the server and exits 1.
    server = None
    def watchdog():
        print(f'ui test: FAILED: still running {args.timeout + 30:.0f} s after the start (watchdog)', flush=True)
        if server is not None:
            try: server.stop()
            except Exception: pass
        os._exit(1)
    dog = threading.Timer(args.timeout + 30, watchdog)
    dog.daemon = True
    dog.start()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))           # run the finally blocks on SIGTERM too

    tmp = Path(tempfile.mkdtemp(prefix='gpt-nbdev-ui-test-'))
    page, console, rc, summary = None, [], 1, ''
    try:
        root = Path(args.root).resolve()
        if not root.is_dir(): raise Failure(f'--root {root} is not a folder')
        if tmp.is_relative_to(root): raise Failure(f'the temporary folder {tmp} is inside --root {root}')
        nb = pick_notebook(args, root)
        real_nb = root / nb
        before = real_nb.read_bytes()
        served = make_served_copy(root, tmp)
        say(f'testing {real_nb} (served from a copy in {tmp})')
        server = LabServer(served, tmp, out / 'jupyter-server.log')
        server.wait_ready(min(60, deadline - time.monotonic()))
        say(f'jupyter-lab up on port {server.port}')
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=args.chromium, args=CHROMIUM_ARGS, headless=not args.headed,
                                         timeout=1000 * min(60, deadline - time.monotonic()))
            try:
                ctx = browser.new_context(viewport={'width': 1280, 'height': 900}, device_scale_factor=1)
                page = ctx.new_page()
                page.on('console', lambda m: console.append(f'{m.type}: {m.text}') if m.type in ('error', 'warning') else None)
                page.on('pageerror', lambda e: console.append(f'pageerror: {e}'))
                say(f'Chromium {browser.version} started')
                detail = run_test(args, Browser(page, deadline, say), nb, server, out, say)
                rc, summary = 0, f'ui test: passed ({detail})'
            except Exception as e:                                    # Failure, a Playwright error, or a bug here
                msg = str(e).splitlines()[0] if str(e) else ''
                summary = f'ui test: FAILED: {msg if isinstance(e, (Failure, PWError)) else f"{type(e).__name__}: {msg}"}'
                if page is not None:
                    try: page.screenshot(path=str(out / 'failure.png'), timeout=15000)
                    except Exception: pass
            finally:
                browser.close()
        if real_nb.read_bytes() != before:
            say(f'note: {real_nb} changed during the test; the test served a copy, so the change came from elsewhere')
    except Failure as e:
        summary = f'ui test: FAILED: {e}'
    except Exception as e:                                              # a bug or an environment problem: still one line
        summary = f'ui test: FAILED: {type(e).__name__}: {str(e).splitlines()[0] if str(e) else ""}'
    except (KeyboardInterrupt, SystemExit) as e:                        # Ctrl-C, or SIGTERM (see above)
        summary, rc = f'ui test: FAILED: interrupted ({type(e).__name__})', 130
    finally:
        if server is not None: server.stop()
        shutil.rmtree(tmp, ignore_errors=True)
        (out / 'browser-console.log').write_text('\n'.join(console) + ('\n' if console else ''))
        dog.cancel()
    if rc and server is not None:
        summary += f' ({"failure.png and " if (out / "failure.png").exists() else ""}logs in {out})'
    print(summary, flush=True)
    return rc


if __name__ == '__main__':
    sys.exit(main())
