"""What every section needs: the town's data, its options and (when possible) raked weights."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from helpers.analysis.common import Options
from helpers.errors import UserError
from helpers.escape import md
from helpers.stats import (
    SEX_AGE,
    Design,
    add_sex_age,
    fmt_n,
    fmt_pct,
    percent,
    rake,
    round_half_up,
    sex_age_margins,
)
from helpers.towns import Town, town_file

#: Japanese names of the weighting margins.
MARGIN_NAMES = {SEX_AGE: "性別×年代", "district": "地区"}
#: How weighted estimates get their variance (results.json ``weighting.variance``).
CALIBRATED = "linearization-calibrated"
FIXED_WEIGHTS = "linearization-fixed-weights"
#: Bounds of the raked weights relative to their mean.
TRIM = (0.3, 3.0)


@dataclass
class Weighting:
    """Whether weighted estimates are shown, the quality of the weights, and the design.

    ``design`` holds the raked respondents with their weights and margin categories, for the
    design-based variances of every weighted estimate (None when not weighting).
    """

    applied: bool
    reason: str
    margins: tuple[str, ...] = ()
    n: int = 0
    n_eff: float | None = None
    efficiency: float | None = None
    converged: bool | None = None
    max_margin_error: float | None = None
    trimmed: int = 0
    design: Design | None = field(default=None, repr=False)
    #: ``n`` as published, set by the publication boundary: hidden (None) when, with the number
    #: of all respondents, it would give away the few left out (「その他」 of sex, say).
    shown_n: int | None = None

    @property
    def variance(self) -> str | None:
        """How weighted estimates get their variance: with or without the calibration."""
        if self.design is None:
            return None
        return CALIBRATED if self.design.calibrated else FIXED_WEIGHTS

    def to_json(self) -> dict[str, Any]:
        """As published: the respondents weighted and the effective sample size only when they
        give nobody away (``shown_n``); the efficiency in %."""
        shown = self.shown_n is not None
        return {
            "applied": self.applied,
            "reason": self.reason,
            "margins": list(self.margins),
            "margin_names": [MARGIN_NAMES[m] for m in self.margins],
            "n": self.shown_n,
            "n_eff": round_half_up(self.n_eff) if shown and self.n_eff is not None else None,
            "efficiency": None if self.efficiency is None else percent(self.efficiency),
            "converged": self.converged,
            "max_margin_error": (None if self.max_margin_error is None
                                 else round_half_up(self.max_margin_error, 4)),
            "trimmed": self.trimmed > 0,
            "variance": self.variance,
        }

    def text(self) -> str:
        """Sentences on the weighting and the variance of weighted estimates, for the report."""
        if not self.applied:
            return (f"重み付けは行っていません（{md(self.reason)}）。"
                    "集計値はすべて重み付けなしです。")
        names = "・".join(MARGIN_NAMES[m] for m in self.margins)
        text = (
            f"重み付け集計では、{names}の人口構成に合わせたレイキングによる重みを用いました"
            + (f"（対象 {fmt_n(self.shown_n)}、有効標本数 {round_half_up(self.n_eff):,.0f}、"
               if self.shown_n is not None else "（")
            + f"重み付けの効率 {fmt_pct(self.efficiency)}）。"
        )
        if self.trimmed:
            text += (
                f"一部の回答者の重みは、平均の{TRIM[0]:g}～{TRIM[1]:g}倍の範囲に収まるよう"
                "制限しています。"
            )
        if self.variance == CALIBRATED:
            text += (
                "重み付けの信頼区間と検定は、レイキングによる調整を考慮したテイラー線形化法の"
                "標準誤差にもとづきます"
            )
        else:
            text += (
                "重みの調整は完全には収束していないため、重み付けの信頼区間と検定は、重みを固定"
                "したものとしたテイラー線形化法の標準誤差にもとづきます"
            )
        return text + (
            "（割合はロジット変換した区間、クロス集計はRao–Scott補正の検定、オッズ比は重み付けの"
            "ロジスティック回帰）。"
        )


@dataclass
class Context:
    """A town's standard data with its options and weighting (``design``: the raked sample)."""

    df: pd.DataFrame
    town: Town
    options: Options
    weighting: Weighting

    @property
    def min_cell(self) -> int:
        return self.options.min_cell

    @property
    def design(self) -> Design | None:
        """The raked respondents for weighted estimates (a subset of ``df``'s rows), or None."""
        return self.weighting.design


def _weigh(df: pd.DataFrame, town: Town) -> Weighting:
    margins_cfg = town.population
    if margins_cfg is None:
        return Weighting(False, "この市町村の人口構成（母集団の周辺分布）が未設定のため")
    data = add_sex_age(df)
    margins: dict[str, dict[str, float]] = {SEX_AGE: sex_age_margins(margins_cfg.sex_age_band)}
    if margins_cfg.district and "district" in df.columns:
        margins["district"] = {k: float(v) for k, v in margins_cfg.district.items()}
    keep = data[list(margins)].notna().all(axis=1)
    keep &= data[SEX_AGE].astype(str).isin(list(margins[SEX_AGE]))
    data = data.loc[keep].copy()
    for col, pop in margins.items():
        data[col] = data[col].astype(str)
        present = set(data[col])
        margins[col] = {k: v for k, v in pop.items() if v > 0 and k in present}
    try:
        result = rake(data, margins, trim=TRIM, strict=False)
    except UserError as exc:
        if not town.report.allow_unweighted:
            raise UserError(
                f"weighting failed: {exc.problem}",
                file=town_file(town.id),
                hint="fix the population margins so that they cover the survey's categories "
                "(`tsunagari check` names them), or set 'report: allow_unweighted: true' to "
                "publish this town's figures unweighted",
            ) from None
        return Weighting(False, f"重みを計算できなかったため: {exc.problem}")
    return Weighting(
        True,
        "人口構成に合わせた重み付け",
        margins=tuple(margins),
        n=len(data),
        n_eff=result.n_eff,
        efficiency=result.efficiency,
        converged=result.converged,
        max_margin_error=result.max_margin_error,
        trimmed=result.trimmed,
        design=result.design,
    )


def prepare(
    df: pd.DataFrame, town: Town, min_cell: int | None = None, weighting: bool | None = None
) -> Context:
    """Bundle the data and options; rake weights when the town has margins and weighting is on.

    Respondents whose sex, age band (or district) is unknown, or whose sex is not in the
    margins, are left out of the weighted estimates only; population cells without any
    respondent are dropped from the margins (their share goes to the other cells).
    """
    options = Options.for_town(town, min_cell=min_cell, weighting=weighting)
    if not options.weighting:
        return Context(df, town, options, Weighting(False, "重み付けを行わない設定のため"))
    return Context(df, town, options, _weigh(df, town))
