"""Section 4 冬と春～秋の外出頻度: outings in winter against spring–autumn (snow country)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from helpers.analysis.common import (
    Table,
    chi_square_test,
    distribution,
    has,
    rao_scott_test,
    rates,
    shares_by,
    tests_note,
)
from helpers.analysis.context import Context
from helpers.escape import md
from helpers.figures import Chart, bar_chart
from helpers.stats import PairedTest, fmt_n, fmt_p, fmt_pct, wilcoxon_paired

TITLE = "冬と春～秋の外出頻度"
SUMMER, WINTER, LESS = "outing_summer", "outing_winter", "outing_less_in_winter"
SEASONS = {SUMMER: "春～秋", WINTER: "冬"}
BY = {"age_band": "年代", "district": "地区"}


@dataclass
class Season:
    """Results of section 4."""

    test: PairedTest
    distributions: Table
    transition: Table
    less_by: dict[str, Table]
    lonely_by_less: Table
    lonely_chi2: dict[str, Any] | None
    lonely_rao_scott: dict[str, Any] | None
    min_cell: int

    @property
    def winter_lower(self) -> bool:
        """True when outings are less frequent in winter (higher codes = fewer outings)."""
        return self.test.share_higher > self.test.share_lower

    def tables(self) -> list[Table]:
        return [self.distributions, self.transition, *self.less_by.values(), self.lonely_by_less]

    def to_json(self) -> dict[str, Any]:
        t = self.test
        return {
            "wilcoxon": {
                "n": t.n, "w": t.w, "p_value": t.p, "effect_r": t.effect_r,
                "share_less_in_winter": t.share_higher, "share_same": t.share_equal,
                "share_more_in_winter": t.share_lower, "median_diff": t.median_diff,
            },
            "winter_lower": self.winter_lower,
            "lonely_chi_square": self.lonely_chi2,
            "lonely_rao_scott": self.lonely_rao_scott,
            "tables": {tb.key: tb.to_json() for tb in self.tables()},
        }

    def text(self) -> str:
        t = self.test
        direction = "少なく" if self.winter_lower else "多く"
        lines = [
            f"冬の外出頻度は春～秋より{direction}なっています。回答者の{fmt_pct(t.share_higher)}が"
            f"冬に外出が減り、{fmt_pct(t.share_equal)}は変わらず、{fmt_pct(t.share_lower)}は"
            f"冬に増えると答えました（両方に回答した{fmt_n(t.n)}）。"
            f"ウィルコクソンの符号付順位検定で {fmt_p(t.p)}、効果量 r={t.effect_r:.2f}"
            "（マッチドペア順位双列相関。正の値は冬に外出が減る方向）です。"
        ]
        for var, table in self.less_by.items():
            rows = [r for r in table.records() if r["p"] is not None]
            if rows:
                top = max(rows, key=lambda r: r["p"])
                lines.append(
                    f"冬に外出が減る人の割合（重み付けなし）は、{BY[var]}別では"
                    f"「{md(top[var])}」が{fmt_pct(top['p'])}で最も高くなっています。"
                )
        rec = {r[LESS]: r for r in self.lonely_by_less.records()}
        less, same = rec.get("冬に減る"), rec.get("減らない")
        if less and same and less["p"] is not None and same["p"] is not None:
            test = tests_note(self.lonely_chi2, self.lonely_rao_scott)
            lines.append(
                f"孤独感がある人の割合（重み付けなし）は、冬に外出が減る人で{fmt_pct(less['p'])}、減らない人で"
                f"{fmt_pct(same['p'])}です{test}。"
            )
        return "\n\n".join(lines)

    def charts(self, interactive: bool = False) -> list[Chart]:
        charts = [
            bar_chart(
                self.distributions.frame, "answer", value="share", hue="season", ci=None,
                title="外出頻度：春～秋と冬", what="春～秋と冬の外出頻度の分布",
                n=self.test.n, min_cell=self.min_cell, interactive=interactive,
            )
        ]
        if "age_band" in self.less_by:
            table = self.less_by["age_band"].frame
            charts.append(bar_chart(
                table, "age_band", title="年代別 冬に外出が減る人の割合",
                what="年代別の冬に外出が減る人の割合", n=self.test.n, min_cell=self.min_cell,
                interactive=interactive,
            ))
        return charts


def _bool_labels(df: pd.DataFrame, flag: str, labels: tuple[str, str]) -> pd.Series:
    """A flag as an ordered categorical of two labels (False, True), for tables."""
    values = df[flag].astype("boolean").map({False: labels[0], True: labels[1]})
    return pd.Series(pd.Categorical(values, categories=list(labels)), index=df.index)


def analyse_season(ctx: Context) -> Season | None:
    """Section 4, or None when the town did not ask outings by season."""
    df, k = ctx.df, ctx.min_cell
    if not (has(df, SUMMER) and has(df, WINTER)):
        return None
    both = df[df[SUMMER].notna() & df[WINTER].notna()]
    test = wilcoxon_paired(both[SUMMER], both[WINTER])
    dists = []
    for var, season in SEASONS.items():
        part = distribution(both, var, k).rename(columns={var: "answer"})
        part.insert(0, "season", season)
        dists.append(part)
    transition, labels = shares_by(both, SUMMER, WINTER, k)
    less_by = {}
    for var, name in BY.items():
        if has(df, var):
            less_by[var] = Table(
                f"less_in_winter_by_{var}",
                f"{name}別 冬に外出が減る人の割合",
                rates(both, LESS, [var], k, ctx.design),
            )
    labels = ("減らない", "冬に減る")
    data = df.assign(**{LESS: _bool_labels(df, LESS, labels)})
    lonely_by_less = rates(data, "lonely", [LESS], k, ctx.design)
    return Season(
        test=test,
        distributions=Table("outing_by_season", "外出頻度の分布（春～秋と冬）",
                            pd.concat(dists, ignore_index=True)),
        transition=Table("transition", "春～秋の外出頻度別 冬の外出頻度（行の構成比）",
                         transition, percent=labels),
        less_by=less_by,
        lonely_by_less=Table("lonely_by_less_in_winter", "冬の外出の減少別 孤独感がある人の割合",
                             lonely_by_less),
        lonely_chi2=chi_square_test(data, LESS, "lonely"),
        lonely_rao_scott=rao_scott_test(data, LESS, "lonely", ctx.design, k),
        min_cell=k,
    )

