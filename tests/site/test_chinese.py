"""The Chinese edition (``zh/`` below the English site): every page loads, is in Chinese, shows
what the English page shows (figures, maths, animations, exercises), and links to the same
page in the other edition, both ways.

The translation itself is checked message by message in tests/test_translation.py; this file
checks what the reader gets. Screenshots (BOOK_SCREENSHOTS=1) need a CJK font (Debian's
``fonts-noto-cjk``, installed by ``make``'s set-up), else the characters show as boxes.
"""

from __future__ import annotations

import re
import urllib.parse

import pytest

from sitelib import BOOK_TOOL, PAGES, page_params, raw_markdown_tables

pytestmark = pytest.mark.site

ZH = BOOK_TOOL.TRANSLATIONS["zh_CN"]  # its folder in the site ("zh"; _config.yml)
# six or more English words in a row in the Chinese prose: a sentence left untranslated (or
# English text that a cell glued into a sentence); an English quotation in Chinese quotes
# (the course's own comment, an error message) is meant
ENGLISH_RUN = re.compile(r"\b[A-Za-z]{2,}(?:[ ,;:']+[A-Za-z]{2,}){5,}\b")
QUOTED = re.compile(r"“[^”]*”|「[^」]*」")
# pages whose prose quotes English on purpose: the references cite English titles
QUOTES_ENGLISH = {"book/references"}


def zh(doc: str) -> str:
    return f"{ZH}/{doc}"


def test_chinese_site_built(site):
    missing = [doc for doc in PAGES if not (site / ZH / f"{doc}.html").is_file()]
    assert not missing, f"the Chinese edition lacks {missing} (tools/book.py builds it)"


@page_params
def test_chinese_page_loads_offline_without_errors(visit, doc):
    v = visit(zh(doc))
    assert not v.external_requests, f"{zh(doc)} requests other hosts: {v.external_requests}"
    assert not v.failed_requests, f"{zh(doc)}: local requests failed: {v.failed_requests}"
    assert not v.console_errors, f"{zh(doc)}: console errors: {v.console_errors}"
    assert not v.facts["errorOutputs"], f"{zh(doc)}: error outputs: {v.facts['errorOutputs']}"


@page_params
def test_chinese_page_is_in_chinese(visit, site, doc):
    f = visit(zh(doc)).facts
    assert f["lang"] == "zh-CN", f"{zh(doc)}: <html lang={f['lang']!r}>, expected zh-CN"
    assert f["cjkChars"] >= 20, f"{zh(doc)}: only {f['cjkChars']} Chinese characters on the page"
    english = [] if doc in QUOTES_ENGLISH else ENGLISH_RUN.findall(QUOTED.sub("", f["prose"]))
    assert not english, f"{zh(doc)}: English left in the Chinese prose: {english[:5]}"
    stars = [line for line in f["prose"].splitlines() if "**" in line]
    assert not stars, f"{zh(doc)}: bold markup shown as asterisks: {stars[:3]}"
    raw = raw_markdown_tables((site / f"{zh(doc)}.html").read_text(encoding="utf-8"))
    assert not raw, f"{zh(doc)}: Markdown tables shown as text: {raw}"


@page_params
def test_chinese_page_shows_what_the_english_one_does(visit, doc):
    en, cn = visit(doc), visit(zh(doc))
    for name, count in [
            ("images", lambda v: sum(i["inArticle"] for i in v.facts["images"])),
            ("broken images", lambda v: sum(i["natural"] == 0 for i in v.facts["images"])),
            ("headings", lambda v: len(v.facts["headings"])),
            ("formulas", lambda v: v.facts["mathSource"]),
            ("rendered formulas", lambda v: v.facts["mathRendered"]),
            ("exercises", lambda v: v.facts["exercises"]),
            ("folded solutions", lambda v: v.facts["solutions"]),
            ("animations", lambda v: len(v.animations)),
            ("playing animations", lambda v: sum(bool(a["advanced"]) for a in v.animations))]:
        assert count(cn) == count(en), (
            f"{zh(doc)}: {count(cn)} {name}, the English page has {count(en)}")


@page_params
def test_language_switch_leads_to_the_same_page_both_ways(visit, server, doc):
    for source, target, lang in [(doc, zh(doc), "zh-CN"), (zh(doc), doc, "en")]:
        links = visit(source).facts["languageLinks"]
        assert len(links) == 1 and links[0]["visible"], f"{source}: language links {links}"
        expected = urllib.parse.urljoin(server, f"{target}.html")
        assert (links[0]["href"], links[0]["lang"]) == (expected, lang), (
            f"{source}: the language switch goes to {links[0]['href']} ({links[0]['lang']}), "
            f"expected {expected}")


def test_english_runs_are_caught():
    assert ENGLISH_RUN.findall("它排在 Adam, the newest of the five, came second 之后")
    assert ENGLISH_RUN.findall("Learning to act and to create more")
    assert not ENGLISH_RUN.findall("使用 nn.Linear 和 Fashion-MNIST 数据集训练 10 轮")
    assert not ENGLISH_RUN.findall("dataloader-per-sample-seconds-per-epoch = 0.5")
    quoted = "注释写着“this is where you can find torch is dynamic”。"
    assert ENGLISH_RUN.findall(quoted) and not ENGLISH_RUN.findall(QUOTED.sub("", quoted))
