"""Code lines in chapters stay within 88 characters, so the website shows them whole.

The site test (tests/site/test_figures.py) fails on a page whose code or output scrolls
sideways at a 1280 px window. Every chapter fits (since 2026-11-26), so ``KNOWN`` is empty; it
is where a chapter's longer lines would be recorded as known debt, the count only ever lowered
(the site test then reports that page as an expected failure). Better: shorten the lines.
"""

from __future__ import annotations

from pathlib import Path

import jupytext
import pytest

ROOT = Path(__file__).resolve().parents[1]
WIDTH = 88
CHAPTERS = sorted((ROOT / "notebooks").glob("*.md"))

# chapter -> code lines over WIDTH (known debt; only ever lowered; none today)
KNOWN: dict[str, int] = {}


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


def included_sources() -> list[Path]:
    """Every file a chapter shows with ``literalinclude`` (its path is relative to
    notebooks/), once each, sorted."""
    found = set()
    for chapter in CHAPTERS:
        for line in chapter.read_text(encoding="utf-8").splitlines():
            if line.startswith("```{literalinclude}"):
                target = line.removeprefix("```{literalinclude}").strip()
                found.add((ROOT / "notebooks" / target).resolve())
    return sorted(found)


INCLUDED = included_sources()


def test_chapters_include_sources():
    assert INCLUDED, "no chapter has a literalinclude: is the pattern out of date?"


@pytest.mark.parametrize("path", INCLUDED, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_included_sources_fit(path):
    """A file shown with literalinclude is a code block on the site, so it fits too."""
    name = path.relative_to(ROOT).as_posix()
    lines = path.read_text(encoding="utf-8").splitlines()
    found = [f"  {name}:{n}: {len(line)} characters"
             for n, line in enumerate(lines, start=1) if len(line) > WIDTH]
    assert not found, (
        f"{name} is shown in a chapter with literalinclude and has {len(found)} lines "
        f"over {WIDTH} characters; wrap them:\n" + "\n".join(found))
