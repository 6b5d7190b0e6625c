"""What every section needs: the town's data, its options and (when possible) raked weights."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from helpers.analysis.common import WEIGHT, Options
from helpers.errors import UserError
from helpers.stats import SEX_AGE, add_sex_age, fmt_n, fmt_pct, rake, sex_age_margins
from helpers.towns import Town


@dataclass
class Weighting:
    """Whether weighted estimates are shown, and the quality of the weights."""

    applied: bool
    reason: str
    margins: tuple[str, ...] = ()
    n: int = 0
    n_eff: float | None = None
    efficiency: float | None = None
    converged: bool | None = None
    max_margin_error: float | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "applied": self.applied,
            "reason": self.reason,
            "margins": list(self.margins),
            "n": self.n,
            "n_eff": self.n_eff,
            "efficiency": self.efficiency,
            "converged": self.converged,
            "max_margin_error": self.max_margin_error,
        }

    def text(self) -> str:
        """One sentence on the weighting for the report."""
        if not self.applied:
            return f"重み付けは行っていません（{self.reason}）。集計値はすべて重み付けなしです。"
        names = "・".join({"sex_age": "性別×年代", "district": "地区"}[m] for m in self.margins)
        return (
            f"重み付け集計では、{names}の人口構成に合わせたレイキングによる重みを用いました"
            f"（対象 {fmt_n(self.n)}、有効標本数 {self.n_eff:,.0f}、重み付けの効率 "
            f"{fmt_pct(self.efficiency)}）。重み付けの信頼区間は有効標本数にもとづきます。"
            + ("" if self.converged else "重みの調整は完全には収束していません。")
        )


@dataclass
class Context:
    """A town's standard data with its options; ``weighted`` holds the raked respondents."""

    df: pd.DataFrame
    town: Town
    options: Options
    weighting: Weighting
    weighted: pd.DataFrame | None = None

    @property
    def min_cell(self) -> int:
        return self.options.min_cell


def _weigh(df: pd.DataFrame, town: Town) -> tuple[pd.DataFrame | None, Weighting]:
    margins_cfg = town.margins
    if margins_cfg is None:
        return None, Weighting(False, "この市町村の人口構成（母集団の周辺分布）が未設定のため")
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
        result = rake(data, margins, strict=False)
    except UserError as exc:
        return None, Weighting(False, f"重みを計算できなかったため: {exc.problem}")
    data = df.loc[keep].copy()
    data[WEIGHT] = result.weights.to_numpy()
    return data, Weighting(
        True,
        "人口構成に合わせた重み付け",
        margins=tuple(margins),
        n=len(data),
        n_eff=result.n_eff,
        efficiency=result.efficiency,
        converged=result.converged,
        max_margin_error=result.max_margin_error,
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
    weighted, info = _weigh(df, town)
    return Context(df, town, options, info, weighted)
