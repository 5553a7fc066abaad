"""The Chinese edition is complete, current, and keeps what a translation must not change.

The English pages are the source. ``tools/translate.py`` extracts their messages (paragraphs,
headings, list items, table cells) the way the build sees them; every one must have a Chinese
translation in ``book/locale/zh_CN/LC_MESSAGES/<page>.po`` that is not fuzzy. An English edit
therefore fails this test until the changed message is translated:

    .venv/bin/python tools/translate.py update   # new messages empty, changed ones fuzzy
    # translate them (a PO editor, or tools/translate.py todo/fill), then make book

Every translation must also keep its English message's inline code, maths, roles and link
targets, and its bold and italic spans (a broken ``**`` shows on the page as asterisks).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import book  # noqa: E402
import translate  # noqa: E402

PAGES = book.toc_files()
HOW = ("run `.venv/bin/python tools/translate.py update`, translate the empty and fuzzy "
       "messages of {po} (tools/translate.py todo/fill, or a PO editor), and build again")


@pytest.fixture(scope="module")
def templates(tmp_path_factory) -> Path:
    """The English messages of every page, extracted now from the sources (about 25 s)."""
    return translate.extract(tmp_path_factory.mktemp("gettext"))


def test_every_page_has_messages(templates):
    missing = set(PAGES) - set(translate.pages(templates))
    assert not missing, f"pages of _toc.yml with no messages extracted: {sorted(missing)}"


@pytest.mark.parametrize("page", PAGES)
def test_page_is_translated(templates, page):
    po = translate.CATALOGUES / f"{page}.po"
    status = translate.page_status(templates / f"{page}.pot", po)
    lines = [f"  {kind}: {text[:90]!r}" for kind in ("untranslated", "fuzzy")
             for text in status[kind][:5]]
    count = len(status["untranslated"]) + len(status["fuzzy"])
    assert not count, (f"{page}: {count} of {count + len(status['translated'])} messages not "
                       f"translated:\n" + "\n".join(lines) + "\nFix: "
                       + HOW.format(po=po.relative_to(ROOT)))


CATALOGUES = sorted(translate.CATALOGUES.rglob("*.po"))


@pytest.mark.parametrize("po", CATALOGUES,
                         ids=lambda p: str(p.relative_to(translate.CATALOGUES).with_suffix("")))
def test_translations_keep_code_maths_and_links(po):
    problems = [f"  {m.id[:70]!r}: {p}" for m in translate.read(po) if m.id and m.string
                for p in translate.literal_problems(m.id, m.string)]
    assert not problems, f"{po.name}: a translation changed what must stay as it is:\n" + \
        "\n".join(problems)


def test_extension_words_are_translated():
    """Every word the book's extensions put on a page (``_("...")``) is in extensions.po."""
    used = set()
    for source in (ROOT / "book" / "_ext").glob("*.py"):
        used |= set(re.findall(r'\b_\("((?:[^"\\]|\\.)*)"\)', source.read_text(encoding="utf-8")))
    catalogue = {m.id: m.string for m in translate.read(translate.CATALOGUES / "extensions.po")
                 if m.id}
    missing = sorted(w for w in used if not catalogue.get(w))
    assert used and not missing, f"extensions.po lacks a translation of {missing}"


# --------------------------------------------------------------------------- the checks can fail


def test_literal_problems_catch_what_breaks():
    english = "Call `model(x)` on $x \\in R^n$, see {ref}`the CNN <ch-cnn>` and [docs](https://x.org)."
    good = "对 $x \\in R^n$ 调用 `model(x)`，见{ref}`卷积一章 <ch-cnn>`和[文档](https://x.org)。"
    assert translate.literal_problems(english, good) == []
    assert translate.literal_problems(english, good.replace("`model(x)`", "model(x)"))
    assert translate.literal_problems(english, good.replace("R^n", "R^m"))
    assert translate.literal_problems(english, good.replace("<ch-cnn>", "<ch-lstm>"))
    assert translate.literal_problems(english, good.replace("x.org", "y.org"))
    # CommonMark: `**` after a closing quote and before a CJK character does not close the bold
    assert translate.literal_problems("**bold** word", "**“粗体”**的词") == ["missing 'strong'"]
    assert translate.literal_problems("**bold** word", "“**粗体**”的词") == []


def _write(path: Path, messages: dict[str, tuple[str, bool]]) -> Path:
    catalogue = Catalog(locale="zh_CN")
    for english, (chinese, fuzzy) in messages.items():
        catalogue.add(english, chinese, flags={"fuzzy"} if fuzzy else ())
    with open(path, "wb") as f:
        write_po(f, catalogue)
    return path


def test_page_status_finds_untranslated_and_fuzzy(tmp_path):
    pot = _write(tmp_path / "page.pot", {t: ("", False) for t in ("one", "two", "three", "four")})
    po = _write(tmp_path / "page.po", {"one": ("一", False), "two": ("", False),
                                       "three": ("三", True)})
    assert translate.page_status(pot, po) == {
        "translated": ["one"], "untranslated": ["two", "four"], "fuzzy": ["three"]}
    assert translate.page_status(pot, tmp_path / "missing.po")["untranslated"] == [
        "one", "two", "three", "four"]
    with open(po, "rb") as f:
        assert [m.id for m in read_po(f) if m.fuzzy and m.id] == ["three"]


@pytest.mark.parametrize("argv, says", [
    (["todo", "notebooks/99_nope"], "no catalogue for notebooks/99_nope"),
    (["todo"], "todo takes PAGE"),
    (["fill", "notebooks/12_cnn", "/nonexistent/done.json"], "No such file"),
    (["fill", "notebooks/12_cnn", "LIST"], "JSON object"),
])
def test_translate_tool_refuses_bad_input_in_one_line(argv, says, tmp_path, capsys):
    if "LIST" in argv:
        (tmp_path / "list.json").write_text("[1, 2]")
        argv = [a if a != "LIST" else str(tmp_path / "list.json") for a in argv]
    with pytest.raises(SystemExit) as exit_:
        translate.main(argv)
    assert exit_.value.code == 2
    assert says in capsys.readouterr().err
