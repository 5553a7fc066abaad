"""A chapter's buttons: downloads of its .md and .ipynb, a link to its file in the repository,
no button whose target can't be shown to exist, and a downloaded notebook that is the chapter."""

from __future__ import annotations

import urllib.parse

import pytest

from sitelib import chapter_params, ROOT, config, dead_buttons, download_notebook, page_buttons, serve

pytestmark = pytest.mark.site


@chapter_params
def test_chapter_reader_buttons(visit, doc):
    f = visit(doc).facts
    repo = config()["repository"]["url"].rstrip("/")
    b = f["buttons"]
    assert b["source"] and b["source"].endswith(f"_sources/{doc}.md"), f"{doc}: no .md download: {b}"
    assert b["notebook"] and b["notebook"].endswith(f"_sources/{doc}.ipynb"), f"{doc}: no .ipynb download: {b}"
    assert b["repo_file"] and b["repo_file"].startswith(f"{repo}/blob/") and doc in b["repo_file"], b


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
def test_downloaded_notebook_is_the_chapter(site, server, doc):
    """The .ipynb from the download button holds the chapter's code cells, as nbval ran them.

    nbval runs every chapter with its kernel in an empty folder (root conftest.py), which is
    what a reader does with this file; so its cells are known to run there, and running the
    download once more would only repeat that run."""
    import jupytext

    nb = download_notebook(site, server, doc)
    chapter = jupytext.read(ROOT / f"{doc}.md")
    code = [c.source.strip() for c in nb.cells if c.cell_type == "code"]
    expected = [c.source.strip() for c in chapter.cells if c.cell_type == "code"]
    assert code == expected, (f"{doc}: the downloaded notebook's {len(code)} code cells differ "
                              f"from the chapter's {len(expected)}")
    assert nb.metadata.get("kernelspec", {}).get("language") == "python", nb.metadata
