"""Collect each chapter's MyST text notebook (notebooks/NN_slug.md) as an nbval test.

nbval only collects .ipynb; here jupytext reads the .md source instead, so the text stays the
single source of truth and no generated .ipynb is needed. Outputs are not compared (the text
source has none): each chapter's assert cell is what makes its test meaningful.
"""

from __future__ import annotations

import os
from pathlib import Path
from unittest import mock

import jupytext
import nbval.plugin
import pytest

NOTEBOOKS = Path(__file__).parent / "notebooks"


class MystNotebook(nbval.plugin.IPyNbFile):
    """An nbval notebook read from a jupytext MyST markdown file."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.compare_outputs = False  # same as --nbval-lax: errors fail, outputs aren't diffed

    def collect(self):
        with mock.patch.object(nbval.plugin.nbformat, "read", lambda *a, **k: jupytext.read(self.path)):
            yield from super().collect()


def pytest_collect_file(file_path: Path, parent: pytest.Collector):
    if file_path.parent == NOTEBOOKS and file_path.suffix == ".md":
        return MystNotebook.from_parent(parent, path=file_path)
    return None


def pytest_configure(config: pytest.Config) -> None:
    # Notebooks run under the quick budget in tests; the kernel inherits this environment.
    os.environ.setdefault("BOOK_QUICK", "1")
    # A BOOK_* variable with a value the book does not accept stops the run before it starts.
    from helpers import settings

    try:
        settings.check()
    except settings.SettingError as exc:
        raise pytest.UsageError(str(exc)) from None
