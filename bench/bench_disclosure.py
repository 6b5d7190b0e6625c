"""Benchmark of respondent protection on the sample towns, ratios measured in one run.

For each town (cleaned samples needed: `tsunagari clean`), medians of three interleaved runs:
1. analysis: every section of the report computed raw (``analyse`` of each section);
2. publication: the ledger of every count, ``protect`` and the published frames;
3. attack: the audit's recomputation of results.json and of the Excel workbook.
Target: publication and attack together ≤ 3 × the analysis time, a second or two per town next
to the several seconds of its notebook run.

Usage: python bench/bench_disclosure.py [TOWN ...]
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

from helpers.analysis.context import prepare
from helpers.analysis.report import SECTIONS, Report
from helpers.analysis.results import build_results, notes, workbook_name
from helpers.build.attack import attack_results, attack_workbook
from helpers.dataset import load_survey
from helpers.excel import write_tables
from helpers.towns import list_towns, load_town


def once(town: str, out: Path) -> tuple[float, float, float]:
    df, params = load_survey(town), load_town(town)
    start = time.perf_counter()
    ctx = prepare(df, params)
    report = Report(ctx, {key: spec.analyse(ctx) for key, spec in SECTIONS.items()})
    analysed = time.perf_counter()
    report.publish()
    published = time.perf_counter()
    results = build_results(report)
    book = write_tables(report.sheets(), out / workbook_name(town), notes(report))
    written = time.perf_counter()
    found = attack_results(results) + attack_workbook(book, ctx.min_cell)
    attacked = time.perf_counter()
    assert not found, found
    return analysed - start, published - analysed, attacked - written


def main(towns: list[str]) -> None:
    runs: dict[str, list[tuple[float, float, float]]] = {t: [] for t in towns}
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(3):
            for town in towns:  # interleaved: machine load hits every town alike
                runs[town].append(once(town, Path(tmp)))
    print(f"{'town':<12}{'analysis s':>12}{'publish s':>11}{'attack s':>10}{'ratio':>8}")
    for town, times in runs.items():
        a, p, k = (statistics.median(t[i] for t in times) for i in range(3))
        print(f"{town:<12}{a:>12.2f}{p:>11.2f}{k:>10.2f}{(p + k) / a:>8.2f}")


if __name__ == "__main__":
    main(sys.argv[1:] or list_towns())
