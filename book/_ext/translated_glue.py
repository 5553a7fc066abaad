"""Glued numbers in translated paragraphs (the Chinese edition).

Sphinx translates a paragraph by parsing its translation (from the page's ``.po``) as a small
document of its own. MyST-NB resolves a ``{glue:text}`key``` role from the notebook that is
being parsed, and by then that parse is over, so the role warns "No key ... found in glue data
for this document" and the number is missing from the Chinese page. MyST-NB can also glue
from a document by name (``{glue:text}`path::key```), resolved after reading from the glue
data every executed page writes. In a translated paragraph, this extension turns the plain
form into that one, naming the page itself: the same number, from the same run.
Nothing changes for an English build (no paragraph is re-parsed there).
"""

from __future__ import annotations

from typing import Any

from sphinx.application import Sphinx
from sphinx.config import Config

KEY = "nb_renderer"  # MyST-NB's notebook renderer, on a document while its notebook is parsed


def named(text: str, page: str, formatted: bool) -> str:
    """``key[:format]`` as ``/page::key:format`` (a role that ``formatted`` its text splits a
    format off at the last colon, so a bare key gets the default one, ``s``)."""
    if formatted and ":" not in text:
        text += ":s"
    return f"/{page}::{text}"


def by_name(run, formatted: bool):
    """A glue role's ``run`` that, outside the notebook's own parse, names the page."""

    def patched(self):
        if KEY not in self.document and "::" not in self.text:
            env = self.document.settings.env
            self.text = named(self.text, str(env.doc2path(env.docname, base=False)), formatted)
        return run(self)

    patched.by_name = True
    return patched


def patch(app: Sphinx, config: Config) -> None:
    if not config.language or config.language == "en":
        return
    from myst_nb.ext.glue.roles import PasteRoleAny, PasteTextRole

    # the roles that accept ``path::key``; {glue:text} also takes a format after the key
    for role, formatted in ((PasteRoleAny, False), (PasteTextRole, True)):
        if not getattr(role.run, "by_name", False):
            role.run = by_name(role.run, formatted)


def adopt(app: Sphinx, doctree) -> None:
    """Nodes of a translated paragraph still name, as their document, the small document
    their translation was parsed in; its settings hold the whole build environment, which
    was pickled with every page (a page of 3 MB became 37 MB, and each later page larger).
    They belong to the page: docutils then finds the page's document through their parent."""
    if not app.config.language or app.config.language == "en":
        return
    for node in doctree.findall():
        if getattr(node, "_document", None) not in (None, doctree):
            node._document = None


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("config-inited", patch)
    app.connect("doctree-read", adopt)
    return {"version": "0.1", "parallel_read_safe": True, "parallel_write_safe": True}
