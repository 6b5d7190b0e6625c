"""Disclosure control (BRIEF §7): what may be published from small groups of respondents.

Rules
-----
- A percentage, rate or confidence interval is published only if its *unweighted* base n is at
  least ``min_cell`` (:func:`suppress_rates`).
- A published count is either 0 or at least ``min_cell``; counts 1 … min_cell−1 are suppressed
  (primary suppression). Tables are assumed to be shown with their row and column totals, so when
  a row or column holds exactly one suppressed count it could be recovered by subtraction; the
  next-smallest count of that line is suppressed too (secondary suppression), repeated until no
  row or column has a single suppressed count (:func:`suppress_counts`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

DEFAULT_MIN_CELL = 10


def suppress_rates(base: pd.Series, min_cell: int = DEFAULT_MIN_CELL) -> pd.Series:
    """True where a rate on this unweighted base may not be published (base < ``min_cell``).

    A base of 0 is suppressed too (there is no rate to show).
    """
    n = pd.to_numeric(base.astype("Float64")).fillna(0).to_numpy(dtype=float)
    return pd.Series(n < min_cell, index=base.index, name="suppressed", dtype=bool)


def _secondary(value: np.ndarray, hidden: np.ndarray) -> bool:
    """Hide one more cell in each row with exactly one hidden cell; True if anything changed."""
    changed = False
    for i in range(value.shape[0]):
        if hidden[i].sum() != 1:
            continue
        shown = np.flatnonzero(~hidden[i])
        if shown.size == 0:
            continue
        # smallest non-zero count first; zeros only when nothing else is left
        key = [(value[i, j] == 0, value[i, j], j) for j in shown]
        hidden[i, min(key)[2]] = True
        changed = True
    return changed


def suppress_counts(counts: pd.DataFrame, min_cell: int = DEFAULT_MIN_CELL) -> pd.DataFrame:
    """Cells of a count table that may not be published.

    Parameters
    ----------
    counts
        Unweighted counts (no total row or column; the totals are assumed to be shown).
    min_cell
        Smallest count that may be published (0 may always be published).

    Returns
    -------
    Boolean DataFrame like ``counts``: True for primary (1 … min_cell−1) and secondary
    suppressions.
    """
    value = counts.fillna(0).to_numpy(dtype=float)
    hidden = (value > 0) & (value < min_cell)
    while _secondary(value, hidden) | _secondary(value.T, hidden.T):
        pass
    return pd.DataFrame(hidden, index=counts.index, columns=counts.columns)
