"""Small fixes that keep every page whole offline and free of console errors.

Each was found by the browser test (tests/site/):

- Matplotlib's ``to_jshtml()`` animations link Font Awesome 4 from a CDN for their play
  buttons. The theme already serves Font Awesome itself (it draws ``fa fa-play`` too), so the
  link is dropped from the page; the notebook downloads keep it.
- sphinx-thebe (loaded by Jupyter Book even without Thebe buttons) adds its inline
  ``const THEBE_JS_URL = ...`` script twice, and the second copy throws a SyntaxError on every
  page. Identical script entries are kept once.
- sphinx-book-theme offers a chapter as ``.ipynb`` (the executed notebook, copied to
  ``_sources``) only while a Colab/Binder launch button is configured. The book has none
  (README.md says why), so the notebook download is offered here, the theme's way.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.transforms.post_transforms import SphinxPostTransform
from sphinx.util import logging

LOGGER = logging.getLogger(__name__)
MPL_FONT_AWESOME = re.compile(
    r'<link\s+rel="stylesheet"\s+href="https://maxcdn\.bootstrapcdn\.com/font-awesome/[^"]*"\s*/?>\s*')


class DropAnimationCdnLink(SphinxPostTransform):
    """Remove matplotlib's Font Awesome CDN link from HTML cell outputs."""

    default_priority = 900
    formats = ("html",)

    def run(self, **kwargs: Any) -> None:
        for node in list(self.document.findall(nodes.raw)):
            if "html" in node.get("format", "").split() and MPL_FONT_AWESOME.search(node.astext()):
                node.replace(node[0], nodes.Text(MPL_FONT_AWESOME.sub("", node.astext())))


def dedupe_scripts(app: Sphinx, pagename: str, templatename: str, context: dict[str, Any], doctree) -> None:
    """Keep one copy of each identical script entry (same file, same inline body)."""
    scripts = context.get("script_files")
    if not scripts:
        return
    seen, kept = set(), []
    for script in scripts:
        # the same inline script arrives once with filename None and once with "" (sphinx-thebe
        # and sphinx-togglebutton add theirs at two points), so Sphinx's own check misses it
        key = (str(getattr(script, "filename", script) or ""),
               tuple(sorted((k, str(v)) for k, v in getattr(script, "attributes", {}).items())))
        if key not in seen:
            seen.add(key)
            kept.append(script)
    scripts[:] = kept  # in place: handlers after this one (MathJax's) still add to this list


def offer_notebook_download(app: Sphinx, pagename: str, templatename: str, context: dict[str, Any],
                            doctree) -> None:
    """Copy a text notebook's executed ``.ipynb`` to ``_sources`` for the download button."""
    if not context.get("sourcename", "").endswith((".md", ".md.txt")) or context.get("ipynb_source"):
        return
    executed = Path(app.outdir).parent / "jupyter_execute" / f"{pagename}.ipynb"
    if executed.is_file():
        target = Path(app.outdir) / "_sources" / f"{pagename}.ipynb"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(executed, target)
        context["ipynb_source"] = f"{pagename}.ipynb"  # the theme's header buttons read this


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_post_transform(DropAnimationCdnLink)
    app.connect("html-page-context", dedupe_scripts, priority=100)
    app.connect("html-page-context", offer_notebook_download, priority=500)  # before the theme's (501)
    return {"version": "0.1", "parallel_read_safe": True, "parallel_write_safe": True}
