"""Unit tests of the book's Sphinx extensions (book/_ext), one function at a time, no build.

The browser test (tests/site) and test_expected_errors.py's planted build show that the
extensions work inside a build; these pin down what each pure function does with its input.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import SimpleNamespace

import pytest
from docutils import nodes
from docutils.frontend import get_default_settings
from docutils.parsers.rst import Parser
from docutils.utils import new_document
from sphinx.builders.html._assets import _JavaScript

EXT = Path(__file__).resolve().parents[1] / "book" / "_ext"


def _load(name: str):
    spec = importlib.util.spec_from_file_location(f"ext_{name}_under_test", EXT / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


status_table = _load("status_table")
site_fixes = _load("site_fixes")
expected_errors = _load("expected_errors")


# status_table --------------------------------------------------------------------------------

@pytest.mark.parametrize("text, shown", [
    ("0.98334", "0.9833"), ("np.float64(0.98334)", "0.9833"), ("tensor(0.5)", "0.5"),
    ("array(12.0)", "12"), ("3", "3"), ("-1.5e-05", "-1.5e-05"), (" .25 ", "0.25"),
    ("1e20", "1e+20"), ("'a string'", "'a string'"), ("tensor([1, 2])", "tensor([1, 2])"),
    ("np.float64(nan)", "np.float64(nan)")])
def test_format_number_keeps_four_significant_digits_of_numbers_only(text, shown):
    assert status_table.format_number(text) == shown


def test_checked_numbers_are_the_plain_text_glues_only():
    glue = {"cnn-acc": {"data": {"text/plain": "0.91234"}},
            "figure": {"data": {"text/plain": "<Figure>", "image/png": "..."}},
            "note": {"data": {"text/html": "<b>x</b>"}},
            "loss": {"data": {"text/plain": "np.float32(0.0123456)"}}}
    assert status_table.checked_numbers(glue) == [("cnn-acc", "0.9123"), ("loss", "0.01235")]
    assert status_table.checked_numbers({}) == []


def test_read_glue_finds_a_chapter_in_a_subfolder(tmp_path):
    folder = tmp_path / "jupyter_execute" / "notebooks"
    folder.mkdir(parents=True)
    (folder / "12_cnn.glue.json").write_text(json.dumps({"k": {"data": {"text/plain": "1"}}}))
    assert status_table.read_glue(str(tmp_path / "jupyter_execute"), "notebooks/12_cnn") == {
        "k": {"data": {"text/plain": "1"}}}
    assert status_table.read_glue(str(tmp_path / "jupyter_execute"), "notebooks/13_lstm") == {}


# site_fixes ----------------------------------------------------------------------------------

CDN_LINK = ('<link rel="stylesheet"\nhref="https://maxcdn.bootstrapcdn.com/font-awesome/4.4.0/'
            'css/font-awesome.min.css">\n')


def _document_with_raw(html: str) -> nodes.document:
    document = new_document("test", get_default_settings(Parser))
    document += nodes.raw("", html, format="html")
    document += nodes.raw("", CDN_LINK, format="latex")  # not HTML: left alone
    return document


def test_the_animation_cdn_link_is_dropped_from_html_outputs_only():
    document = _document_with_raw(f"<div>{CDN_LINK}<div class='animation'></div></div>")
    transform = site_fixes.DropAnimationCdnLink(document)
    transform.run()
    html, latex = [node.astext() for node in document.findall(nodes.raw)]
    assert html == "<div><div class='animation'></div></div>"
    assert latex == CDN_LINK
    assert not site_fixes.MPL_FONT_AWESOME.search('<link rel="stylesheet" href="_static/fa.css">')


def test_identical_scripts_are_kept_once_in_place():
    scripts = [_JavaScript("a.js"), _JavaScript(None, body="const THEBE_JS_URL = 1"),
               _JavaScript("a.js"), _JavaScript("", body="const THEBE_JS_URL = 1"),
               _JavaScript("a.js", defer="defer"), _JavaScript("b.js")]
    context = {"script_files": scripts}
    site_fixes.dedupe_scripts(None, "page", "page.html", context, None)
    assert context["script_files"] is scripts  # handlers after this one still add to the list
    assert [(s.filename, dict(s.attributes)) for s in scripts] == [
        ("a.js", {}), (None, {"body": "const THEBE_JS_URL = 1"}), ("a.js", {"defer": "defer"}),
        ("b.js", {})]
    empty: dict = {}
    site_fixes.dedupe_scripts(None, "page", "page.html", empty, None)
    assert empty == {}


def test_the_executed_notebook_is_offered_as_a_download(tmp_path):
    app = SimpleNamespace(outdir=str(tmp_path / "html"))
    executed = tmp_path / "jupyter_execute" / "notebooks" / "01_x.ipynb"
    executed.parent.mkdir(parents=True)
    executed.write_text("{}")
    context = {"sourcename": "notebooks/01_x.md"}
    site_fixes.offer_notebook_download(app, "notebooks/01_x", "page.html", context, None)
    assert context["ipynb_source"] == "notebooks/01_x.ipynb"
    assert (tmp_path / "html" / "_sources" / "notebooks" / "01_x.ipynb").read_text() == "{}"
    # not for a page without an executed notebook, a .rst page, or one that has its .ipynb
    for pagename, context in [("notebooks/02_y", {"sourcename": "notebooks/02_y.md"}),
                              ("notebooks/01_x", {"sourcename": "notebooks/01_x.rst"}),
                              ("notebooks/01_x", {"sourcename": "notebooks/01_x.md", "ipynb_source": "o.ipynb"})]:
        before = dict(context)
        site_fixes.offer_notebook_download(app, pagename, "page.html", context, None)
        assert context == before


# expected_errors -----------------------------------------------------------------------------

def _code(source, tags=(), expect=None, errors=()):
    metadata = {"tags": list(tags)} | ({"expect": expect} if expect else {})
    outputs = [{"output_type": "error", "ename": e, "evalue": "boom\nmore"} for e in errors]
    return {"cell_type": "code", "source": source, "metadata": metadata, "outputs": outputs}


def test_notebook_problems_name_each_broken_cell_by_index_and_first_line():
    notebook = {"cells": [
        {"cell_type": "markdown", "source": "# text", "metadata": {}},
        _code("x = 1"),
        _code(["\n", "model(x)  # fails\n"], ["raises-exception"], "RuntimeError", ["RuntimeError"]),
        _code("\nnothing()", ["raises-exception"], "KeyError"),
        _code("other()", ["raises-exception"], "KeyError", ["ValueError"]),
        _code("untagged()", expect="KeyError")]}
    problems = expected_errors.notebook_problems(notebook)
    assert [p.split(":")[0] for p in problems] == [
        "code cell 2 ('nothing()')", "code cell 3 ('other()')", "code cell 4 ('untagged()')"]
    assert "ran without an error" in problems[0] and "raised ValueError: boom" in problems[1]
    assert expected_errors.notebook_problems({}) == []


# --------------------------------------------------------------------------- language_switch

language_switch = _load("language_switch")
EDITIONS = {"en": "", "zh_CN": "zh"}


@pytest.mark.parametrize("language, page, href", [
    ("en", "index", "zh/index.html"),
    ("en", "notebooks/12_cnn", "../zh/notebooks/12_cnn.html"),
    ("zh_CN", "index", "../index.html"),
    ("zh_CN", "notebooks/12_cnn", "../../notebooks/12_cnn.html"),
])
def test_language_switch_links_to_the_same_page(language, page, href):
    (link,) = language_switch.links(EDITIONS, language, page)
    assert link["href"] == href
    assert link["hreflang"] == ("en" if language == "zh_CN" else "zh-CN")
    assert link["name"] == ("English" if language == "zh_CN" else "中文")


def test_language_switch_template_goes_after_the_theme_buttons():
    config = SimpleNamespace(templates_path=[], html_theme_options={})
    language_switch.add_template(None, config)
    assert config.html_theme_options["article_header_end"] == [
        "article-header-buttons.html", language_switch.TEMPLATE]
    assert (Path(config.templates_path[0]) / language_switch.TEMPLATE).is_file()
    language_switch.add_template(None, config)  # twice: still once
    assert config.html_theme_options["article_header_end"].count(language_switch.TEMPLATE) == 1


# --------------------------------------------------------------------------- translated_glue

translated_glue = _load("translated_glue")


@pytest.mark.parametrize("text, formatted, expected", [
    ("cnn-test-accuracy:.3f", True, "/notebooks/12_cnn.md::cnn-test-accuracy:.3f"),
    ("optimizers-ranking", True, "/notebooks/12_cnn.md::optimizers-ranking:s"),
    ("optimizers-ranking", False, "/notebooks/12_cnn.md::optimizers-ranking"),
])
def test_translated_glue_names_its_page(text, formatted, expected):
    assert translated_glue.named(text, "notebooks/12_cnn.md", formatted) == expected
    # what PasteTextRole does with it: the format after the last colon, the page before "::"
    if formatted:
        key, fmt = expected.rsplit(":", 1)
        assert key.split("::", 1) == ["/notebooks/12_cnn.md", text.split(":")[0]]


def test_translated_nodes_belong_to_their_page():
    """A translated paragraph's nodes come from a small document whose settings hold the whole
    build environment; left pointing there, every page's pickle carried that environment."""
    page = new_document("page.md", get_default_settings(Parser))
    small = new_document("page.md:<translated>", get_default_settings(Parser))
    small.settings.env = "the whole build environment"
    paragraph = nodes.paragraph()
    page += paragraph
    text = nodes.Text("译文")
    paragraph.children.append(text)  # as Sphinx moves a translation in, without setup_child
    text.parent, text._document = paragraph, small
    app = SimpleNamespace(config=SimpleNamespace(language="zh_CN"))
    translated_glue.adopt(app, page)
    assert text.document is page
    english = SimpleNamespace(config=SimpleNamespace(language="en"))
    text._document = small
    translated_glue.adopt(english, page)
    assert text.document is small  # an English build is left alone
