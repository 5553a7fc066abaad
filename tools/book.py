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


# The translated editions: Sphinx language -> folder below the English site's html folder
TRANSLATIONS = {"zh_CN": "zh"}
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
        config["execute"]["cache_path"] = str(Path(cache).resolve())
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


def build(out: Path | str, toc: Path | str | None = None, log=None) -> int:
    """Build the English site into ``out``, then each translated edition beside it; the exit
    status of the first command that fails (every edition is still attempted), else 0.
    ``log``: a file for the commands' output (default: this process's)."""
    commands = {"English": jupyter_book(out, toc), **translation_commands(out, toc)}
    status = 0
    for edition, command in commands.items():
        start = time.perf_counter()
        code = subprocess.run(command, cwd=ROOT, stdout=log, stderr=log).returncode
        print(f"{edition} edition: {time.perf_counter() - start:.0f} s"
              + (f", exit {code}" if code else ""), file=log or sys.stdout, flush=True)
        status = status or code
    publish(out)
    return status


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
    prefill(out, chapters(), args.jobs)
    print(f"chapters: {time.perf_counter() - start:.0f} s")
    if args.no_build:
        return 0
    if args.english:
        return subprocess.run(jupyter_book(out), cwd=ROOT).returncode
    return build(out)


if __name__ == "__main__":
    sys.exit(main())
