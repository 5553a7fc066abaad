"""Build the website: the chapters run into the execution cache, two at a time, then one Sphinx pass.

MyST-NB (``execute_notebooks: cache`` in ``_config.yml``) keeps each executed chapter in a
jupyter-cache under ``<out>/_build/.jupyter_cache``, keyed by the notebook's kernelspec and its
code cells (source and options), and runs a chapter only when no entry matches. Left to itself it
runs the chapters one after the other inside the Sphinx pass. This script fills that same cache
first, ``--jobs`` chapters at a time, each kernel limited to its share of the CPU threads, and only
for chapters that have no entry yet (a changed chapter runs again, the others do not); then it runs
the Jupyter Book command, which finds every chapter in the cache:

    python tools/book.py --out _build/full            # what `make book` runs
    BOOK_QUICK=1 python tools/book.py --out _build/quick --fresh   # `make quick`

Then it builds the Chinese edition (``TRANSLATIONS``) from the same pages and the same execution
cache: Sphinx's gettext replaces each paragraph by its translation in
``book/locale/<language>/LC_MESSAGES/<page>.po`` (tools/translate.py makes and updates those
catalogues), so this costs one more Sphinx pass and no chapter runs twice. The edition is
written beside the English site, ``<out>/_build/html/zh/``, each page at the same path below it
(the language switch on every page, book/_ext/language_switch.py, relies on that).

A chapter that fails here is left out of the cache, so the Sphinx pass runs it once more and the
build fails there, naming the cell, exactly as without this step.

The module is also imported (by path) by the tests: ``COMMAND``/``jupyter_book`` is the one place
the Jupyter Book command line is written, and ``read_chapter``/``store`` let the notebook tests
(root ``conftest.py``) put the chapters nbval executed into the quick build's cache.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import functools
import os
import shutil
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
FLAGS = ["-W", "--keep-going"]  # every warning fails the build, after it has built every page
CACHE = Path("_build") / ".jupyter_cache"  # where MyST-NB looks, under --path-output
TIMEOUT = 1800  # seconds per chapter, as execute.timeout in _config.yml




def _editions() -> dict[str, str]:
    import yaml

    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    return config["sphinx"]["config"]["language_editions"]


# The translated editions: Sphinx language -> folder below the English site's html folder
# (``language_editions`` in _config.yml, which the language switch on every page reads too)
TRANSLATIONS = {language: folder for language, folder in _editions().items() if folder}
LOCALE_DIR = ROOT / "book" / "locale"  # as locale_dirs in _config.yml


def jupyter_book(out: Path | str, toc: Path | str | None = None, config: Path | None = None,
                 builder: str | None = None) -> list[str]:
    """The Jupyter Book command that builds the book into ``out`` (the only copy of its flags);
    ``toc``: another table of contents (tools/bench.py builds a few chapters); ``config``: a
    configuration from ``edition_config``; ``builder``: another Sphinx builder (``gettext``),
    which runs without -W (its pages are not executed, so their glue references are empty)."""
    flags = FLAGS if builder is None else ["--builder", "custom", "--custom-builder", builder]
    return [str(Path(sys.executable).with_name("jupyter-book")), "build", str(ROOT),
            "--path-output", str(out), *flags, *(["--toc", str(toc)] if toc else []),
            *(["--config", str(config)] if config else [])]


def edition_config(out: Path | str, language: str | None = None, execute: bool = True,
                   cache: Path | None = None) -> Path:
    """``_config.yml`` with ``language`` (a translated edition), execution off (``execute``
    False: for extracting the text), or the execution cache of another build (``cache``),
    written as ``<out>/_config.yml`` for ``jupyter_book(config=...)``."""
    import yaml

    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    sphinx = config.setdefault("sphinx", {})
    # Jupyter Book finds local extensions relative to the configuration file's folder
    sphinx["local_extensions"] = {name: str(ROOT / path)
                                  for name, path in sphinx.get("local_extensions", {}).items()}
    if language:
        sphinx.setdefault("config", {})["language"] = language
    if not execute:
        config["execute"]["execute_notebooks"] = "off"
    if cache is not None:
        config["execute"]["cache"] = str(Path(cache).resolve())
    path = Path(out) / "_config.yml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(config, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


def translation_commands(out: Path | str, toc: Path | str | None = None) -> dict[str, list[str]]:
    """{language: the Jupyter Book command that builds that translated edition}: each reads
    the execution cache of the English build in ``out`` and writes into ``<out>/<folder>``."""
    out = Path(out)
    return {language: jupyter_book(out / folder, toc, edition_config(
                out / folder, language, cache=cache_dir(out)))
            for language, folder in TRANSLATIONS.items()}


def publish(out: Path | str) -> None:
    """Copy each translated edition's pages into the English site: ``<html>/<folder>/``."""
    out = Path(out)
    for folder in TRANSLATIONS.values():
        source, target = out / folder / "_build" / "html", out / "_build" / "html" / folder
        shutil.rmtree(target, ignore_errors=True)
        if source.is_dir():
            shutil.copytree(source, target)


def build(out: Path | str, toc: Path | str | None = None, log=None, together: bool = True) -> int:
    """Build the English site into ``out`` and each translated edition beside it; the exit
    status of the first command that fails (every edition is still attempted), else 0.
    ``log``: a file for the commands' output (default: this process's).

    ``together``: the editions' Sphinx passes run at the same time (each uses one core), the
    translated ones writing to ``<out>/<folder>/build.log``, which is copied into ``log``
    after the English output. Only when every chapter is in the execution cache: a chapter
    that the passes must run would run in each, writing the same cache at once."""
    out = Path(out)
    translated = translation_commands(out, toc)
    started = time.perf_counter()
    running = {}
    if together:
        for language, command in translated.items():
            folder = out / TRANSLATIONS[language]
            folder.mkdir(parents=True, exist_ok=True)
            handle = (folder / "build.log").open("w", encoding="utf-8")
            running[language] = (subprocess.Popen(command, cwd=ROOT, stdout=handle,
                                                  stderr=subprocess.STDOUT), handle)
    code = subprocess.run(jupyter_book(out, toc), cwd=ROOT, stdout=log, stderr=log).returncode
    status = code
    _say(log, f"English edition: {time.perf_counter() - started:.0f} s"
         + (f", exit {code}" if code else ""))
    for language, command in translated.items():
        if language in running:
            proc, handle = running[language]
            code = proc.wait()
            handle.close()
            text = (out / TRANSLATIONS[language] / "build.log").read_text(encoding="utf-8",
                                                                          errors="replace")
            _say(log, text.rstrip("\n"))
        else:
            code = subprocess.run(command, cwd=ROOT, stdout=log, stderr=log).returncode
        _say(log, f"{language} edition: {time.perf_counter() - started:.0f} s since the start"
             + (f", exit {code}" if code else ""))
        status = status or code
    publish(out)
    return status


def _say(log, text: str) -> None:
    print(text, file=log or sys.stdout, flush=True)


def cache_dir(out: Path | str) -> Path:
    """The execution cache MyST-NB reads for a build into ``out``."""
    return Path(out) / CACHE


def threads_per_job(jobs: int) -> int:
    """PyTorch threads for each of ``jobs`` kernels running side by side: the cores, shared."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, (cores or 1) // max(1, jobs))


# --------------------------------------------------------------------------- the cache


@functools.lru_cache(maxsize=None)
def _md_config():
    """MyST's parser settings as the book's Sphinx build has them (they decide what a cell is)."""
    import dataclasses

    from jupyter_book.config import get_final_config
    from myst_parser.config.main import MdParserConfig

    config, _ = get_final_config(user_yaml=ROOT / "_config.yml", sourcedir=ROOT,
                                 cli_config={"latex_individualpages": False})
    fields = {f.name for f in dataclasses.fields(MdParserConfig)}
    return MdParserConfig(**{k[len("myst_"):]: v for k, v in config.items()
                             if k.startswith("myst_") and k[len("myst_"):] in fields})


def read_chapter(path: Path | str):
    """The chapter as MyST-NB reads it for the build: the cache key is computed from this."""
    from myst_nb.core.read import read_myst_markdown_notebook

    path = Path(path)
    return read_myst_markdown_notebook(path.read_text(encoding="utf-8"), config=_md_config(),
                                       add_source_map=True, path=str(path))


def is_notebook(path: Path) -> bool:
    """A page that MyST-NB executes (a text notebook with a kernelspec)."""
    from myst_nb.core.read import is_myst_markdown_notebook

    return path.suffix == ".md" and is_myst_markdown_notebook(path.read_text(encoding="utf-8"))


@contextlib.contextmanager
def _locked(cache: Path):
    """One writer at a time (jupyter-cache's SQLite database is shared by parallel runs)."""
    cache.mkdir(parents=True, exist_ok=True)
    with open(cache.parent / (cache.name + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _open(cache: Path):
    from jupyter_cache import get_cache

    return get_cache(str(cache))


def cached(cache: Path, notebook) -> bool:
    """Whether ``cache`` holds an executed copy of ``notebook`` (same code cells)."""
    if not cache.exists():
        return False
    with _locked(cache):
        try:
            _open(cache).match_cache_notebook(notebook)
        except KeyError:
            return False
    return True


def store(cache: Path, path: Path | str, executed, seconds: float) -> None:
    """Put an executed notebook into ``cache`` as MyST-NB itself would after running it."""
    from jupyter_cache.base import CacheBundleIn

    with _locked(cache):
        _open(cache).cache_notebook_bundle(
            CacheBundleIn(executed, str(Path(path).resolve()), data={"execution_seconds": seconds}),
            check_validity=False, overwrite=True)


def last_seconds(cache: Path) -> dict[str, float]:
    """Each chapter's latest recorded run time in ``cache`` (to start the longest first)."""
    if not cache.exists():
        return {}
    with _locked(cache):
        records = sorted(_open(cache).list_cache_records(), key=lambda r: r.created)
    return {r.uri: float(r.data.get("execution_seconds") or 0) for r in records}


# --------------------------------------------------------------------------- running chapters


def _set_threads(threads: int) -> None:
    os.environ.setdefault("OMP_NUM_THREADS", str(threads))


def execute(path: str, cache: str) -> tuple[str, float, str | None]:
    """Run one chapter as MyST-NB would (same reader, executor, cwd, timeout) and cache it.

    Returns (path, seconds, error): error is None on success, else the traceback text.
    """
    from jupyter_cache.executors.utils import single_nb_execution

    notebook = read_chapter(path)
    # shutdown_kernel="immediate": the kernel is killed once the last cell has run, as nbval
    # does in make test. The graceful way waits for Python to tear down PyTorch's objects,
    # 1.2 to 1.9 s per chapter here, and a chapter keeps nothing in atexit hooks.
    result = single_nb_execution(notebook, cwd=str(Path(path).parent), timeout=TIMEOUT,
                                 allow_errors=False, meta_override=True,
                                 shutdown_kernel="immediate")
    if result.err is not None:
        return path, result.time, result.exc_string
    store(Path(cache), path, notebook, result.time)
    return path, result.time, None


def toc_files(toc: Path = ROOT / "_toc.yml") -> list[str]:
    """Every page of ``toc`` in reading order, as written there (``notebooks/12_cnn``)."""
    import yaml

    data = yaml.safe_load(toc.read_text(encoding="utf-8"))
    files: list[str] = [data["root"]]

    def walk(entries: list[dict[str, Any]]) -> None:
        for entry in entries:
            if "file" in entry:
                files.append(entry["file"])
            for key in ("parts", "chapters", "sections"):
                walk(entry.get(key, []))

    walk([data])
    return [f[:-3] if f.endswith(".md") else f for f in files]


def chapters(toc: Path = ROOT / "_toc.yml") -> list[Path]:
    """Every page of ``_toc.yml`` that is a notebook, in reading order."""
    paths = [ROOT / f"{f}.md" for f in toc_files(toc)]
    return [p for p in paths if p.exists() and is_notebook(p)]


def prefill(out: Path, paths: list[Path], jobs: int, log=print) -> dict[str, tuple[float, str | None]]:
    """Run every chapter of ``paths`` that the cache of ``out`` lacks, ``jobs`` at a time.

    Returns {path: (seconds, error or None)} for the chapters it ran.
    """
    cache = cache_dir(out)
    todo = [p for p in paths if not cached(cache, read_chapter(p))]
    if not todo:
        log(f"all {len(paths)} chapters are in the execution cache")
        return {}
    before = last_seconds(cache)
    # the longest first, by the last run's times; a chapter never timed goes by its number,
    # the later first (the later chapters are the longer ones)
    todo.sort(key=lambda p: p.name, reverse=True)
    todo.sort(key=lambda p: -before.get(str(p.resolve()), 0.0))  # stable
    threads = threads_per_job(min(jobs, len(todo)))
    log(f"running {len(todo)} of {len(paths)} chapters, {jobs} at a time, "
        f"{os.environ.get('OMP_NUM_THREADS', threads)} threads each")
    results: dict[str, tuple[float, str | None]] = {}
    if jobs <= 1:
        runs = (execute(str(p), str(cache)) for p in todo)
    else:
        pool = ProcessPoolExecutor(max_workers=jobs, initializer=_set_threads, initargs=(threads,))
        futures = [pool.submit(execute, str(p), str(cache)) for p in todo]
        runs = (f.result() for f in as_completed(futures))
    for path, seconds, error in runs:
        results[path] = (seconds, error)
        name = Path(path).relative_to(ROOT)
        log(f"  {name}: {seconds:.1f} s" + ("" if error is None else
            " FAILED (the build runs it again and reports the failing cell)"))
    if jobs > 1:
        pool.shutdown()
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", required=True, help="Jupyter Book's --path-output")
    parser.add_argument("--jobs", type=int, default=2, help="chapters run side by side")
    parser.add_argument("--fresh", action="store_true", help="empty --out first (no cache)")
    parser.add_argument("--no-build", action="store_true", help="only fill the cache")
    parser.add_argument("--english", action="store_true", help="the English edition only")
    args = parser.parse_args(argv)
    out = Path(args.out)
    if args.fresh:
        shutil.rmtree(out, ignore_errors=True)
    start = time.perf_counter()
    runs = prefill(out, chapters(), args.jobs)
    print(f"chapters: {time.perf_counter() - start:.0f} s")
    if args.no_build:
        return 0
    if args.english:
        return subprocess.run(jupyter_book(out), cwd=ROOT).returncode
    failed = [path for path, (_, error) in runs.items() if error is not None]
    return build(out, together=not failed)  # a failed chapter runs again in the Sphinx pass


if __name__ == "__main__":
    sys.exit(main())
