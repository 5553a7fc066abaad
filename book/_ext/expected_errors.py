"""Cells that must fail: the build checks that each one raised the exception it names.

A chapter marks a cell that the text says fails with two MyST options::

    ```{code-cell} ipython3
    ---
    tags: [raises-exception]
    expect: RuntimeError
    ---
    tensor.dot(tensor)
    ```

``raises-exception`` lets the notebook run on past the error (MyST-NB, nbclient and nbval all
honour it), but on its own it accepts any exception, or none: a cell that stopped failing, or
that fails for another reason, would still build, under prose that describes an error the page
no longer shows. So after MyST-NB has executed a notebook (or read it from the execution cache)
and written it to ``jupyter_execute/<doc>.ipynb``, this extension reads every such cell's
outputs and logs a warning, which ``-W`` makes a build failure, when

- the cell raised nothing, or raised an exception of another class than ``expect``;
- the cell has only one of the two options.

``raises_problem`` is shared with the notebook tests (the root ``conftest.py``), so nbval and the
site build apply the same rule.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

RAISES_TAG = "raises-exception"
EXPECT_KEY = "expect"


def raises_problem(metadata: dict, errors: list[dict]) -> str | None:
    """Why a cell's errors break its raises-exception contract, or None when they keep it.

    ``metadata`` is the cell's metadata; ``errors`` are its error outputs (``ename``, ``evalue``).
    """
    tagged = RAISES_TAG in (metadata.get("tags") or [])
    expect = metadata.get(EXPECT_KEY)
    expect = str(expect).strip() if expect is not None else None
    if not tagged and expect is None:
        return None  # an ordinary cell: any error fails the execution itself
    if not tagged:
        return f"the cell expects {expect} but is not tagged {RAISES_TAG}"
    if not expect:
        return f"the cell is tagged {RAISES_TAG} but names no `{EXPECT_KEY}: ExceptionName`"
    if not errors:
        return f"the cell should raise {expect} but ran without an error"
    ename = errors[0].get("ename", "")
    if ename != expect:
        evalue = str(errors[0].get("evalue", "")).splitlines()[:1]
        return f"the cell should raise {expect} but raised {ename}: {' '.join(evalue)}"
    return None


def notebook_problems(notebook: dict) -> list[str]:
    """One message per code cell of an executed notebook (nbformat JSON) that breaks the rule."""
    problems, index = [], 0
    for cell in notebook.get("cells", []):
        if cell.get("cell_type") != "code":
            continue
        errors = [out for out in cell.get("outputs", []) if out.get("output_type") == "error"]
        problem = raises_problem(cell.get("metadata", {}), errors)
        if problem:
            first = next((line for line in _source(cell).splitlines() if line.strip()), "")
            problems.append(f"code cell {index} ({first.strip()[:60]!r}): {problem}")
        index += 1
    return problems


def _source(cell: dict) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def check_executed_notebook(app, doctree) -> None:
    """``doctree-read``: check the notebook MyST-NB just executed and wrote for this page."""
    import json

    from sphinx.util import logging

    env = app.env
    config = getattr(env, "mystnb_config", None)
    if config is None or not config.output_folder:
        return
    docname = env.docname
    parts = docname.split("/")
    path = Path(config.output_folder).joinpath(*parts[:-1], parts[-1] + ".ipynb")
    source = Path(str(env.doc2path(docname)))
    if not path.exists() or not source.exists():
        return
    try:
        notebook = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return
    if not notebook.get("cells") or path.stat().st_mtime < source.stat().st_mtime:
        return  # not (yet) a notebook written from this source
    logger = logging.getLogger(__name__)
    for problem in notebook_problems(notebook):
        logger.warning(f"{problem} [expected-error]", location=docname,
                       type="expected_errors", subtype="raises")


def setup(app) -> dict[str, Any]:
    app.connect("doctree-read", check_executed_notebook)
    return {"version": "0.1", "parallel_read_safe": True, "parallel_write_safe": True}
