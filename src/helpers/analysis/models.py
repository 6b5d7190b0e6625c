"""The report's adjusted models, described the same way everywhere: which respondents enter a
model, which levels each variable has (with n) and which is the reference.

A model's counts are published like any table's (:func:`counts_table`: one block per variable,
its levels adding up to the model's respondents, registered at the publication boundary);
:func:`describe` turns the fitted model and those published counts into a results record, and
:func:`sentence` says it in Japanese. The town page shows that sentence and results.json keeps
the record (with the sentence), from which the methods page lists each town's models.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from helpers.analysis.common import DISTRIBUTION, TOTAL, Table, name_of
from helpers.stats import fmt_n


def counts_table(key: str, fitted: pd.DataFrame) -> Table:
    """The model's respondents per level of each variable (a 全体 row per variable: the model's
    n), to pass the publication boundary; not shown as a table of its own."""
    rows = []
    for term in pd.unique(fitted["term"]):
        part = fitted[fitted["term"] == term]
        rows.append({"term": str(term), "level": TOTAL, "count": int(fitted.attrs["n"])})
        rows += [{"term": str(term), "level": str(r.level), "count": int(r.n)}
                 for r in part.itertuples()]
    return Table(key, "モデルの対象の人数", pd.DataFrame(rows), DISTRIBUTION,
                 labels=("term", "level"), universe=key)


def describe(
    fitted: pd.DataFrame,
    outcome: str,
    shown: dict[tuple[str, str], int | None],
    weighted_by: list[str] | None = None,
) -> dict[str, Any]:
    """A model's record: ``weighted``, ``n``, ``terms`` (``variable``, ``name``,
    ``reference``, ``levels``: ``level``, ``n``, ``estimable``), ``left_out`` (who is not in
    the model, in words) and ``text`` (:func:`sentence`).

    ``fitted`` is the full table of ``logistic_odds_ratios`` (every term and level); ``shown``
    its counts as published, (term, level) → n or None when hidden, with (term, 全体) for the
    model's n (see :func:`shown_counts`); ``weighted_by`` names the margins of a weighted
    model's raking (None: unweighted).
    """
    terms = []
    records = fitted.to_dict("records")
    for term in pd.unique(fitted["term"]):
        rows = [r for r in records if r["term"] == term]
        levels = [{"level": str(r["level"]), "n": shown.get((str(term), str(r["level"]))),
                   "estimable": bool(r["estimable"])} for r in rows]
        reference = [str(r["level"]) for r in rows if r["is_reference"]]
        terms.append({
            "variable": str(term),
            "name": name_of(str(term)),
            "reference": reference[0] if reference else None,
            "levels": levels,
        })
    asked = "・".join(name_of(v) for v in [outcome, *(t["variable"] for t in terms)])
    left_out = [f"{asked}のいずれかに回答していない人"]
    if weighted_by is not None:
        margins = "・".join(weighted_by)
        left_out.append(f"重み付けの対象外の回答者（{margins}が不明な人や、人口構成の区分にない人）")
    first = str(fitted["term"].iloc[0]) if len(fitted) else ""
    record = {
        "weighted": weighted_by is not None,
        "outcome": outcome,
        "n": shown.get((first, TOTAL)),
        "terms": terms,
        "left_out": left_out,
    }
    record["text"] = sentence(record)
    return record


def shown_counts(counts: Table) -> dict[tuple[str, str], int | None]:
    """A published :func:`counts_table` as (term, level) → n (None when hidden)."""
    return {(r["term"], r["level"]): r["count"] for r in counts.records()}


def _level_text(level: dict[str, Any], reference: str | None) -> str:
    notes = [] if level["n"] is None else [fmt_n(level["n"])]
    if level["level"] == reference:
        notes.insert(0, "基準")
    if not level["estimable"]:
        notes.append("全員の回答が同じため推定できません")
    return f"「{level['level']}」" + (f"（{'、'.join(notes)}）" if notes else "")


def sentence(record: dict[str, Any]) -> str:
    """The model in one paragraph: kind, respondents, every variable's levels and reference."""
    kind = f"{'重み付け' if record['weighted'] else '重み付けなし'}のロジスティック回帰"
    terms = "；".join(
        f"{t['name']}は" + "・".join(_level_text(lv, t["reference"]) for lv in t["levels"])
        for t in record["terms"]
    )
    n = (f"の対象は{fmt_n(record['n'])}です" if record["n"] is not None
         else "の対象の人数は、回答者保護のため表示していません")
    hidden = any(lv["n"] is None for t in record["terms"] for lv in t["levels"])
    return (
        f"{kind}{n}（含まれないのは、{'と、'.join(record['left_out'])}）。"
        f"区分{'と人数' if not hidden else ''}は、{terms}です"
        + ("（人数のない区分は、回答者保護のため人数を表示していません）。" if hidden else "。")
    )
