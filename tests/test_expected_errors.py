"""Cells that must fail (``tags: [raises-exception]`` + ``expect: ExceptionName``) are checked.

The rule lives in book/_ext/expected_errors.py and is applied twice: by nbval (the root
conftest.py) when a chapter runs as a test, and by the site build (a warning, so ``-W`` fails).
These tests plant a small notebook in a copy of the project layout in which one cell raises the
expected exception, one stops raising and one raises another exception, and show that both the
notebook test and a ``-W`` build fail on exactly the two broken cells.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import jupytext
import pytest

ROOT = Path(__file__).resolve().parents[1]
FRONT_MATTER = (ROOT / "notebooks" / "01_tensors.md").read_text().split("---\n", 2)[1]


def _rule_module():
    path = ROOT / "book" / "_ext" / "expected_errors.py"
    spec = importlib.util.spec_from_file_location("expected_errors_under_test", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


rule = _rule_module()


def cell(source: str, expect: str | None = None, tagged: bool = True) -> str:
    options = []
    if tagged:
        options.append("tags: [raises-exception]")
    if expect:
        options.append(f"expect: {expect}")
    head = "---\n" + "\n".join(options) + "\n---\n" if options else ""
    return f"```{{code-cell}} ipython3\n{head}{source}\n```\n"


PLANTED = "---\n" + FRONT_MATTER + "---\n\n# Planted\n\n" + "\n".join([
    cell("x = 1", tagged=False),
    cell("1 / 0", "ZeroDivisionError"),          # keeps its promise
    cell("1 / 1", "ZeroDivisionError"),          # stopped raising
    cell("{}['missing']", "ZeroDivisionError"),  # raises, but another exception
])


@pytest.mark.parametrize("metadata, errors, problem", [
    ({}, [], None),
    ({"tags": ["raises-exception"], "expect": "RuntimeError"}, [{"ename": "RuntimeError"}], None),
    ({"tags": ["raises-exception"], "expect": "RuntimeError"}, [], "ran without an error"),
    ({"tags": ["raises-exception"], "expect": "RuntimeError"},
     [{"ename": "TypeError", "evalue": "bad"}], "raised TypeError: bad"),
    ({"tags": ["raises-exception"]}, [{"ename": "RuntimeError"}], "names no `expect:"),
    ({"expect": "RuntimeError"}, [], "not tagged raises-exception"),
])
def test_the_rule(metadata, errors, problem):
    found = rule.raises_problem(metadata, errors)
    assert (found is None) if problem is None else (problem in found)


def test_every_chapter_names_what_its_failing_cells_raise():
    for path in sorted((ROOT / "notebooks").glob("*.md")):
        for c in jupytext.read(path).cells:
            if c.cell_type == "code" and "raises-exception" in c.metadata.get("tags", []):
                assert c.metadata.get("expect"), f"{path.name}: a raises-exception cell lacks `expect:`"


@pytest.fixture
def planted(tmp_path: Path) -> Path:
    """A copy of the project's test layout holding one planted notebook."""
    (tmp_path / "book" / "_ext").mkdir(parents=True)
    shutil.copy(ROOT / "conftest.py", tmp_path / "conftest.py")
    shutil.copy(ROOT / "book" / "_ext" / "expected_errors.py", tmp_path / "book" / "_ext")
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "notebooks" / "00_planted.md").write_text(PLANTED)
    return tmp_path


def test_notebook_test_fails_when_a_cell_stops_raising(planted):
    run = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q",
                          "notebooks/00_planted.md"], cwd=planted, capture_output=True, text=True,
                         timeout=300)
    out = run.stdout + run.stderr
    assert run.returncode != 0, out
    assert "2 failed, 2 passed" in out, out
    assert "should raise ZeroDivisionError but ran without an error" in out, out
    assert "should raise ZeroDivisionError but raised KeyError" in out, out


def test_site_build_fails_when_a_cell_stops_raising(planted):
    (planted / "_config.yml").write_text(textwrap.dedent("""\
        title: planted
        only_build_toc_files: true
        execute:
          execute_notebooks: force
          allow_errors: false
        sphinx:
          local_extensions:
            expected_errors: book/_ext
        """))
    (planted / "_toc.yml").write_text("format: jb-book\nroot: notebooks/00_planted\n")
    (planted / "notebooks" / "00_planted.md").write_text(PLANTED)
    build = [str(Path(sys.executable).with_name("jupyter-book")), "build", str(planted),
             "--path-output", str(planted / "out"), "-W", "--keep-going"]
    run = subprocess.run(build, capture_output=True, text=True, timeout=600)
    out = run.stdout + run.stderr
    assert run.returncode != 0, out
    assert "should raise ZeroDivisionError but ran without an error" in out, out
    assert "should raise ZeroDivisionError but raised KeyError" in out, out
    assert "code cell 1" not in out, "the cell that raises what it expects must pass"
    executed = json.loads((planted / "out" / "_build" / "jupyter_execute" / "notebooks" /
                           "00_planted.ipynb").read_text())
    assert len(rule.notebook_problems(executed)) == 2
