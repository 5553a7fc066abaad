"""The site builds, and every page loads offline without an error in the console, a request
that fails, an error in a cell's output or a broken internal link; search works; and a
deliberately broken page shows that these checks catch what they look for."""

from __future__ import annotations

import urllib.parse

import pytest

from sitelib import (page_params, CHAPTERS, LOCAL_HOSTS, PAGES, SCREENSHOTS, SEARCH_FINDS, SEARCH_WORD,
                     FACTS_JS, Tab, Visit, fetch, open_page, play_animations, serve)

pytestmark = pytest.mark.site


def test_quick_site_builds(build):
    """The whole book builds with the quick budget, without a warning (a failing cell fails it)."""
    assert build.ok, f"the site build failed: {build.log_tail}"
    if build.seconds:
        print(f"quick site build: {build.seconds:.0f} s")



@page_params
def test_page_loads_offline_without_errors(visit, doc):
    v = visit(doc)
    assert not v.external_requests, f"{doc} requests other hosts (blocked; the site must work offline): {v.external_requests}"
    assert not v.failed_requests, f"{doc}: local requests failed: {v.failed_requests}"
    assert not v.console_errors, f"{doc}: console errors: {v.console_errors}"
    # browsers fetch a favicon on their own (not seen as a page request): a missing one logs a 404
    assert v.facts["favicon"] and fetch(v.facts["favicon"])[0] == 200, f"{doc}: favicon {v.facts['favicon']}"


@page_params
def test_no_error_in_outputs(visit, doc):
    errors = visit(doc).facts["errorOutputs"]
    assert not errors, f"{doc}: cell outputs show errors (tag the cell raises-exception if intended): {errors}"


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
<div class="cell_input"><div class="highlight"><pre style="width: 200px">x = 1
a_line_of_code_much_longer_than_two_hundred_pixels = some_function(with_arguments, and_more)</pre></div></div>
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
    assert [(b["kind"], b["line"][:8]) for b in facts["wideBlocks"]] == [("code", "a_line_o")], facts["wideBlocks"]




CLEAN_PAGE = """<!doctype html><html><head><title>Clean</title><link rel="icon" href="data:,"></head>
<body><main><h1>Clean</h1></main></body></html>"""


def test_one_tab_keeps_each_pages_faults_apart(context, tmp_path):
    """The tab that visits every page (conftest.py's ``visit``) records each fault into the
    visit of the page at fault, not into the one before or after it."""
    (tmp_path / "broken.html").write_text(BROKEN_PAGE, encoding="utf-8")
    (tmp_path / "clean.html").write_text(CLEAN_PAGE, encoding="utf-8")
    with serve(tmp_path) as base:
        tab = Tab(context)
        visits = [Visit(url=base + name) for name in ["clean.html", "broken.html", "clean.html"]]
        try:
            for v in visits:
                tab.load(v).evaluate(FACTS_JS)
        finally:
            tab.page.close()
    before, broken, after = visits
    assert broken.external_requests and broken.console_errors and broken.failed_requests, broken
    for v in (before, after):
        assert not (v.external_requests or v.console_errors or v.failed_requests), v
