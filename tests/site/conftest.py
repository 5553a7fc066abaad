"""Fixtures of the site checks: build (or find) the site, serve it, and visit each page once.

The session builds the quick-budget site afresh (or uses the one ``BOOK_SITE`` points at),
serves it on 127.0.0.1 and opens every page of ``_toc.yml`` once in Debian's Chromium, with
every request to another host blocked and recorded: the site must work offline. The facts
gathered on that visit are checked by the ``test_*.py`` files here, one file per concern and
one test per page and concern, so a failure names the page. Screenshots (light and dark mode)
land in ``_build/screenshots``.

    .venv/bin/python -m pytest tests/site            # builds the quick site first
    BOOK_SITE=_build/full/_build/html .venv/bin/python -m pytest tests/site

``BOOK_SCREENSHOTS=1`` saves the screenshots (``make check-site`` does); ``BOOK_CHROMIUM`` names another Chromium binary.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
import time
import urllib.parse
from collections.abc import Callable
from pathlib import Path

import pytest

from sitelib import (BUILD_LOG, CHROMIUM, CHROMIUM_ARGS, CONTRAST_JS, FACTS_JS, QUICK_OUT, ROOT,
                     SCREENSHOTS, SITE, SITE_ENV, TAKE_SCREENSHOTS, Build, Tab, Visit,
                     play_animations, serve, set_dark, shot_name)

@pytest.fixture(scope="session")
def build(quick_book) -> Build:
    """``$BOOK_SITE`` as it is, or a fresh quick-budget build (-W: any warning fails it). The
    chapters nbval ran in this session come from its cache (``quick_book``, root conftest.py).

    Built once per test run: should the site tests land in two xdist workers, the second
    waits for the first (a lock) and reads its result (a stamp holding the run's id) instead
    of building the same folder again at the same time."""
    if SITE is not None:
        html_dir = SITE.resolve()
        ok = (html_dir / "index.html").exists()
        return Build(html_dir, ok, log_tail="" if ok else f"{SITE_ENV}={html_dir} has no index.html: "
                     "point it at a built site's html folder")
    run = os.environ.get("PYTEST_XDIST_TESTRUNUID") or f"pid-{os.getpid()}"
    stamp = BUILD_LOG.with_suffix(".json")
    BUILD_LOG.parent.mkdir(parents=True, exist_ok=True)
    with open(BUILD_LOG.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if stamp.exists():
            done = json.loads(stamp.read_text(encoding="utf-8"))
            if done.pop("run") == run:
                return Build(Path(done.pop("html")), **done)
        built = _build(quick_book)
        stamp.write_text(json.dumps({"run": run, "html": str(built.html), "ok": built.ok,
                                     "seconds": built.seconds, "log_tail": built.log_tail}))
        return built


def _build(quick_book) -> Build:
    cmd = quick_book.prepare(QUICK_OUT)  # empties QUICK_OUT, seeds its execution cache
    start = time.perf_counter()
    with BUILD_LOG.open("w", encoding="utf-8") as log:
        proc = subprocess.run(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                              env={**os.environ, "BOOK_QUICK": "1"}, timeout=3600)
    seconds = time.perf_counter() - start
    lines = BUILD_LOG.read_text(encoding="utf-8", errors="replace").splitlines()
    warnings = [line for line in lines if "WARNING" in line and "IPKernelApp" not in line]
    tail = "\n".join(warnings[:20] + ["..."] + lines[-40:])
    return Build(QUICK_OUT / "_build" / "html", proc.returncode == 0, seconds,
                 f"exit {proc.returncode} after {seconds:.0f} s; full log: {BUILD_LOG}\n{tail}")


@pytest.fixture(scope="session")
def site(build: Build) -> Path:
    """The built HTML folder. After a failed build (-W --keep-going still writes the pages) the
    page tests run on what was written, which often names the page at fault."""
    if not (build.html / "index.html").exists():
        pytest.skip(f"no site at {build.html} (see test_quick_site_builds)")
    return build.html



@pytest.fixture(scope="session")
def server(site: Path) -> str:
    """The site, served on 127.0.0.1 for the session."""
    with serve(site) as url:
        yield url



@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"no Chromium at {CHROMIUM}: install Debian's `chromium` (make setup does, as "
                    "root) or set BOOK_CHROMIUM", pytrace=False)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()



@pytest.fixture(scope="session")
def context(browser):
    """One browser context for the session, so theme scripts come from the HTTP cache."""
    ctx = browser.new_context(viewport={"width": 1280, "height": 900}, color_scheme="light")
    yield ctx
    ctx.close()



@pytest.fixture(scope="session")
def visit(context, server: str) -> Callable[[str], Visit]:
    """``visit(doc)``: open the page once per session and return what was seen."""
    if TAKE_SCREENSHOTS:  # the last run's page shots go (not the JupyterLab test's files)
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        for old in [*SCREENSHOTS.glob("*-light.jpg"), *SCREENSHOTS.glob("*-dark.jpg")]:
            old.unlink(missing_ok=True)
    seen: dict[str, Visit] = {}
    tab = Tab(context)  # one tab for every page: twice as fast as a new tab per page

    def _visit(doc: str) -> Visit:
        if doc in seen:
            return seen[doc]
        start = time.perf_counter()
        v = Visit(url=urllib.parse.urljoin(server, f"{doc}.html"))
        try:
            page = tab.load(v)
            v.facts = page.evaluate(FACTS_JS)
            v.contrast["light"] = page.evaluate(CONTRAST_JS)
            if TAKE_SCREENSHOTS:
                page.screenshot(path=shot_name(doc, "light"), full_page=True, quality=80)
            v.solution_hidden = [not s.is_visible() for s in
                                 page.locator(".solution.dropdown > section, .solution.dropdown > .solution-content").all()]
            v.animations = play_animations(page)
            set_dark(page, True)  # for this page only: the next load starts light again
            v.contrast["dark"] = page.evaluate(CONTRAST_JS)
            if TAKE_SCREENSHOTS:
                page.evaluate("() => window.scrollTo(0, 0)")
                page.screenshot(path=shot_name(doc, "dark"), quality=80)  # the first screen suffices
        except BaseException:
            tab.reopen()  # the next page gets a tab in a known state
            raise
        v.seconds = time.perf_counter() - start
        seen[doc] = v
        return v

    return _visit

