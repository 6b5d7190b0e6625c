"""Proportions with confidence intervals, and rate tables by group with disclosure control."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import pandas as pd

from helpers.stats._common import (
    TOTAL_LABEL,
    flag_values,
    kish_n_eff,
    levels,
    weight_values,
    z_value,
)
from helpers.stats.disclosure import DEFAULT_MIN_CELL, suppress_rates


@dataclass(frozen=True)
class Proportion:
    """A proportion with its confidence interval.

    ``x`` is the unweighted number of respondents with the flag, ``n`` the unweighted base,
    ``p`` the (weighted) proportion in 0–1, ``lo``/``hi`` the interval bounds in 0–1 and
    ``n_eff`` the Kish effective sample size used for the interval (= n when unweighted).
    """

    x: float
    n: int
    p: float
    lo: float
    hi: float
    n_eff: float
    method: str


def wilson_interval(p: float, n: float, level: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for a proportion ``p`` on ``n`` (possibly effective) observations.

    Returns ``(nan, nan)`` when ``n`` is 0.
    """
    if not n > 0:
        return float("nan"), float("nan")
    z = z_value(level)
    z2 = z * z
    denom = 1 + z2 / n
    centre = (p + z2 / (2 * n)) / denom
    half = z * np.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / denom
    return float(max(0.0, centre - half)), float(min(1.0, centre + half))


def _proportion(y: np.ndarray, w: np.ndarray | None, level: float) -> Proportion:
    """Proportion of 0/1 values ``y`` (no NaN) with optional weights ``w``."""
    n = int(y.size)
    x = float(y.sum())
    if w is None:
        p = x / n if n else float("nan")
        lo, hi = wilson_interval(p, n, level)
        return Proportion(x, n, p, lo, hi, float(n), "wilson")
    total = float(w.sum())
    p = float(np.dot(w, y)) / total if total > 0 else float("nan")
    n_eff = kish_n_eff(w) if n else float("nan")
    lo, hi = wilson_interval(p, n_eff, level)
    return Proportion(x, n, p, lo, hi, n_eff, "wilson-kish")


def proportion(
    flag: pd.Series, weights: pd.Series | None = None, level: float = 0.95
) -> Proportion:
    """Share of respondents with a flag, with a confidence interval.

    Unweighted: Wilson score interval (``method="wilson"``). Weighted: the weighted share
    Σw·y/Σw with a Wilson interval computed on the Kish effective sample size
    n_eff = (Σw)²/Σw² (``method="wilson-kish"``), which widens the interval by the design
    effect of unequal weights. Rows with a missing flag are dropped.

    Parameters
    ----------
    flag
        Nullable boolean or 0/1 series.
    weights
        Survey weights for the same rows in the same order (no missing or negative values
        where the flag is answered). The Kish design effect covers unequal weighting only,
        which suits simple random samples from a register weighted to population margins.
    level
        Confidence level.
    """
    y = flag_values(flag)
    keep = ~np.isnan(y)
    if weights is not None and len(weights) != len(flag):
        raise ValueError(f"weights have {len(weights)} rows but the flag has {len(flag)}")
    w = None if weights is None else weight_values(weights[keep], int(keep.sum()))
    return _proportion(y[keep], w, level)


def rate_table(
    df: pd.DataFrame,
    flag: str,
    by: list[str],
    weights: str | None = None,
    min_cell: int = DEFAULT_MIN_CELL,
    level: float = 0.95,
) -> pd.DataFrame:
    """Rate of a flag per group, with confidence intervals and small-base suppression.

    One row per combination of the levels of ``by`` (all categories, unused ones too, in
    category order). When ``by`` has more than one column, each level of the first column gets
    a total row first, labelled "全体" in the other ``by`` columns (those columns then become
    categoricals with "全体" as their first category).

    Returns
    -------
    DataFrame with the ``by`` columns and ``n`` (unweighted base), ``x`` (unweighted count with
    the flag), ``p``, ``lo``, ``hi`` (0–1, weighted when ``weights`` is given), ``n_eff``,
    ``suppressed`` (base n < ``min_cell``: x, p, lo, hi are NaN). Respondents missing the flag
    are left out, and so are those missing a ``by`` answer, except that a "全体" row counts
    everyone in its first-column level. See :func:`proportion` for the interval method.
    """
    if not by:
        raise ValueError("rate_table needs at least one 'by' column")
    y_all = flag_values(df[flag])
    answered = ~np.isnan(y_all)
    w_all = None
    if weights is not None:
        w_all = np.zeros(len(df))
        w_all[answered] = weight_values(df[weights][answered], int(answered.sum()))
    group_levels = [levels(df[c]) for c in by]
    matches = [
        [(df[c] == v).fillna(False).to_numpy(dtype=bool) for v in lv]
        for c, lv in zip(by, group_levels, strict=True)
    ]

    rows = []
    for i, first in enumerate(group_levels[0]):
        in_first = answered & matches[0][i]
        groups: list[tuple[tuple, np.ndarray]] = []
        if len(by) > 1:
            groups.append(((first, *[TOTAL_LABEL] * (len(by) - 1)), in_first))
        for combo in itertools.product(*[range(len(lv)) for lv in group_levels[1:]]):
            mask = in_first.copy()
            for col, j in enumerate(combo, start=1):
                mask &= matches[col][j]
            labels = tuple(group_levels[col][j] for col, j in enumerate(combo, start=1))
            groups.append(((first, *labels), mask))
        for spec, mask in groups:
            res = _proportion(y_all[mask], None if w_all is None else w_all[mask], level)
            rows.append((*spec, res.n, res.x, res.p, res.lo, res.hi, res.n_eff))

    out = pd.DataFrame(rows, columns=[*by, "n", "x", "p", "lo", "hi", "n_eff"])
    out["n"] = out["n"].astype(int)
    out["suppressed"] = suppress_rates(out["n"], min_cell).to_numpy()
    out.loc[out["suppressed"], ["x", "p", "lo", "hi"]] = np.nan
    for col, lv in zip(by, group_levels, strict=True):
        cats = lv if len(by) == 1 or col == by[0] else [TOTAL_LABEL, *lv]
        ordered = isinstance(df[col].dtype, pd.CategoricalDtype) and df[col].cat.ordered
        out[col] = pd.Categorical(out[col], categories=cats, ordered=ordered)
    return out
