"""A chapter run in JupyterLab as a reader runs it, in headless Chromium (Playwright).

The test copies the project to a scratch folder, starts JupyterLab there the way ``make lab``
does (``book/lab/jupyter_lab_config.py``, quick budget, a free port on 127.0.0.1), and in
Debian's Chromium: double-clicks ``notebooks`` and the chapter's ``.md`` in the file browser
(it opens as a notebook), picks *Run > Run All Cells*, adds a cell that shows which Python and
which ``helpers`` the kernel uses, runs it, and saves with Ctrl+S. It then checks that no cell
failed, the chapter's check cell ran, a figure is on the screen, and the save wrote the ``.md``
(the new cell is in it, every other cell as it was) beside the paired, git-ignored ``.ipynb``.
The server is shut down however the test ends; on failure a screenshot and the server's log
are kept. A screenshot of what the reader sees lands in ``_build/screenshots/lab.png``.

    .venv/bin/python -m pytest tests/test_lab.py          # about 30 s
    .venv/bin/python -m pytest -m "not lab"                # everything else
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import jupytext
import pytest

from helpers import settings

pytestmark = pytest.mark.lab

ROOT = Path(__file__).resolve().parents[1]
CHAPTER = "notebooks/06_sequential.md"     # short, with figures: about 11 s under nbval (quick)
CONFIG = "book/lab/jupyter_lab_config.py"   # what `make lab` passes to `jupyter lab --config`
SCREENSHOTS = ROOT / "_build" / "screenshots"
CHROMIUM = str(settings.path("BOOK_CHROMIUM"))
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost"]
BUDGET_S = 60                               # the whole test, server start to shutdown
WAIT_S = 3 * BUDGET_S                       # waits give up here, so a slow run reports its time
MARKER = "# added in JupyterLab by tests/test_lab.py"
PROBE = f"{MARKER}\nimport sys, helpers\nprint('kernel:', sys.prefix, helpers.__file__)"
SKIP_COPY = {".git", ".venv", "_build", "data", "outputs", ".pytest_cache", "__pycache__",
             ".ipynb_checkpoints", "test-artifacts"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def scratch_project(dest: Path) -> Path:
    """A copy of the project's sources (no venv, build, data or generated notebooks)."""
    shutil.copytree(ROOT, dest, symlinks=True, ignore=lambda _d, names: [
        n for n in names if n in SKIP_COPY or n.endswith((".ipynb", ".egg-info"))])
    return dest


@contextlib.contextmanager
def jupyter_lab(project: Path, tmp: Path):
    """JupyterLab on ``project`` as `make lab BOOK_QUICK=1` starts it; yields (base URL, token).

    Jupyter's own folders (config, data, runtime, settings, workspaces) are fresh, so neither
    the user's settings nor a saved workspace change what the test sees."""
    port, token = free_port(), secrets.token_hex(16)
    jupyter = {k: str(tmp / k) for k in ("config", "data", "runtime", "settings", "workspaces")}
    env = {**os.environ, "BOOK_QUICK": "1", "PYTHONPATH": str(project),
           "BOOK_DATA": str(settings.data_root()),
           "BOOK_OUTPUT": str(tmp / "outputs"),
           "JUPYTER_CONFIG_DIR": jupyter["config"], "JUPYTER_DATA_DIR": jupyter["data"],
           "JUPYTER_RUNTIME_DIR": jupyter["runtime"], "JUPYTERLAB_SETTINGS_DIR": jupyter["settings"],
           "JUPYTERLAB_WORKSPACES_DIR": jupyter["workspaces"]}
    log = tmp / "jupyter-lab.log"
    cmd = [str(Path(sys.executable).parent / "jupyter"), "lab", f"--config={project / CONFIG}",
           "--no-browser", f"--port={port}", "--ServerApp.port_retries=0",
           f"--IdentityProvider.token={token}"]
    with log.open("w") as out:
        proc = subprocess.Popen(cmd, cwd=tmp, env=env, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)  # its own process group, kernels included
    base = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"{base}api/status?token={token}", timeout=2):
                    break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"JupyterLab did not start: {log.read_text()[-3000:]}")
                time.sleep(0.3)
        yield base, token, log
    finally:
        with contextlib.suppress(Exception):  # polite: shuts down the kernels, then the server
            urllib.request.urlopen(urllib.request.Request(
                f"{base}api/shutdown?token={token}", method="POST"), timeout=5)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)  # whatever is left of the group we started
        proc.wait()


def kernel_connected(base: str, token: str, deadline: float) -> None:
    """Wait until the notebook's kernel is up, idle, and the page is connected to it."""
    last = "no answer"
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{base}api/kernels?token={token}", timeout=5) as resp:
                kernels = json.load(resp)
        except urllib.error.HTTPError as error:
            # jupyter_server answers 500 while a kernel it lists is still starting (its
            # `last_activity` not yet set: a KeyError in the server's log); ask again
            if error.code < 500:
                raise
            last, kernels = f"HTTP {error.code}", []
        if any(k["execution_state"] == "idle" and k["connections"] > 0 for k in kernels):
            return
        time.sleep(0.25)
    pytest.fail(f"the chapter's kernel did not start (the server's last answer: {last})")


# Runs in the page: the state of the open notebook, read from its DOM.
NOTEBOOK_JS = r"""
() => {
  const panel = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden)');
  if (!panel) return null;
  const cells = [...panel.querySelectorAll('.jp-Notebook .jp-CodeCell')].map(c => ({
    prompt: (c.querySelector('.jp-InputPrompt') || {}).textContent || '',
    source: [...c.querySelectorAll('.cm-line')].map(l => l.textContent).join('\n'),
    errors: [...c.querySelectorAll('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.error"]')]
        .map(e => e.innerText.slice(-600)),
    text: [...c.querySelectorAll('.jp-OutputArea-output')].map(o => o.innerText).join('\n').slice(-2000),
    images: [...c.querySelectorAll('.jp-OutputArea-output img')].map(i => i.naturalWidth),
  }));
  const status = document.querySelector('.jp-Notebook-ExecutionIndicator');
  return {cells, kernelIdle: !!(status && status.getAttribute('data-status') === 'idle'),
          title: (panel.querySelector('.jp-Toolbar') && document.title) || ''};
}
"""


def notebook_state(page) -> dict:
    return page.evaluate(NOTEBOOK_JS) or {"cells": [], "kernelIdle": False}


def wait_until(page, done, deadline: float, what: str, poll_ms: int = 250):
    """Poll ``done(state)`` until it is true; fail with ``what`` at the deadline."""
    while True:
        state = notebook_state(page)
        if done(state):
            return state
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}; prompts: {[c['prompt'] for c in state['cells']]}")
        page.wait_for_timeout(poll_ms)


def ran(cell: dict) -> bool:
    return cell["prompt"].strip("[]: ").isdigit()


def finished(state: dict) -> bool:
    """The kernel is idle and every code cell ran, or one failed (the rest are then skipped)."""
    cells = state["cells"]
    return bool(cells) and state["kernelIdle"] and not any("*" in c["prompt"] for c in cells) \
        and (all(map(ran, cells)) or any(c["errors"] for c in cells))


def test_chapter_runs_and_saves_in_jupyterlab(tmp_path):
    if not Path(CHROMIUM).exists():
        pytest.fail(f"no Chromium at {CHROMIUM}: install Debian's `chromium` or set BOOK_CHROMIUM",
                    pytrace=False)
    from playwright.sync_api import sync_playwright

    start = time.monotonic()
    deadline = start + WAIT_S
    times: dict[str, float] = {}
    project = scratch_project(tmp_path / "project")
    md = project / CHAPTER
    original = [c.source for c in jupytext.read(md).cells]
    md_before = md.stat().st_mtime_ns
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    shot = SCREENSHOTS / "lab.png"
    with jupyter_lab(project, tmp_path) as (base, token, log), sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.set_default_timeout(BUDGET_S * 1000)  # each step; the whole test has WAIT_S
        try:
            times["server up"] = time.monotonic() - start
            page.goto(f"{base}lab?token={token}", wait_until="domcontentloaded")
            # the reader's way in: the file browser, a double click on the folder and the chapter
            listing = page.locator(".jp-DirListing-content")
            listing.locator(".jp-DirListing-item", has_text="notebooks").first.dblclick()
            listing.locator(f".jp-DirListing-item[title*='{Path(CHAPTER).name}']").first.dblclick()
            page.wait_for_selector(".jp-NotebookPanel .jp-CodeCell")  # a notebook, not a text editor
            times["notebook shown"] = time.monotonic() - start
            kernel_connected(base, token, deadline)  # Run All before that asks for a kernel
            times["kernel ready"] = time.monotonic() - start
            page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']")
            page.locator(".lm-MenuBar-item", has_text="Run").first.click()
            page.get_by_role("menuitem", name="Run All Cells", exact=True).click()
            state = wait_until(page, finished, deadline, "Run All Cells to finish")
            times["Run All done"] = time.monotonic() - start
            cells = state["cells"]
            not_run = [c["source"][:60] for c in cells if not ran(c)]
            errors = [e for c in cells for e in c["errors"]]
            assert not errors, f"cells failed in JupyterLab: {errors}"
            assert not not_run, f"cells that did not run: {not_run}"
            check = [c for c in cells if "helpers.record(" in c["source"]]
            assert check and all(map(ran, check)), "the chapter's check cell did not run"
            assert any(w > 0 for c in cells for w in c["images"]), "no figure is shown"
            page.locator(".jp-Notebook .jp-CodeCell").last.scroll_into_view_if_needed()
            page.locator(".jp-Notebook .jp-Cell").last.click()
            page.keyboard.press("Escape")   # command mode: "b" inserts a cell below
            page.keyboard.press("b")
            page.keyboard.press("Enter")
            page.keyboard.insert_text(PROBE)
            page.keyboard.press("Control+Enter")  # run in place (Shift+Enter would add a cell)
            state = wait_until(page, lambda s: finished(s) and "kernel:" in s["cells"][-1]["text"],
                               deadline, "the added cell to run")
            probe = state["cells"][-1]["text"]
            page.keyboard.press("Control+s")
            page.wait_for_selector(".lm-TabBar-tab.jp-mod-dirty", state="detached")
            while md.stat().st_mtime_ns == md_before and time.monotonic() < deadline:
                page.wait_for_timeout(100)
            page.locator(".jp-OutputArea-output img").last.scroll_into_view_if_needed()
            page.screenshot(path=SCREENSHOTS / "lab-figure.png")
            page.locator(".jp-Notebook .jp-Cell").first.scroll_into_view_if_needed()
            page.screenshot(path=shot)
        except BaseException:
            with contextlib.suppress(Exception):  # keep the test's own error, not the screenshot's
                page.screenshot(path=SCREENSHOTS / "lab-failure.png")
            shutil.copy(log, SCREENSHOTS / "lab-failure.log")
            print(f"JupyterLab test failed: see {SCREENSHOTS / 'lab-failure.png'} and lab-failure.log")
            raise
        finally:
            browser.close()
            print("JupyterLab test, seconds from start:", {k: round(v, 1) for k, v in times.items()})
    elapsed = time.monotonic() - start
    print(f"JupyterLab test: {elapsed:.1f} s in all; what the reader sees: {shot}")

    # the kernel is the project's Python, and it imports this project's helpers
    prefix, helpers_file = probe.split("kernel:", 1)[1].split()[:2]
    assert Path(prefix).resolve() == Path(sys.prefix).resolve(), f"the kernel runs {prefix}, not {sys.prefix}"
    assert Path(helpers_file).is_relative_to(project / "helpers"), f"helpers imported from {helpers_file}"
    # saving wrote the .md: the new cell is in it, after the chapter's cells, all unchanged
    assert md.stat().st_mtime_ns != md_before, "saving did not write the .md"
    saved = [c.source for c in jupytext.read(md).cells]
    assert saved[:len(original)] == original, "saving changed the chapter's cells"
    assert saved[len(original):] == [PROBE], f"the added cell is not in the .md: {saved[len(original):]}"
    assert MARKER in md.read_text(encoding="utf-8")
    paired = md.with_suffix(".ipynb")
    assert paired.exists(), "jupytext did not write the paired .ipynb"
    outputs = [o for c in json.loads(paired.read_text())["cells"] for o in c.get("outputs", [])]
    assert outputs and not [o for o in outputs if o["output_type"] == "error"]
    ignored = subprocess.run(["git", "check-ignore", "-q", CHAPTER.replace(".md", ".ipynb")], cwd=ROOT)
    assert ignored.returncode == 0, "the paired .ipynb is not git-ignored"
    assert elapsed < BUDGET_S, f"the test took {elapsed:.0f} s (budget {BUDGET_S} s)"
