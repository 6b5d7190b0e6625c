"""The machine-readable results of a town's report (results.json), its Excel tables, and their
check before they are written.

results.json (UTF-8) holds the figures exactly as published (``helpers.analysis.publish``):
shares are percentages (0–100) rounded half up to one decimal, hidden values are null.
Keys: ``town``, ``name_ja``, ``prefecture``, ``synthetic``, ``min_cell``, ``n``,
``response_rate`` (%), ``survey`` (``title``, ``start``, ``end``, ``min_age``, ``modes``),
``weighting``, ``headline`` (``lonely`` / ``often_always``: ``p``,
``lo``, ``hi``, ``n``, ``x``), ``headline_weighted``, ``national``, ``lonely_by_sex_age`` (rows:
``sex``, ``age_band``, ``n``, ``x``, ``p``, ``lo``, ``hi``, …), ``sections`` (section key →
present), and one entry per section key (``response``, ``loneliness``, ``smalltown``,
``season``, ``isolation``, ``district``; null when absent), whose ``tables`` hold every
published table.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from helpers.analysis.report import SECTIONS, Report
from helpers.excel import write_tables
from helpers.stats import percent, rule_text

RESULTS_FILE = "results.json"
UNITS = "shares in percent (0–100), rounded half up to one decimal; hidden values are null"


def workbook_name(town_id: str) -> str:
    return f"{town_id}_集計表.xlsx"


def build_results(report: Report) -> dict[str, Any]:
    """The results dictionary of a town's report (see the module docstring for its keys)."""
    town, ctx = report.town, report.ctx
    lonely = report.sections["loneliness"]
    empty = dict.fromkeys(("p", "lo", "hi", "n", "x"))
    response = report.sections["response"]
    out: dict[str, Any] = {
        "town": town.id,
        "name_ja": town.name.ja,
        "prefecture": town.prefecture,
        "synthetic": town.synthetic,
        "units": UNITS,
        "min_cell": ctx.min_cell,
        "n": response.n,
        "response_rate": percent(town.survey.response_rate),
        "survey": {"title": town.survey.title, "start": town.survey.start.isoformat(),
                   "end": town.survey.end.isoformat(), "min_age": town.survey.min_age,
                   "modes": list(town.survey.modes)},
        "weighting": ctx.weighting.to_json(),
        "headline": lonely.headline if lonely else {"lonely": empty, "often_always": empty},
        "headline_weighted": lonely.headline_weighted if lonely else None,
        "national": lonely.national if lonely else None,
        "lonely_by_sex_age": lonely.by_sex_age.records() if lonely else [],
        "sections": {key: report.sections[key] is not None for key in SECTIONS},
    }
    for key, section in report.sections.items():
        out[key] = None if section is None else section.to_json()
    return out


def write_json(results: Mapping[str, Any], path: Path) -> Path:
    """Write results as UTF-8 JSON atomically (temporary file, then rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(suffix=".json", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(results, fh, ensure_ascii=False, indent=1, allow_nan=False)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


def notes(report: Report) -> list[str]:
    """The 注記 sheet of the workbook: data notice, the disclosure rule as applied, weighting."""
    town, k = report.town, report.ctx.min_cell
    title = town.survey.title
    named = title if town.name.ja in title else f"{town.name.ja}「{title}」"
    lines = [f"{named}　集計表"]
    if town.synthetic:
        lines.append("この表は合成データ（実在の回答ではない、サンプル用に生成したデータ）の集計です。")
    lines += [*rule_text(k), "割合（%）は無回答を除いた回答者に対する割合です。信頼区間は95%"
              "（重み付けなしの割合はWilson法）。割合は小数第1位まで四捨五入しています。",
              report.ctx.weighting.text()]
    return lines


class DisclosureError(RuntimeError):
    """An output would publish a value that the disclosure audit can recover."""


def write_outputs(report: Report, out_dir: Path) -> tuple[Path, Path]:
    """Write results.json and <town>_集計表.xlsx into ``out_dir``; returns both paths.

    Both are attacked first as a reader would (``helpers.build.attack``): a recoverable small
    count raises ``DisclosureError`` and leaves no file behind.
    """
    from helpers.build.attack import attack_results, attack_workbook

    out_dir = Path(out_dir)
    results = build_results(report)
    found = attack_results(results)
    if found:
        raise DisclosureError("results.json would break the disclosure rule: "
                              + "; ".join(map(str, found)))
    book = write_tables(report.sheets(), out_dir / workbook_name(report.town.id), notes(report))
    found = attack_workbook(book, report.ctx.min_cell)
    if found:
        book.unlink()
        raise DisclosureError(f"{book.name} would break the disclosure rule: "
                              + "; ".join(map(str, found)))
    return write_json(results, out_dir / RESULTS_FILE), book
