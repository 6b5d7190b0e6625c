"""The machine-readable results of a town's report (results.json), its Excel tables, and the
disclosure audit of both.

results.json (UTF-8, suppressed values are null):
``town``, ``name_ja``, ``prefecture``, ``synthetic``, ``min_cell``, ``n``, ``response_rate``,
``weighting``, ``headline`` (``lonely`` / ``often_always``: ``p``, ``lo``, ``hi``, ``n``, ``x``;
shares 0–1), ``headline_weighted``, ``national``, ``lonely_by_sex_age`` (rows: ``sex``,
``age_band``, ``n``, ``x``, ``p``, ``lo``, ``hi``, ``suppressed``, …), ``sections`` (section key →
present), and one entry per section key (``response``, ``loneliness``, ``smalltown``, ``season``,
``isolation``, ``district``; null when absent).
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from helpers.analysis.report import SECTIONS, Report
from helpers.excel import read_tables, write_tables

RESULTS_FILE = "results.json"
#: Keys of counts of respondents in results.json: published only as 0 or ≥ min_cell.
COUNT_KEYS = {"n", "x", "count"}
#: Figures from outside the survey (national survey, population): not respondent data.
EXTERNAL_KEYS = {"national", "pop_share"}
#: Column headers of counts in the Excel tables, of a row's base, and of outside figures.
COUNT_HEADERS = {"回答者数", "該当者数", "人数"}
BASE_HEADERS = ("回答者数", "人数")
EXTERNAL_HEADERS = {"全国（%）", "人口構成比（%）"}


def workbook_name(town_id: str) -> str:
    return f"{town_id}_集計表.xlsx"


def build_results(report: Report) -> dict[str, Any]:
    """The results dictionary of a town's report (see the module docstring for its keys)."""
    town, ctx = report.town, report.ctx
    lonely = report.sections["loneliness"]
    empty = {"p": None, "lo": None, "hi": None, "n": None, "x": None}
    out: dict[str, Any] = {
        "town": town.id,
        "name_ja": town.name.ja,
        "prefecture": town.prefecture,
        "synthetic": town.synthetic,
        "min_cell": ctx.min_cell,
        "n": len(ctx.df),
        "response_rate": town.survey.response_rate,
        "weighting": ctx.weighting.to_json(),
        "headline": lonely.headline if lonely else {"lonely": empty, "often_always": empty},
        "headline_weighted": lonely.weighted if lonely else None,
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
    """The 注記 sheet of the workbook: data notice, suppression rule, weighting."""
    town, k = report.town, report.ctx.min_cell
    lines = [f"{town.name.ja} {town.survey.title} 集計表"]
    if town.synthetic:
        lines.append("この表は合成データ（実在の回答ではない、サンプル用に生成したデータ）の集計です。")
    lines += [
        f"回答者保護のため、回答者（集計の基数）が{k}人未満の割合・信頼区間は「—」としています。",
        f"人数は0人または{k}人以上のみ表示し、1～{k - 1}人の人数は「—」としています。"
        "合計から逆算できないよう、さらに別の人数を伏せた場合があります"
        f"（「{k}人以上」と表示）。",
        "割合（%）は無回答を除いた回答者に対する割合です。信頼区間は95%"
        "（重み付けなしの割合はWilson法）。",
        report.ctx.weighting.text(),
    ]
    return lines


class DisclosureError(RuntimeError):
    """An output would publish a value based on fewer respondents than the minimum cell size."""


def write_outputs(report: Report, out_dir: Path) -> tuple[Path, Path]:
    """Write results.json and <town>_集計表.xlsx into ``out_dir``; returns both paths.

    Both are audited first (:func:`disclosure_breaches`, :func:`workbook_breaches`): a breach
    raises ``DisclosureError`` and leaves no file behind.
    """
    out_dir = Path(out_dir)
    results = build_results(report)
    found = disclosure_breaches(results)
    if found:
        raise DisclosureError("results.json would break the disclosure rule: " + "; ".join(found))
    book = write_tables(report.sheets(), out_dir / workbook_name(report.town.id), notes(report))
    found = workbook_breaches(book, report.ctx.min_cell)
    if found:
        book.unlink()
        raise DisclosureError(f"{book.name} would break the disclosure rule: " + "; ".join(found))
    return write_json(results, out_dir / RESULTS_FILE), book


def _records(node: Any, where: str) -> Iterator[tuple[str, dict[str, Any]]]:
    if isinstance(node, Mapping):
        yield where, dict(node)
        for key, value in node.items():
            yield from _records(value, f"{where}.{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _records(value, f"{where}[{i}]")


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def disclosure_breaches(results: Mapping[str, Any], min_cell: int | None = None) -> list[str]:
    """Every value in results that breaks the disclosure rule (empty list: none).

    A count (``n``, ``x``, ``count``) must be null, 0 or ≥ min_cell. In a record whose base
    (``n``, else ``count``) is null or 1 … min_cell−1, every other number must be null (figures
    from outside the survey excepted), unless the record is marked ``base_hidden`` (its base was
    hidden by secondary suppression, not for being small). ``min_cell`` defaults to the
    results' own ``min_cell``.
    """
    k = int(results["min_cell"] if min_cell is None else min_cell)
    breaches = []
    for where, rec in _records(results, "results"):
        for key in COUNT_KEYS & rec.keys():
            v = rec[key]
            if _is_number(v) and 0 < v < k:
                breaches.append(f"{where}.{key} = {v}: a count between 1 and {k - 1}")
        base_key = next((b for b in ("n", "count") if b in rec), None)
        if base_key is None or rec.get("base_hidden"):
            continue
        n = rec[base_key]
        if n is None or (_is_number(n) and 0 < n < k):
            for key, v in rec.items():
                if key == base_key or key in EXTERNAL_KEYS or not _is_number(v):
                    continue
                if v != 0 or key not in COUNT_KEYS:
                    breaches.append(
                        f"{where}.{key} = {v}: published on a base {base_key} = {n} < {k}"
                    )
    return breaches


def _number(v: Any) -> float | None:
    return float(v) if _is_number(v) else None


def workbook_breaches(path: Path, min_cell: int) -> list[str]:
    """Every cell of a workbook written by :func:`write_outputs` that breaks the rule.

    Counts (回答者数, 該当者数, 人数) must be "—", 0 or ≥ min_cell; in a row whose base (回答者数,
    else 人数) is "—" or 1 … min_cell−1 every other number must be "—" (a base shown as
    "…人以上" is allowed; national and population figures are not respondent data).
    """
    breaches = []
    for sheet, tables in read_tables(path).items():
        for title, frame in tables:
            for i, row in frame.iterrows():
                where = f"{sheet} / {title} / row {int(i) + 1}"
                for col in COUNT_HEADERS & set(frame.columns):
                    v = _number(row[col])
                    if v is not None and 0 < v < min_cell:
                        breaches.append(f"{where}: {col} = {v:g}")
                base_col = next((b for b in BASE_HEADERS if b in frame.columns), None)
                if base_col is None:
                    continue
                base = row[base_col]
                small = base == "—" or 0 < (_number(base) or 0) < min_cell
                if not small:
                    continue
                for col, v in row.items():
                    skip = col in COUNT_HEADERS or col in EXTERNAL_HEADERS
                    if not skip and _number(v) is not None:
                        breaches.append(f"{where}: {col} = {v} on a base {base} < {min_cell}")
    return breaches
