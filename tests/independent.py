"""What a town's report must publish, computed again from its cleaned data alone.

Kept apart from ``helpers.analysis`` and ``helpers.stats``: the lonely flag is taken from the
answers as BRIEF §4 defines it, counts are pandas counts, percentages are rounded half up in
integer arithmetic, and the sentences are written out here as a reader reads them. Tests compare
this with results.json, the Excel cells and the report's text or HTML page.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction
from html.parser import HTMLParser
from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:
    from helpers.towns import Survey

#: BRIEF §4: 孤独感がある = たまにある, 時々ある or しばしばある・常にある on the direct item.
LONELY_ANSWERS = ("たまにある", "時々ある", "しばしばある・常にある")
OFTEN_ALWAYS = "しばしばある・常にある"
TOTAL = "全体"


def tenths(share: Fraction) -> int:
    """A share (0–1) in tenths of a percent, rounded half up (13/80 → 163)."""
    scaled = share * 1000
    whole = scaled.numerator // scaled.denominator
    return whole + (scaled - whole >= Fraction(1, 2))


def pct(share: Fraction) -> str:
    """The share as published: '16.3' for 13/80."""
    t = tenths(share)
    return f"{t // 10}.{t % 10}"


def shown(value: object) -> str:
    """A published percentage (results.json or an Excel cell) as text with one decimal."""
    return f"{float(value):.1f}"


def diff(a: str, b: str) -> str:
    """The difference of two published percentages in points ('42.1', '32.8' → '9.3')."""
    t = round(float(a) * 10) - round(float(b) * 10)
    return f"{'-' if t < 0 else ''}{abs(t) // 10}.{abs(t) % 10}"


@dataclass(frozen=True)
class Rate:
    n: int
    x: int

    @property
    def share(self) -> Fraction:
        return Fraction(self.x, self.n)

    @property
    def p(self) -> str:
        return pct(self.share)


def lonely(df: pd.DataFrame) -> pd.Series:
    """True/False for respondents who answered the direct item, NaN for the others."""
    answer = df["lonely_direct"].astype(object)
    return answer.isin(LONELY_ANSWERS).where(answer.notna())


def rate(flag: pd.Series) -> Rate:
    answered = flag.dropna()
    return Rate(len(answered), int(answered.astype(bool).sum()))


def by_sex_age(df: pd.DataFrame) -> dict[tuple[str, str], Rate]:
    """Lonely rate of every sex × age band and of every sex as a whole (age band 全体)."""
    flag = lonely(df)
    out = {(TOTAL, TOTAL): rate(flag)}
    for sex in df["sex"].dropna().unique():
        of_sex = df["sex"] == sex
        out[(sex, TOTAL)] = rate(flag[of_sex])
        for band in df.loc[of_sex, "age_band"].dropna().unique():
            out[(sex, band)] = rate(flag[of_sex & (df["age_band"] == band)])
    return out


def by(df: pd.DataFrame, column: str) -> dict[str, Rate]:
    flag = lonely(df)
    return {str(g): rate(flag[df[column] == g]) for g in df[column].dropna().unique()}


def sex_sentence(sex: str, rates: dict[tuple[str, str], Rate], published: set[str]) -> str:
    """「男性では20代が50.0%と最も高く、男性全体（36.9%）より13.1ポイント高くなっています。」
    among the age bands whose rate is ``published``."""
    bands = {b: r for (s, b), r in rates.items() if s == sex and b in published}
    top = max(bands, key=lambda b: bands[b].share)
    total = rates[(sex, TOTAL)].p
    top_p = bands[top].p
    return f"{sex}では{top}が{top_p}%と最も高く、{sex}全体（{total}%）{than(top_p, total)}。"


def than(p: str, ref: str) -> str:
    """「より 9.3ポイント高くなっています」, 「…低く…」 or 「と同じです」: ``p`` against ``ref``."""
    d = diff(p, ref)
    if d == "0.0":
        return "と同じです"
    return f"より{d.lstrip('-')}ポイント{'低く' if d.startswith('-') else '高く'}なっています"


def headline_sentence(df: pd.DataFrame, lo: float, hi: float) -> str:
    """The loneliness section's first sentence; the Wilson bounds are checked elsewhere."""
    r = rate(lonely(df))
    return (f"と答えた人（孤独感がある人）は{r.p}%（95%信頼区間 {lo:.1f}～{hi:.1f}%）でした"
            f"（重み付けなし、回答者{r.n:,}人）。")


def often_sentence(df: pd.DataFrame, national: str) -> str:
    answer = df["lonely_direct"].astype(object).dropna()
    p = pct(Fraction(int((answer == OFTEN_ALWAYS).sum()), len(answer)))
    return f"「しばしばある・常にある」は{p}%で、全国の{national}%{than(p, national)}。"


def district_sentence(df: pd.DataFrame, published: set[str]) -> str:
    rates = {d: r for d, r in by(df, "district").items() if d in published}
    top = max(rates, key=lambda d: rates[d].share)
    low = min(rates, key=lambda d: rates[d].share)
    overall = rate(lonely(df)).p
    return (f"地区別では「{top}」が{rates[top].p}%で最も高く、「{low}」が{rates[low].p}%で"
            f"最も低くなっています（回答者全体{overall}%）。")


def response_sentences(df: pd.DataFrame, survey: Survey) -> list[str]:
    """The response section's sentences: counts and rate; the modes offered or used, if several."""
    counts = df["mode"].value_counts()
    modes = [m for m in df["mode"].cat.categories if m in survey.modes or counts[m]]
    distributed, returned = survey.distributed, survey.returned
    out = [f"調査票は{distributed:,}人に配布し、{returned:,}人から回答を得ました"
           f"（回収率{Rate(distributed, returned).p}%）。集計の対象は有効回答の{len(df):,}人です。"]
    if len(modes) > 1:
        out.append("回答方法の内訳は、" + "、".join(f"{m}{int(counts[m]):,}人" for m in modes)
                   + "です。")
    return out


def sentences(df: pd.DataFrame, survey: Survey, results: dict) -> list[str]:
    """The sentences above, as a town's report must contain them (``results``: its results.json,
    for what it shows or hides and the Wilson bounds checked elsewhere)."""
    rows = results["lonely_by_sex_age"]
    rates = by_sex_age(df)
    out = response_sentences(df, survey)
    head = results["headline"]["lonely"]
    out += [headline_sentence(df, head["lo"], head["hi"]),
            often_sentence(df, shown(results["national"]["often_always"]))]
    for h in results["loneliness"]["highlights"]:
        bands = {r["age_band"] for r in rows if r["sex"] == h["sex"] and r["p"] is not None
                 and r["age_band"] not in (TOTAL, "無回答")}
        out.append(sex_sentence(h["sex"], rates, bands))
    if results["district"] is not None:
        shown_districts = {r["district"] for r in results["district"]["lonely"]["rows"]
                           if r["p"] is not None and r["district"] != TOTAL}
        out.append(district_sentence(df, shown_districts))
    return out


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: object) -> None:
        self._skip += tag in ("script", "style")

    def handle_endtag(self, tag: str) -> None:
        self._skip -= tag in ("script", "style")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def page_text(html: str) -> str:
    """The text of an HTML page as a reader sees it, whitespace runs as one space."""
    parser = _Text()
    parser.feed(html)
    return re.sub(r"\s+", " ", "".join(parser.parts))
