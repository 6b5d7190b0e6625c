"""Section 2 孤独感: direct item, UCLA scale, rates by sex × age band, national figures."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from helpers.analysis.common import (
    DISTRIBUTION,
    NO_ANSWER,
    RATES,
    TOTAL,
    Table,
    distribution,
    has,
    name_of,
    rates,
)
from helpers.analysis.context import Context
from helpers.analysis.publish import Publication, universe_key
from helpers.analysis.wording import say
from helpers.codebook import load_codebook
from helpers.figures import Chart, bar_chart
from helpers.stats import (
    national_reference,
    percent,
    points,
    proportion,
)

TITLE = "孤独感"
UNIVERSE = "lonely"  # every respondent who answered the direct loneliness question
LONELY = "孤独感がある"
OFTEN_ALWAYS = "しばしばある・常にある"
#: Attributes scanned for groups that stand out (孤独層).
STANDOUT_VARS = ["household", "marital", "employment", "living_standard", "health", "consult",
                 "rely_on"]
#: A group stands out when its rate is this many points above the overall rate (and the lower
#: bound of its interval is above the overall rate).
STANDOUT_POINTS = 10.0


def _lonely_answers() -> tuple[list[str], list[str]]:
    """Answers of the direct question that count as lonely, and the others (codebook)."""
    book = load_codebook()
    labels = book["lonely_direct"].labels()
    rule = book["lonely"].derive
    lonely = [labels[c] for c in (rule.codes if rule and rule.codes else [])]
    return lonely, [v for v in labels.values() if v not in lonely]


@dataclass
class SexHighlight:
    """The highest age band of one sex, and the bands 5 points or more above that sex overall
    (published percentages)."""

    sex: str
    total_p: float
    top_band: str
    top_p: float
    above: list[str]

    def to_json(self) -> dict[str, Any]:
        return {
            "sex": self.sex,
            "total_p": self.total_p,
            "top_age_band": self.top_band,
            "top_p": self.top_p,
            "points_above_total": points(self.top_p, self.total_p),
            "bands_5_points_above": self.above,
        }


@dataclass
class Loneliness:
    """Results of section 2 (tables raw until published)."""

    headline_table: Table
    national: dict[str, Any]
    direct: Table
    ucla: Table | None
    by_sex_age: Table
    standout: Table
    weighted_methods: dict[str, str] | None  # how each weighted headline interval was made
    min_cell: int
    town_name: str

    def tables(self) -> list[Table]:
        tables = (self.headline_table, self.direct, self.ucla, self.by_sex_age, self.standout)
        return [t for t in tables if t is not None]

    def links(self, pub: Publication) -> None:
        """The headline counts are the direct question's answers added up."""
        head, direct = self.headline_table, self.direct
        lonely, others = _lonely_answers()
        answer = {r[0]: pub.key(direct, r, "count") for r in direct.rows()}
        for col in ("n", "x", "y"):
            what = ("n",) if col == "n" else ("lonely", col)
            pub.same(pub.key(head, (LONELY,), col), universe_key(UNIVERSE, *what))
        pub.same(pub.key(head, (OFTEN_ALWAYS,), "n"), universe_key(UNIVERSE, "n"))
        pub.same(pub.key(head, (OFTEN_ALWAYS,), "x"), answer[OFTEN_ALWAYS])
        pub.sum(pub.key(head, (OFTEN_ALWAYS,), "y"),
                [answer[a] for a in answer if a not in (TOTAL, OFTEN_ALWAYS)])
        pub.sum(universe_key(UNIVERSE, "lonely", "x"), [answer[a] for a in lonely])
        pub.sum(universe_key(UNIVERSE, "lonely", "y"), [answer[a] for a in others])

    def _headline(self, suffix: str = "") -> dict[str, dict[str, Any]]:
        rows = {r["indicator"]: r for r in self.headline_table.records()}
        out = {}
        for name, label in (("lonely", LONELY), ("often_always", OFTEN_ALWAYS)):
            out[name] = {k: rows[label][k + suffix] for k in ("p", "lo", "hi")}
            if not suffix:
                out[name].update(n=rows[label]["n"], x=rows[label]["x"])
        return out

    @property
    def headline(self) -> dict[str, dict[str, Any]]:
        """Published headline rates (percent), their intervals, n and x."""
        return self._headline()

    @property
    def headline_weighted(self) -> dict[str, dict[str, Any]] | None:
        """Published weighted headline rates with their intervals and the interval method."""
        if self.weighted_methods is None:
            return None
        out = self._headline("_weighted")
        for name, method in self.weighted_methods.items():
            out[name]["method"] = method
        return out

    @property
    def highlights(self) -> list[SexHighlight]:
        """Per sex, from the published rates: the highest age band and those 5 points above."""
        table = self.by_sex_age.records()
        out = []
        for sex in dict.fromkeys(r["sex"] for r in table):
            total = next((r for r in table if r["sex"] == sex and r["age_band"] == TOTAL), None)
            bands = [r for r in table if r["sex"] == sex and r["age_band"] not in (TOTAL, NO_ANSWER)
                     and r["p"] is not None]
            if sex in (TOTAL, NO_ANSWER) or not total or total["p"] is None or not bands:
                continue
            top = max(bands, key=lambda r: r["p"])
            above = [r["age_band"] for r in bands if points(r["p"], total["p"]) >= 5]
            out.append(SexHighlight(sex, total["p"], top["age_band"], top["p"], above))
        return out

    def to_json(self) -> dict[str, Any]:
        return {
            "headline_weighted": self.headline_weighted,
            "national": self.national,
            "highlights": [h.to_json() for h in self.highlights],
            "tables": {t.key: t.to_json() for t in self.tables()},
        }

    def text(self) -> str:
        lonely, often = self.headline["lonely"], self.headline["often_always"]
        nat = self.national
        weighted = self.headline_weighted
        records = self.standout.records()
        intro = say("loneliness", "intro", ucla=self.ucla is not None)
        return intro + "\n\n" + say(
            "loneliness", "summary",
            lonely=lonely, often=often, national=nat,
            often_diff=None if often["p"] is None else points(often["p"], nat["often_always"]),
            ucla_high=None if self.ucla is None else self.ucla.parts().iloc[-1]["share"],
            weighted=weighted["lonely"] if weighted and weighted["lonely"]["p"] is not None
            else None,
            highlights=[{**vars(h), "others": [b for b in h.above if b != h.top_band]}
                        for h in self.highlights],
            standout=[r for r in records if r["p"] is not None],
            hidden_standout=sum(r["p"] is None for r in records),
            standout_points=f"{STANDOUT_POINTS:.0f}",
        )

    def details(self) -> str:
        return say("loneliness", "details", standout_vars=[name_of(v) for v in STANDOUT_VARS])

    def charts(self, interactive: bool = False) -> list[Chart]:
        table = self.by_sex_age.parts()
        table = table[table["sex"].isin([h.sex for h in self.highlights])]
        lonely = self.headline["lonely"]
        return [
            bar_chart(
                table, "age_band", hue="sex", title="性別・年代別 孤独感がある人の割合",
                what="性別・年代別の孤独感がある人の割合", n=lonely["n"] or 0,
                min_cell=self.min_cell, reference=lonely["p"], reference_label="回答者全体",
                interactive=interactive,
            ),
            bar_chart(
                self._direct_vs_national(), "answer", value="share", hue="survey", ci=None,
                title="孤独感（直接質問）の回答分布：全国調査との比較",
                what=(f"孤独感（直接質問）の回答分布と全国調査（{self.national['round_name']}、"
                  "無回答を含む全回答者に対する公表値）"),
                n=lonely["n"] or 0, min_cell=self.min_cell, interactive=interactive,
            ),
        ]

    def _direct_vs_national(self) -> pd.DataFrame:
        """The direct item's published shares for the town and the national survey, stacked."""
        d = self.direct.parts()
        town = pd.DataFrame({"answer": d["lonely_direct"], "survey": self.town_name,
                             "share": d["share"]})
        national = pd.DataFrame({"answer": d["lonely_direct"], "survey": "全国",
                                 "share": d["national"]}).dropna(subset=["share"])
        return pd.concat([town, national], ignore_index=True)


def _headline(ctx: Context, often: pd.Series) -> tuple[pd.DataFrame, dict[str, str] | None]:
    """Raw headline rates: lonely and しばしばある・常にある, unweighted (and weighted, with
    the design's own bases), and how each weighted interval was made."""
    df, rows, methods = ctx.df, [], {}
    for name, label, flag in (("lonely", LONELY, df["lonely"]),
                              ("often_always", OFTEN_ALWAYS, often)):
        est = proportion(flag)
        row = {"indicator": label, "n": est.n, "x": est.x, "p": est.p, "lo": est.lo,
               "hi": est.hi}
        if ctx.design is not None:
            west = proportion(flag, ctx.design)
            row.update(p_weighted=west.p, lo_weighted=west.lo, hi_weighted=west.hi,
                       n_weighted=west.n, x_weighted=west.x)
            methods[name] = west.method
        rows.append(row)
    return pd.DataFrame(rows), (methods if ctx.design is not None else None)


def _standout(df: pd.DataFrame, min_cell: int) -> pd.DataFrame:
    """Raw rates of the groups whose rate is well above the overall rate (STANDOUT_POINTS).

    Only groups whose rate may be published are looked at (at least ``min_cell`` with and
    without the flag): that a hidden group stands out would say something about its count.
    """
    overall = proportion(df["lonely"])
    rows = []
    for var in STANDOUT_VARS:
        if not has(df, var):
            continue
        for r in rates(df, "lonely", [var]).itertuples():
            group = str(getattr(r, var))
            if group in (TOTAL, NO_ANSWER) or min(r.x, r.n - r.x) < min_cell:
                continue
            if points(percent(r.p), percent(overall.p)) >= STANDOUT_POINTS and r.lo > overall.p:
                rows.append((name_of(var), group, r.n, r.x, r.p, r.lo, r.hi))
    frame = pd.DataFrame(rows, columns=["variable", "group", "n", "x", "p", "lo", "hi"])
    return frame.sort_values("p", ascending=False, ignore_index=True)


def _national(ctx: Context) -> dict[str, Any]:
    ref = national_reference()
    year = ctx.options.national_round
    high = ref.round(year).ucla_high
    return {
        "round": year,
        "round_name": ref.round(year).name,
        "lonely": percent(ref.lonely_rate(year)),
        "often_always": percent(ref.often_always(year)),
        "ucla_high": None if high is None else percent(high / 100),
        "source": ref.source(year),
    }


def analyse_loneliness(ctx: Context) -> Loneliness | None:
    """Section 2, or None without the direct item (the UCLA table when the scale was asked)."""
    df = ctx.df
    if not has(df, "lonely_direct") or not has(df, "lonely"):
        return None
    often = (df["lonely_direct"] == OFTEN_ALWAYS).astype("boolean")
    often[df["lonely_direct"].isna()] = pd.NA
    ref = national_reference().direct_item(ctx.options.national_round)
    direct = distribution(df, "lonely_direct", ctx.design)
    direct["national"] = [1.0, *ref["p"].to_numpy()]
    ucla = None
    if has(df, "ucla_band"):
        ucla = Table("ucla_band", "UCLA孤独感尺度（3項目）の合計点の分布",
                     distribution(df, "ucla_band", ctx.design), DISTRIBUTION,
                     universe="ucla")
    headline, methods = _headline(ctx, often)
    return Loneliness(
        headline_table=Table("headline", "孤独感がある人の割合（回答者全体）", headline, RATES),
        national=_national(ctx),
        direct=Table("lonely_direct", "孤独感（直接質問）の回答分布と全国調査", direct,
                     DISTRIBUTION, universe=UNIVERSE),
        ucla=ucla,
        by_sex_age=Table("lonely_by_sex_age", "性別・年代別 孤独感がある人の割合",
                         rates(df, "lonely", ["sex", "age_band"], ctx.design), RATES,
                         labels=("sex", "age_band"), universe=UNIVERSE, flag="lonely"),
        standout=Table("standout", "孤独感がある人の割合が全体より高い層（孤独層）",
                       _standout(df, ctx.min_cell), RATES, labels=("variable", "group")),
        weighted_methods=methods,
        min_cell=ctx.min_cell,
        town_name=ctx.town.name.ja,
    )
