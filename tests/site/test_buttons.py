"""A chapter's buttons: downloads of its .md and .ipynb, a link to its file in the repository,
no button whose target can't be shown to exist, and a downloaded notebook that runs."""

from __future__ import annotations

import os
import urllib.parse

import pytest

from helpers import settings

from sitelib import chapter_params, CHAPTERS, PAGES, ROOT, config, dead_buttons, download_notebook, page_buttons, serve

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


# A plain chapter, and the two that run files of their own. Every chapter's cells already run
# under nbval; running each once more here would add minutes to `make test` for no new failure.
DOWNLOAD_CHAPTERS = [d for d in CHAPTERS if d.rsplit("/", 1)[-1] in
                     {"04_regression", "21_project", "23_distributed"}]


@pytest.mark.parametrize("doc", DOWNLOAD_CHAPTERS)
def test_downloaded_notebook_runs(site, server, doc, tmp_path):
    """The .ipynb from the download button runs to the end (quick budget) with a fresh kernel
    in an empty folder, with only what a reader has: the installed helpers and the data root.
    A chapter that runs files of its own finds them (helpers.chapter_files)."""
    import nbclient

    nb = download_notebook(site, server, doc)
    folder = tmp_path / "reader"
    folder.mkdir()
    env = {**os.environ, "BOOK_QUICK": "1", "BOOK_OUTPUT": str(tmp_path / "outputs"),
           "BOOK_DATA": str(settings.data_root())}
    client = nbclient.NotebookClient(nb, timeout=1800, kernel_name="python3",
                                     resources={"metadata": {"path": str(folder)}})
    client.execute(env=env, cwd=str(folder))
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code and code[-1].get("execution_count"), f"{doc}: the downloaded notebook did not run to the end"


