"""Section 3 小規模都市ならではの孤独: attitudes to small-town life against loneliness."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from helpers.analysis.common import (
    GROUPS,
    RATES,
    TOTAL,
    Items,
    Table,
    all_groups_shown,
    chi_square_test,
    has,
    name_of,
    rao_scott_test,
    rates,
    stack_by_item,
)
from helpers.analysis.context import MARGIN_NAMES, Context
from helpers.analysis.loneliness import UNIVERSE
from helpers.analysis.models import counts_table, describe, shown_counts
from helpers.analysis.publish import Publication, published_record, universe_key
from helpers.analysis.wording import say
from helpers.figures import Chart, bar_chart
from helpers.stats import Design, compare_groups, logistic_odds_ratios

TITLE = "小規模都市ならではの孤独"
ITEMS = ["town_ties", "town_faces", "town_selfcontained"]
GOOD = 1  # the code of 良いと思う (in the town's wording), the models' reference
#: Covariates of the adjusted model (those the town asked).
ADJUST = ["sex", "age_band", "household"]
#: Columns of the odds-ratio table: unweighted model, then the weighted one (when weighting).
ODDS = {"odds_ratio": "odds_ratio", "or_lo": "lo", "or_hi": "hi", "p_value": "p"}
WEIGHTED_ODDS = {f"{k}_weighted": v for k, v in ODDS.items()}
MODELS = ("unweighted", "weighted")


@dataclass
class SmalltownItem:
    """One small-town item: rate per answer, chi-square (unweighted) and Rao–Scott test
    (weighted), adjusted odds ratios (both models, described in ``models``), UCLA by answer."""

    item: str
    groups: Table
    chi2: dict[str, Any] | None
    rao_scott: dict[str, Any] | None
    odds: Table | None
    fits: dict[str, pd.DataFrame]
    weighted_by: list[str]
    adjusted_for: list[str]
    ucla: Table | None
    ucla_test: dict[str, Any] | None
    good: str
    counts: dict[str, dict[tuple[str, str], int | None]] = field(default_factory=dict)

    def tables(self) -> list[Table]:
        return [t for t in (self.groups, self.odds, self.ucla) if t is not None]

    def links(self, pub: Publication) -> None:
        """The unweighted model's counts pass the boundary too: the odds table's n are its
        item levels, its respondents are among those of the rate tables (by answer, and by
        sex). The weighted model's respondents are the unweighted model's but those left out of
        the weighting: its n is shown only when that gives none of them away (「その他」 of
        sex, say), its levels' counts never (they would give away how those few answered).
        An odds ratio is hidden with its group's rate or the reference's (with both bases, an
        unadjusted model's ratio and interval give both counts)."""
        plain, weighted = self.fits.get("unweighted"), self.fits.get("weighted")
        if plain is None:
            return
        counts = counts_table(f"{self.item}_model", plain)
        pub.add(counts)
        outer = {(self.item, level): pub.key(self.groups, (level,), "n")
                 for (level,) in self.groups.rows()}
        outer |= {("sex", sex): ("lonely_by_sex_age", (sex, TOTAL), "n")
                  for term, sex in counts.rows() if term == "sex"}
        for labels in counts.rows():
            if labels in outer and outer[labels] in pub.ledger:
                pub.within(outer[labels], pub.key(counts, labels, "count"))
        everyone = universe_key(counts.key, "n")
        if weighted is not None:
            n = pub.ledger.cell(("model", self.item, "weighted n"), int(weighted.attrs["n"]))
            sexes = set(weighted.loc[weighted["term"] == "sex", "level"].astype(str))
            dropped = [pub.key(counts, labels, "count") for labels in counts.rows()
                       if labels[0] == "sex" and labels[1] not in sexes | {TOTAL}]
            rest = pub.ledger.value(everyone) - pub.ledger.value(n) - sum(
                map(pub.ledger.value, dropped))
            pub.sum(everyone, [n, *dropped, *([pub.latent(("model", self.item, "rest"), rest)]
                                              if rest else [])])
        pub.after(lambda shown: self._published(shown, counts))
        if self.odds is None:
            return
        reference = [pub.key(self.groups, (self.good,), c) for c in ("x", "y")]
        for (level,) in self.odds.rows():
            pub.same(pub.key(self.odds, (level,), "n"),
                     pub.key(counts, (self.item, level), "count"))
            cells = [pub.key(self.groups, (level,), c) for c in ("x", "y")] + reference
            if all(c in pub.ledger for c in cells):
                pub.hide_with(pub.key(self.odds, (level,), "n"), cells)

    def _published(self, shown: Callable[[Hashable], int | None], counts: Table) -> None:
        """The models' counts as published."""
        self.counts["unweighted"] = shown_counts(counts)
        if "weighted" in self.fits:
            first = str(self.fits["weighted"]["term"].iloc[0])
            self.counts["weighted"] = {(first, TOTAL): shown(("model", self.item, "weighted n"))}

    @property
    def models(self) -> dict[str, dict[str, Any]]:
        """Each model described with its published counts."""
        return {kind: describe(fit, "lonely", self.counts.get(kind, {}),
                               self.weighted_by if kind == "weighted" else None)
                for kind, fit in self.fits.items()}

    @property
    def overall(self) -> dict[str, Any]:
        total = self.groups.total() or {}
        return {k: total.get(k) for k in ("p", "lo", "hi", "n", "x")}

    @property
    def above_overall(self) -> list[str]:
        """Answer groups whose published lonely rate is above the overall rate."""
        overall = self.overall["p"]
        return [str(r[self.item]) for r in self.groups.parts().to_dict("records")
                if overall is not None and pd.notna(r["p"]) and r["p"] > overall]

    def test(self, record: dict[str, Any] | None, table: Table | None = None
             ) -> dict[str, Any] | None:
        """A test, published only when every group it compares is."""
        shown = all_groups_shown(table or self.groups)
        return published_record(record) if shown else None

    def to_json(self) -> dict[str, Any]:
        return {
            "question": name_of(self.item),
            "overall": self.overall,
            "groups": self.groups.records(),
            "above_overall": self.above_overall,
            "chi_square": self.test(self.chi2),
            "rao_scott": self.test(self.rao_scott),
            "odds_ratios": None if self.odds is None else self.odds.records(),
            "models": self.models,
            "adjusted_for": self.adjusted_for,
            "ucla": None if self.ucla is None else self.ucla.records(),
            "ucla_test": None if self.ucla is None else self.test(self.ucla_test, self.ucla),
            "reference": self.good,
        }

    def summary_fields(self) -> dict[str, Any]:
        groups = [{"answer": r[self.item], "p": r["p"]}
                  for r in self.groups.parts().to_dict("records")]
        return {"name": name_of(self.item), "groups": groups, "overall": self.overall["p"],
                "answers": [g["answer"] for g in groups],
                "above": [g for g in self.above_overall if g != self.good]}

    def details_fields(self) -> dict[str, Any]:
        odds = []
        if self.odds is not None:
            for kind, columns in (("重み付けなし", ODDS), ("重み付け", WEIGHTED_ODDS)):
                odds_col, lo, hi, p = columns
                rows = [{"level": r["level"], "odds": r[odds_col], "lo": r[lo], "hi": r[hi],
                         "p": r[p]} for r in self.odds.records() if r.get(lo) is not None]
                if rows:
                    odds.append({"kind": kind, "rows": rows})
        return {
            "name": name_of(self.item),
            "good": self.good,
            "chi2": self.test(self.chi2),
            "rao_scott": self.test(self.rao_scott),
            "odds": odds,
            "adjusted": [name_of(v) for v in self.adjusted_for],
            "ucla_test": None if self.ucla is None else self.test(self.ucla_test, self.ucla),
            # a model's sentence (results.json "text") is plain text naming the answer labels
            "models": [model["text"] for model in self.models.values()],
        }


@dataclass
class Smalltown(Items):
    """Results of section 3: one entry per small-town item the town asked."""

    items: list[SmalltownItem]
    min_cell: int
    town: str

    def to_json(self) -> dict[str, Any]:
        return {"items": {it.item: it.to_json() for it in self.items}}

    def text(self) -> str:
        return say("smalltown", "summary", town=self.town,
                   items=[it.summary_fields() for it in self.items])

    def details(self) -> str:
        return say("smalltown", "details", items=[it.details_fields() for it in self.items])

    def charts(self, interactive: bool = False) -> list[Chart]:
        table = stack_by_item({it.item: it.groups for it in self.items})
        overall = self.items[0].overall
        return [
            bar_chart(
                table, "answer", hue="item", title="生活についての考え方別 孤独感がある人の割合",
                what=f"小規模都市の生活についての考え方（{len(self.items)}項目）別の孤独感がある人の割合",
                n=overall["n"] or 0, min_cell=self.min_cell, reference=overall["p"],
                reference_label="回答者全体", interactive=interactive,
            )
        ]


def _fit(
    ctx: Context, item: str, adjust: list[str], design: Design | None
) -> pd.DataFrame | None:
    try:
        return logistic_odds_ratios(
            ctx.df, "lonely", [item, *adjust], reference={item: _good(ctx, item)}, design=design
        )
    except ValueError:
        return None


def _odds(
    ctx: Context, item: str, adjust: list[str]
) -> tuple[Table | None, dict[str, pd.DataFrame]]:
    """The item's adjusted odds ratios (unweighted, and weighted when weighting) as a raw
    table, and the fitted models."""
    fits = {"unweighted": _fit(ctx, item, adjust, None)}
    if ctx.design is not None:
        fits["weighted"] = _fit(ctx, item, adjust, ctx.design)
    fits = {kind: fit for kind, fit in fits.items() if fit is not None}
    plain = fits.get("unweighted")
    if plain is None:
        return None, fits
    table = plain[plain["term"] == item].rename(columns={v: c for c, v in ODDS.items()})
    columns = dict(ODDS)
    weighted = fits.get("weighted")
    if weighted is not None:
        w = weighted[weighted["term"] == item].set_index("level")
        w = w[w["n"] >= ctx.min_cell]  # the weighted model's own base of the level
        for col, src in WEIGHTED_ODDS.items():
            table[col] = table["level"].map(w[src]).astype(float)
        columns |= WEIGHTED_ODDS
    table = table.assign(level=table["level"].astype(str))[["level", "n", *columns]]
    return Table(
        f"{item}_odds",
        f"「{name_of(item)}」の調整オッズ比（{'・'.join(name_of(v) for v in adjust)}を調整）",
        table.reset_index(drop=True),
        GROUPS,
    ), fits


def _good(ctx: Context, item: str) -> str:
    """良いと思う, as the town's questionnaire words it."""
    return ctx.town.codebook[item].labels()[GOOD]


def _ucla(ctx: Context, item: str) -> tuple[Table | None, dict[str, Any] | None]:
    if not has(ctx.df, "ucla_total"):
        return None, None
    try:
        res = compare_groups(ctx.df, "ucla_total", item, min_cell=0)
    except ValueError:
        return None, None
    summary = res.summary.rename(columns={"group": item})[[item, "n", "mean", "median"]]
    table = Table(f"{item}_ucla", f"「{name_of(item)}」別 UCLA孤独感尺度の合計点", summary, GROUPS)
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
    results = []
    for item in items:
        ucla, ucla_test = _ucla(ctx, item)
        odds, fits = _odds(ctx, item, adjust)
        results.append(SmalltownItem(
            item=item,
            groups=Table(item, f"「{name_of(item)}」への考え方別 孤独感がある人の割合",
                         rates(df, "lonely", [item], ctx.design), RATES, universe=UNIVERSE,
                         flag="lonely"),
            chi2=chi_square_test(df, item, "lonely"),
            rao_scott=rao_scott_test(df, item, "lonely", ctx.design, k),
            odds=odds,
            fits=fits,
            weighted_by=[MARGIN_NAMES[m] for m in ctx.weighting.margins],
            adjusted_for=adjust,
            ucla=ucla,
            ucla_test=ucla_test,
            good=_good(ctx, item),
        ))
    return Smalltown(results, k, ctx.town.name.ja)
