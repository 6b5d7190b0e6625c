"""Section 1 回答の状況: who answered, how, and how the respondents compare with the population."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from helpers.analysis.common import Table, distribution, has
from helpers.analysis.context import Context
from helpers.escape import md
from helpers.figures import Chart, bar_chart
from helpers.stats import SEX_AGE, add_sex_age, fmt_n, fmt_pct, sex_age_margins

TITLE = "回答の状況"


@dataclass
class Response:
    """Counts by mode, sex, age band and district; sample against population shares."""

    n: int
    distributed: int
    returned: int
    response_rate: float
    by: dict[str, Table]
    weighting: str
    min_cell: int

    def tables(self) -> list[Table]:
        return list(self.by.values())

    def to_json(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "distributed": self.distributed,
            "returned": self.returned,
            "response_rate": self.response_rate,
            "tables": {k: t.to_json() for k, t in self.by.items()},
        }

    def text(self) -> str:
        lines = [
            f"調査票は{fmt_n(self.distributed)}に配布し、{fmt_n(self.returned)}から回答を得ました"
            f"（回収率 {fmt_pct(self.response_rate)}）。集計の対象は有効回答の{fmt_n(self.n)}です。"
        ]
        if "mode" in self.by:
            parts = [f"{md(r['mode'])} {fmt_n(r['count'])}" for r in self.by["mode"].records()]
            lines.append("回答方法の内訳は " + "、".join(parts) + " です。")
        if any(k in self.by for k in ("sex_age", "district")):
            lines.append(
                "下の表では、回答者の構成比を人口構成比と比べています。差が大きい区分は、"
                "重み付け集計で補正しています。"
            )
        lines.append(self.weighting)
        return "\n\n".join(lines)

    def charts(self, interactive: bool = False) -> list[Chart]:
        if "age_band" not in self.by:
            return []
        table = self.by["age_band"].frame
        return [
            bar_chart(
                table, "age_band", value="share", ci=None, title="回答者の年代構成",
                what="回答者の年代別構成比", n=self.n, min_cell=self.min_cell,
                interactive=interactive,
            )
        ]


def _with_population(
    table: pd.DataFrame, var: str, population: dict[str, float]
) -> pd.DataFrame:
    total = sum(population.values())
    table["pop_share"] = [population.get(str(v), np.nan) / total for v in table[var]]
    return table


def analyse_response(ctx: Context) -> Response:
    """Section 1 for a town: counts and shares of the respondents, response rate."""
    df, town, k = ctx.df, ctx.town, ctx.min_cell
    names = {
        "mode": "回答方法別の回答者数",
        "sex": "性別の回答者数",
        "age_band": "年代別の回答者数",
    }
    by = {var: Table(var, title, distribution(df, var, k, no_answer=True))
          for var, title in names.items() if has(df, var)}
    margins = town.margins
    if margins is not None and has(df, "sex") and has(df, "age_band"):
        data = add_sex_age(df)
        pop = sex_age_margins(margins.sex_age_band)
        table = _with_population(distribution(data, SEX_AGE, k), SEX_AGE, pop)
        table = table[table["pop_share"].notna()].reset_index(drop=True)  # sexes in the margins
        by["sex_age"] = Table("sex_age", "性別×年代の回答者構成と人口構成", table)
    if has(df, "district"):
        table = distribution(df, "district", k, no_answer=True)
        if margins is not None and margins.district:
            table = _with_population(table, "district", dict(margins.district))
        by["district"] = Table("district", "地区別の回答者数", table)
    return Response(
        n=len(df),
        distributed=town.survey.distributed,
        returned=town.survey.returned,
        response_rate=town.survey.response_rate,
        by=by,
        weighting=ctx.weighting.text(),
        min_cell=k,
    )
