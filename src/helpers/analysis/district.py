"""Section 6 地区別: loneliness by district, with small districts hidden."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from helpers.analysis.common import RATES, Table, has, rates
from helpers.analysis.context import Context
from helpers.analysis.loneliness import UNIVERSE
from helpers.analysis.publish import Publication
from helpers.analysis.wording import say
from helpers.figures import Chart, bar_chart

TITLE = "地区別"


@dataclass
class District:
    """Lonely rate per district (unweighted and, when weighting, weighted)."""

    lonely: Table
    min_cell: int

    def tables(self) -> list[Table]:
        return [self.lonely]

    def links(self, pub: Publication) -> None:
        """Nothing beyond the table's own sums and the shared 全体."""

    def to_json(self) -> dict[str, Any]:
        return {"lonely": self.lonely.to_json()}

    def text(self) -> str:
        rows = self.lonely.parts().to_dict("records")
        shown = [r for r in rows if pd.notna(r["p"])]
        return say(
            "district", "summary",
            top=max(shown, key=lambda r: r["p"]) if shown else None,
            low=min(shown, key=lambda r: r["p"]) if shown else None,
            overall=(self.lonely.total() or {}).get("p"),
            hidden=[r["district"] for r in rows if pd.isna(r["p"])],
            min_cell=self.min_cell,
        )

    def details(self) -> str:
        return ""

    def charts(self, interactive: bool = False) -> list[Chart]:
        total = self.lonely.total() or {}
        return [bar_chart(
            self.lonely.parts(), "district", title="地区別 孤独感がある人の割合",
            what="地区別の孤独感がある人の割合", n=total.get("n") or 0, min_cell=self.min_cell,
            reference=total.get("p"), reference_label="回答者全体", interactive=interactive,
        )]


def analyse_district(ctx: Context) -> District | None:
    """Section 6, or None when the data have no district."""
    df = ctx.df
    if not has(df, "district") or not has(df, "lonely"):
        return None
    table = rates(df, "lonely", ["district"], ctx.design)
    return District(Table("lonely_by_district", "地区別 孤独感がある人の割合", table, RATES,
                          universe=UNIVERSE, flag="lonely"), ctx.min_cell)
