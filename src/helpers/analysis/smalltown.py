"""Section 3 小規模都市ならではの孤独: attitudes to small-town life against loneliness."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from helpers.analysis.common import (
    Table,
    chi_square_test,
    has,
    name_of,
    rates,
    stack_by_item,
)
from helpers.analysis.context import Context
from helpers.analysis.loneliness import estimate
from helpers.figures import Chart, bar_chart
from helpers.stats import compare_groups, fmt_n, fmt_p, fmt_pct, logistic_odds_ratios, proportion

TITLE = "小規模都市ならではの孤独"
ITEMS = ["town_ties", "town_faces", "town_selfcontained"]
GOOD = "良いと思う"
#: Covariates of the adjusted model (those the town asked).
ADJUST = ["sex", "age_band", "household"]


@dataclass
class SmalltownItem:
    """One small-town item: rate per answer, chi-square, adjusted odds ratios, UCLA by answer."""

    item: str
    overall: dict[str, Any]
    groups: Table
    chi2: dict[str, Any] | None
    odds: Table | None
    adjusted_for: list[str]
    ucla: Table | None
    ucla_test: dict[str, Any] | None

    @property
    def above_overall(self) -> list[str]:
        """Answer groups whose lonely rate is above the overall rate."""
        return [str(r[self.item]) for r in self.groups.records()
                if r["p"] is not None and r["p"] > self.overall["p"]]

    def to_json(self) -> dict[str, Any]:
        return {
            "question": name_of(self.item),
            "overall": self.overall,
            "groups": self.groups.records(),
            "above_overall": self.above_overall,
            "chi_square": self.chi2,
            "odds_ratios": None if self.odds is None else self.odds.records(),
            "adjusted_for": self.adjusted_for,
            "ucla": None if self.ucla is None else self.ucla.records(),
            "ucla_test": self.ucla_test,
        }

    def text(self) -> str:
        name = name_of(self.item)
        parts = [f"「{r[self.item]}」{fmt_pct(r['p'])}" for r in self.groups.records()]
        text = (
            f"**{name}**：孤独感がある人の割合は、" + "、".join(parts)
            + f"で、回答者全体は{fmt_pct(self.overall['p'])}です。"
        )
        above = [g for g in self.above_overall if g != GOOD]
        if above:
            text += (
                "「" + "」「".join(above) + "」と答えた人は、全体より孤独感がある割合が"
                "高くなっています。"
            )
        if self.chi2 is not None:
            c = self.chi2
            text += (
                f"回答と孤独感の関連はカイ二乗検定で χ²={c['chi2']:.1f}（自由度{c['dof']}）、"
                f"{fmt_p(c['p_value'])}、効果量 Cramér's V={c['cramers_v']:.2f}（{fmt_n(c['n'])}）"
                "です。"
            )
        if self.odds is not None:
            rows = [r for r in self.odds.records() if r["or_lo"] is not None]
            ors = "、".join(
                f"「{r['level']}」{r['odds_ratio']:.2f}{_or_ci(r)}" for r in rows
            )
            adjust = "・".join(name_of(v) for v in self.adjusted_for)
            if ors:
                text += (
                    f"{adjust}を調整したロジスティック回帰では、「{GOOD}」と比べたオッズ比が"
                    f"{ors}です。"
                )
        if self.ucla_test is not None:
            text += (
                f"UCLA孤独感尺度の合計点も回答によって異なります（Kruskal–Wallis検定 "
                f"{fmt_p(self.ucla_test['p_value'])}）。"
            )
        return text


def _or_ci(r: dict[str, Any]) -> str:
    if r["or_lo"] is None:
        return ""
    return f"（95%信頼区間 {r['or_lo']:.2f}～{r['or_hi']:.2f}、{fmt_p(r['p_value'])}）"


@dataclass
class Smalltown:
    """Results of section 3: one entry per small-town item the town asked."""

    items: list[SmalltownItem]
    min_cell: int

    def tables(self) -> list[Table]:
        out: list[Table] = []
        for it in self.items:
            out += [t for t in (it.groups, it.odds, it.ucla) if t is not None]
        return out

    def to_json(self) -> dict[str, Any]:
        return {"items": {it.item: it.to_json() for it in self.items}}

    def text(self) -> str:
        return "\n\n".join(it.text() for it in self.items)

    def charts(self, interactive: bool = False) -> list[Chart]:
        table = stack_by_item({it.item: it.groups for it in self.items})
        overall = self.items[0].overall
        return [
            bar_chart(
                table, "answer", hue="item", title="生活についての考え方別 孤独感がある人の割合",
                what="小規模都市の生活についての考え方（3項目）別の孤独感がある人の割合",
                n=overall["n"] or 0, min_cell=self.min_cell, reference=overall["p"],
                reference_label="回答者全体", interactive=interactive,
            )
        ]


def _odds(ctx: Context, item: str, adjust: list[str]) -> Table | None:
    try:
        table = logistic_odds_ratios(ctx.df, "lonely", [item, *adjust], reference={item: GOOD})
    except ValueError:
        return None
    table = table[table["term"] == item].rename(
        columns={"lo": "or_lo", "hi": "or_hi", "p": "p_value"}
    )
    small = table["n"] < ctx.min_cell
    table.loc[small, ["odds_ratio", "or_lo", "or_hi", "p_value"]] = float("nan")
    table.loc[small & (table["n"] > 0), "n"] = float("nan")
    return Table(
        f"{item}_odds",
        f"「{name_of(item)}」の調整オッズ比（{'・'.join(name_of(v) for v in adjust)}を調整）",
        table[["level", "n", "odds_ratio", "or_lo", "or_hi", "p_value"]].reset_index(drop=True),
    )


def _ucla(ctx: Context, item: str) -> tuple[Table | None, dict[str, Any] | None]:
    if not has(ctx.df, "ucla_total"):
        return None, None
    try:
        res = compare_groups(ctx.df, "ucla_total", item, min_cell=ctx.min_cell)
    except ValueError:
        return None, None
    summary = res.summary.rename(columns={"group": item})[[item, "n", "mean", "median"]].copy()
    summary.loc[(summary["n"] > 0) & (summary["n"] < ctx.min_cell), "n"] = float("nan")
    table = Table(f"{item}_ucla", f"「{name_of(item)}」別 UCLA孤独感尺度の合計点", summary)
    test = {"test": res.test, "statistic": res.statistic, "p_value": res.p,
            "effect": res.effect, "effect_name": res.effect_name}
    return table, test


def analyse_smalltown(ctx: Context) -> Smalltown | None:
    """Section 3, or None when the town asked none of the small-town items."""
    items = [v for v in ITEMS if has(ctx.df, v)]
    if not items or not has(ctx.df, "lonely"):
        return None
    df, k = ctx.df, ctx.min_cell
    adjust = [v for v in ADJUST if has(df, v)]
    overall = estimate(proportion(df["lonely"]), k)
    results = []
    for item in items:
        groups = rates(df, "lonely", [item], k, ctx.weighted)
        ucla, ucla_test = _ucla(ctx, item)
        results.append(SmalltownItem(
            item=item,
            overall=overall,
            groups=Table(item, f"「{name_of(item)}」への考え方別 孤独感がある人の割合", groups),
            chi2=chi_square_test(df, item, "lonely"),
            odds=_odds(ctx, item, adjust),
            adjusted_for=adjust,
            ucla=ucla,
            ucla_test=ucla_test,
        ))
    return Smalltown(results, k)

