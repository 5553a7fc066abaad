"""What a page says: its title and the source's headings, maths rendered by the local MathJax,
Markdown tables rendered as tables, folded exercises, and the status page's row per chapter."""

from __future__ import annotations

import re
import urllib.parse
from pathlib import Path

import pytest

from sitelib import (chapter_params, page_params, CHAPTERS, LOCAL_HOSTS, PAGES, ROOT, config, has_maths, markdown_headings,
                     MARKDOWN, plain, raw_markdown_tables, source_headings, source_tokens)

pytestmark = pytest.mark.site


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
def test_math_rendered_from_local_mathjax(visit, doc):
    f = visit(doc).facts
    assert all(urllib.parse.urlsplit(s).hostname in LOCAL_HOSTS for s in f["mathjaxSrc"]), f["mathjaxSrc"]
    maths_in_source = has_maths(source_tokens(doc))
    if not f["mathSource"]:
        assert not maths_in_source, f"{doc}: its source has maths, the page shows none"
        pytest.skip(f"{doc}: no maths in its source or on the page")
    assert f["mathRendered"] >= f["mathSource"], f"{doc}: {f['mathSource']} formulas, {f['mathRendered']} rendered"
    assert not f["mathErrors"], f"{doc}: MathJax reported {f['mathErrors']} errors"


def test_offline_math_assets_present(site):
    assert (site / "_static" / "mathjax" / "tex-chtml.js").is_file(), "sphinx-mathjax-offline did not copy MathJax"


@page_params
def test_markdown_tables_render(site, doc):
    raw = raw_markdown_tables((site / f"{doc}.html").read_text(encoding="utf-8"))
    assert not raw, f"{doc}: Markdown tables shown as text, not as tables: {raw}"


def test_raw_markdown_tables_are_caught():
    rendered = "<table><tr><th>runtime</th></tr></table><pre>| a | b |\n|---|---|</pre>"
    raw = "<p>| runtime | batch 1 (ms) |\n|\u2014|\u2014|\n| ONNX | 0.09 |</p>"
    assert raw_markdown_tables(rendered) == []
    assert raw_markdown_tables(raw) == ["| runtime | batch 1 (ms) |"]


@chapter_params
def test_chapter_has_folded_exercises(visit, doc):
    v = visit(doc)
    assert v.facts["exercises"] >= 1, f"{doc}: no exercise"
    assert v.facts["solutions"] >= 1, f"{doc}: no solution in a dropdown"
    assert v.solution_hidden and all(v.solution_hidden), f"{doc}: solutions are not folded: {v.solution_hidden}"


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


SOURCE = '''---
jupytext:
  formats: md:myst
---
(ch-x)=
# A *first* `title`

```{code-cell} ipython3
# not a heading: a comment in code
```

## Fitting $y = x^2$

## See {ref}`ch-x`

### The check
'''


def test_source_headings_skip_front_matter_code_maths_and_roles():
    assert markdown_headings(MARKDOWN.parse(SOURCE)) == ["A first title", "The check"]


@pytest.mark.parametrize("text, maths", [("plain $5 and 6 words", False), ("a $x^2$ b", True),
                                         ("$$\nx\n$$", True), ("\\begin{align}\nx\n\\end{align}", True),
                                         ("```{math}\nx\n```", True), ("{math}`x`", True),
                                         ("```python\n$x$\n```", False)])
def test_maths_in_a_source_is_found(text, maths):
    assert has_maths(MARKDOWN.parse(text)) is maths
