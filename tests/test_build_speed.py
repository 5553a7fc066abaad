"""The pieces that let each chapter run once per command, two at a time (root conftest.py,
tools/book.py): outputs recorded as MyST-NB keeps them, the cache key, the xdist grouping."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# the root conftest.py, by path: tests/site/conftest.py would answer to `import conftest`
_root = importlib.util.spec_from_file_location("root_conftest_under_test", ROOT / "conftest.py")
conftest = importlib.util.module_from_spec(_root)
_root.loader.exec_module(conftest)
_spec = importlib.util.spec_from_file_location("book_tool_under_test", ROOT / "tools" / "book.py")
book = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(book)


def msg(kind: str, content: dict, parent: str = "run") -> dict:
    return {"msg_type": kind, "header": {"msg_type": kind}, "parent_header": {"msg_id": parent},
            "content": content, "metadata": {}}


def test_outputs_follow_display_updates_and_clears():
    rec = conftest._Outputs()
    rec.add(msg("execute_input", {"execution_count": 1, "code": ""}))
    rec.add(msg("stream", {"name": "stdout", "text": "stale\n"}, parent="other"))  # not ours
    rec.add(msg("display_data", {"data": {"text/plain": "bar 0%"}, "metadata": {},
                                 "transient": {"display_id": "bar"}}))
    rec.add(msg("stream", {"name": "stdout", "text": "between\n"}))
    rec.add(msg("update_display_data", {"data": {"text/plain": "bar 100%"}, "metadata": {},
                                        "transient": {"display_id": "bar"}}))
    assert [o.get("data", {}).get("text/plain", o.get("text")) for o in rec.outputs] == [
        "bar 100%", "between\n"]  # in order, the bar in its final state
    rec.add(msg("clear_output", {"wait": True}))
    assert len(rec.outputs) == 2  # wait=True clears only when the next output comes
    rec.add(msg("error", {"ename": "RuntimeError", "evalue": "x", "traceback": []}))
    assert [o.output_type for o in rec.outputs] == ["error"]


def test_a_stored_chapter_matches_the_build_key_until_its_code_changes(tmp_path):
    path = ROOT / "notebooks" / "01_tensors.md"
    executed = book.read_chapter(path)
    for n, cell in enumerate(c for c in executed.cells if c.cell_type == "code"):
        cell.execution_count = n + 1
    cache = tmp_path / ".jupyter_cache"
    book.store(cache, path, executed, 1.5)
    assert book.cached(cache, book.read_chapter(path))
    assert book.last_seconds(cache) == {str(path): 1.5}
    edited = book.read_chapter(path)
    next(c for c in edited.cells if c.cell_type == "code").source += "\n1"
    assert not book.cached(cache, edited)


def test_a_chapter_stays_in_one_worker_and_a_page_in_one_site_group():
    assert conftest.scope("notebooks/01_tensors.md::Cell 3") == "notebooks/01_tensors.md"
    assert conftest.scope("tests/test_site.py::test_page[notebooks/01_tensors]@site1") == "site1"
    assert conftest.scope("tests/test_x.py::test_y[a@b]") == "tests/test_x.py"
    # without xdist's suffix (pytest 9): from the page, both editions' tests of a page together
    pages = book.toc_files()
    groups = {conftest.scope(f"tests/site/test_{kind}.py::test_x[{doc}]")
              for doc in pages[:2] for kind in ("loading", "chinese")}
    assert groups == {"site0", "site1"}
    assert (conftest.scope(f"tests/site/test_loading.py::test_x[{pages[1]}]")
            == conftest.scope(f"tests/site/test_chinese.py::test_y[{pages[1]}]"))
    assert conftest.scope("tests/site/test_loading.py::test_search") == "site0"


def test_the_command_line_carries_the_flags():
    cmd = book.jupyter_book("out")
    assert cmd[1:3] == ["build", str(ROOT)] and cmd[-2:] == ["-W", "--keep-going"]
    assert book.threads_per_job(64) == 1


def test_jsonschema_builds_no_iri_parsers_at_import():
    """rfc3987-syntax makes every ``import nbformat`` (and so every chapter's first glue)
    2.8 s slower; make's set-up uninstalls it (see the Makefile)."""
    assert importlib.util.find_spec("rfc3987_syntax") is None, (
        "rfc3987-syntax is installed, which costs 2.8 s in every process that imports "
        "jsonschema: run `.venv/bin/python -m pip uninstall -y rfc3987-syntax` (make's set-up "
        "does this after installing requirements.txt)")
