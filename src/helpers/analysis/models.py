"""The report's adjusted models, described the same way everywhere: which respondents enter a
model, which levels each variable has (with n) and which is the reference.

:func:`describe` turns a fitted model (``stats.logistic_odds_ratios``) into a results record;
:func:`sentence` says it in Japanese. The town page shows that sentence and results.json keeps
the record (with the sentence), from which the methods page lists each town's models.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from helpers.analysis.common import name_of
from helpers.stats import fmt_n, suppress_counts


def describe(
    fitted: pd.DataFrame, outcome: str, min_cell: int, weighted_by: list[str] | None = None
) -> dict[str, Any]:
    """A model's record: ``weighted``, ``n``, ``terms`` (``variable``, ``name``,
    ``reference``, ``levels``: ``level``, ``n``, ``base_hidden``, ``estimable``), ``left_out``
    (who is not in the model, in words) and ``text`` (:func:`sentence`).

    ``fitted`` is the full table of ``logistic_odds_ratios`` (every term and level);
    ``weighted_by`` names the margins of a weighted model's raking (None: unweighted). Level
    counts follow the count rule within each variable (1 … min_cell−1 hidden, and one more so
    that a hidden count cannot be worked out from the model's n: that one is ``base_hidden``).
    """
    terms = []
    records = fitted.to_dict("records")
    for term in pd.unique(fitted["term"]):
        rows = [r for r in records if r["term"] == term]
        counts = pd.DataFrame({"n": [r["n"] for r in rows]})
        hidden = suppress_counts(counts, min_cell)["n"].tolist()
        levels = [
            {"level": str(r["level"]), "n": None if h else int(r["n"]),
             "base_hidden": bool(h and r["n"] >= min_cell), "estimable": bool(r["estimable"])}
            for r, h in zip(rows, hidden, strict=True)
        ]
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
    record = {
        "weighted": weighted_by is not None,
        "outcome": outcome,
        "n": int(fitted.attrs["n"]),
        "terms": terms,
        "left_out": left_out,
    }
    record["text"] = sentence(record, min_cell)
    return record


def _level_text(level: dict[str, Any], reference: str | None, min_cell: int) -> str:
    if level["n"] is not None:
        n = fmt_n(level["n"])
    elif level["base_hidden"]:
        n = f"{min_cell}人以上"
    else:
        n = f"{min_cell}人未満"
    notes = [n]
    if level["level"] == reference:
        notes.insert(0, "基準")
    if not level["estimable"]:
        notes.append("全員の回答が同じため推定できません")
    return f"「{level['level']}」（{'、'.join(notes)}）"


def sentence(record: dict[str, Any], min_cell: int) -> str:
    """The model in one paragraph: kind, respondents, every variable's levels and reference."""
    kind = f"{'重み付け' if record['weighted'] else '重み付けなし'}のロジスティック回帰"
    terms = "；".join(
        f"{t['name']}は" + "・".join(_level_text(lv, t["reference"], min_cell)
                                     for lv in t["levels"])
        for t in record["terms"]
    )
    return (
        f"{kind}の対象は{fmt_n(record['n'])}です（含まれないのは、"
        f"{'と、'.join(record['left_out'])}）。区分と人数は、{terms}です。"
    )
