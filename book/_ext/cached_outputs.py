"""A chapter read from the execution cache keeps its outputs in the notebook MyST-NB writes.

With ``execute_notebooks: cache``, MyST-NB 1.4 renders a chapter it finds in the jupyter-cache
from a merged copy of the notebook, but writes the notebook it read, without outputs, to
``jupyter_execute/<doc>.ipynb``. That file is what the download button offers (site_fixes) and
what expected_errors checks, so every cache hit (a prose-only edit under ``make book``, or the
chapters nbval already ran for the quick build) would offer an empty notebook and report each
raises-exception cell as "ran without an error". Here the cached outputs are copied into the
notebook MyST-NB goes on to write, as they are after an execution.
"""

from __future__ import annotations

from typing import Any

from myst_nb.core.execute.cache import NotebookClientCache

_start_client = NotebookClientCache.start_client


def _start_client_in_place(self: NotebookClientCache) -> None:
    read = self._notebook
    _start_client(self)
    merged = self._notebook
    if merged is not read:  # a cache hit: MyST-NB merged the outputs into a copy
        read.cells = merged.cells
        read.metadata = merged.metadata
        read.nbformat, read.nbformat_minor = merged.nbformat, merged.nbformat_minor
        self._notebook = read


def setup(app) -> dict[str, Any]:
    if NotebookClientCache.start_client is _start_client:
        NotebookClientCache.start_client = _start_client_in_place
    return {"version": "0.1", "parallel_read_safe": True, "parallel_write_safe": True}
