"""Derived variables: one function per codebook ``derive.rule``, applied to numeric codes.

The inputs are standard variables as numeric codes (NaN = missing); each rule returns a float
Series (codes, numbers, or 0/1 for flags). Missing inputs give a missing result.

>>> frame = pd.DataFrame({"lonely_direct": [1, 3, 5, None]})
>>> codes_in(frame, ["lonely_direct"], codes=[3, 4, 5]).tolist()
[0.0, 1.0, 1.0, nan]
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from helpers.codebook import Codebook, Derivation, Variable, VarType


def codes_in(df: pd.DataFrame, inputs: list[str], *, codes: list[int]) -> pd.Series:
    """1 when the input's code is one of ``codes``, else 0."""
    x = df[inputs[0]].astype(float)
    return x.isin(codes).astype(float).where(x.notna())


def sum_of(df: pd.DataFrame, inputs: list[str]) -> pd.Series:
    """Sum of the inputs; missing when any input is missing."""
    return df[inputs].astype(float).sum(axis=1, min_count=len(inputs))


def bins(df: pd.DataFrame, inputs: list[str], *, edges: list[float]) -> pd.Series:
    """Band number 1, 2, … of the input in ``[edges[i], edges[i+1])``; outside: missing."""
    x = df[inputs[0]].astype(float).to_numpy()
    band = np.searchsorted(np.asarray(edges, dtype=float), x, side="right").astype(float)
    band[(x < edges[0]) | (x >= edges[-1]) | np.isnan(x)] = np.nan
    return pd.Series(band, index=df.index)


def difference(df: pd.DataFrame, inputs: list[str]) -> pd.Series:
    """First input minus the second."""
    return df[inputs[0]].astype(float) - df[inputs[1]].astype(float)


def greater_than(df: pd.DataFrame, inputs: list[str], *, value: float) -> pd.Series:
    """1 when the input is above ``value``, else 0."""
    x = df[inputs[0]].astype(float)
    return (x > value).astype(float).where(x.notna())


RULES: dict[str, Callable[[pd.DataFrame, Derivation], pd.Series]] = {
    "codes_in": lambda df, d: codes_in(df, d.inputs, codes=d.codes or []),
    "sum": lambda df, d: sum_of(df, d.inputs),
    "bins": lambda df, d: bins(df, d.inputs, edges=d.edges or []),
    "difference": lambda df, d: difference(df, d.inputs),
    "greater_than": lambda df, d: greater_than(df, d.inputs, value=d.value or 0.0),
}


def derive_variable(df: pd.DataFrame, var: Variable) -> pd.Series:
    """Compute one derived variable; a ``bins`` result is turned into the variable's codes."""
    assert var.derive is not None, f"{var.name} has no derive rule"
    result = RULES[var.derive.rule](df, var.derive)
    if var.derive.rule == "bins":
        codes = np.array(list(var.labels()), dtype=float)
        position = result.to_numpy()
        valid = ~np.isnan(position)
        out = np.full(len(position), np.nan)
        out[valid] = codes[position[valid].astype(int) - 1]
        result = pd.Series(out, index=df.index)
    return result


def derive_all(df: pd.DataFrame, book: Codebook) -> pd.DataFrame:
    """Add every derived variable whose inputs are present (in codebook order).

    A derived column already in ``df`` (``age_band`` read from a raw band column) is kept
    where the derivation has no value.
    """
    out = df.copy(deep=False)
    for var in book.derived:
        assert var.derive is not None
        if not all(i in out for i in var.derive.inputs):
            continue
        value = derive_variable(out, var)
        out[var.name] = value.fillna(out[var.name]) if var.name in out else value
    return out


def applicable(df: pd.DataFrame, var: Variable, book: Codebook) -> pd.Series:
    """Whether a follow-up question (``var.asked_if``) was asked of each respondent: their
    answer to the parent question is one of the condition's (for a multi-answer parent: they
    chose one of its options). Everyone for a question asked of all.

    ``df`` holds numeric codes (while cleaning) or the standard dataset's labels; a respondent
    without an answer to the parent is not asked (a follow-up of a follow-up inherits that).

    >>> from helpers.codebook import Condition
    >>> book = Codebook(variables=[
    ...     Variable(name="q6", section="own", question="…", type="single",
    ...              codes={1: "はい", 2: "いいえ"}),
    ...     Variable(name="q7", section="own", question="…", type="single",
    ...              codes={1: "a", 2: "b"}, asked_if=Condition(variable="q6", codes=[2]))])
    >>> applicable(pd.DataFrame({"q6": [1, 2, None]}), book["q7"], book).tolist()
    [False, True, False]
    """
    cond = var.asked_if
    if cond is None:
        return pd.Series(True, index=df.index)
    parent = book[cond.variable]
    if parent.type is VarType.MULTI:
        chosen = [f"{parent.name}__{c}" for c in cond.codes if f"{parent.name}__{c}" in df]
        return df[chosen].astype(float).eq(1).any(axis=1) if chosen else pd.Series(
            False, index=df.index)
    x = df[parent.name]
    if isinstance(x.dtype, pd.CategoricalDtype):
        labels = parent.labels()
        return x.isin([labels[c] for c in cond.codes]).astype(bool)
    return x.astype(float).isin([float(c) for c in cond.codes])
