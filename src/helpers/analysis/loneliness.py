"""Section 2 孤独感: direct item, UCLA scale, rates by sex × age band, national figures."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from helpers.analysis.common import (
    TOTAL,
    Table,
    distribution,
    has,
    name_of,
    rates,
)
from helpers.analysis.context import Context
from helpers.escape import md
from helpers.figures import Chart, bar_chart
from helpers.stats import (
    Proportion,
    fmt_ci,
    fmt_n,
    fmt_pct,
    fmt_points,
    national_reference,
    points,
    proportion,
)

TITLE = "孤独感"
OFTEN_ALWAYS = "しばしばある・常にある"
#: Attributes scanned for groups that stand out (孤独層).
STANDOUT_VARS = ["household", "marital", "employment", "living_standard", "health", "consult",
                 "rely_on"]
#: A group stands out when its rate is this many points above the overall rate (and the lower
#: bound of its interval is above the overall rate).
STANDOUT_POINTS = 10.0
STANDOUT_COLUMNS = ["variable", "group", "n", "p", "lo", "hi", "base_hidden"]


def estimate(p: Proportion, min_cell: int) -> dict[str, Any]:
    """A headline estimate as published: p, lo, hi, se (None below ``min_cell``), n, x, and the
    interval's ``method`` (see :class:`~helpers.stats.Proportion`)."""
    shown = p.n >= min_cell
    return {
        "p": float(p.p) if shown else None,
        "lo": float(p.lo) if shown else None,
        "hi": float(p.hi) if shown else None,
        "se": float(p.se) if shown else None,
        "method": p.method,
        "n": int(p.n) if shown or p.n == 0 else None,
        "x": int(p.x) if shown and (p.x == 0 or p.x >= min_cell) else None,
    }


@dataclass
class SexHighlight:
    """The highest age band of one sex, and the bands 5 points or more above that sex overall."""

    sex: str
    total_p: float
    top_band: str
    top_p: float
    above: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "sex": self.sex,
            "total_p": self.total_p,
            "top_age_band": self.top_band,
            "top_p": self.top_p,
            "points_above_total": points(self.top_p, self.total_p),
            "bands_5_points_above": self.above,
        }

    def sentence(self) -> str:
        sex = md(self.sex)
        text = (
            f"{sex}では{md(self.top_band)}が{fmt_pct(self.top_p)}と最も高く、"
            f"{sex}全体（{fmt_pct(self.total_p)}）より{fmt_points(self.top_p, self.total_p)}"
            "高くなっています。"
        )
        others = [md(band) for band in self.above if band != self.top_band]
        if others:
            text += f"{'・'.join(others)}でも{sex}全体より5ポイント以上高くなっています。"
        return text


@dataclass
class Loneliness:
    """Results of section 2."""

    headline: dict[str, dict[str, Any]]
    weighted: dict[str, dict[str, Any]] | None
    national: dict[str, Any]
    direct: Table
    ucla: Table | None
    by_sex_age: Table
    highlights: list[SexHighlight]
    standout: Table
    min_cell: int
    town_name: str

    def tables(self) -> list[Table]:
        return [t for t in (self.direct, self.ucla, self.by_sex_age, self.standout) if t]

    def to_json(self) -> dict[str, Any]:
        return {
            "headline_weighted": self.weighted,
            "national": self.national,
            "highlights": [h.to_json() for h in self.highlights],
            "tables": {t.key: t.to_json() for t in self.tables()},
        }

    def text(self) -> str:
        lonely, often = self.headline["lonely"], self.headline["often_always"]
        nat = self.national
        lines = [
            f"孤独感が「たまにある」「時々ある」「しばしばある・常にある」と答えた人（孤独感がある人）"
            f"は{fmt_pct(lonely['p'])}{fmt_ci(lonely['lo'], lonely['hi'])}でした"
            f"（重み付けなし、回答者 {fmt_n(lonely['n'])}）。全国調査（{nat['round_name']}）では"
            f"{fmt_pct(nat['lonely'])}です。",
            f"「しばしばある・常にある」は{fmt_pct(often['p'])}で、全国の"
            f"{fmt_pct(nat['often_always'])}{_compare(often['p'], nat['often_always'])}。",
        ]
        if self.ucla is not None:
            high = self.ucla.records()[-1]
            national = (
                f"（全国調査 {nat['round_name']}：{fmt_pct(nat['ucla_high'])}）"
                if nat["ucla_high"] is not None else ""
            )
            lines.append(
                f"UCLA孤独感尺度の合計点が10～12点（孤独感が最も強い区分）の人は"
                f"{fmt_pct(high['share'])}でした{national}。"
            )
        if self.weighted:
            w = self.weighted["lonely"]
            lines.append(
                f"人口構成で重み付けすると、孤独感がある人は{fmt_pct(w['p'])}"
                f"{fmt_ci(w['lo'], w['hi'])}です。"
            )
        lines += [h.sentence() for h in self.highlights]
        groups = [r for r in self.standout.records() if r["p"] is not None]
        if groups:
            shown = "、".join(f"{md(r['variable'])}が「{md(r['group'])}」の人（{fmt_pct(r['p'])}）"
                             for r in groups[:6])
            lines.append(
                f"全体より{STANDOUT_POINTS:.0f}ポイント以上高く、95%信頼区間の下限も全体の割合を"
                f"上回る孤独層は、{shown}です。"
            )
        return "\n\n".join(lines)

    def charts(self, interactive: bool = False) -> list[Chart]:
        table = self.by_sex_age.frame
        table = table[table["age_band"].astype(str) != TOTAL]
        table = table[table["sex"].astype(str).isin([h.sex for h in self.highlights])]
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
        """The direct item's shares for the town and the national survey, stacked."""
        d = self.direct.frame
        town = pd.DataFrame({"answer": d["lonely_direct"], "survey": self.town_name,
                             "share": d["share"]})
        national = pd.DataFrame({"answer": d["lonely_direct"], "survey": "全国",
                                 "share": d["national"]}).dropna(subset=["share"])
        return pd.concat([town, national], ignore_index=True)


def _compare(p: float | None, ref: float) -> str:
    """「…より x ポイント低く/高くなっています」 against a reference share."""
    if p is None:
        return "と比べられません（回答者が少ないため）"
    diff = points(p, ref)
    if diff == 0:
        return "と同じです"
    return f"より{abs(diff):.1f}ポイント{'低く' if diff < 0 else '高く'}なっています"


def _highlights(table: pd.DataFrame) -> list[SexHighlight]:
    out = []
    for sex, part in table.groupby("sex", observed=True, sort=False):
        total = part[part["age_band"].astype(str) == TOTAL]
        bands = part[(part["age_band"].astype(str) != TOTAL) & part["p"].notna()]
        if total.empty or total["p"].isna().all() or bands.empty:
            continue
        t = total.iloc[0]
        top = bands.loc[bands["p"].idxmax()]
        above = [str(r.age_band) for r in bands.itertuples() if points(r.p, t.p) >= 5]
        out.append(SexHighlight(str(sex), float(t.p), str(top.age_band), float(top.p), above))
    return out


def _standout(df: pd.DataFrame, overall: float, min_cell: int) -> pd.DataFrame:
    rows = []
    for var in STANDOUT_VARS:
        if not has(df, var):
            continue
        t = rates(df, "lonely", [var], min_cell)
        for r in t.itertuples():
            if pd.notna(r.p) and points(r.p, overall) >= STANDOUT_POINTS and r.lo > overall:
                rows.append((name_of(var), str(getattr(r, var)), r.n, r.p, r.lo, r.hi,
                             r.base_hidden))
    frame = pd.DataFrame(rows, columns=STANDOUT_COLUMNS)
    frame.attrs["min_cell"] = min_cell
    return frame.sort_values("p", ascending=False, ignore_index=True)


def _national(ctx: Context) -> dict[str, Any]:
    ref = national_reference()
    year = ctx.options.national_round
    return {
        "round": year,
        "round_name": ref.round(year).name,
        "lonely": ref.lonely_rate(year),
        "often_always": ref.often_always(year),
        "ucla_high": ref.round(year).ucla_high / 100 if ref.round(year).ucla_high else None,
        "source": ref.source(year),
    }


def analyse_loneliness(ctx: Context) -> Loneliness | None:
    """Section 2, or None without the direct item (the UCLA table when the scale was asked)."""
    df, k = ctx.df, ctx.min_cell
    if not has(df, "lonely_direct") or not has(df, "lonely"):
        return None
    often = (df["lonely_direct"] == OFTEN_ALWAYS).astype("boolean")
    often[df["lonely_direct"].isna()] = pd.NA
    headline = {
        "lonely": estimate(proportion(df["lonely"]), k),
        "often_always": estimate(proportion(often), k),
    }
    weighted = None
    if ctx.design is not None:
        weighted = {
            "lonely": estimate(proportion(df["lonely"], ctx.design), k),
            "often_always": estimate(proportion(often, ctx.design), k),
        }
    national = _national(ctx)
    ref = national_reference().direct_item(ctx.options.national_round)
    direct = distribution(df, "lonely_direct", k, ctx.design)
    direct["national"] = ref["p"].to_numpy()
    ucla = None
    if has(df, "ucla_band"):
        ucla = Table("ucla_band", "UCLA孤独感尺度（3項目）の合計点の分布",
                     distribution(df, "ucla_band", k, ctx.design))
    by_sex_age = rates(df, "lonely", ["sex", "age_band"], k, ctx.design)
    overall = headline["lonely"]["p"]
    standout = (
        _standout(df, overall, k) if overall is not None
        else pd.DataFrame(columns=STANDOUT_COLUMNS)
    )
    return Loneliness(
        headline=headline,
        weighted=weighted,
        national=national,
        direct=Table("lonely_direct", "孤独感（直接質問）の回答分布と全国調査", direct),
        ucla=ucla,
        by_sex_age=Table("lonely_by_sex_age", "性別・年代別 孤独感がある人の割合", by_sex_age),
        highlights=_highlights(by_sex_age),
        standout=Table("standout", "孤独感がある人の割合が全体より高い層（孤独層）", standout),
        min_cell=k,
        town_name=ctx.town.name.ja,
    )

