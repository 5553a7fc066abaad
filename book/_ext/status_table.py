"""The status page's table: every chapter, when it last ran, and the numbers it checked.

``{chapter-status}`` puts a placeholder in the page; once every notebook has been executed (or
read from the execution cache) a post-transform replaces it with one row per chapter, read
from what the build itself produced:

- run time, date and success from MyST-NB's execution data (the same data as
  ``{nb-exec-table}``);
- the checked numbers from the chapter's glue file (``jupyter_execute/<doc>.glue.json``),
  where ``helpers.record(key, value)`` in the chapter's assert cell put them.

Nothing is typed by hand, so a chapter added to ``_toc.yml`` shows up on its own. The page is
rewritten whenever a notebook is re-executed (MyST-NB's exec-table mechanism).
"""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from docutils import nodes
from sphinx.addnodes import pending_xref
from sphinx.application import Sphinx
from sphinx.locale import get_translation
from sphinx.transforms.post_transforms import SphinxPostTransform
from sphinx.util.docutils import SphinxDirective

from myst_nb.ext.execution_tables import METADATA_KEY
from myst_nb.sphinx_ import NbMetadataCollector


def _load_settings():
    """``helpers/settings.py`` (standard library only), without importing ``helpers`` and PyTorch."""
    name = "helpers_settings_for_sphinx"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(
            name, Path(__file__).resolve().parents[2] / "helpers" / "settings.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # before running it: dataclasses look their module up
        spec.loader.exec_module(module)
    return sys.modules[name]


settings = _load_settings()
CHAPTER_PREFIX = "notebooks/"  # chapters are the notebooks; book/ holds the other pages
NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")


# The table's own words are translated like the theme's, through the catalogue that
# language_switch.py loads: book/locale/<language>/LC_MESSAGES/extensions.po
_ = get_translation("extensions")


class ChapterStatusNode(nodes.General, nodes.Element):
    """Placeholder for the chapter status table."""


class ChapterStatus(SphinxDirective):
    """``{chapter-status}``: a table of every chapter's last run and checked numbers."""

    def run(self) -> list[nodes.Node]:
        # Marks the page like {nb-exec-table} does, so it is rebuilt after any re-execution.
        NbMetadataCollector.set_doc_data(self.env, self.env.docname, METADATA_KEY, True)
        budget = _("quick budget (BOOK_QUICK=1)") if settings.quick() else _("full budget")
        # translated here (below), not by the page's catalogue: the budget differs per build
        para = nodes.paragraph(translatable=False)
        para += nodes.Text(str(_("This build ran the chapters with the ")))
        para += nodes.strong(text=str(budget))
        para += nodes.Text(str(_(".")))
        return [para, ChapterStatusNode()]


def read_glue(folder: str, docname: str) -> dict[str, Any]:
    """The glued outputs of one executed notebook ({} when it has none)."""
    path = Path(folder).joinpath(*docname.split("/")).with_name(docname.split("/")[-1] + ".glue.json")
    if not path.exists():
        return {}
    with path.open(encoding="utf-8") as f:
        return json.load(f)


def format_number(text: str) -> str:
    """A glued ``text/plain`` value, with 4 significant digits when it is a number.

    Accepts plain reprs (``0.9833``) and wrapped ones (``np.float64(0.98)``, ``tensor(0.98)``).
    """
    text = text.strip()
    match = NUMBER.fullmatch(text) or re.fullmatch(r"(?:np\.\w+|tensor|array)\((.+)\)", text)
    if match is None or not NUMBER.fullmatch(match.group(match.lastindex or 0).strip()):
        return text
    value = float(match.group(match.lastindex or 0))
    return str(int(value)) if value.is_integer() and abs(value) < 1e15 else f"{value:.4g}"


def checked_numbers(glue: dict[str, Any]) -> list[tuple[str, str]]:
    """(key, value) for each glued plain-text value: the numbers ``helpers.record`` publishes."""
    rows = []
    for key, output in glue.items():
        data = output.get("data", {})
        if set(data) == {"text/plain"}:
            rows.append((key, format_number(data["text/plain"])))
    return rows


def _entry(*children: nodes.Node) -> nodes.entry:
    para = nodes.paragraph()
    para.extend(children)
    return nodes.entry("", para)


def _text(text: str) -> nodes.entry:
    return _entry(nodes.Text(text))


class ChapterStatusTransform(SphinxPostTransform):
    """Replace the placeholder with the table (before references are resolved)."""

    default_priority = 8

    def run(self, **kwargs: Any) -> None:
        for node in list(self.document.findall(ChapterStatusNode)):
            node.replace_self(self.make_table())

    def chapters(self) -> list[str]:
        return sorted(d for d in self.env.found_docs if d.startswith(CHAPTER_PREFIX))

    def make_table(self) -> nodes.table:
        headers = [_("Chapter"), _("Last run (UTC)"), _("Run time (s)"), _("Status"),
                   _("Checked numbers")]
        table = nodes.table(classes=["colwidths-auto", "chapter-status"])
        tgroup = nodes.tgroup(cols=len(headers))
        table += tgroup
        for _header in headers:
            tgroup += nodes.colspec(colwidth=1)
        thead, tbody = nodes.thead(), nodes.tbody()
        tgroup += thead
        tgroup += tbody
        head = nodes.row()
        head.extend(_text(str(h)) for h in headers)
        thead += head

        doc_data = NbMetadataCollector.get_doc_data(self.env)
        glue_folder = self.env.mystnb_config.output_folder  # type: ignore[attr-defined]
        for docname in self.chapters():
            row = nodes.row(classes=["chapter-status-row"], ids=[f"status-{Path(docname).name}"])
            link = pending_xref(refdoc=self.env.docname, reftype="doc", refdomain="std",
                                refexplicit=True, refwarn=True, classes=["xref", "doc"],
                                reftarget="/" + docname)
            title = self.env.titles.get(docname)
            link += nodes.inline(text=title.astext() if title is not None else docname)
            row += _entry(link)

            data = doc_data.get(docname, {}).get("exec_data")
            if data:
                mtime = data.get("mtime")
                when = datetime.fromtimestamp(mtime, timezone.utc).strftime("%Y-%m-%d %H:%M") if mtime else "-"
                runtime = data.get("runtime")
                row += _text(when)
                row += _text("-" if runtime is None else f"{runtime:.1f}")
                row += _text(str(_("passed") if data.get("succeeded") else _("FAILED")))
            else:
                row += [_text(str(_("not executed"))), _text("-"), _text("-")]

            numbers = checked_numbers(read_glue(glue_folder, docname))
            cell = nodes.paragraph()
            for i, (key, value) in enumerate(numbers):
                if i:
                    cell += nodes.Text("; ")
                cell += nodes.literal(text=key)
                cell += nodes.Text(" = ")
                cell += nodes.strong(text=value, classes=["checked-number"])
            if not numbers:
                cell += nodes.Text(str(_("none recorded")))
            row += nodes.entry("", cell)
            tbody += row
        return table


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_node(ChapterStatusNode)
    app.add_directive("chapter-status", ChapterStatus)
    app.add_post_transform(ChapterStatusTransform)
    return {"version": "0.1", "parallel_read_safe": True, "parallel_write_safe": True}
