"""Progress bars for long loops: ``progress`` updates one line in place in a notebook."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import TypeVar

from tqdm import tqdm

T = TypeVar("T")


class _DisplayLine:
    """A file-like target for tqdm that keeps one output line updated in place in a notebook.

    Updating one display (rather than printing carriage returns) means the saved notebook, and
    so the built web page, holds only the bar's final state instead of every refresh.
    """

    def __init__(self) -> None:
        self.handle = None

    def write(self, text: str) -> None:
        from IPython.display import display

        line = text.split("\r")[-1].strip()
        if not line:
            return
        if self.handle is None:
            self.handle = display({"text/plain": line}, raw=True, display_id=True)
        else:
            self.handle.update({"text/plain": line}, raw=True)

    def flush(self) -> None:
        pass


def _in_notebook() -> bool:
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and hasattr(shell, "kernel")


def progress(iterable: Iterable[T], desc: str = "", total: int | None = None,
             leave: bool = True) -> Iterable[T]:
    """A text progress bar over ``iterable``; in a notebook it updates one output line in place."""
    file = _DisplayLine() if _in_notebook() else sys.stdout
    return tqdm(iterable, desc=desc, total=total, leave=leave, file=file, mininterval=0.5,
                ncols=88, ascii=False)
