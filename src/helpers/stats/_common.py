"""Shared internals of ``helpers.stats``: levels, numeric conversion, normal quantiles."""

from __future__ import annotations

from statistics import NormalDist

import numpy as np
import pandas as pd

TOTAL_LABEL = "全体"
BASE_LABEL = "回答者数"


def levels(s: pd.Series) -> list:
    """Answer levels of a column in display order.

    Categorical: all categories (unused ones too) in category order; boolean: ``[False, True]``;
    anything else: the sorted observed values.
    """
    if isinstance(s.dtype, pd.CategoricalDtype):
        return list(s.cat.categories)
    if pd.api.types.is_bool_dtype(s.dtype):
        return [False, True]
    return sorted(s.dropna().unique().tolist())


def to_float(s: pd.Series) -> np.ndarray:
    """Numbers, flags or 0/1 columns as a float array with NaN for missing values.

    Ordinal categoricals become their codes 1..k (see :func:`ordinal_codes`).
    """
    if isinstance(s.dtype, pd.CategoricalDtype):
        return ordinal_codes(s)
    return pd.to_numeric(s.astype("Float64")).to_numpy(dtype=float, na_value=np.nan)


def ordinal_codes(s: pd.Series) -> np.ndarray:
    """Codes 1..k of a categorical (position in the category order), NaN for missing."""
    codes = s.cat.codes.to_numpy().astype(float) + 1.0
    codes[codes == 0] = np.nan
    return codes


def flag_values(s: pd.Series) -> np.ndarray:
    """A flag (boolean or 0/1) as floats 0.0/1.0/NaN; anything else is a ValueError."""
    x = to_float(s)
    bad = ~np.isnan(x) & (x != 0) & (x != 1)
    if bad.any():
        raise ValueError(
            f"{s.name!r} is not a flag: {int(bad.sum())} values are neither 0/1 nor True/False"
        )
    return x


def weight_values(w: pd.Series | None, n: int) -> np.ndarray:
    """Weights as floats (all ones when ``w`` is None); NaN or negative weights are errors."""
    if w is None:
        return np.ones(n)
    x = to_float(w)
    if np.isnan(x).any():
        raise ValueError(f"weights {w.name!r}: {int(np.isnan(x).sum())} rows have no weight")
    if (x < 0).any():
        raise ValueError(f"weights {w.name!r}: {int((x < 0).sum())} rows have negative weights")
    return x


def z_value(level: float) -> float:
    """Two-sided standard normal quantile for a confidence level (0.95 → 1.95996…)."""
    if not 0 < level < 1:
        raise ValueError(f"confidence level must be between 0 and 1, got {level}")
    return NormalDist().inv_cdf(1 - (1 - level) / 2)


def kish_n_eff(w: np.ndarray) -> float:
    """Kish effective sample size (Σw)² / Σw² (NaN for no rows)."""
    s2 = float(np.sum(w**2))
    return float(np.sum(w)) ** 2 / s2 if s2 > 0 else float("nan")
