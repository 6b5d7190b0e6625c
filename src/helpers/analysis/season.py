"""Section 4 冬と春～秋の外出頻度: outings in winter against spring–autumn (snow country)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from helpers.analysis.common import (
    CROSSTAB,
    DISTRIBUTION,
    RATES,
    TOTAL,
    Table,
    all_groups_shown,
    chi_square_test,
    cross_counts,
    distribution,
    has,
    rao_scott_test,
    rates,
)
from helpers.analysis.context import Context
from helpers.analysis.loneliness import UNIVERSE as LONELY_UNIVERSE
from helpers.analysis.publish import Publication, published_record, universe_key
from helpers.analysis.wording import say
from helpers.figures import Chart, bar_chart
from helpers.stats import PairedTest, wilcoxon_paired

TITLE = "冬と春～秋の外出頻度"
SUMMER, WINTER, LESS = "outing_summer", "outing_winter", "outing_less_in_winter"
SEASONS = {SUMMER: "春～秋", WINTER: "冬"}
BY = {"age_band": "年代", "district": "地区"}
UNIVERSE = "both_seasons"  # respondents who answered both outing questions
CHANGE = "outing_change"
FEWER, SAME, MORE = "冬に減る", "変わらない", "冬に増える"
LESS_LABELS = ("減らない", "冬に減る")


@dataclass
class Season:
    """Results of section 4 (tables raw until published)."""

    test: PairedTest
    distributions: Table
    transition: Table
    change: Table
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
        return [self.distributions, self.transition, self.change, *self.less_by.values(),
                self.lonely_by_less]

    def links(self, pub: Publication) -> None:
        """The season distributions are the cross table's margins; the changes add up its
        cells above, on and below the diagonal; 冬に減る is the rates' 全体 count."""
        tr, dist, change = self.transition, self.distributions, self.change
        answers = list(tr.answers)
        summers = [r for r in tr.rows() if r != (TOTAL,)]
        for (summer,) in summers:
            pub.same(pub.key(dist, (SEASONS[SUMMER], summer), "count"), pub.key(tr, (summer,), "n"))
        for winter in answers:
            pub.same(pub.key(dist, (SEASONS[WINTER], winter), "count"),
                     pub.key(tr, (TOTAL,), winter))
        position = {a: i for i, a in enumerate(answers)}
        for label, side in ((FEWER, 1), (SAME, 0), (MORE, -1)):
            cells = [pub.key(tr, (s,), w) for (s,) in summers for w in answers
                     if (position[w] > position[s]) - (position[w] < position[s]) == side]
            pub.sum(pub.key(change, (label,), "count"), cells)
        pub.same(universe_key(UNIVERSE, LESS, "x"), pub.key(change, (FEWER,), "count"))
        pub.sum(universe_key(UNIVERSE, LESS, "y"),
                [pub.key(change, (SAME,), "count"), pub.key(change, (MORE,), "count")])

    @property
    def wilcoxon(self) -> dict[str, Any]:
        """The paired test as published (its rank sums would narrow down small changes)."""
        t = self.test
        total = self.change.total() or {}
        return published_record({"n": total.get("count"), "p_value": t.p,
                                 "effect_r": t.effect_r, "median_diff": t.median_diff})

    def to_json(self) -> dict[str, Any]:
        return {
            "wilcoxon": self.wilcoxon,
            "winter_lower": self.winter_lower,
            "lonely_chi_square": self.lonely_chi_square,
            "lonely_rao_scott": self.lonely_test(self.lonely_rao_scott),
            "tables": {tb.key: tb.to_json() for tb in self.tables()},
        }

    @property
    def lonely_chi_square(self) -> dict[str, Any] | None:
        return self.lonely_test(self.lonely_chi2)

    def lonely_test(self, record: dict[str, Any] | None) -> dict[str, Any] | None:
        """A test of loneliness by winter outings, published only when both groups are."""
        return published_record(record) if all_groups_shown(self.lonely_by_less) else None

    def text(self) -> str:
        share = {r[CHANGE]: r["share"] for r in self.change.records()}
        change = [{"share": share[label], "verb": verb} for label, verb in (
            (FEWER, "が冬に外出が減り"), (SAME, "は変わらず"), (MORE, "は冬に増える"))
            if share.get(label) is not None]
        top_by = []
        for var, table in self.less_by.items():
            rows = [r for r in table.parts().to_dict("records") if pd.notna(r["p"])]
            if rows:
                top = max(rows, key=lambda r: r["p"])
                top_by.append({"by": BY[var], "group": top[var], "p": top["p"]})
        rec = {r[LESS]: r for r in self.lonely_by_less.records()}
        less, same = rec.get(LESS_LABELS[1]) or {}, rec.get(LESS_LABELS[0]) or {}
        return say("season", "summary", winter_lower=self.winter_lower, change=change,
                   n=self.wilcoxon["n"], top_by=top_by, lonely_less=less.get("p"),
                   lonely_same=same.get("p"))

    def details(self) -> str:
        w = self.wilcoxon
        return say("season", "details", wilcoxon=w, effect_r=w["effect_r"],
                   chi2=self.lonely_chi_square, rao_scott=self.lonely_test(self.lonely_rao_scott))

    def charts(self, interactive: bool = False) -> list[Chart]:
        n = self.wilcoxon["n"] or 0
        charts = [
            bar_chart(
                self.distributions.parts(), "answer", value="share", hue="season", ci=None,
                title="外出頻度：春～秋と冬", what="春～秋と冬の外出頻度の分布",
                n=n, min_cell=self.min_cell, interactive=interactive,
            )
        ]
        if "age_band" in self.less_by:
            charts.append(bar_chart(
                self.less_by["age_band"].parts(), "age_band", title="年代別 冬に外出が減る人の割合",
                what="年代別の冬に外出が減る人の割合", n=n, min_cell=self.min_cell,
                interactive=interactive,
            ))
        return charts


def _bool_labels(df: pd.DataFrame, flag: str, labels: tuple[str, str]) -> pd.Series:
    """A flag as an ordered categorical of two labels (False, True), for tables."""
    values = df[flag].astype("boolean").map({False: labels[0], True: labels[1]})
    return pd.Series(pd.Categorical(values, categories=list(labels)), index=df.index)


def _change(transition: pd.DataFrame, answers: tuple[str, ...]) -> pd.DataFrame:
    """Raw counts of fewer / same / more outings in winter, from the cross table's cells."""
    cells = transition.loc[transition[SUMMER] != TOTAL, list(answers)].to_numpy(dtype=float)
    summer, winter = np.indices(cells.shape)  # the same scale: higher = fewer outings
    counts = {FEWER: cells[winter > summer].sum(), SAME: cells[winter == summer].sum(),
              MORE: cells[winter < summer].sum()}
    total = sum(counts.values())
    frame = pd.DataFrame({CHANGE: [TOTAL, *counts], "count": [total, *counts.values()]})
    frame["share"] = frame["count"] / total if total else float("nan")
    return frame


def analyse_season(ctx: Context) -> Season | None:
    """Section 4, or None when the town did not ask outings by season."""
    df = ctx.df
    if not (has(df, SUMMER) and has(df, WINTER)):
        return None
    both = df[df[SUMMER].notna() & df[WINTER].notna()]
    dists = []
    for var, season in SEASONS.items():
        part = distribution(both, var, label="answer")
        part.insert(0, "season", season)
        dists.append(part)
    transition, answers = cross_counts(both, SUMMER, WINTER)
    less_by = {
        var: Table(f"less_in_winter_by_{var}", f"{name}別 冬に外出が減る人の割合",
                   rates(both, LESS, [var], ctx.design), RATES, universe=UNIVERSE,
                   flag=LESS)
        for var, name in BY.items() if has(df, var)
    }
    data = df.assign(**{LESS: _bool_labels(df, LESS, LESS_LABELS)})
    return Season(
        test=wilcoxon_paired(both[SUMMER], both[WINTER]),
        distributions=Table("outing_by_season", "外出頻度の分布（春～秋と冬）",
                            pd.concat(dists, ignore_index=True), DISTRIBUTION,
                            labels=("season", "answer"), universe=UNIVERSE),
        transition=Table("transition", "春～秋の外出頻度別 冬の外出頻度（行の構成比）",
                         transition, CROSSTAB, answers=answers, universe=UNIVERSE),
        change=Table(CHANGE, "冬の外出の変化（春～秋と比べて）", _change(transition, answers),
                     DISTRIBUTION, universe=UNIVERSE),
        less_by=less_by,
        lonely_by_less=Table("lonely_by_less_in_winter", "冬の外出の減少別 孤独感がある人の割合",
                             rates(data, "lonely", [LESS], ctx.design), RATES,
                             universe=LONELY_UNIVERSE, flag="lonely"),
        lonely_chi2=chi_square_test(data, LESS, "lonely"),
        lonely_rao_scott=rao_scott_test(data, LESS, "lonely", ctx.design, ctx.min_cell),
        min_cell=ctx.min_cell,
    )

