"""The printed report of every sample town (Quarto → Typst → PDF, built by ``tsunagari build``):
an A4 document whose text holds the headline numbers of the town's results.json, and the same
protection as the page (the audit's secrets are not in it)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from helpers.build.pipeline import Layout
from helpers.stats import fmt_percent
from helpers.towns import list_towns

pytestmark = pytest.mark.slow
A4 = (595, 842)  # points


def _text(pdf: Path) -> tuple[str, list[tuple[float, float]]]:
    from pypdf import PdfReader

    reader = PdfReader(pdf)
    sizes = [(float(p.mediabox.width), float(p.mediabox.height)) for p in reader.pages]
    return "".join(p.extract_text() for p in reader.pages), sizes


@pytest.mark.parametrize("town", list_towns())
def test_pdf_holds_the_headline_numbers(site_build: Layout, town: str) -> None:
    pdf = site_build.site / "pdf" / f"{town}.pdf"
    assert pdf.exists(), f"no printed report for {town}"
    text, sizes = _text(pdf)
    assert all(round(w) == A4[0] and round(h) == A4[1] for w, h in sizes)
    flat = re.sub(r"\s+", "", text)  # the PDF's text layer spaces Latin and Japanese apart
    results = json.loads(site_build.results(town).read_text("utf-8"))
    lonely, often = results["headline"]["lonely"], results["headline"]["often_always"]
    wanted = [fmt_percent(lonely["p"]), fmt_percent(often["p"]), f"{results['n']:,}人",
              f"{lonely['lo']:.1f}～{lonely['hi']:.1f}%"]
    weighted = (results.get("headline_weighted") or {}).get("lonely") or {}
    if weighted.get("p") is not None:
        wanted.append(fmt_percent(weighted["p"]))
    for number in wanted:
        assert number in flat, (town, number)
    assert "主な結果" in flat and "この報告について" in flat
    assert results["name_ja"] in flat
    if results["synthetic"]:
        assert "合成データ" in flat
