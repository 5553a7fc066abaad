"""Collect each chapter's MyST text notebook (notebooks/NN_slug.md) as an nbval test.

nbval only collects .ipynb; here jupytext reads the .md source instead, so the text stays the
single source of truth and no generated .ipynb is needed. Outputs are not compared (the text
source has none): each chapter's assert cell is what makes its test meaningful.

A cell that the text says must fail carries two MyST options, ``tags: [raises-exception]`` and
``expect: ExceptionName`` (the exception's class name, e.g. ``RuntimeError``). nbval alone lets
such a cell raise anything, or nothing; here the cell's test fails when it does not raise, when
it raises another exception, or when one of the two options is missing.

Each chapter's kernel starts in an empty temporary folder, as a downloaded ``.ipynb`` does on
a reader's machine. Each chapter runs once per session. A chapter whose cells all pass is
written, with its outputs, into an execution cache (``_build/nbval``, emptied when a session
starts) in the form MyST-NB reads; the quick site build (tests/site, fixture ``quick_book``)
starts from that cache, so it only runs the chapters nbval did not run or that failed (and
then fails on their cell).

Two chapters at a time: ``pytest -n 2`` (``make test``) runs the tests in pytest-xdist workers,
each chapter's cells in one worker (one kernel), each worker's PyTorch limited to its share of
the cores (``OMP_NUM_THREADS``, unless set), and the site tests (marker ``site``) after
everything else, in two groups (half the pages each, in both editions; a browser each), whose
one site build waits for the chapters still running.
"""

from __future__ import annotations

import functools
import importlib.util
import os
import shutil
import sys
import tempfile
import time
import warnings
from pathlib import Path
from unittest import mock

import jupytext
import nbformat
import nbval.plugin
import pytest

ROOT = Path(__file__).parent
NOTEBOOKS = ROOT / "notebooks"
BOOK_TOOL = ROOT / "tools" / "book.py"       # the build's own reader and cache writer
STAGE = ROOT / "_build" / "nbval"             # this session's executed chapters
STAGE_CACHE = STAGE / ".jupyter_cache"
FINISHED = STAGE / "finished"                 # one empty file per chapter that has finished
WAIT_S = 1800                                 # most a site build waits for one more chapter
SITE_GROUP = "site"                           # xdist groups of the tests marked `site`:
SITE_GROUPS = 2                               # site0, site1 (a browser each, one site build)
_threads_set = False                          # whether this worker limited OMP_NUM_THREADS


def _load(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # a dataclass in it looks its module up there
    spec.loader.exec_module(module)
    return module


def _load_rule():
    """``raises_problem`` from book/_ext/expected_errors.py: the site build checks the same rule."""
    return _load(ROOT / "book" / "_ext" / "expected_errors.py", "book_expected_errors").raises_problem


raises_problem = _load_rule()


@functools.lru_cache(maxsize=None)
def book_tool():
    """tools/book.py, or None where it is absent (a planted copy of this file in a test)."""
    return _load(BOOK_TOOL, "book_tool") if BOOK_TOOL.exists() else None


class _Outputs:
    """A cell's outputs as nbclient (and so MyST-NB) keeps them, from the kernel's messages.

    nbval keeps its own list for comparison, which merges streams out of order and ignores
    ``update_display_data`` (the progress bars) and ``clear_output``; this one does not.
    """

    def __init__(self) -> None:
        self.parent_id = None
        self.outputs: list = []
        self.displays: dict[str, list[int]] = {}
        self.clear_next = False

    def add(self, msg: dict) -> None:
        kind, content = msg["msg_type"], msg["content"]
        parent = msg.get("parent_header", {}).get("msg_id")
        if kind == "execute_input":
            self.parent_id = parent
            return
        if self.parent_id is None or parent != self.parent_id:
            return
        if kind == "clear_output":
            if content.get("wait"):
                self.clear_next = True
            else:
                self.outputs.clear()
                self.displays.clear()
            return
        display_id = (content.get("transient") or {}).get("display_id")
        if kind == "update_display_data":
            for index in self.displays.get(display_id, []):
                self.outputs[index]["data"] = content["data"]
                self.outputs[index]["metadata"] = content["metadata"]
            return
        if kind not in ("stream", "display_data", "execute_result", "error"):
            return
        if self.clear_next:
            self.outputs.clear()
            self.displays.clear()
            self.clear_next = False
        if display_id:
            self.displays.setdefault(display_id, []).append(len(self.outputs))
        self.outputs.append(nbformat.v4.output_from_msg(msg))


class MystCell(nbval.plugin.IPyNbCell):
    """An nbval cell that also holds a raises-exception cell to the exception it expects."""

    def runtest(self):
        self.parent.recording = _Outputs()
        super().runtest()
        errors = [out for out in self.test_outputs or [] if out.get("output_type") == "error"]
        problem = raises_problem(self.cell.metadata, errors)
        if problem:
            self.raise_cell_error(problem)
        self.parent.passed[self.cell_num] = self.parent.recording


class MystNotebook(nbval.plugin.IPyNbFile):
    """An nbval notebook read from a jupytext MyST markdown file."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.compare_outputs = False  # same as --nbval-lax: errors fail, outputs aren't diffed
        self.recording: _Outputs | None = None
        self.passed: dict[int, _Outputs] = {}
        self.started = 0.0
        self.reader_dir = ""

    def collect(self):
        with mock.patch.object(nbval.plugin.nbformat, "read", lambda *a, **k: jupytext.read(self.path)):
            for item in super().collect():
                yield MystCell.from_parent(self, name=item.name, cell_num=item.cell_num,
                                           cell=item.cell, options=item.options)

    def setup(self):
        self.started = time.perf_counter()
        # The kernel starts in an empty folder, as a reader's downloaded .ipynb does: a chapter
        # that finds its files through the working directory fails here, not on their machine
        # (so the site test need not run downloaded notebooks a second time).
        self.reader_dir = tempfile.mkdtemp(prefix=f"reader-{self.path.stem}-")
        kernel = nbval.plugin.RunningKernel
        with mock.patch.object(nbval.plugin, "RunningKernel", lambda name, cwd=None, **kw:
                               kernel(name, cwd=self.reader_dir, **kw)):
            super().setup()
        # Run cells as Jupyter and MyST-NB do, with history: without it IPython ignores a
        # trailing `;` (it looks for it in the last *stored* input) and shows the value anyway.
        kc = self.kernel.kc
        self.kernel.execute_cell_input = lambda source, allow_stdin=None: kc.execute(
            source, store_history=True, allow_stdin=allow_stdin, stop_on_error=False)

    def get_kernel_message(self, timeout=None, stream="iopub"):
        msg = super().get_kernel_message(timeout=timeout, stream=stream)
        if stream == "iopub" and self.recording is not None:
            self.recording.add(msg)
        return msg

    def teardown(self):
        seconds = time.perf_counter() - self.started
        try:
            self.store(seconds)
        except Exception as error:  # the cache only saves time: never fail a chapter for it
            warnings.warn(f"{self.path.name}: not cached for the site build: {error!r}")
        finally:
            super().teardown()
            shutil.rmtree(self.reader_dir, ignore_errors=True)
            FINISHED.mkdir(parents=True, exist_ok=True)
            (FINISHED / self.path.name).touch()

    def store(self, seconds: float) -> None:
        """Put the executed chapter into this session's cache, if every code cell passed."""
        code = [cell for cell in self.nb.cells if cell.cell_type == "code"]
        book = book_tool()
        if book is None or sorted(self.passed) != list(range(len(code))):
            return  # a cell failed, was skipped or deselected: the site build runs the chapter
        notebook = book.read_chapter(self.path)  # as the build reads it: the cache key
        cells = [cell for cell in notebook.cells if cell.cell_type == "code"]
        if [c.source.strip() for c in cells] != [c.source.strip() for c in code]:
            raise ValueError("MyST-NB and jupytext read different code cells")
        for count, (cell, run) in enumerate(zip(cells, (self.passed[i] for i in range(len(code))))):
            # number the cells as one fresh run of the chapter would
            cell.execution_count, cell.outputs = count + 1, run.outputs
            for out in cell.outputs:
                if out.output_type == "execute_result":
                    out.execution_count = count + 1
        book.store(STAGE_CACHE, self.path, notebook, seconds)


def pytest_collect_file(file_path: Path, parent: pytest.Collector):
    if file_path.parent == NOTEBOOKS and file_path.suffix == ".md":
        return MystNotebook.from_parent(parent, path=file_path)
    return None


def pytest_configure(config: pytest.Config) -> None:
    global _threads_set
    # Notebooks run under the quick budget in tests; the kernel inherits this environment.
    os.environ.setdefault("BOOK_QUICK", "1")
    # A BOOK_* variable with a value the book does not accept stops the run before it starts.
    # helpers/settings.py by path: `from helpers import settings` would import PyTorch (through
    # helpers/__init__.py), 5 s before pytest-xdist even starts its workers.
    helpers_dir = Path(importlib.util.find_spec("helpers").submodule_search_locations[0])
    settings = _load(helpers_dir / "settings.py", "book_settings")
    try:
        settings.check()
    except settings.SettingError as exc:
        raise pytest.UsageError(str(exc)) from None
    if config.getoption("dist", "no") == "load":  # -n N alone: a chapter must stay in one worker
        config.option.dist = "loadgroup"
    workers = getattr(config, "workerinput", {}).get("workercount")
    tool = book_tool()
    if workers and tool and "OMP_NUM_THREADS" not in os.environ:
        os.environ["OMP_NUM_THREADS"] = str(tool.threads_per_job(workers))
        _threads_set = True


def pytest_sessionstart(session: pytest.Session) -> None:
    if not hasattr(session.config, "workerinput"):  # once, in the process that runs the session
        shutil.rmtree(STAGE, ignore_errors=True)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The site tests last (their build uses the chapters run before), in SITE_GROUPS xdist
    groups: the pages alternate between them, each page's tests (both editions) in one."""
    site = [item for item in items if item.get_closest_marker("site")]
    items[:] = [item for item in items if not item.get_closest_marker("site")] + site
    for item in site:
        item.add_marker(pytest.mark.xdist_group(site_group(item.nodeid)))


@pytest.hookimpl(tryfirst=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log):
    if config.getvalue("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadGroupScheduling

    class ChapterScheduling(LoadGroupScheduling):
        """loadgroup, where an ungrouped test goes with its file (a chapter's cells share one
        kernel), in collection order: the site group, collected last, is handed out last."""

        def __init__(self, config, log=None):
            super().__init__(config, log)
            config.option.loadscopereorder = False

        def _split_scope(self, nodeid: str) -> str:
            return scope(nodeid)

    return ChapterScheduling(config, log)


def scope(nodeid: str) -> str:
    """What runs in one worker: an xdist group (``...@site0``), else a file (a chapter's cells).

    The site tests' group is read from the test id as well: pytest-xdist 3.8 adds the group to
    the id by setting ``item._nodeid``, which pytest 9 no longer reads, so the ids arrive
    without it."""
    if nodeid.rfind("@") > nodeid.rfind("]"):  # as xdist's loadgroup: a parameter may hold "@"
        return nodeid.split("@")[-1]
    path = nodeid.split("::", 1)[0]
    return site_group(nodeid) if path.startswith("tests/site/") else path


def site_group(nodeid: str) -> str:
    """The group of a site test: the pages of _toc.yml alternate between SITE_GROUPS groups (a
    page's tests in both editions stay together: one visit each); other tests go to the first."""
    doc = nodeid[nodeid.find("[") + 1:-1] if nodeid.endswith("]") else ""
    pages = _pages()
    return f"{SITE_GROUP}{pages.index(doc) % SITE_GROUPS if doc in pages else 0}"


@functools.lru_cache(maxsize=None)
def _pages() -> list[str]:
    tool = book_tool()
    return tool.toc_files() if tool else []


class QuickBook:
    """Sets up the quick site build so that it finds the chapters nbval ran in this session."""

    def __init__(self, session: pytest.Session) -> None:
        self.chapters = sorted({item.parent.path.name for item in session.items
                                if isinstance(item, MystCell)})

    def wait(self) -> None:
        """Until every chapter of this session has finished (in another worker, under xdist)."""
        deadline = time.monotonic() + WAIT_S
        left = self.chapters
        while left and time.monotonic() < deadline:
            done = [name for name in left if (FINISHED / name).exists()]
            if done:
                deadline = time.monotonic() + WAIT_S
            left = [name for name in left if name not in done]
            if left:
                time.sleep(1)

    def prepare(self, out: Path) -> list[str]:
        """Empty ``out``, seed its execution cache; the command line that builds the site, both
        editions (tools/book.py: English, then Chinese from the same cache)."""
        global _threads_set
        self.wait()
        book = book_tool()
        shutil.rmtree(out, ignore_errors=True)
        if STAGE_CACHE.exists():
            shutil.copytree(STAGE_CACHE, book.cache_dir(out))
        if _threads_set:  # the chapters are done: the build may use every core
            os.environ.pop("OMP_NUM_THREADS", None)
            _threads_set = False
        return [sys.executable, str(BOOK_TOOL), "--out", str(out)]


@pytest.fixture(scope="session")
def quick_book(request: pytest.FixtureRequest) -> QuickBook:
    """For the quick site build: ``quick_book.prepare(out)`` (see QuickBook)."""
    return QuickBook(request.session)
