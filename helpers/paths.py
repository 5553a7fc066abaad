"""Where chapters write what they make (checkpoints, GIFs): a git-ignored folder."""

from __future__ import annotations

from pathlib import Path

from helpers import settings

PROJECT_ROOT = settings.PROJECT_ROOT


def output_dir(chapter: str) -> Path:
    """A folder for one chapter's files: ``$BOOK_OUTPUT/<chapter>`` or ``<project>/outputs/<chapter>``."""
    path = settings.path("BOOK_OUTPUT") / chapter
    path.mkdir(parents=True, exist_ok=True)
    return path


def chapter_files(name: str) -> Path:
    """The folder of files a chapter runs (``notebooks/<name>``), wherever the notebook runs.

    Looked for in the project that ``helpers`` is installed from (so a downloaded ``.ipynb``
    finds it in any folder when ``helpers`` comes from a checkout, as ``make`` installs it),
    then beside the notebook (``./<name>``) and under the working directory
    (``./notebooks/<name>``); otherwise the error says what to do.
    """
    candidates = [PROJECT_ROOT / "notebooks" / name, Path.cwd() / name, Path.cwd() / "notebooks" / name]
    for path in candidates:
        if path.is_dir():
            return path.resolve()
    raise FileNotFoundError(
        f"this chapter runs the files in notebooks/{name}/ of the book's repository, and none of "
        f"{', '.join(str(p) for p in candidates)} exists: clone the repository and install it "
        f"(README.md, `make test`), or put the folder {name}/ beside the notebook")
