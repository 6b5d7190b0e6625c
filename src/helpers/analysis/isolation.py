"""Section 5 孤立: people to rely on and consult, participation and contact, against loneliness."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from helpers.analysis.common import (
    Table,
    chi_square_test,
    has,
    name_of,
    rao_scott_test,
    rates,
    stack_by_item,
    tests_note,
)
from helpers.analysis.context import Context
from helpers.escape import md
from helpers.figures import Chart, bar_chart
from helpers.stats import fmt_pct

TITLE = "孤立"
ITEMS = ["rely_on", "consult", "participation", "contact_inperson", "contact_remote"]
CHARTED = ("rely_on", "consult", "participation")
NONE_OPTION = "participation__5"  # 特に参加していない


@dataclass
class Isolation:
    """Lonely rate per answer of each isolation item, with a chi-square test each (and a
    Rao–Scott test when weighting)."""

    by: dict[str, Table]
    tests: dict[str, dict[str, Any] | None]
    rao_scott: dict[str, dict[str, Any] | None]
    overall_n: int
    min_cell: int

    def tables(self) -> list[Table]:
        return list(self.by.values())

    def to_json(self) -> dict[str, Any]:
        return {
            "items": {
                var: {"question": name_of(var), "groups": t.records(),
                      "chi_square": self.tests[var], "rao_scott": self.rao_scott[var]}
                for var, t in self.by.items()
            }
        }

    def text(self) -> str:
        lines = []
        for var, table in self.by.items():
            rows = [r for r in table.records() if r["p"] is not None]
            if len(rows) < 2:
                continue
            parts = "、".join(f"「{md(r[var])}」{fmt_pct(r['p'])}" for r in rows)
            tail = tests_note(self.tests[var], self.rao_scott[var])
            lines.append(
                f"{md(name_of(var))}別の孤独感がある人の割合（重み付けなし）は、{parts}です{tail}。"
            )
        return "\n\n".join(lines) or "回答者が少ないため、この節の割合は公表していません。"

    def charts(self, interactive: bool = False) -> list[Chart]:
        shown = {v: t for v, t in self.by.items() if v in CHARTED}
        if not shown:
            return []
        return [bar_chart(
            stack_by_item(shown), "answer", hue="item",
            title="頼れる人・相談相手・活動への参加別 孤独感がある人の割合",
            what="頼れる人・相談相手の有無、活動への参加別の孤独感がある人の割合",
            n=self.overall_n, min_cell=self.min_cell, interactive=interactive,
        )]


def _participation(df: pd.DataFrame) -> pd.Series:
    """Whether the respondent takes part in any activity (from the 特に参加していない option)."""
    labels = ["参加している", "特に参加していない"]
    none = df[NONE_OPTION].astype("Float64")
    values = none.map({0.0: labels[0], 1.0: labels[1]})
    return pd.Series(pd.Categorical(values, categories=labels), index=df.index)


def analyse_isolation(ctx: Context) -> Isolation | None:
    """Section 5, or None when the town asked none of the isolation items."""
    df, k = ctx.df, ctx.min_cell
    if has(df, NONE_OPTION):
        df = df.assign(participation=_participation(df))
    items = [v for v in ITEMS if has(df, v)]
    if not items or not has(df, "lonely"):
        return None
    by, tests, rao = {}, {}, {}
    for var in items:
        title = f"{name_of(var)}別 孤独感がある人の割合"
        by[var] = Table(var, title, rates(df, "lonely", [var], k, ctx.design))
        tests[var] = chi_square_test(df, var, "lonely")
        rao[var] = rao_scott_test(df, var, "lonely", ctx.design, k)
    return Isolation(by, tests, rao, int(df["lonely"].notna().sum()), k)
