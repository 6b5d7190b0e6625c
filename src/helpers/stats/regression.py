"""Logistic regression reported as odds ratios with confidence intervals."""

from __future__ import annotations

import numpy as np
import pandas as pd

from helpers.stats._common import flag_values, levels, to_float, weight_values, z_value

PER_UNIT = "1単位あたり"


def _design(
    data: pd.DataFrame, predictors: list[str], reference: dict[str, str]
) -> tuple[pd.DataFrame, list[tuple[str, str, str | None, int, bool]]]:
    """Design matrix (intercept + dummies/numbers) and one (term, level, column, n, is_ref) row
    per output line."""
    cols: dict[str, np.ndarray] = {"const": np.ones(len(data))}
    lines: list[tuple[str, str, str | None, int, bool]] = []
    for term in predictors:
        s = data[term]
        numeric = pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype)
        if numeric and not isinstance(s.dtype, pd.CategoricalDtype):
            cols[term] = to_float(s)
            lines.append((term, PER_UNIT, term, len(data), False))
            continue
        values = s.astype(object).to_numpy()
        present = [lv for lv in levels(s) if (values == lv).any()]
        ref = reference.get(term, present[0] if present else None)
        if ref not in present:
            raise ValueError(
                f"reference level {ref!r} of {term!r} has no respondents among complete cases; "
                f"choose one of {present}"
            )
        if len(present) < 2:
            raise ValueError(
                f"{term!r} has a single answered level ({ref!r}): cannot be a predictor"
            )
        lines.append((term, str(ref), None, int((values == ref).sum()), True))
        for lv in present:
            if lv == ref:
                continue
            name = f"{term}[{lv}]"
            cols[name] = (values == lv).astype(float)
            lines.append((term, str(lv), name, int((values == lv).sum()), False))
    return pd.DataFrame(cols, index=data.index), lines


def logistic_odds_ratios(
    df: pd.DataFrame,
    outcome: str,
    predictors: list[str],
    reference: dict[str, str] | None = None,
    weights: str | None = None,
    level: float = 0.95,
) -> pd.DataFrame:
    """Odds ratios of a binary outcome from a logistic regression on several predictors.

    Categorical (and boolean) predictors are dummy-coded against a reference level: the first
    category with respondents unless ``reference`` names another; categories without
    respondents are left out. Numeric predictors enter linearly (odds ratio per unit). Only
    complete cases are used.

    Unweighted: maximum likelihood (statsmodels GLM, binomial) with Wald intervals. Weighted:
    pseudo-maximum likelihood with the survey weights and a robust sandwich (HC0) covariance,
    as ``survey::svyglm`` does without strata or clusters; intervals are therefore approximate.

    Returns
    -------
    DataFrame with ``term``, ``level``, ``odds_ratio``, ``lo``, ``hi``, ``p``, ``n`` (complete
    cases in that level; all complete cases for numeric terms) and ``is_reference`` (the
    reference level, odds ratio 1 and no interval), in predictor and category order. The model's
    number of complete cases is in ``DataFrame.attrs["n"]``.

    Raises
    ------
    ValueError
        When a predictor has one answered level, the reference has no respondents, or the
        model cannot be fitted (e.g. perfect separation).
    """
    import statsmodels.api as sm

    cols = [outcome, *predictors, *([weights] if weights else [])]
    data = df[cols].dropna()
    y = flag_values(data[outcome])
    design, lines = _design(data, predictors, reference or {})
    w = weight_values(data[weights], len(data)) if weights else None
    model = sm.GLM(y, design, family=sm.families.Binomial(), var_weights=w)
    try:
        fit = model.fit(cov_type="HC0" if weights else "nonrobust")
    except Exception as exc:  # statsmodels raises several types for singular/separated data
        raise ValueError(f"logistic model for {outcome!r} could not be fitted: {exc}") from exc
    if not np.all(np.isfinite(fit.bse)):
        raise ValueError(f"logistic model for {outcome!r}: some estimates are not finite")
    z = z_value(level)
    rows = []
    for term, lv, col, n, is_ref in lines:
        if is_ref:
            rows.append((term, lv, 1.0, np.nan, np.nan, np.nan, n, True))
            continue
        b, se = float(fit.params[col]), float(fit.bse[col])
        p = float(fit.pvalues[col])
        rows.append((term, lv, np.exp(b), np.exp(b - z * se), np.exp(b + z * se), p, n, False))
    out = pd.DataFrame(
        rows, columns=["term", "level", "odds_ratio", "lo", "hi", "p", "n", "is_reference"]
    )
    out.attrs["n"] = len(data)
    return out
