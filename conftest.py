"""Collect each chapter's MyST text notebook (notebooks/NN_slug.md) as an nbval test.

nbval only collects .ipynb; here jupytext reads the .md source instead, so the text stays the
single source of truth and no generated .ipynb is needed. Outputs are not compared (the text
source has none): each chapter's assert cell is what makes its test meaningful.

A cell that the text says must fail carries two MyST options, ``tags: [raises-exception]`` and
``expect: ExceptionName`` (the exception's class name, e.g. ``RuntimeError``). nbval alone lets
such a cell raise anything, or nothing; here the cell's test fails when it does not raise, when
it raises another exception, or when one of the two options is missing.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from unittest import mock

import jupytext
import nbval.plugin
import pytest

NOTEBOOKS = Path(__file__).parent / "notebooks"


def _load_rule():
    """``raises_problem`` from book/_ext/expected_errors.py: the site build checks the same rule."""
    path = Path(__file__).parent / "book" / "_ext" / "expected_errors.py"
    spec = importlib.util.spec_from_file_location("book_expected_errors", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.raises_problem


raises_problem = _load_rule()


class MystCell(nbval.plugin.IPyNbCell):
    """An nbval cell that also holds a raises-exception cell to the exception it expects."""

    def runtest(self):
        super().runtest()
        errors = [out for out in self.test_outputs or [] if out.get("output_type") == "error"]
        problem = raises_problem(self.cell.metadata, errors)
        if problem:
            self.raise_cell_error(problem)


class MystNotebook(nbval.plugin.IPyNbFile):
    """An nbval notebook read from a jupytext MyST markdown file."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.compare_outputs = False  # same as --nbval-lax: errors fail, outputs aren't diffed

    def collect(self):
        with mock.patch.object(nbval.plugin.nbformat, "read", lambda *a, **k: jupytext.read(self.path)):
            for item in super().collect():
                yield MystCell.from_parent(self, name=item.name, cell_num=item.cell_num,
                                           cell=item.cell, options=item.options)


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
