"""Section 6 地区別: loneliness by district, with small districts suppressed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from helpers.analysis.common import Table, has, rates
from helpers.analysis.context import Context
from helpers.escape import md
from helpers.figures import Chart, bar_chart
from helpers.stats import fmt_pct

TITLE = "地区別"


@dataclass
class District:
    """Lonely rate per district (unweighted and, when weighting, weighted)."""

    lonely: Table
    overall: float | None
    n: int
    min_cell: int

    def tables(self) -> list[Table]:
        return [self.lonely]

    def to_json(self) -> dict[str, Any]:
        return {"lonely": self.lonely.to_json()}

    def text(self) -> str:
        rows = self.lonely.records()
        shown = [r for r in rows if r["p"] is not None]
        hidden = [md(r["district"]) for r in rows if r["p"] is None]
        text = ""
        if shown:
            top = max(shown, key=lambda r: r["p"])
            low = min(shown, key=lambda r: r["p"])
            text = (
                f"孤独感がある人の割合（重み付けなし）は、地区別では「{md(top['district'])}」が"
                f"{fmt_pct(top['p'])}で最も高く、「{md(low['district'])}」が{fmt_pct(low['p'])}で"
                "最も低くなっています"
                f"（回答者全体 {fmt_pct(self.overall)}）。地区ごとの回答者は少ないため、"
                "信頼区間の幅にも注意してください。"
            )
        if hidden:
            text += (
                f"{'、'.join(hidden)}は回答者が{self.min_cell}人未満のため、割合を公表していません"
                "（—）。"
            )
        return text

    def charts(self, interactive: bool = False) -> list[Chart]:
        return [bar_chart(
            self.lonely.frame, "district", title="地区別 孤独感がある人の割合",
            what="地区別の孤独感がある人の割合", n=self.n, min_cell=self.min_cell,
            reference=self.overall, reference_label="回答者全体", interactive=interactive,
        )]


def analyse_district(ctx: Context) -> District | None:
    """Section 6, or None when the data have no district."""
    df, k = ctx.df, ctx.min_cell
    if not has(df, "district") or not has(df, "lonely"):
        return None
    table = rates(df, "lonely", ["district"], k, ctx.design)
    answered = df["lonely"].notna()
    overall = float(df.loc[answered, "lonely"].astype(float).mean())
    return District(Table("lonely_by_district", "地区別 孤独感がある人の割合", table),
                    overall if answered.sum() >= k else None, int(answered.sum()), k)
