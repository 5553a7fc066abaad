"""What the site checks share: the pages to visit, serving, one browser visit per page, and
the parsers of built HTML and of Markdown sources (no fixtures here: they are in conftest.py,
the checks in ``test_*.py`` by concern). Imported by name (``import sitelib``): pytest puts
this folder on ``sys.path``.
"""

from __future__ import annotations

import contextlib
import functools
import html.parser
import importlib.util
import os
import re
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import yaml
from markdown_it import MarkdownIt
from markdown_it.token import Token
from mdit_py_plugins.amsmath import amsmath_plugin
from mdit_py_plugins.dollarmath import dollarmath_plugin
from mdit_py_plugins.front_matter import front_matter_plugin
from mdit_py_plugins.myst_role import myst_role_plugin

import pytest

from helpers import settings

ROOT = Path(__file__).resolve().parents[2]
SITE_ENV = "BOOK_SITE"                       # an already-built site (the folder with index.html)
QUICK_OUT = ROOT / "_build" / "quick"        # same place as `make quick`
BUILD_LOG = ROOT / "_build" / "quick-build.log"
SCREENSHOTS = ROOT / "_build" / "screenshots"  # git-ignored (_build/)
SITE = settings.path(SITE_ENV)


def _load(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _known_long_lines() -> dict[str, int]:
    """tests/test_code_width.py's record of chapters whose code lines are still too long."""
    return _load("code_width", ROOT / "tests" / "test_code_width.py").KNOWN


KNOWN_LONG = _known_long_lines()
# Pages with an output wider than the article column at 1280 px whose text the check cannot
# read (its block reports 0 characters); keep empty. The two pages once listed here (02, 10)
# had printed lines over 88 characters inside folded solutions: hidden, their text reads as
# empty, but their width still counts. Both were shortened (2026-11-26).
WIDE_OUTPUT_PAGES: set[str] = set()
TAKE_SCREENSHOTS = settings.switch("BOOK_SCREENSHOTS")  # off in make test: 40% of a visit
CHROMIUM = str(settings.path("BOOK_CHROMIUM"))
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


BOOK_TOOL = _load("book_tool_for_sitelib", ROOT / "tools" / "book.py")  # reads _toc.yml once


PAGES = BOOK_TOOL.toc_files()  # every page in reading order, root first
CHAPTERS = [p for p in PAGES if p.startswith("notebooks/")]
page_params = pytest.mark.parametrize("doc", PAGES)         # a test per page of the book
chapter_params = pytest.mark.parametrize("doc", CHAPTERS)   # a test per chapter


def config() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))



@dataclass
class Build:
    """The site to test: where its HTML is, and how building it went."""

    html: Path
    ok: bool = True
    seconds: float = 0.0
    log_tail: str = ""



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



# --------------------------------------------------------------------------- one visit per page

JS_DIR = Path(__file__).parent / "js"


def js(name: str) -> str:
    """The function in ``js/<name>``, without its leading comment lines, for ``page.evaluate``."""
    lines = (JS_DIR / name).read_text(encoding="utf-8").splitlines()
    while lines and lines[0].lstrip().startswith("//"):
        lines.pop(0)
    return "\n".join(lines)


FACTS_JS = js("facts.js")        # everything the checks need, gathered in one pass
CONTRAST_JS = js("contrast.js")  # WCAG contrast of a few kinds of text against their background


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


def open_page(context, visit: Visit | Callable[[], Visit]):
    """A new page in ``context`` that records errors and every request to another host into
    ``visit``, or, for a page that visits one URL after another, into ``visit()``, the visit
    under way when the event comes."""
    page = context.new_page()
    current = visit if callable(visit) else lambda: visit

    def on_request(request) -> None:
        parts = urllib.parse.urlsplit(request.url)
        if parts.scheme in {"http", "https", "ws", "wss"} and parts.hostname not in LOCAL_HOSTS:
            current().external_requests.append(request.url)

    page.on("request", on_request)
    page.on("console", lambda m: m.type == "error" and current().console_errors.append(
        f"{m.text} @ {m.location.get('url', '')}:{m.location.get('lineNumber', '')}"))
    page.on("pageerror", lambda e: current().console_errors.append(f"uncaught: {e}"))
    page.on("requestfailed", lambda r: urllib.parse.urlsplit(r.url).hostname in LOCAL_HOSTS
            and current().failed_requests.append(f"{r.url}: {r.failure}"))
    page.on("response", lambda r: r.status >= 400
            and current().failed_requests.append(f"{r.url}: HTTP {r.status}"))
    return page


class Tab:
    """One browser tab that loads page after page, each into its own ``Visit``.

    A new tab per page made every load about twice as slow (1.6 s against 0.8 s a page on a
    quiet 2-core machine, with the same facts recorded): each new tab starts from a cold
    renderer. After a visit that failed half-way, ``reopen`` gives the next page a fresh tab."""

    def __init__(self, context) -> None:
        self.context = context
        self.visit = Visit(url="about:blank")
        self.page = open_page(context, lambda: self.visit)

    def load(self, visit: Visit):
        """Record into ``visit`` from now on, load its URL and return the page."""
        self.visit = visit
        self.page.goto(visit.url, wait_until="load")
        return self.page

    def reopen(self) -> None:
        """Close the tab and open a fresh one (same recording)."""
        self.page.close()
        self.page = open_page(self.context, lambda: self.visit)


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


MARKDOWN = (MarkdownIt("commonmark").use(front_matter_plugin).use(dollarmath_plugin)
            .use(amsmath_plugin).use(myst_role_plugin))  # as _config.yml's MyST extensions read it


@functools.lru_cache(maxsize=None)
def source_tokens(doc: str) -> tuple[Token, ...]:
    """The Markdown tokens of a page's source (``<doc>.md``; none for a page without one)."""
    src = ROOT / f"{doc}.md"
    return tuple(MARKDOWN.parse(src.read_text(encoding="utf-8"))) if src.exists() else ()


def _walk(tokens) -> list[Token]:
    out = []
    for token in tokens:
        out.append(token)
        out.extend(_walk(token.children or []))
    return out


def markdown_headings(tokens) -> list[str]:
    """Headings of Markdown (not those in code cells or other fences), as plain text.

    Headings with maths or a role are left out: they render as something else than their text.
    """
    tokens = list(tokens)
    headings = []
    for opening, inline in zip(tokens, tokens[1:]):
        if opening.type != "heading_open":
            continue
        children = inline.children or []
        if any(c.type in {"math_inline", "myst_role"} for c in children):
            continue
        text = "".join(c.content for c in children if c.type in {"text", "code_inline", "softbreak"})
        headings.append(plain(text))
    return headings


def source_headings(doc: str) -> list[str]:
    """Markdown headings of a page's source (outside code fences), as plain text."""
    return markdown_headings(source_tokens(doc))


MATH_TOKENS = {"math_inline", "math_block", "math_block_label", "amsmath", "math_inline_double"}


def has_maths(tokens) -> bool:
    """Whether Markdown holds maths: ``$..$``, ``$$..$$``, ``\\begin{align}``, ``{math}``."""
    for t in _walk(tokens):
        if t.type in MATH_TOKENS or (t.type == "fence" and t.info.strip() == "{math}") \
                or (t.type == "myst_role" and t.meta.get("name") == "math"):
            return True
    return False


ANIMATE_CALL = re.compile(r"^[^#\n]*\banimate\(", re.M)


def code_cells(tokens) -> list[str]:
    """The code of each ``{code-cell}`` of a MyST notebook's Markdown, in order."""
    return [t.content for t in tokens if t.type == "fence" and t.info.strip().startswith("{code-cell}")]


def animation_cells(tokens) -> int:
    """How many code cells call ``animate(`` (``helpers.animate``) outside a comment."""
    return sum(bool(ANIMATE_CALL.search(code)) for code in code_cells(tokens))


def plain(text: str) -> str:
    """Text with Sphinx's smart quotes and dashes undone and spaces collapsed, for comparing."""
    for fancy, simple in (("\u2019", "'"), ("\u2018", "'"), ("\u201c", '"'), ("\u201d", '"'),
                          ("\u2014", "---"), ("\u2013", "--"), ("\u2026", "...")):
        text = text.replace(fancy, simple)
    return re.sub(r"\s+", " ", text).strip()

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

