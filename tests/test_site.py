"""The website as readers get it, checked in a real browser (headless Chromium via Playwright).

A session fixture builds the quick-budget site afresh (or uses the one ``BOOK_SITE`` points at),
serves it on 127.0.0.1 and opens every page of ``_toc.yml`` once in Debian's Chromium, with
every request to another host blocked and recorded: the site must work offline. The facts
gathered on that visit are then checked by the tests below, one test per page and concern, so
a failure names the page. Screenshots (light and dark mode) land in ``_build/screenshots``.

    .venv/bin/python -m pytest tests/test_site.py            # builds the quick site first
    BOOK_SITE=_build/full/_build/html .venv/bin/python -m pytest tests/test_site.py

``BOOK_SCREENSHOTS=0`` skips the screenshots; ``BOOK_CHROMIUM`` names another Chromium binary.
"""

from __future__ import annotations

import contextlib
import functools
import html.parser
import os
import re
import shutil
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable

import pytest
import yaml

pytestmark = pytest.mark.site

ROOT = Path(__file__).resolve().parents[1]
SITE_ENV = "BOOK_SITE"                       # an already-built site (the folder with index.html)
QUICK_OUT = ROOT / "_build" / "quick"        # same place as `make quick`
BUILD_LOG = ROOT / "_build" / "quick-build.log"
SCREENSHOTS = ROOT / "_build" / "screenshots"  # git-ignored (_build/)
TAKE_SCREENSHOTS = os.environ.get("BOOK_SCREENSHOTS", "1") != "0"  # about a third of the time
CHROMIUM = os.environ.get("BOOK_CHROMIUM", "/usr/bin/chromium")
LOCAL_HOSTS = {"127.0.0.1", "localhost"}
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 # Every other host is unreachable, as for a reader offline; the pages still
                 # record each such request (a Playwright route would also work, but it turns
                 # off the HTTP cache and makes every page load all its scripts again).
                 "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost"]
MAX_PAGE_BYTES = 10_000_000                  # a page's HTML plus the images it embeds or links
MIN_CONTRAST = 4.5                           # WCAG AA for body text
SEARCH_WORD, SEARCH_FINDS = "autograd", "notebooks/01_tensors"


def toc_pages(toc_file: Path = ROOT / "_toc.yml") -> list[str]:
    """Every document of the table of contents, in reading order (root first)."""
    toc = yaml.safe_load(toc_file.read_text(encoding="utf-8"))
    pages = [toc["root"]]

    def walk(entries: list[dict[str, Any]]) -> None:
        for entry in entries:
            if "file" in entry:
                pages.append(str(Path(entry["file"]).with_suffix("")))
            for key in ("parts", "chapters", "sections"):
                walk(entry.get(key, []))

    walk([toc])
    return pages


PAGES = toc_pages()
CHAPTERS = [p for p in PAGES if p.startswith("notebooks/")]


def config() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))


# --------------------------------------------------------------------------- build and serve


@dataclass
class Build:
    """The site to test: where its HTML is, and how building it went."""

    html: Path
    ok: bool = True
    seconds: float = 0.0
    log_tail: str = ""


@pytest.fixture(scope="session")
def build(quick_book) -> Build:
    """``$BOOK_SITE`` as it is, or a fresh quick-budget build (-W: any warning fails it). The
    chapters nbval ran in this session come from its cache (``quick_book``, root conftest.py)."""
    if os.environ.get(SITE_ENV):
        html_dir = Path(os.environ[SITE_ENV]).resolve()
        ok = (html_dir / "index.html").exists()
        return Build(html_dir, ok, log_tail="" if ok else f"{SITE_ENV}={html_dir} has no index.html: "
                     "point it at a built site's html folder")
    cmd = quick_book.prepare(QUICK_OUT)  # empties QUICK_OUT, seeds its execution cache
    BUILD_LOG.parent.mkdir(parents=True, exist_ok=True)
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


def test_quick_site_builds(build):
    """The whole book builds with the quick budget, without a warning (a failing cell fails it)."""
    assert build.ok, f"the site build failed: {build.log_tail}"
    if build.seconds:
        print(f"quick site build: {build.seconds:.0f} s")


@pytest.fixture(scope="session")
def site(build: Build) -> Path:
    """The built HTML folder. After a failed build (-W --keep-going still writes the pages) the
    page tests run on what was written, which often names the page at fault."""
    if not (build.html / "index.html").exists():
        pytest.skip(f"no site at {build.html} (see test_quick_site_builds)")
    return build.html


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args: Any) -> None:
        pass


@contextlib.contextmanager
def serve(directory: Path):
    """Serve ``directory`` on 127.0.0.1 (a free port); yields the base URL."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(directory)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    finally:
        httpd.shutdown()
        httpd.server_close()


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


# --------------------------------------------------------------------------- one visit per page

# Runs in the page: everything the checks need, gathered in one pass.
FACTS_JS = r"""
async () => {
  await Promise.all([...document.images].map(i => i.complete ? 0 :
      new Promise(r => { i.addEventListener('load', r); i.addEventListener('error', r); })));
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) await MathJax.startup.promise;
  await document.fonts.ready;
  await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));  // layout settled
  const article = document.querySelector('article.bd-article') || document.querySelector('main');
  const box = article.getBoundingClientRect();
  const clean = s => s.replace(/[#¶]\s*$/, '').replace(/\s+/g, ' ').trim();
  const errorOutputs = [];
  for (const out of document.querySelectorAll('.cell_output')) {
    if (out.closest('.tag_raises-exception')) continue;
    const text = out.innerText || '';
    // an error output, or a traceback printed by anything else (a logger, a subprocess);
    // a chapter may still print an exception it caught on purpose
    if (out.querySelector('.traceback, .output.error') || /Traceback \(most recent call last\)/.test(text))
      errorOutputs.push(text.slice(0, 400));
  }
  return {
    title: document.title,
    h1: [...article.querySelectorAll('h1')].map(h => clean(h.textContent)),
    headings: [...article.querySelectorAll('h1,h2,h3,h4,h5,h6')].map(h => clean(h.textContent)),
    images: [...document.images].map(i => ({src: i.src.slice(0, 120), natural: i.naturalWidth,
        width: i.getBoundingClientRect().width, right: i.getBoundingClientRect().right,
        visible: i.offsetParent !== null, inArticle: article.contains(i)})),
    articleRight: box.right,
    overflowX: document.documentElement.scrollWidth - document.documentElement.clientWidth,
    errorOutputs,
    links: [...new Set([...document.querySelectorAll('a[href]')].map(a => a.href))],
    mathSource: document.querySelectorAll('.math, span.math, div.math').length,
    mathRendered: document.querySelectorAll('mjx-container').length,
    mathErrors: document.querySelectorAll('mjx-merror').length,
    mathjaxSrc: [...document.scripts].map(s => s.src).filter(s => /mathjax/i.test(s)),
    exercises: document.querySelectorAll('.exercise').length,
    solutions: document.querySelectorAll('.solution.dropdown').length,
    buttons: Object.fromEntries([
        ['source', '.btn-download-source-button'], ['notebook', '.btn-download-notebook-button'],
        ['repo_file', '.btn-source-file-button'], ['repository', '.btn-source-repository-button']]
        .map(([k, sel]) => [k, (document.querySelector(sel) || {}).href || null])),
    launch: [...document.querySelectorAll('.dropdown-launch-buttons a')].map(a => a.href),
    favicon: (document.querySelector('link[rel~="icon"]') || {}).href || null,
  };
}
"""

# Contrast ratio (WCAG) of the text colour of a few kinds of element against what is behind it.
CONTRAST_JS = r"""
() => {
  const parse = s => { const m = s.match(/rgba?\(([^)]+)\)/); if (!m) return null;
    const p = m[1].split(/[\s,\/]+/).filter(Boolean).map(Number);
    return {rgb: p.slice(0, 3), a: p.length > 3 ? p[3] : 1}; };
  const lum = rgb => { const [r, g, b] = rgb.map(v => { v /= 255;
    return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
  const behind = el => { for (; el; el = el.parentElement) {
      const c = parse(getComputedStyle(el).backgroundColor); if (c && c.a > 0.5) return c.rgb; }
    return parse(getComputedStyle(document.body).backgroundColor)?.rgb || [255, 255, 255]; };
  const kinds = {paragraph: 'article p', heading: 'article h1', list: 'article li',
    code: '.cell_input pre', output: '.cell_output pre', table: 'article td',
    admonition: '.admonition-title', sidebar: '.bd-sidebar-primary a'};
  const out = {};
  for (const [kind, sel] of Object.entries(kinds)) {
    const el = [...document.querySelectorAll(sel)].find(e => e.offsetParent !== null && e.innerText.trim());
    if (!el) continue;
    const fg = parse(getComputedStyle(el).color); if (!fg) continue;
    const [a, b] = [lum(fg.rgb), lum(behind(el))];
    out[kind] = Math.round(100 * (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05)) / 100;
  }
  return out;
}
"""


@dataclass
class Visit:
    """What one page looked like in the browser."""

    url: str
    facts: dict[str, Any] = field(default_factory=dict)
    console_errors: list[str] = field(default_factory=list)
    external_requests: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)
    animations: list[dict[str, Any]] = field(default_factory=list)
    contrast: dict[str, dict[str, float]] = field(default_factory=dict)
    solution_hidden: list[bool] = field(default_factory=list)
    seconds: float = 0.0


def open_page(context, visit: Visit):
    """A new page in ``context`` that records errors and every request to another host."""
    page = context.new_page()

    def on_request(request) -> None:
        parts = urllib.parse.urlsplit(request.url)
        if parts.scheme in {"http", "https", "ws", "wss"} and parts.hostname not in LOCAL_HOSTS:
            visit.external_requests.append(request.url)

    page.on("request", on_request)
    page.on("console", lambda m: m.type == "error" and visit.console_errors.append(
        f"{m.text} @ {m.location.get('url', '')}:{m.location.get('lineNumber', '')}"))
    page.on("pageerror", lambda e: visit.console_errors.append(f"uncaught: {e}"))
    page.on("requestfailed", lambda r: urllib.parse.urlsplit(r.url).hostname in LOCAL_HOSTS
            and visit.failed_requests.append(f"{r.url}: {r.failure}"))
    page.on("response", lambda r: r.status >= 400 and visit.failed_requests.append(f"{r.url}: HTTP {r.status}"))
    return page


def play_animations(page) -> list[dict[str, Any]]:
    """Pause each matplotlib animation, press play, and see whether the frame moves on."""
    results = []
    anims = page.locator("div.animation")
    for i in range(anims.count()):
        anim = anims.nth(i)
        anim.scroll_into_view_if_needed()
        slider = anim.locator("input.anim-slider")
        play = anim.locator("button[title='Play']")
        info: dict[str, Any] = {
            "frames": int(slider.get_attribute("max") or -1) + 1 if slider.count() else 0,
            "play_visible": play.count() == 1 and play.is_visible(),
            # the icon is drawn by the theme's own Font Awesome (an <svg> once rendered)
            "play_icon": play.count() == 1 and play.locator("svg, i").first.bounding_box() is not None
            and (play.locator("svg, i").first.bounding_box() or {}).get("width", 0) > 0,
            "advanced": False,
        }
        if info["play_visible"] and info["frames"] > 1:
            anim.locator("button[title='Pause']").click()
            before = slider.input_value()
            play.click()
            try:
                page.wait_for_function("([el, v]) => el.value !== v", arg=[slider.element_handle(), before],
                                       timeout=3000)
                info["advanced"] = True
            except Exception:  # noqa: BLE001 - a timeout means the animation did not move
                info["advanced"] = False
            anim.locator("button[title='Pause']").click()
            info["frame_loaded"] = anim.locator("img").evaluate("i => i.naturalWidth") > 0
        results.append(info)
    return results


def set_dark(page, dark: bool) -> None:
    mode = "dark" if dark else "light"
    page.evaluate(f"() => {{ document.documentElement.dataset.theme = '{mode}';"
                  f" document.documentElement.dataset.mode = '{mode}'; }}")
    page.wait_for_timeout(100)


def shot_name(doc: str, mode: str) -> Path:
    return SCREENSHOTS / f"{doc.replace('/', '__')}-{mode}.jpg"  # JPEG: quicker to encode than PNG


@pytest.fixture(scope="session")
def visit(context, server: str) -> Callable[[str], Visit]:
    """``visit(doc)``: open the page once per session and return what was seen."""
    shutil.rmtree(SCREENSHOTS, ignore_errors=True)
    SCREENSHOTS.mkdir(parents=True)
    seen: dict[str, Visit] = {}

    def _visit(doc: str) -> Visit:
        if doc in seen:
            return seen[doc]
        start = time.perf_counter()
        v = Visit(url=urllib.parse.urljoin(server, f"{doc}.html"))
        page = open_page(context, v)
        try:
            page.goto(v.url, wait_until="load")
            v.facts = page.evaluate(FACTS_JS)
            v.contrast["light"] = page.evaluate(CONTRAST_JS)
            if TAKE_SCREENSHOTS:
                page.screenshot(path=shot_name(doc, "light"), full_page=True, quality=80)
            v.solution_hidden = [not s.is_visible() for s in
                                 page.locator(".solution.dropdown > section, .solution.dropdown > .solution-content").all()]
            v.animations = play_animations(page)
            set_dark(page, True)
            v.contrast["dark"] = page.evaluate(CONTRAST_JS)
            if TAKE_SCREENSHOTS:
                page.evaluate("() => window.scrollTo(0, 0)")
                page.screenshot(path=shot_name(doc, "dark"), quality=80)  # the first screen suffices
        finally:
            page.close()
        v.seconds = time.perf_counter() - start
        seen[doc] = v
        return v

    return _visit


# --------------------------------------------------------------------------- link checking


class _Anchors(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name == "id" or (tag == "a" and name == "name"):
                self.ids.add(value or "")


@functools.lru_cache(maxsize=None)
def fetch(url: str) -> tuple[int, frozenset[str]]:
    """HTTP status of a local URL and, for HTML, the anchors it defines."""
    try:
        with urllib.request.urlopen(url, timeout=10) as resp:
            body = resp.read()
            status = resp.status
            kind = resp.headers.get_content_type()
    except urllib.error.HTTPError as err:
        return err.code, frozenset()
    if kind != "text/html":
        return status, frozenset()
    parser = _Anchors()
    parser.feed(body.decode("utf-8", errors="replace"))
    return status, frozenset(parser.ids)


def page_bytes(site: Path, doc: str) -> tuple[int, list[tuple[str, int]]]:
    """Size of a page's HTML plus every image/media file it references outside the theme."""
    page = site / f"{doc}.html"
    text = page.read_text(encoding="utf-8")
    parts = [(page.name, page.stat().st_size)]
    for ref in set(re.findall(r'(?:src|href)="([^"#?]+)', text)):
        if "://" in ref or ref.startswith(("data:", "mailto:")) or "_static/" in ref or ref.endswith(".html"):
            continue
        target = (page.parent / urllib.parse.unquote(ref)).resolve()
        if target.is_file() and target.suffix.lower() in {".png", ".jpg", ".jpeg", ".gif", ".svg", ".webp", ".mp4", ".webm"}:
            parts.append((ref, target.stat().st_size))
    return sum(n for _, n in parts), parts


RAW_TABLE = re.compile(r"<p>(\|[^<\n]*\|)\s*\n\|[\s:|\u2014\u2013-]+\|")


def raw_markdown_tables(html: str) -> list[str]:
    """Header rows of Markdown tables that reached the page as a paragraph of pipes.

    MyST-NB renders a cell's Markdown output as CommonMark unless told otherwise, and CommonMark
    has no tables: ``Markdown("| a | b |\\n|---|---|")`` then shows as text, its dashes turned
    into em dashes by smart quotes.
    """
    return RAW_TABLE.findall(html)


def source_headings(doc: str) -> list[str]:
    """Markdown headings of a page's source (outside code fences), as plain text."""
    src = ROOT / f"{doc}.md"
    if not src.exists():
        return []
    headings, fence = [], None
    for line in src.read_text(encoding="utf-8").splitlines():
        m = re.match(r"^(`{3,}|~{3,})", line)
        if m:
            if fence is None:
                fence = m.group(1)
            elif line.strip() == fence:
                fence = None
            continue
        if fence is None and (h := re.match(r"^#{1,6}\s+(.+?)\s*#*\s*$", line)):
            text = h.group(1)
            if "$" in text or "{" in text:  # math and roles render differently; skip them
                continue
            text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text).replace("`", "").replace("**", "").replace("*", "")
            headings.append(plain(text))
    return headings


def plain(text: str) -> str:
    """Text with Sphinx's smart quotes and dashes undone and spaces collapsed, for comparing."""
    for fancy, simple in (("\u2019", "'"), ("\u2018", "'"), ("\u201c", '"'), ("\u201d", '"'),
                          ("\u2014", "---"), ("\u2013", "--"), ("\u2026", "...")):
        text = text.replace(fancy, simple)
    return re.sub(r"\s+", " ", text).strip()


# --------------------------------------------------------------------------- the checks, per page

page_params = pytest.mark.parametrize("doc", PAGES)
chapter_params = pytest.mark.parametrize("doc", CHAPTERS)


@page_params
def test_page_loads_offline_without_errors(visit, doc):
    v = visit(doc)
    assert not v.external_requests, f"{doc} requests other hosts (blocked; the site must work offline): {v.external_requests}"
    assert not v.failed_requests, f"{doc}: local requests failed: {v.failed_requests}"
    assert not v.console_errors, f"{doc}: console errors: {v.console_errors}"
    # browsers fetch a favicon on their own (not seen as a page request): a missing one logs a 404
    assert v.facts["favicon"] and fetch(v.facts["favicon"])[0] == 200, f"{doc}: favicon {v.facts['favicon']}"


@page_params
def test_title_and_headings(visit, doc):
    f = visit(doc).facts
    assert len(f["h1"]) == 1 and f["h1"][0], f"{doc}: expected one non-empty <h1>, got {f['h1']}"
    assert f["title"].startswith(f["h1"][0]), f"{doc}: <title> {f['title']!r} does not start with {f['h1'][0]!r}"
    assert config()["title"] in f["title"]
    on_page = {plain(h) for h in f["headings"]}
    missing = [h for h in source_headings(doc) if h not in on_page]
    assert not missing, f"{doc}: headings of the source missing from the page: {missing} (page has {f['headings']})"


@page_params
def test_images_load(visit, doc):
    broken = [i["src"] for i in visit(doc).facts["images"] if i["natural"] == 0]
    assert not broken, f"{doc}: images that did not load: {broken}"


@page_params
def test_figures_fit_the_page(visit, doc):
    f = visit(doc).facts
    too_wide = [i["src"] for i in f["images"] if i["inArticle"] and i["visible"] and i["right"] > f["articleRight"] + 1]
    assert not too_wide, f"{doc}: images wider than the text column: {too_wide}"
    assert f["overflowX"] <= 0, f"{doc}: the page scrolls sideways by {f['overflowX']} px at 1280 px"


@page_params
def test_animations_play(visit, doc):
    for i, a in enumerate(visit(doc).animations):
        assert a["frames"] > 1, f"{doc}: animation {i} has {a['frames']} frames"
        assert a["play_visible"] and a["play_icon"], f"{doc}: animation {i} has no visible play control: {a}"
        assert a["advanced"], f"{doc}: animation {i} did not advance after pressing play"
        assert a["frame_loaded"], f"{doc}: animation {i} shows no frame image"


@page_params
def test_no_error_in_outputs(visit, doc):
    errors = visit(doc).facts["errorOutputs"]
    assert not errors, f"{doc}: cell outputs show errors (tag the cell raises-exception if intended): {errors}"


@page_params
def test_math_rendered_from_local_mathjax(visit, doc):
    f = visit(doc).facts
    assert all(urllib.parse.urlsplit(s).hostname in LOCAL_HOSTS for s in f["mathjaxSrc"]), f["mathjaxSrc"]
    if f["mathSource"]:
        assert f["mathRendered"] >= f["mathSource"], f"{doc}: {f['mathSource']} formulas, {f['mathRendered']} rendered"
        assert not f["mathErrors"], f"{doc}: MathJax reported {f['mathErrors']} errors"


@page_params
def test_internal_links_resolve(visit, server, doc):
    bad = []
    for link in visit(doc).facts["links"]:
        parts = urllib.parse.urlsplit(link)
        if parts.hostname not in LOCAL_HOSTS:
            continue
        status, anchors = fetch(urllib.parse.urlunsplit(parts._replace(fragment="")))
        fragment = urllib.parse.unquote(parts.fragment)
        if status != 200:
            bad.append(f"{link}: HTTP {status}")
        elif fragment and anchors and fragment not in anchors:
            bad.append(f"{link}: no element with id {fragment!r}")
    assert not bad, f"{doc}: broken internal links: {bad}"


@page_params
def test_light_and_dark_mode_readable(visit, doc):
    v = visit(doc)
    for mode in ("light", "dark"):
        ratios = v.contrast[mode]
        assert "paragraph" in ratios or "heading" in ratios, f"{doc}: no text found in {mode} mode"
        low = {k: r for k, r in ratios.items() if r < MIN_CONTRAST}
        assert not low, f"{doc}: text contrast below {MIN_CONTRAST} in {mode} mode: {low} (see {shot_name(doc, mode)})"


@page_params
def test_page_size(site, doc):
    total, parts = page_bytes(site, doc)
    biggest = sorted(parts, key=lambda p: -p[1])[:3]
    assert total < MAX_PAGE_BYTES, f"{doc}: {total / 1e6:.1f} MB (limit {MAX_PAGE_BYTES / 1e6:.0f} MB); largest: {biggest}"


@page_params
def test_markdown_tables_render(site, doc):
    raw = raw_markdown_tables((site / f"{doc}.html").read_text(encoding="utf-8"))
    assert not raw, f"{doc}: Markdown tables shown as text, not as tables: {raw}"


def test_raw_markdown_tables_are_caught():
    rendered = "<table><tr><th>runtime</th></tr></table><pre>| a | b |\n|---|---|</pre>"
    raw = "<p>| runtime | batch 1 (ms) |\n|\u2014|\u2014|\n| ONNX | 0.09 |</p>"
    assert raw_markdown_tables(rendered) == []
    assert raw_markdown_tables(raw) == ["| runtime | batch 1 (ms) |"]


# --------------------------------------------------------------------------- chapters only


@chapter_params
def test_chapter_reader_buttons(visit, doc):
    f = visit(doc).facts
    repo = config()["repository"]["url"].rstrip("/")
    b = f["buttons"]
    assert b["source"] and b["source"].endswith(f"_sources/{doc}.md"), f"{doc}: no .md download: {b}"
    assert b["notebook"] and b["notebook"].endswith(f"_sources/{doc}.ipynb"), f"{doc}: no .ipynb download: {b}"
    assert b["repo_file"] and b["repo_file"].startswith(f"{repo}/blob/") and doc in b["repo_file"], b


@chapter_params
def test_chapter_has_folded_exercises(visit, doc):
    v = visit(doc)
    assert v.facts["exercises"] >= 1, f"{doc}: no exercise"
    assert v.facts["solutions"] >= 1, f"{doc}: no solution in a dropdown"
    assert v.solution_hidden and all(v.solution_hidden), f"{doc}: solutions are not folded: {v.solution_hidden}"


class _Buttons(html.parser.HTMLParser):
    """The links a page shows as buttons (its header's download, source and launch buttons)."""

    def __init__(self) -> None:
        super().__init__()
        self.buttons: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "a" and a.get("href") and "btn" in (a.get("class") or "").split():
            self.buttons.append((a.get("title") or a.get("aria-label") or "", a["href"] or ""))


def page_buttons(site: Path, doc: str) -> list[tuple[str, str]]:
    """(title, href) of every link-button on a built page."""
    parser = _Buttons()
    parser.feed((site / f"{doc}.html").read_text(encoding="utf-8"))
    return parser.buttons


def download_notebook(site: Path, server: str, doc: str):
    """The chapter's .ipynb as its download button serves it."""
    import nbformat

    page = urllib.parse.urljoin(server, f"{doc}.html")
    hrefs = [h for _, h in page_buttons(site, doc) if urllib.parse.urlsplit(h).path.endswith(".ipynb")]
    assert hrefs, f"{doc}: no button offers the chapter as .ipynb: {page_buttons(site, doc)}"
    with urllib.request.urlopen(urllib.parse.urljoin(page, hrefs[0]), timeout=10) as resp:
        return nbformat.reads(resp.read().decode("utf-8"), as_version=4)


def dead_buttons(buttons: list[tuple[str, str]], page: str, repo: str) -> list[str]:
    """Buttons whose target can't be shown to exist: a local one not served (or a notebook that
    doesn't parse), or one that leaves the site for anywhere but the repository (a launch)."""
    import nbformat

    bad = []
    for title, href in buttons:
        url = urllib.parse.urljoin(page, href)
        if urllib.parse.urlsplit(url).hostname in LOCAL_HOSTS:
            status, _ = fetch(url)
            if status != 200:
                bad.append(f"{title}: {url} HTTP {status}")
            elif url.endswith(".ipynb"):
                with urllib.request.urlopen(url, timeout=10) as resp:
                    nbformat.validate(nbformat.reads(resp.read().decode("utf-8"), as_version=4))
        elif url != repo and not url.startswith(repo + "/"):
            bad.append(f"{title}: {url} (not the repository: a launch button?)")
    return bad


@chapter_params
def test_every_button_target_exists(site, server, doc):
    """Each button of a chapter leads somewhere: a download is served (a notebook that parses),
    a repository link stays under repository.url, and there is no launch button (Colab, Binder):
    its target can't be shown to run while the repository is unpublished (README.md says what
    must be true to bring them back)."""
    buttons = page_buttons(site, doc)
    assert buttons, f"{doc}: no buttons found"
    bad = dead_buttons(buttons, urllib.parse.urljoin(server, f"{doc}.html"),
                       config()["repository"]["url"].rstrip("/"))
    assert not bad, f"{doc}: buttons whose target can't be shown to exist: {bad}"


def test_dead_buttons_are_caught(tmp_path):
    """A launch link, a missing download and a broken notebook are caught; good ones are not."""
    repo = "https://github.com/o/r"
    (tmp_path / "ok.ipynb").write_text('{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}')
    (tmp_path / "broken.ipynb").write_text("{}")
    (tmp_path / "page.html").write_text(
        '<a class="btn" title="Colab" href="https://colab.research.google.com/github/o/r/blob/main/x.md">'
        '<a class="btn" title="md" href="missing.md"><a class="btn" title="nb" href="ok.ipynb">'
        f'<a class="btn" title="repo" href="{repo}/blob/main/x.md"><a class="btn" title="bad" href="broken.ipynb">'
        '<a href="https://example.org">not a button</a>')
    buttons = page_buttons(tmp_path, "page")
    assert len(buttons) == 5
    with serve(tmp_path) as base:
        with pytest.raises(Exception, match="cells"):  # nbformat: {} is no notebook
            dead_buttons(buttons[-1:], base + "page.html", repo)
        bad = dead_buttons(buttons[:-1], base + "page.html", repo)
    assert [b.split(":")[0] for b in bad] == ["Colab", "md"], bad


@chapter_params
def test_downloaded_notebook_runs(site, server, doc, tmp_path):
    """The .ipynb from the download button runs to the end (quick budget) with a fresh kernel
    in an empty folder, with only what a reader has: the installed helpers and the data root.
    A chapter that runs files of its own finds them (helpers.chapter_files)."""
    import nbclient

    nb = download_notebook(site, server, doc)
    folder = tmp_path / "reader"
    folder.mkdir()
    env = {**os.environ, "BOOK_QUICK": "1", "BOOK_OUTPUT": str(tmp_path / "outputs"),
           "BOOK_DATA": os.environ.get("BOOK_DATA") or str(ROOT / "data")}
    client = nbclient.NotebookClient(nb, timeout=1800, kernel_name="python3",
                                     resources={"metadata": {"path": str(folder)}})
    client.execute(env=env, cwd=str(folder))
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code and code[-1].get("execution_count"), f"{doc}: the downloaded notebook did not run to the end"


# --------------------------------------------------------------------------- the site as a whole


def test_search_finds_the_tensors_chapter(context, server):
    v = Visit(url=urllib.parse.urljoin(server, f"search.html?q={SEARCH_WORD}"))
    page = open_page(context, v)
    try:
        page.goto(v.url, wait_until="load")
        page.wait_for_selector("#search-results li", timeout=15000)
        hrefs = page.eval_on_selector_all("#search-results li a", "els => els.map(a => a.href)")
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=SCREENSHOTS / "search.jpg", quality=80)
    finally:
        page.close()
    assert any(f"{SEARCH_FINDS}.html" in h for h in hrefs), f"search for {SEARCH_WORD!r} found {hrefs}"
    assert not v.external_requests and not v.console_errors, (v.external_requests, v.console_errors)


def test_status_page_lists_every_chapter(visit, site):
    """The status page has a row per chapter: passed, a run time, and each recorded number."""
    visit("book/status")
    text = (site / "book" / "status.html").read_text(encoding="utf-8")
    for doc in CHAPTERS:
        m = re.search(rf'<tr class="chapter-status-row[^"]*" id="status-{re.escape(Path(doc).name)}">(.*?)</tr>', text, re.S)
        assert m, f"status page has no row for {doc}"
        row = re.sub(r"<[^>]+>", " ", m.group(1))
        assert "passed" in row, f"{doc}: status row says {row!r}"
        assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d", row) and re.search(r"\s\d+\.\d\s", row), row
        assert re.search(r"[\w-]+\s*=\s*[-+]?\.?\d", row), \
            f"{doc} publishes no checked number (helpers.record in its assert cell): {row!r}"
        # keys named literally in the source must all be there (f-string keys can't be read here)
        keys = re.findall(r"""helpers\.record\(\s*["']([^"'{}]+)["']""", (ROOT / f"{doc}.md").read_text(encoding="utf-8"))
        for key in keys:
            assert re.search(rf"{re.escape(key)}\s*=\s*[-+]?\d", row), f"status row of {doc} lacks {key}: {row!r}"


def test_offline_math_assets_present(site):
    assert (site / "_static" / "mathjax" / "tex-chtml.js").is_file(), "sphinx-mathjax-offline did not copy MathJax"


# --------------------------------------------------------------------------- the checks can fail

BROKEN_PAGE = """<!doctype html><html><head><title>Broken</title>
<link rel="stylesheet" href="https://cdn.example.org/style.css">
<link rel="icon" href="data:,">
<script>undefinedFunction();</script></head>
<body><main><h1>Broken</h1>
<img src="missing.png">
<div class="cell"><div class="cell_output"><pre>Traceback (most recent call last):
ValueError: boom</pre></div></div>
<div class="cell tag_raises-exception"><div class="cell_output">
<div class="output traceback">ZeroDivisionError: expected</div></div></div>
<div class="animation"><img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=">
<input class="anim-slider" type="range" min="0" max="4" value="0">
<button title="Pause">||</button><button title="Play"><i>&gt;</i></button></div>
</main></body></html>"""


def test_the_checks_catch_a_broken_page(context, tmp_path):
    """Each fault on a deliberately broken page is caught; the raises-exception cell is not."""
    (tmp_path / "broken.html").write_text(BROKEN_PAGE, encoding="utf-8")
    with serve(tmp_path) as base:
        v = Visit(url=base + "broken.html")
        page = open_page(context, v)
        try:
            page.goto(v.url, wait_until="load")
            facts = page.evaluate(FACTS_JS)
            anims = play_animations(page)
        finally:
            page.close()
    assert v.external_requests == ["https://cdn.example.org/style.css"]
    assert any("undefinedFunction" in e for e in v.console_errors), v.console_errors
    assert any("missing.png" in f for f in v.failed_requests), v.failed_requests
    assert [i["natural"] for i in facts["images"]][:1] == [0]
    assert len(facts["errorOutputs"]) == 1 and "ValueError: boom" in facts["errorOutputs"][0]
    assert anims and anims[0]["frames"] == 5 and not anims[0]["advanced"]
