"""Where chapters write what they make (checkpoints, GIFs): a git-ignored folder."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def output_dir(chapter: str) -> Path:
    """A folder for one chapter's files: ``$BOOK_OUTPUT/<chapter>`` or ``<project>/outputs/<chapter>``."""
    base = Path(os.environ.get("BOOK_OUTPUT") or PROJECT_ROOT / "outputs").expanduser()
    path = base / chapter
    path.mkdir(parents=True, exist_ok=True)
    return path
