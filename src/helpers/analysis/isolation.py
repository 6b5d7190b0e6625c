"""Section 5 孤立: people to rely on and consult, participation and contact, against loneliness."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from helpers.analysis.common import (
    RATES,
    Table,
    all_groups_shown,
    chi_square_test,
    has,
    name_of,
    rao_scott_test,
    rates,
    stack_by_item,
)
from helpers.analysis.context import Context
from helpers.analysis.loneliness import UNIVERSE
from helpers.analysis.publish import Publication, published_record
from helpers.analysis.wording import say
from helpers.figures import Chart, bar_chart

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
    min_cell: int

    def tables(self) -> list[Table]:
        return list(self.by.values())

    def links(self, pub: Publication) -> None:
        """Nothing beyond each table's own sums and the shared 全体."""

    def test(self, var: str, tests: dict[str, dict[str, Any] | None] | None = None
             ) -> dict[str, Any] | None:
        """A test of ``var`` (chi-square, or those of ``tests``), published only when every
        group of it is."""
        record = (self.tests if tests is None else tests)[var]
        return published_record(record) if all_groups_shown(self.by[var]) else None

    def to_json(self) -> dict[str, Any]:
        return {
            "items": {
                var: {"question": name_of(var), "groups": t.records(),
                      "chi_square": self.test(var),
                      "rao_scott": self.test(var, self.rao_scott)}
                for var, t in self.by.items()
            }
        }

    def text(self) -> str:
        items = []
        for var, table in self.by.items():
            rows = [r for r in table.parts().to_dict("records") if pd.notna(r["p"])]
            if len(rows) >= 2:
                items.append({"name": name_of(var),
                              "groups": [{"answer": r[var], "p": r["p"]} for r in rows]})
        return say("isolation", "summary", items=items)

    def details(self) -> str:
        return say("isolation", "details", items=[
            {"name": name_of(var), "chi2": self.test(var),
             "rao_scott": self.test(var, self.rao_scott)} for var in self.by])

    def charts(self, interactive: bool = False) -> list[Chart]:
        shown = {v: t for v, t in self.by.items() if v in CHARTED}
        if not shown:
            return []
        names = "・".join(name_of(v) for v in shown)
        return [bar_chart(
            stack_by_item(shown), "answer", hue="item",
            title=f"{names}別 孤独感がある人の割合",
            what=f"{names}の回答別の孤独感がある人の割合",
            n=(next(iter(shown.values())).total() or {}).get("n") or 0,
            min_cell=self.min_cell, interactive=interactive,
        )]


def _participation(df: pd.DataFrame) -> pd.Series:
    """Whether the respondent takes part in any activity (from the 特に参加していない option)."""
    labels = ["参加している", "特に参加していない"]
    none = df[NONE_OPTION].astype("Float64")
    values = none.map({0.0: labels[0], 1.0: labels[1]})
    return pd.Series(pd.Categorical(values, categories=labels), index=df.index)


def analyse_isolation(ctx: Context) -> Isolation | None:
    """Section 5, or None when the town asked none of the isolation items."""
    df = ctx.df
    if has(df, NONE_OPTION):
        df = df.assign(participation=_participation(df))
    items = [v for v in ITEMS if has(df, v)]
    if not items or not has(df, "lonely"):
        return None
    by, tests, rao = {}, {}, {}
    for var in items:
        title = f"{name_of(var)}別 孤独感がある人の割合"
        by[var] = Table(var, title, rates(df, "lonely", [var], ctx.design), RATES,
                        universe=UNIVERSE, flag="lonely")
        tests[var] = chi_square_test(df, var, "lonely")
        rao[var] = rao_scott_test(df, var, "lonely", ctx.design, ctx.min_cell)
    return Isolation(by, tests, rao, ctx.min_cell)
