"""Benchmark of the reader's page and the printed report, ratios measured in one run.

1. page: ``analyse_town``, then the reader's page of its report (``Document``: sentences, the
   wide and narrow SVG of every chart, the HTML of every figure and table, the printed source)
   with its charts drawn, then read back from a filled chart cache (a rebuild whose chart data
   did not change), best of 3 each per sample town; the ratios are the page's cost over the
   analysis and the cached page's over the drawn one;
2. PDF: the staged website of the last build (build/site/, from ``tsunagari build``) rendered by
   Quarto with and without the towns' printed reports; the difference per town is what a PDF
   adds to the build.

Usage: python bench/bench_print.py (after ``tsunagari build``). Outputs go to bench/out/.
"""

from __future__ import annotations

import shutil
import tempfile
import time
import timeit
from pathlib import Path

import yaml

from helpers import paths
from helpers.analysis import analyse_town
from helpers.analysis.document import Document
from helpers.build import quarto
from helpers.dataset import load_survey
from helpers.figures import set_theme
from helpers.towns import list_towns, load_town


def best(f, repeat: int = 3) -> float:
    """The fastest of ``repeat`` runs (seconds): the least disturbed by other work."""
    return min(timeit.repeat(f, number=1, repeat=repeat))


def page(town: str, out: Path) -> tuple[float, float, float]:
    """Seconds: the analysis, its page with the charts drawn, and with the charts read back."""
    df, params = load_survey(town), load_town(town)
    report = analyse_town(df, params)
    cache = out / "svg-cache" / town
    shutil.rmtree(cache, ignore_errors=True)

    def with_page(svg_cache: Path | None = None) -> None:
        doc = Document(report, svg_cache=svg_cache)
        for part in doc.parts:
            doc.details_html(part)
            for number, chart in part.figures:
                chart.html(number)
        doc.print_source(out / town)

    analysis, drawn = best(lambda: analyse_town(df, params)), best(with_page)
    with_page(cache)
    return analysis, drawn, best(lambda: with_page(cache))


def render(stage: Path, printed: bool) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "site"
        shutil.copytree(stage, copy)
        config = yaml.safe_load((copy / "_quarto.yml").read_text(encoding="utf-8"))
        config["project"]["output-dir"] = str(Path(tmp) / "out")
        if not printed:
            config["project"]["render"] = [p for p in config["project"]["render"]
                                           if not p.startswith("pdf/")]
        (copy / "_quarto.yml").write_text(yaml.safe_dump(config, allow_unicode=True))
        start = time.perf_counter()
        quarto.render(quarto.find_quarto(), copy, Path(tmp) / "quarto.log")
        return time.perf_counter() - start


def main() -> None:
    set_theme()
    out = paths.ROOT / "bench" / "out" / "print"
    out.mkdir(parents=True, exist_ok=True)
    print("town          analysis   page and print source        page, charts cached")
    for town in list_towns():
        analysis, drawn, cached = page(town, out)
        print(f"{town:12s}  {analysis:6.2f} s   {drawn:6.2f} s ({drawn / analysis:4.2f}×)       "
              f"{cached:6.2f} s ({cached / drawn:4.2f}× drawn)")
    stage = paths.BUILD / "site"
    if quarto.find_quarto() is None or not stage.exists():
        print("PDF: skipped (needs Quarto and a staged site: run `tsunagari build`)")
        return
    towns = len(list((stage / "pdf").glob("*.qmd")))
    without, with_pdf = render(stage, printed=False), render(stage, printed=True)
    print(f"site render without PDFs {without:.1f} s, with {towns} PDFs {with_pdf:.1f} s: "
          f"{(with_pdf - without) / max(towns, 1):.1f} s per town's PDF")


if __name__ == "__main__":
    main()
