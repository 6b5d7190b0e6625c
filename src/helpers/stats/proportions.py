"""Proportions with confidence intervals, and rate tables by group with disclosure control."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import pandas as pd

from helpers.stats._common import TOTAL_LABEL, flag_values, levels, z_value
from helpers.stats.design import Design
from helpers.stats.disclosure import DEFAULT_MIN_CELL, suppress_rates


@dataclass(frozen=True)
class Proportion:
    """A proportion with its confidence interval.

    ``x`` is the unweighted number of respondents with the flag, ``n`` the unweighted base,
    ``p`` the (weighted) proportion in 0–1, ``lo``/``hi`` the interval bounds in 0–1, ``se``
    its standard error (binomial when unweighted, linearized when weighted), ``n_eff`` the Kish
    effective sample size (= n when unweighted) and ``method`` how the interval was made:
    "wilson", "logit" (design-based) or "wilson-kish" (weighted, p = 0 or 1).
    """

    x: float
    n: int
    p: float
    lo: float
    hi: float
    n_eff: float
    method: str
    se: float = float("nan")


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


def logit_interval(p: float, se: float, df: float, level: float = 0.95) -> tuple[float, float]:
    """Interval on the logit scale, as R's ``svyciprop(method = "logit")``.

    expit(logit(p) ± t·se/(p(1 − p))) with t the Student quantile on ``df`` degrees of freedom
    (the design's: respondents − 1). ``(nan, nan)`` unless 0 < p < 1 and df ≥ 1.
    """
    from scipy.special import expit, logit, stdtrit

    if not (0 < p < 1 and df >= 1):
        return float("nan"), float("nan")
    t = stdtrit(df, 1 - (1 - level) / 2)
    half = t * se / (p * (1 - p))
    lo, hi = expit([logit(p) - half, logit(p) + half])
    return float(lo), float(hi)


def _unweighted(y: np.ndarray, level: float) -> Proportion:
    """Proportion of 0/1 values ``y`` (no NaN) with a Wilson interval."""
    n = int(y.size)
    x = float(y.sum())
    p = x / n if n else float("nan")
    lo, hi = wilson_interval(p, n, level)
    se = float(np.sqrt(p * (1 - p) / n)) if n else float("nan")
    return Proportion(x, n, p, lo, hi, float(n), "wilson", se)


def _design_based(
    y: np.ndarray, index: pd.Index, domains: np.ndarray, design: Design, level: float
) -> list[Proportion]:
    """Weighted shares of 0/1 values ``y`` in each subgroup (column of ``domains``)."""
    est = design.domain_means(y, index, domains)
    inside = design.positions(index) >= 0
    x = np.where(inside, np.nan_to_num(y), 0.0) @ domains
    out = []
    for g in range(domains.shape[1]):
        p, se, n, n_eff = float(est.mean[g]), float(est.se[g]), int(est.n[g]), est.n_eff[g]
        if 0 < p < 1:
            lo, hi = logit_interval(p, se, n - 1, level)
            out.append(Proportion(float(x[g]), n, p, lo, hi, float(n_eff), "logit", se))
        else:
            lo, hi = wilson_interval(p, n_eff, level)
            out.append(Proportion(float(x[g]), n, p, lo, hi, float(n_eff), "wilson-kish", se))
    return out


def proportion(flag: pd.Series, design: Design | None = None, level: float = 0.95) -> Proportion:
    """Share of respondents with a flag, with a confidence interval.

    Unweighted: Wilson score interval (``method="wilson"``). With a ``design`` (the raked
    respondents, see :class:`~helpers.stats.design.Design`): the weighted share Σw·y/Σw among
    the respondents of ``flag`` who are in the design, its Taylor-linearized standard error
    through the calibration residuals, and the interval on the logit scale with Student t on
    n − 1 degrees of freedom — R's ``svymean`` and ``svyciprop(method = "logit")`` on a
    subset of the raked design (``method="logit"``). A weighted share of exactly 0 or 1 has no
    logit interval: it gets the Wilson interval on the Kish effective sample size
    (``method="wilson-kish"``). Rows with a missing flag are dropped.

    Parameters
    ----------
    flag
        Nullable boolean or 0/1 series, indexed by respondent.
    design
        The weighted respondents; rows of ``flag`` outside it are left out of the estimate.
    level
        Confidence level.
    """
    y = flag_values(flag)
    answered = ~np.isnan(y)
    if design is None:
        return _unweighted(y[answered], level)
    return _design_based(y, flag.index, answered[:, None], design, level)[0]


def rate_table(
    df: pd.DataFrame,
    flag: str,
    by: list[str],
    design: Design | None = None,
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
    the flag), ``p``, ``lo``, ``hi``, ``se`` (0–1), ``n_eff``, ``suppressed`` (base n <
    ``min_cell``: x, p, lo, hi, se are NaN). Respondents missing the flag are left out, and so
    are those missing a ``by`` answer, except that a "全体" row counts everyone in its
    first-column level.

    With a ``design``, only the respondents of ``df`` who are in it count (``n`` and ``x``
    too), and each group is a subgroup (domain) of the full design: weighted shares with
    design-based intervals, see :func:`proportion`. The rows are the same as without.
    """
    if not by:
        raise ValueError("rate_table needs at least one 'by' column")
    y_all = flag_values(df[flag])
    answered = ~np.isnan(y_all)
    group_levels = [levels(df[c]) for c in by]
    matches = [
        [(df[c] == v).fillna(False).to_numpy(dtype=bool) for v in lv]
        for c, lv in zip(by, group_levels, strict=True)
    ]

    groups: list[tuple[tuple, np.ndarray]] = []
    for i, first in enumerate(group_levels[0]):
        in_first = answered & matches[0][i]
        if len(by) > 1:
            groups.append(((first, *[TOTAL_LABEL] * (len(by) - 1)), in_first))
        for combo in itertools.product(*[range(len(lv)) for lv in group_levels[1:]]):
            mask = in_first.copy()
            for col, j in enumerate(combo, start=1):
                mask &= matches[col][j]
            labels = tuple(group_levels[col][j] for col, j in enumerate(combo, start=1))
            groups.append(((first, *labels), mask))
    if design is None:
        results = [_unweighted(y_all[mask], level) for _, mask in groups]
    else:
        masks = np.column_stack([mask for _, mask in groups])
        results = _design_based(y_all, df.index, masks, design, level)
    rows = [(*spec, r.n, r.x, r.p, r.lo, r.hi, r.se, r.n_eff)
            for (spec, _), r in zip(groups, results, strict=True)]

    out = pd.DataFrame(rows, columns=[*by, "n", "x", "p", "lo", "hi", "se", "n_eff"])
    out["n"] = out["n"].astype(int)
    out["suppressed"] = suppress_rates(out["n"], min_cell).to_numpy()
    out.loc[out["suppressed"], ["x", "p", "lo", "hi", "se"]] = np.nan
    for col, lv in zip(by, group_levels, strict=True):
        cats = lv if len(by) == 1 or col == by[0] else [TOTAL_LABEL, *lv]
        ordered = isinstance(df[col].dtype, pd.CategoricalDtype) and df[col].cat.ordered
        out[col] = pd.Categorical(out[col], categories=cats, ordered=ordered)
    return out
