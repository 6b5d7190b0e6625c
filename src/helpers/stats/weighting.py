"""Raking (iterative proportional fitting) of survey weights to population margins."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from helpers.errors import UserError
from helpers.stats._common import kish_n_eff, levels
from helpers.stats.design import Design

SEX_AGE = "sex_age"
SEX_AGE_SEP = "×"
_HINT = (
    "merge the category with a neighbouring one in both the data and the population margin, "
    "or check the spelling of the labels in the town's parameter file"
)


@dataclass(frozen=True)
class RakeResult:
    """Raked weights, their quality, and what the variance of raked estimates needs.

    ``weights`` (index of the data, mean 1, so they sum to the number of respondents);
    ``efficiency`` = n_eff / n (Kish); ``max_margin_error`` is the largest absolute difference
    between a weighted share and its population share over all margins and categories;
    ``groups`` holds each respondent's category code in every margin; ``trimmed`` counts the
    weights held at a trimming bound.
    """

    weights: pd.Series
    converged: bool
    iterations: int
    efficiency: float
    n_eff: float
    max_margin_error: float
    groups: tuple[np.ndarray, ...] = ()
    trimmed: int = 0

    @property
    def design(self) -> Design:
        """The raked sample as a :class:`Design` for design-based variances.

        Converged weights meet the margins, so the variance uses the calibration residuals (as
        R's ``survey`` for a ``rake``d design); weights that did not converge do not, and are
        taken as fixed weights (no calibration), which does not understate the variance.
        """
        groups = self.groups if self.converged else ()
        return Design(self.weights.index, self.weights.to_numpy(dtype=float), groups)


@dataclass(frozen=True)
class _Margin:
    column: str
    codes: np.ndarray  # category index of each respondent
    share: np.ndarray  # population share of each category


def _margin(df: pd.DataFrame, column: str, population: dict[str, float]) -> _Margin:
    """Check one margin against the data; raise a ``UserError`` naming what does not fit."""
    if column not in df.columns:
        raise UserError(
            f"the weighting margin 「{column}」 is not a column of the data",
            column=column,
            hint=f"columns are: {', '.join(map(str, df.columns))}",
        )
    labels = [str(k) for k in population]
    pop = np.array([float(v) for v in population.values()])
    if (pop < 0).any() or not np.isfinite(pop).all() or pop.sum() <= 0:
        raise UserError(
            f"population margin 「{column}」 must have non-negative counts with a positive total",
            column=column,
        )
    values = df[column].astype(object)
    missing = int(values.isna().sum())
    if missing:
        raise UserError(
            f"{missing} respondents have no answer for 「{column}」, so they cannot be weighted",
            column=column,
            hint="leave those respondents out of the weighted estimates (or impute the answer) "
            "before raking",
        )
    codes = pd.Index(labels).get_indexer(values.astype(str))
    if (codes < 0).any():
        unknown = values[codes < 0].value_counts()
        listed = ", ".join(
            f"「{k}」 ({v} respondents)" if v > 1 else f"「{k}」 (1 respondent)"
            for k, v in unknown.items()
        )
        raise UserError(
            f"the population margin 「{column}」 has no category for {listed}",
            column=column,
            value=unknown.index[0],
            hint=_HINT,
        )
    counts = np.bincount(codes, minlength=len(labels))
    for label, size, people in zip(labels, counts, pop, strict=True):
        if people > 0 and size == 0:
            raise UserError(
                f"the population margin 「{column}」 has {people:,.0f} people in 「{label}」 "
                "but no respondent is in that category",
                column=column,
                value=label,
                hint=_HINT,
            )
        if people == 0 and size > 0:
            raise UserError(
                f"{size} respondents are in 「{label}」, whose population in margin "
                f"「{column}」 is 0",
                column=column,
                value=label,
                hint=_HINT,
            )
    return _Margin(column, codes, pop / pop.sum())


def _margin_error(w: np.ndarray, margins: list[_Margin]) -> float:
    total = w.sum()
    return max(
        float(
            np.abs(np.bincount(m.codes, weights=w, minlength=m.share.size) / total - m.share).max()
        )
        for m in margins
    )


def rake(
    df: pd.DataFrame,
    margins: dict[str, dict[str, float]],
    *,
    max_iter: int = 1000,
    tol: float = 1e-10,
    trim: tuple[float, float] | None = (0.3, 3.0),
    strict: bool = True,
) -> RakeResult:
    """Rake weights so that weighted shares match population margins.

    Parameters
    ----------
    df
        Respondents; every margin column must be answered by everyone.
    margins
        ``{column: {label: population count}}``, e.g. a combined ``sex_age`` column (see
        :func:`add_sex_age`, :func:`sex_age_margins`) and ``district``. Each margin is used as
        shares of its own total, so totals from different sources need not agree exactly.
    max_iter, tol
        Iteration limit; convergence when every weighted share is within ``tol`` of its
        population share (and trimming no longer moves any weight by more than ``tol``).
    trim
        Bounds relative to the mean weight; weights are clipped after each raking cycle and the
        raking repeated, so the final weights respect both the bounds and (when feasible) the
        margins. ``None``: no trimming.
    strict
        Raise when raking does not converge (default); otherwise return with
        ``converged=False``.

    Returns
    -------
    RakeResult with weights scaled to mean 1 (summing to the number of respondents) and, as
    ``.design``, the raked sample for design-based variances (see :mod:`helpers.stats.design`).

    Raises
    ------
    UserError
        A margin column is missing or has unanswered rows, a respondent category is not in the
        margin, a population category has no respondents (or respondents but 0 population), or
        raking does not converge (``strict``).
    """
    if len(df) == 0:
        raise UserError("there are no respondents to weight")
    if not margins:
        raise UserError("no population margins were given for weighting")
    if trim is not None and not 0 < trim[0] <= 1 <= trim[1]:
        raise UserError(f"trim bounds {trim} must satisfy 0 < lower ≤ 1 ≤ upper")
    parts = [_margin(df, col, pop) for col, pop in margins.items()]
    w = np.ones(len(df))
    converged = False
    iterations = 0
    while iterations < max_iter:
        iterations += 1
        for m in parts:
            current = np.bincount(m.codes, weights=w, minlength=m.share.size)
            target = m.share * w.sum()
            w = w * (target / np.where(current > 0, current, 1))[m.codes]
        w = w / w.mean()
        moved = 0.0
        if trim is not None:
            clipped = np.clip(w, *trim)
            moved = float(np.abs(clipped - w).max())
            w = clipped
        if moved <= tol and _margin_error(w, parts) <= tol:
            converged = True
            break
    w = w / w.mean()
    trimmed = 0
    if trim is not None:
        w = np.clip(w, *trim)
        trimmed = int(((w <= trim[0]) | (w >= trim[1])).sum())
    error = _margin_error(w, parts)
    if strict and not converged:
        raise UserError(
            f"weighting did not converge in {max_iter} iterations (a weighted share is still "
            f"{error:.2%} away from its population share)",
            hint="merge small categories, widen the trimming bounds or raise max_iter",
        )
    n_eff = kish_n_eff(w)
    return RakeResult(
        weights=pd.Series(w, index=df.index, name="weight"),
        converged=converged,
        iterations=iterations,
        efficiency=n_eff / len(w),
        n_eff=n_eff,
        max_margin_error=error,
        groups=tuple(m.codes for m in parts),
        trimmed=trimmed,
    )


def sex_age_label(sex: str, age_band: str) -> str:
    """Label of a sex × age-band cell, e.g. "女性×40代"."""
    return f"{sex}{SEX_AGE_SEP}{age_band}"


def sex_age_margins(town_margins: dict[str, dict[str, int]]) -> dict[str, float]:
    """Flatten ``{sex: {age_band: count}}`` into a margin for the combined ``sex_age`` column."""
    return {
        sex_age_label(sex, band): float(count)
        for sex, bands in town_margins.items()
        for band, count in bands.items()
    }


def add_sex_age(
    df: pd.DataFrame, sex: str = "sex", age_band: str = "age_band", name: str = SEX_AGE
) -> pd.DataFrame:
    """Copy of ``df`` with a combined sex × age-band categorical column (missing if either is).

    Categories are all sex × age-band combinations, sex first, in category order.
    """
    s, a = df[sex], df[age_band]
    cats = [sex_age_label(x, y) for x in levels(s) for y in levels(a)]
    both = s.notna() & a.notna()
    combined = pd.Series(pd.NA, index=df.index, dtype=object)
    combined[both] = [sex_age_label(x, y) for x, y in zip(s[both], a[both], strict=True)]
    out = df.copy()
    out[name] = pd.Categorical(combined, categories=cats)
    return out
