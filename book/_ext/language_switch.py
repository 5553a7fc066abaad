"""A link on every page to the same page in the book's other edition (English, 中文).

The editions are built from the same sources (tools/book.py): the English site at the root of
the html folder, each translation in a folder below it, every page at the same path there
(``notebooks/12_cnn.html`` and ``zh/notebooks/12_cnn.html``). ``language_editions`` in
``_config.yml`` maps each Sphinx language to its folder ("" for the root). The link goes next
to the theme's header buttons, and a ``<link rel="alternate" hreflang>`` into the page's head.

It also puts the theme's own words into the page's language where the theme leaves them
English: it loads ``extensions.po`` (the book's extensions' words, e.g. the status table's)
and ``booktheme.po`` (header-button words sphinx-book-theme's own Chinese catalogue lacks) from
``locale_dirs``, translates the search box's placeholder, and serves two of the theme's
templates whose tooltips the theme does not translate (``templates/``). Words of the 'sphinx'
catalogue (the pydata theme's, Sphinx's) are in ``sphinx.po`` there, which Sphinx loads itself.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sphinx.application import Sphinx
from sphinx.config import Config
from sphinx.locale import get_translation

NAMES = {"en": "English", "zh_CN": "中文"}  # each edition's name in its own language
TEMPLATE = "language-switch.html"
CATALOGUES = ("extensions", "booktheme")  # compiled and loaded here (see the module's text)
_ = get_translation("extensions")


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


def load_catalogues(app: Sphinx, config: Config) -> None:
    """Compile and register ``CATALOGUES`` for the build's language (Sphinx compiles only the
    pages' catalogues itself, later in the build). The theme's ``booktheme`` catalogue came
    first, so ours fills only the words it lacks."""
    if not config.language or config.language == "en":
        return
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    for folder in config.locale_dirs:
        base = Path(app.srcdir) / folder
        for name in CATALOGUES:
            po = base / config.language / "LC_MESSAGES" / f"{name}.po"
            if po.exists():
                with po.open("rb") as source, po.with_suffix(".mo").open("wb") as target:
                    write_mo(target, read_po(source))
                app.add_message_catalog(name, str(base))
    config.html_theme_options["search_bar_text"] = str(_("Search this book..."))


def add_template(app: Sphinx, config: Config) -> None:
    """Serve the templates and put the switch after the theme's header buttons."""
    config.templates_path.insert(0, str(Path(__file__).parent / "templates"))
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


def translate_captions(app: Sphinx, doctree) -> None:
    """Translate the captions of the book's parts (``_toc.yml``'s ``caption``s). They are
    messages of the root page's catalogue, but sphinx-external-toc adds its toctrees after
    Sphinx's translation step, so they would stay English in the sidebar and the contents."""
    if not app.config.language or app.config.language == "en":
        return
    from sphinx import addnodes, locale
    from sphinx.util.i18n import docname_to_domain

    toctrees = [n for n in doctree.findall(addnodes.toctree) if n.get("caption")]
    if not toctrees:
        return
    dirs = [str(Path(app.srcdir) / d) for d in app.config.locale_dirs]
    domain = docname_to_domain(app.env.docname, app.config.gettext_compact)
    catalogue, _found = locale.init(dirs, app.config.language, domain)
    for node in toctrees:
        node["caption"] = catalogue.gettext(node["caption"])


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_config_value("language_editions", {"en": ""}, "html", dict)
    app.connect("config-inited", add_template)
    app.connect("config-inited", load_catalogues)
    app.connect("html-page-context", add_links)
    app.connect("doctree-read", translate_captions)
    return {"version": "0.1", "parallel_read_safe": True, "parallel_write_safe": True}
