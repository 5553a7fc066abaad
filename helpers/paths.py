"""Where things are: the project, the data, what a chapter writes, the files a chapter runs.

Every path a chapter uses starts here, from the one project root (the folder this package
lives in), so no chapter or helper looks the root up again.
"""

from __future__ import annotations

from pathlib import Path

from helpers import settings

PROJECT_ROOT = settings.PROJECT_ROOT


def data_root() -> Path:
    """The one folder that holds every data set: ``$BOOK_DATA`` or ``<project>/data``."""
    return settings.data_root()


def output_dir(chapter: str) -> Path:
    """A folder for one chapter's files, one per budget: ``<outputs>/<quick|full>/<chapter>``.

    ``<outputs>`` is ``$BOOK_OUTPUT`` or ``<project>/outputs`` (git-ignored). The budget is part
    of the path so a quick test run never overwrites what the full run (the website's) wrote.
    """
    path = settings.path("BOOK_OUTPUT") / ("quick" if settings.quick() else "full") / chapter
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
