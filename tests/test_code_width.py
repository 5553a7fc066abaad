"""Code lines in chapters stay within 88 characters, so the website shows them whole.

The site test (tests/site/test_figures.py) fails on a page whose code or output scrolls
sideways at a 1280 px window. Older chapters still have longer lines: ``KNOWN`` records how many
each has, and this test fails when a chapter gains one (or loses one without the number here
going down with it). A chapter not listed must have none. Shorten lines, then lower or remove
its entry; the goal is an empty ``KNOWN``.
"""

from __future__ import annotations

from pathlib import Path

import jupytext
import pytest

ROOT = Path(__file__).resolve().parents[1]
WIDTH = 88
CHAPTERS = sorted((ROOT / "notebooks").glob("*.md"))

# chapter -> code lines over WIDTH today (2026-11-26); only ever lowered
KNOWN: dict[str, int] = {
    "12_cnn": 11,
    "13_lstm": 10,
    "14_rnn_regression": 9,
    "15_dynamic_graphs": 1,
    "16_attention": 6,
    "17_autoencoder": 8,
    "18_dqn": 15,
    "19_gan": 9,
    "21_project": 12,
    "22_skorch": 1,
    "23_distributed": 16,
    "24_deployment": 17,
}


def long_lines(path: Path) -> list[str]:
    """The code-cell lines of a chapter that are longer than ``WIDTH`` characters."""
    cells = [c for c in jupytext.read(path).cells if c.cell_type == "code"]
    return [line for c in cells for line in c.source.splitlines() if len(line) > WIDTH]


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_code_lines_fit(path):
    found = long_lines(path)
    known = KNOWN.get(path.stem, 0)
    listing = "\n".join(f"  {len(line)}: {line.strip()[:100]}" for line in found)
    assert len(found) <= known, (
        f"{path.name} has {len(found)} code lines over {WIDTH} characters (allowed: {known}); "
        f"shorten them:\n{listing}")
    assert len(found) == known, (
        f"{path.name} now has {len(found)} long code lines, fewer than KNOWN's {known}: "
        f"lower its entry in {Path(__file__).name}")


def test_a_long_line_is_caught(tmp_path):
    page = tmp_path / "99_planted.md"
    page.write_text("```{code-cell} ipython3\nx = " + "1 + " * 30 + "1\n```\n")
    assert len(long_lines(page)) == 1
