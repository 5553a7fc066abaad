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
