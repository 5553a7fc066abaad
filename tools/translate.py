"""The Chinese edition's catalogues: extract the English text, update the catalogues, report.

Every paragraph, heading, list item, table cell and admonition of every page is a message in a
gettext catalogue, one per page: ``book/locale/zh_CN/LC_MESSAGES/<page>.po`` (``<page>`` as in
``_toc.yml``, e.g. ``notebooks/12_cnn.po``). A message's ``msgid`` is the English source text
(MyST Markdown), its ``msgstr`` the translation, in MyST too. Code, outputs and figure labels are
not messages: they stay English in both editions.

    python tools/translate.py update   # after an English edit: new messages empty, changed ones fuzzy
    python tools/translate.py status   # per page: translated, untranslated, fuzzy
    python tools/translate.py todo notebooks/12_cnn > todo.json   # what a page still needs
    python tools/translate.py fill notebooks/12_cnn done.json     # {English: Chinese} into it
    python tools/translate.py check [PAGE ...]   # the catalogues alone: empty, fuzzy, broken

A PO editor (Poedit, Lokalize, or any text editor) works on the ``.po`` files just as well;
``todo``/``fill`` are for translating a page in one pass.

After ``update``, translate every empty or fuzzy message (and remove its ``#, fuzzy`` line), then
``make book``. ``tests/test_translation.py`` fails while any message is untranslated or fuzzy, or
when a translation lost or changed a piece of inline code, maths, a link target or a role.
"""

from __future__ import annotations

import argparse
import collections
import functools
import re
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import book  # noqa: E402  (tools/book.py: the Jupyter Book command line)

ROOT = book.ROOT
LANGUAGE = "zh_CN"
CATALOGUES = book.LOCALE_DIR / LANGUAGE / "LC_MESSAGES"
EXTRACT_OUT = ROOT / "_build" / "gettext"


def extract(out: Path = EXTRACT_OUT, log=None) -> Path:
    """Write one ``.pot`` template per page (the English messages) below ``out``; return their
    folder. The pages are read, not executed (a message is prose, which no run changes)."""
    config = book.edition_config(out, execute=False)
    command = book.jupyter_book(out, config=config, builder="gettext")
    proc = subprocess.run(command, cwd=ROOT, stdout=log or subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True)
    templates = Path(out) / "_build" / "gettext"
    if proc.returncode != 0 or not templates.is_dir():
        raise RuntimeError(f"extracting the messages failed (exit {proc.returncode}):\n"
                           f"{(proc.stdout or '')[-3000:]}")
    return templates


def read(path: Path):
    """A catalogue (``.po`` or ``.pot``) as babel reads it."""
    from babel.messages.pofile import read_po

    with open(path, "rb") as f:
        return read_po(f)


def pages(templates: Path) -> list[str]:
    """Every page with messages: ``notebooks/12_cnn``, ``book/intro``, ..."""
    return sorted(str(p.relative_to(templates).with_suffix("")) for p in templates.rglob("*.pot"))


def page_status(template: Path, catalogue: Path) -> dict[str, list[str]]:
    """The English messages of one page sorted into translated, untranslated and fuzzy."""
    found = {m.id: m for m in read(catalogue) if m.id} if catalogue.exists() else {}
    status: dict[str, list[str]] = {"translated": [], "untranslated": [], "fuzzy": []}
    for message in read(template):
        if not message.id:
            continue
        entry = found.get(message.id)
        kind = ("untranslated" if entry is None or not entry.string else
                "fuzzy" if entry.fuzzy else "translated")
        status[kind].append(message.id)
    return status


def update(templates: Path) -> None:
    """Bring every catalogue in line with the templates (sphinx-intl): new messages empty,
    changed ones fuzzy with the old translation kept as a starting point."""
    command = [str(Path(sys.executable).with_name("sphinx-intl")), "update", "-p",
               str(templates), "-l", LANGUAGE, "-d", str(book.LOCALE_DIR), "-w", "0"]
    subprocess.run(command, check=True, cwd=ROOT)
    from babel.messages.pofile import write_po

    for path in CATALOGUES.rglob("*.po"):
        catalogue = read(path)
        changed = catalogue.fuzzy  # the header entry is never a translation
        catalogue.fuzzy = False
        for message in catalogue:
            if message.id and not message.string and not words(message.id):
                message.string = message.id  # "0.0054 / 0.0037", "`nn.Conv2d`": the same in Chinese
                changed = True
        if changed:
            with open(path, "wb") as f:
                write_po(f, catalogue, width=0, include_previous=True)


# --------------------------------------------------------------------------- what must survive


@functools.lru_cache(maxsize=1)
def _markdown():
    from markdown_it import MarkdownIt
    from mdit_py_plugins.dollarmath import dollarmath_plugin
    from mdit_py_plugins.myst_role import myst_role_plugin

    return MarkdownIt("commonmark").use(dollarmath_plugin).use(myst_role_plugin)


def literals(text: str) -> collections.Counter:
    """What a translation must carry over unchanged: inline code, maths, roles (``{glue:text}``,
    ``{ref}``), link targets; and the number of bold and italic spans (a ``**`` that no longer
    parses as bold shows on the page as two asterisks)."""
    found: collections.Counter = collections.Counter()

    def walk(tokens) -> None:
        for token in tokens:
            if token.type == "code_inline":
                found[("code", token.content)] += 1
            elif token.type in ("math_inline", "math_inline_double", "math_block"):
                found[("maths", token.content.strip())] += 1
            elif token.type == "myst_role":  # {ref}`a title <label>`: the title is prose
                target = re.fullmatch(r"(?s).*<([^<>]+)>", token.content)
                found[("role", token.meta.get("name"),
                       target.group(1) if target else token.content)] += 1
            elif token.type == "link_open":
                found[("link", token.attrs.get("href"))] += 1
            elif token.type in ("strong_open", "em_open"):
                found[(token.type[:-5],)] += 1
            walk(token.children or [])

    walk(_markdown().parse(text))
    return found


def words(text: str) -> bool:
    """Whether ``text`` has anything to translate: Latin letters outside code, maths and roles."""
    text = re.sub(r"\{[^}]*\}`[^`]*`|`[^`]*`|\$[^$]*\$", "", text)
    return re.search(r"[A-Za-z]{2,}", text) is not None


def literal_problems(english: str, translation: str) -> list[str]:
    """How ``translation`` differs from ``english`` in what must survive (empty: nothing)."""
    source, target = literals(english), literals(translation)
    problems = [f"missing {' '.join(map(str, key))!r}" for key in source - target]
    problems += [f"extra {' '.join(map(str, key))!r}" for key in target - source]
    return problems


def todo(page: str) -> list[dict[str, str]]:
    """The messages of ``page``'s catalogue that are empty or fuzzy: [{"id": ..., "str": ...}]."""
    return [{"id": m.id, "str": m.string} for m in read(CATALOGUES / f"{page}.po")
            if m.id and (not m.string or m.fuzzy)]


def fill(page: str, translations: dict[str, str]) -> list[str]:
    """Write ``translations`` ({English: Chinese}) into ``page``'s catalogue (no longer fuzzy);
    returns the problems: an English text the catalogue lacks, a literal that did not survive."""
    from babel.messages.pofile import write_po

    path = CATALOGUES / f"{page}.po"
    catalogue = read(path)
    problems = []
    for english, chinese in translations.items():
        message = catalogue.get(english)
        if message is None:
            problems.append(f"not a message of {page}: {english[:60]!r}")
            continue
        message.string, message.flags = chinese, message.flags - {"fuzzy"}
        problems += [f"{english[:50]!r}: {p}" for p in literal_problems(english, chinese)]
    with open(path, "wb") as f:
        write_po(f, catalogue, width=0, include_previous=True)
    return problems


def check(page: str) -> list[str]:
    """What is wrong with ``page``'s catalogue on its own: empty, fuzzy or broken messages."""
    problems = []
    for m in read(CATALOGUES / f"{page}.po"):
        if not m.id:
            continue
        if not m.string or m.fuzzy:
            problems.append(f"{'fuzzy' if m.string else 'untranslated'}: {m.id[:60]!r}")
        else:
            problems += [f"{m.id[:50]!r}: {p}" for p in literal_problems(m.id, m.string)]
    return problems


def main(argv: list[str] | None = None) -> int:
    import json

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=["update", "status", "todo", "fill", "check"])
    parser.add_argument("args", nargs="*", help="todo: PAGE; fill: PAGE FILE.json; check: PAGEs")
    args = parser.parse_args(argv)
    known = [str(p.relative_to(CATALOGUES).with_suffix("")) for p in sorted(CATALOGUES.rglob("*.po"))]
    wanted = {"todo": 1, "fill": 2}.get(args.command)
    if wanted is not None and len(args.args) != wanted:
        parser.error(f"{args.command} takes {' '.join(['PAGE', 'FILE.json'][:wanted])}")
    if args.command in ("todo", "fill", "check"):
        pages_named = args.args[:1] if args.command != "check" else args.args
        unknown = [page for page in pages_named if page not in known]
        if unknown:
            parser.error(f"no catalogue for {', '.join(unknown)} in {CATALOGUES.relative_to(ROOT)}; "
                         f"a page is named as in _toc.yml, e.g. notebooks/12_cnn (a new page "
                         f"gets its catalogue from `make translations`)")
    if args.command == "todo":
        print(json.dumps(todo(args.args[0]), ensure_ascii=False, indent=1))
        return 0
    if args.command in ("fill", "check"):
        if args.command == "fill":
            page, file = args.args
            try:
                translations = json.loads(Path(file).read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                translations = exc
            if not isinstance(translations, dict):
                parser.error(f"cannot read {file} as a JSON object ({translations}); it must "
                             'hold {"English message": "中文", ...}')
            problems = fill(page, translations)
        else:
            problems = [f"{page}: {p}" for page in (args.args or known) for p in check(page)]
        print("\n".join(problems) or "no problems")
        return 1 if problems else 0
    templates = extract()
    if args.command == "update":
        update(templates)
    width = max(len(p) for p in pages(templates))
    incomplete = 0
    for page in pages(templates):
        status = page_status(templates / f"{page}.pot", CATALOGUES / f"{page}.po")
        counts = {kind: len(ids) for kind, ids in status.items()}
        incomplete += counts["untranslated"] + counts["fuzzy"]
        print(f"{page:<{width}}  " + "  ".join(f"{n:4d} {kind}" for kind, n in counts.items()))
    print(f"{incomplete} messages to translate" if incomplete else "every message is translated")
    return 0


if __name__ == "__main__":
    sys.exit(main())
