"""No run-dependent number is typed into a chapter's prose: the run's numbers are glued.

A number that a run produced (a loss, an accuracy, a time, a speed-up) must reach the text
through ``{glue:text}`key:.3f``` from the key the chapter publishes with ``helpers.record``;
typed in, it goes stale the first time the chapter runs on another machine or seed. This test
reads every chapter (``notebooks/*.md``) and every page of ``book/`` and looks for the numbers
such a sentence is made of, in the Markdown prose only:

- decimals (``0.021``, ``3.5``) and numbers in scientific notation (``9e-3``);
- percentages (``89%``) and speed-ups (``3x``, ``3×``);
- durations (``82 seconds``, ``6 min``);
- approximations (``about 60``, ``roughly 17``, ``~0.02``).

Not prose, so never read: the front matter, code cells and other fenced code blocks (so the
exercises' and solutions' code too), maths (``$...$``, ``$$...$$``, ``{math}``; but inline
maths that is nothing but a number, ``$9 \\times 10^{-3}$`` or ``$10^{-8}$``, is read as that
number), inline code
and roles (``{glue:text}`...```, ``{ref}`...```), link targets, HTML and MyST comments. Version
numbers (``PyTorch 2.6``, ``Python 3.14``, ``1.0.4``) are not measurements either.

A number that is a constant rather than a result passes in two ways:

1. the chapter's code spells out the same value (a hyperparameter or a threshold: ``0.97`` in
   ``TARGET = 0.97`` also allows ``97%`` in the text); not for an approximation ("about 60"),
   which states a measurement whatever the code holds;
2. an explicit marker, a MyST comment line (not rendered) directly above the paragraph::

       % prose-numbers: 0.5 0.2%
       Always predicting 0 would give an MSE of 0.5 ...

   It lists the constants that this one paragraph (up to the next blank line) may state. Keep
   the list small and true: derived constants (the mean of cos², a Bayes error), not results.

``PENDING`` lists what the test still finds in chapters whose fix belongs to another change; a
number listed there is reported, not failed. Empty it as those fixes land.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# book/status.md is left out: its margins table records, on purpose, the spread that
# tools/spread.py measured over many runs; the rest of that page has no numbers.
PAGES = (sorted((ROOT / "notebooks").glob("*.md"))
         + sorted(p for p in (ROOT / "book").glob("*.md") if p.name != "status.md"))
MARKER = re.compile(r"^%\s*prose-numbers:\s*(.*)$")

# Fenced blocks whose body is prose (admonitions); every other fenced block is code or options.
PROSE_DIRECTIVES = {"note", "warning", "tip", "admonition", "important", "caution", "hint",
                    "seealso", "attention", "danger", "error", "dropdown", "margin", "sidebar",
                    "epigraph", "topic", "exercise", "solution"}

# Known typed numbers in chapters another change is fixing (path relative to the root ->
# the numbers as the test reports them). Reported, not failed; remove entries as fixes land.
PENDING: dict[str, set[str]] = {}

NUM = r"\d[\d,]*(?:\.\d+)?"
PATTERNS = {  # in order: a number matched by an earlier kind is not reported again
    "approximation": re.compile(rf"(?:\b(?:about|around|roughly|approximately|nearly|almost)\s+"
                                rf"|[~≈]\s?){NUM}(?:[eE][-+]?\d+)?"),
    "scientific": re.compile(r"(?<![\w.])\d+(?:\.\d+)?[eE][-+]?\d+(?!\w|\.\d)"),
    "percentage": re.compile(rf"(?<![\w.]){NUM}\s?(?:%|percent\b)"),
    "speed-up": re.compile(rf"(?<![\w.]){NUM}\s?[x×](?![\w])"),
    "duration": re.compile(rf"(?<![\w.]){NUM}\s?(?:ms|s|secs?|seconds?|mins?|minutes?|h|hours?)\b"),
    "decimal": re.compile(r"(?<![\w.])\d+\.\d+(?!\w|\.\d)"),
}
VERSION = re.compile(r"(?:\b(?:PyTorch|Python|torch|CUDA|NumPy|Jupyter Book|MyST-NB|Sphinx|gymnasium|"
                     r"gym|version|v|arXiv:)\s*\d+(?:\.\d+)*|\b\d+\.\d+\.\d+|\b\d+\.x\b)")


def strip_code_and_maths(text: str) -> list[tuple[int, str]]:
    """The prose lines of a MyST page, (line number, text), with code, maths and roles removed.

    MyST comment lines are kept (they carry markers); the caller skips them as prose.
    """
    lines = text.splitlines()
    start = 0
    if lines and lines[0].strip() == "---":  # front matter
        start = next((i + 1 for i in range(1, len(lines)) if lines[i].strip() == "---"), 0)
    kept, fence, in_display_math = [], None, False
    for number, line in enumerate(lines[start:], start=start + 1):
        stripped = line.strip()
        if fence:
            if stripped.startswith(fence[0]) and stripped.strip(fence[0][0]) == "":
                fence = None
            elif not fence[1]:                      # a directive holding prose: keep its body
                if not stripped.startswith(":"):    # ... but not its :option: lines
                    kept.append((number, line))
            continue
        opening = re.match(r"^(`{3,}|~{3,}|:{3,})\s*(\{[^}]*\}|[\w+-]*)", stripped)
        if opening:
            fence = (opening.group(1), opening.group(2).strip("{}") not in PROSE_DIRECTIVES)
            continue
        if stripped == "+++":
            continue
        # display maths over several lines
        if in_display_math:
            if "$$" in line:
                in_display_math = False
                line = line.split("$$", 1)[1]
            else:
                continue
        line = re.sub(r"\$\$.*?\$\$", " ", line)
        if line.count("$$") == 1:
            line, in_display_math = line.split("$$", 1)[0], True
        line = re.sub(r"(?<!\\)\$([^$]+)\$", math_number, line)  # inline maths
        line = re.sub(r"\\\(.*?\\\)", " ", line)
        line = re.sub(r"\{[\w:.-]+\}`[^`]*`", " ", line)        # roles: glue, ref, math, ...
        line = re.sub(r"(`+).*?\1", " ", line)                  # inline code
        line = re.sub(r"\]\([^)]*\)", "] ", line)               # link targets
        line = re.sub(r"<https?://[^>]*>|https?://\S+", " ", line)
        line = re.sub(r"<!--.*?-->|<[^>]+>", " ", line)         # HTML
        line = re.sub(r"^\s*\([\w:-]+\)=\s*$", " ", line)       # labels
        kept.append((number, line))
    return kept


MATH_NUMBER = re.compile(r"^\s*(?:(\d+(?:\.\d+)?)\s*\\times\s*)?10\^\{?(-?\d+)\}?\s*$|^\s*(\d+\.\d+)\s*$")


def math_number(match: re.Match) -> str:
    """Inline maths that is only a number ($9 \\times 10^{-3}$, $10^{-8}$, $0.021$) stays prose,
    written as ``9e-3``; any other maths (a formula) is dropped."""
    number = MATH_NUMBER.match(match.group(1))
    if not number:
        return " "
    mantissa, exponent, decimal = number.groups()
    return f" {decimal} " if decimal else f" {mantissa or 1}e{exponent} "


def code_numbers(text: str) -> set[float]:
    """Every numeric literal in the page's code cells (hyperparameters, thresholds)."""
    values: set[float] = set()
    for block in re.findall(r"```\{code-cell\}[^\n]*\n(.*?)\n```", text, flags=re.S):
        for literal in re.findall(r"(?<![\w.])\d+(?:\.\d+)?(?:[eE][-+]?\d+)?", block):
            values.add(float(literal))
    return values


def value_of(token: str) -> float | None:
    """The number a token states (``89%`` -> 89.0; the caller also tries a percentage / 100)."""
    match = re.search(r"\d[\d,]*(?:\.\d+)?(?:[eE][-+]?\d+)?", token)
    return float(match.group(0).replace(",", "")) if match else None


def paragraphs(text: str) -> list[tuple[int, str, set[str]]]:
    """(first line, joined text, marker's allowed tokens) of each prose paragraph of a page."""
    result, lines, allowed = [], [], set()
    for number, line in strip_code_and_maths(text) + [(0, "")]:
        marker = MARKER.match(line.strip())
        if marker:
            allowed = {t for t in re.split(r"[\s,]+", marker.group(1)) if t}
        elif line.strip().startswith("%"):
            continue                      # a MyST comment
        elif line.strip():
            lines.append((number, line.strip()))
        elif lines or allowed:            # a blank line ends the paragraph (and its marker)
            if lines:
                result.append((lines[0][0], " ".join(t for _, t in lines), allowed))
            lines, allowed = [], set()
    return result


def typed_numbers(path: Path) -> list[tuple[int, str, str]]:
    """(line, kind, token) for every run-dependent-looking number in the page's prose."""
    text = path.read_text(encoding="utf-8")
    constants = code_numbers(text)
    found = []
    for number, paragraph, allowed in paragraphs(text):
        prose = VERSION.sub(" ", paragraph)
        allowed_values = {value_of(a) for a in allowed}
        taken: list[tuple[int, int]] = []
        for kind, pattern in PATTERNS.items():
            for match in pattern.finditer(prose):
                if any(a < match.end() and match.start() < b for a, b in taken):
                    continue  # already reported as a more specific kind
                taken.append(match.span())
                token = re.sub(r"\s+", " ", match.group(0).strip())
                value = value_of(token)
                if token in allowed or value in allowed_values:
                    continue
                if kind != "approximation" and value is not None and (value in constants or (
                        kind == "percentage" and round(value / 100, 12) in constants)):
                    continue
                found.append((number, kind, token))
    return found


def check_page(path: Path, pending: set[str] = frozenset()) -> None:
    """Fail, naming each one, when the page's prose has typed numbers not in ``pending``."""
    new = [f"line {n}: {token!r} ({kind})" for n, kind, token in typed_numbers(path)
           if token not in pending]
    assert not new, (f"{path.name}: numbers typed into the prose; glue them from the run "
                     "({glue:text}`key:.3f`) or, for a true constant, mark the paragraph "
                     "with `% prose-numbers: ...` (see this test's docstring):\n  "
                     + "\n  ".join(new))


@pytest.mark.parametrize("path", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_typed_run_numbers(path):
    check_page(path, PENDING.get(str(path.relative_to(ROOT)), set()))


PLANTED = """\
---
jupytext:
  formats: md:myst
---

(ch-planted)=
# Planted

```{code-cell} ipython3
TARGET = 0.97  # a threshold: 97% in the prose is a constant
print(f"{0.912345:.3f}")  # code is never read as prose
```

The check asks for 97% of the test points, and $0.2^2/12 \\approx 0.0033$ is maths.
The glued value {glue:text}`planted-accuracy:.3f` is read from the run.

% prose-numbers: 0.5
Always predicting 0 gives an MSE of 0.5 (the mean of cos²).

In this run the test accuracy was 0.9123, reached in about 60 epochs and 82 seconds,
89% against 86%, 3.5x faster, with a gradient error of 9e-3, agreeing to about $10^{-8}$
and to $4 \\times 10^{-6}$ (but $x^2 + 0.1$ is a formula). Since PyTorch 2.6 it refuses.
"""


def test_a_planted_typed_number_fails(tmp_path):
    page = tmp_path / "99_planted.md"
    page.write_text(PLANTED)
    found = {token for _, _, token in typed_numbers(page)}
    assert found == {"0.9123", "about 60", "82 seconds", "89%", "86%", "3.5x", "9e-3",
                     "about 1e-8", "4e-6"}, found
    with pytest.raises(AssertionError, match="0.9123"):
        check_page(page)


def test_a_marker_covers_only_its_paragraph(tmp_path):
    page = tmp_path / "98_marker.md"
    page.write_text("# T\n\n% prose-numbers: 0.5\nThe mean is 0.5.\n\nAnother 0.5 here.\n")
    assert [token for _, _, token in typed_numbers(page)] == ["0.5"]
