"""Logistic regression reported as odds ratios with confidence intervals."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from helpers.stats._common import flag_values, levels, to_float, z_value
from helpers.stats.design import Design

PER_UNIT = "1単位あたり"


@dataclass(frozen=True)
class _Line:
    """One output row: a level of a categorical predictor or a numeric predictor."""

    term: str
    level: str
    column: str | None  # design column; None for the reference level
    n: int
    estimable: bool = True  # False: the outcome is constant in this level (separation)


def _constant(y: np.ndarray) -> bool:
    return bool(y.size) and bool((y == y[0]).all())


def _reference(
    term: str, present: list, values: np.ndarray, y: np.ndarray, chosen: object
) -> object:
    """The reference level: ``chosen``, else the first level whose outcome varies."""
    if chosen is not None:
        if chosen not in present:
            raise ValueError(
                f"reference level {chosen!r} of {term!r} has no respondents among complete "
                f"cases; choose one of {present}"
            )
        if _constant(y[values == chosen]):
            raise ValueError(
                f"reference level {chosen!r} of {term!r}: every respondent has the same outcome, "
                "so no odds ratio can be estimated against it; choose another reference"
            )
        return chosen
    varying = [lv for lv in present if not _constant(y[values == lv])]
    return varying[0] if varying else present[0]


def _model_matrix(
    data: pd.DataFrame, y: np.ndarray, predictors: list[str], reference: dict[str, str]
) -> tuple[pd.DataFrame, list[_Line]]:
    """Design matrix (intercept, dummies, numbers) and the output rows."""
    cols: dict[str, np.ndarray] = {"const": np.ones(len(data))}
    lines: list[_Line] = []
    for term in predictors:
        s = data[term]
        numeric = pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype)
        if numeric and not isinstance(s.dtype, pd.CategoricalDtype):
            cols[term] = to_float(s)
            lines.append(_Line(term, PER_UNIT, term, len(data)))
            continue
        values = s.astype(object).to_numpy()
        present = [lv for lv in levels(s) if (values == lv).any()]
        if len(present) < 2:
            raise ValueError(
                f"{term!r} has a single answered level {present}: cannot be a predictor"
            )
        ref = _reference(term, present, values, y, reference.get(term))
        lines.append(_Line(term, str(ref), None, int((values == ref).sum())))
        for lv in present:
            if lv == ref:
                continue
            name = f"{term}[{lv}]"
            in_level = values == lv
            cols[name] = in_level.astype(float)
            lines.append(
                _Line(term, str(lv), name, int(in_level.sum()), not _constant(y[in_level]))
            )
    return pd.DataFrame(cols, index=data.index), lines


@dataclass(frozen=True)
class _Fit:
    """Coefficients, their standard errors and p-values, and the interval's critical value."""

    params: pd.Series
    bse: pd.Series
    pvalues: pd.Series
    critical: float


def _fit_unweighted(y: np.ndarray, x: pd.DataFrame, level: float) -> _Fit:
    """Maximum likelihood with model-based (Wald) standard errors."""
    # the narrow import: statsmodels.api costs about a second more in every report kernel
    from statsmodels.genmod import families
    from statsmodels.genmod.generalized_linear_model import GLM

    fit = GLM(y, x, family=families.Binomial()).fit()
    return _Fit(fit.params, fit.bse, fit.pvalues, z_value(level))


def _fit_design(
    y: np.ndarray, x: pd.DataFrame, design: Design, level: float
) -> _Fit:
    """Survey-weighted pseudo-likelihood with linearized standard errors (R's ``svyglm``).

    The coefficients solve Σ w·(y − μ)·x = 0; their covariance is the design-based variance of
    the influence values w·(y − μ)·x′A⁻¹ (A = Σ w·μ(1 − μ)·xx′), through the calibration
    residuals of the raked design. Tests and intervals use Student t on n − k degrees of
    freedom (R's ``df.residual``: respondents in the model − coefficients).
    """
    from scipy.special import stdtr, stdtrit
    from statsmodels.genmod import families
    from statsmodels.genmod.generalized_linear_model import GLM

    pos = design.positions(x.index)
    w = design.weights[pos]
    fit = GLM(y, x, family=families.Binomial(), var_weights=w).fit()
    mu = np.asarray(fit.fittedvalues)
    xm = x.to_numpy()
    bread = np.linalg.inv(xm.T @ ((w * mu * (1 - mu))[:, None] * xm))
    scores = np.zeros((design.n, xm.shape[1]))
    scores[pos] = (w * (y - mu))[:, None] * xm @ bread
    bse = pd.Series(np.sqrt(np.diag(design.covariance(scores))), index=x.columns)
    dof = len(y) - xm.shape[1]
    pvalues = pd.Series(2 * stdtr(dof, -np.abs(fit.params / bse)), index=x.columns)
    return _Fit(fit.params, bse, pvalues, float(stdtrit(dof, 1 - (1 - level) / 2)))


def logistic_odds_ratios(
    df: pd.DataFrame,
    outcome: str,
    predictors: list[str],
    reference: dict[str, str] | None = None,
    design: Design | None = None,
    level: float = 0.95,
) -> pd.DataFrame:
    """Odds ratios of a binary outcome from a logistic regression on several predictors.

    Categorical (and boolean) predictors are dummy-coded against a reference level: the first
    category with respondents whose outcome varies, unless ``reference`` names another;
    categories without respondents are left out. A level in which every respondent has the
    same outcome (separation: its odds ratio would be 0 or infinite) stays in the model but is
    reported with ``estimable=False`` and no estimate. Numeric predictors enter linearly (odds
    ratio per unit). Only complete cases are used.

    Unweighted: maximum likelihood (statsmodels GLM, binomial) with Wald intervals. With a
    ``design`` (the raked respondents; rows of ``df`` outside it are left out): survey-weighted
    quasi-binomial regression with design-based (linearized, calibration-aware) standard
    errors and Student-t intervals, as R's ``svyglm(family = quasibinomial())`` with
    ``confint()`` on a subset of the raked design.

    Returns
    -------
    DataFrame with ``term``, ``level``, ``odds_ratio``, ``lo``, ``hi``, ``p``, ``se`` (of the
    log odds ratio), ``n`` (complete cases in that level; all complete cases for numeric
    terms), ``is_reference`` (the reference level, odds ratio 1 and no interval) and
    ``estimable``, in predictor and category order. The model's number of complete cases is in
    ``DataFrame.attrs["n"]``.

    Raises
    ------
    ValueError
        When the outcome or a predictor has a single answered value, a chosen reference has no
        respondents or a constant outcome, or the model cannot be fitted.
    """
    if design is not None:
        df = df.loc[design.positions(df.index) >= 0]
    data = df[[outcome, *predictors]].dropna()
    y = flag_values(data[outcome])
    if _constant(y) or not y.size:
        raise ValueError(f"{outcome!r} has a single value among complete cases: nothing to model")
    x, lines = _model_matrix(data, y, predictors, reference or {})
    try:
        fit = _fit_unweighted(y, x, level) if design is None else _fit_design(y, x, design, level)
    except Exception as exc:  # statsmodels and numpy raise several types for singular data
        raise ValueError(f"logistic model for {outcome!r} could not be fitted: {exc}") from exc
    used = [line.column for line in lines if line.column is not None and line.estimable]
    if not np.all(np.isfinite(fit.bse[used])):
        raise ValueError(f"logistic model for {outcome!r}: some estimates are not finite")
    rows = []
    for line in lines:
        head = (line.term, line.level)
        if line.column is None:
            rows.append((*head, 1.0, np.nan, np.nan, np.nan, np.nan, line.n, True, True))
        elif not line.estimable:
            rows.append((*head, np.nan, np.nan, np.nan, np.nan, np.nan, line.n, False, False))
        else:
            b, se = float(fit.params[line.column]), float(fit.bse[line.column])
            ci = np.exp([b, b - fit.critical * se, b + fit.critical * se])
            p = float(fit.pvalues[line.column])
            rows.append((*head, *ci, p, se, line.n, False, True))
    out = pd.DataFrame(
        rows,
        columns=["term", "level", "odds_ratio", "lo", "hi", "p", "se", "n", "is_reference",
                 "estimable"],
    )
    out.attrs["n"] = len(data)
    return out
