"""A link on every page to the same page in the book's other edition (English, 中文).

The editions are built from the same sources (tools/book.py): the English site at the root of
the html folder, each translation in a folder below it, every page at the same path there
(``notebooks/12_cnn.html`` and ``zh/notebooks/12_cnn.html``). ``language_editions`` in
``_config.yml`` maps each Sphinx language to its folder ("" for the root). The link goes next
to the theme's header buttons, and a ``<link rel="alternate" hreflang>`` into the page's head.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sphinx.application import Sphinx
from sphinx.config import Config

NAMES = {"en": "English", "zh_CN": "中文"}  # each edition's name in its own language
TEMPLATE = "language-switch.html"


def hreflang(language: str) -> str:
    """The HTML language tag of a Sphinx language: ``zh_CN`` -> ``zh-CN``."""
    return language.replace("_", "-")


def links(editions: dict[str, str], language: str, pagename: str) -> list[dict[str, str]]:
    """The other editions' copies of ``pagename``, as links relative to the page."""
    here = editions.get(language, "")
    up = "../" * (pagename.count("/") + (1 if here else 0))  # from the page to the html root
    return [{"href": f"{up}{folder + '/' if folder else ''}{pagename}.html",
             "hreflang": hreflang(other), "name": NAMES.get(other, other)}
            for other, folder in editions.items() if other != language]


def add_template(app: Sphinx, config: Config) -> None:
    """Serve the template and put it after the theme's header buttons."""
    config.templates_path.append(str(Path(__file__).parent / "templates"))
    options = config.html_theme_options
    end = options.get("article_header_end", ["article-header-buttons.html"])
    end = [end] if isinstance(end, str) else list(end)
    if TEMPLATE not in end:
        options["article_header_end"] = [*end, TEMPLATE]


def add_links(app: Sphinx, pagename: str, templatename: str, context: dict[str, Any],
              doctree) -> None:
    editions = app.config.language_editions
    language = app.config.language or "en"
    if language not in editions:
        return
    context["language_links"] = found = links(editions, language, pagename)
    context["metatags"] = context.get("metatags", "") + "".join(
        f'\n<link rel="alternate" hreflang="{link["hreflang"]}" href="{link["href"]}" />'
        for link in found)


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_config_value("language_editions", {"en": ""}, "html", dict)
    app.connect("config-inited", add_template)
    app.connect("html-page-context", add_links)
    return {"version": "0.1", "parallel_read_safe": True, "parallel_write_safe": True}
