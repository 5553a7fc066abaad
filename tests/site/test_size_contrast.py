"""Size and contrast: a page with its images stays under a size limit, and its text is readable
(WCAG AA contrast) in light and dark mode."""

from __future__ import annotations


import pytest

from sitelib import page_params, CHAPTERS, MAX_PAGE_BYTES, MIN_CONTRAST, PAGES, page_bytes, shot_name

pytestmark = pytest.mark.site


@page_params
def test_light_and_dark_mode_readable(visit, doc):
    v = visit(doc)
    for mode in ("light", "dark"):
        ratios = v.contrast[mode]
        assert "paragraph" in ratios or "heading" in ratios, f"{doc}: no text found in {mode} mode"
        low = {k: r for k, r in ratios.items() if r < MIN_CONTRAST}
        assert not low, f"{doc}: text contrast below {MIN_CONTRAST} in {mode} mode: {low} (see {shot_name(doc, mode)})"


@page_params
def test_page_size(site, doc):
    total, parts = page_bytes(site, doc)
    biggest = sorted(parts, key=lambda p: -p[1])[:3]
    assert total < MAX_PAGE_BYTES, f"{doc}: {total / 1e6:.1f} MB (limit {MAX_PAGE_BYTES / 1e6:.0f} MB); largest: {biggest}"


