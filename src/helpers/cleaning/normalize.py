"""Normalise raw cell values so that spelling variants of the same answer compare equal.

Everything here works on the *unique* values of a column (``unique_keys``): a column of a
million cells usually has a handful of distinct answers, so the Python work is tiny.
"""

from __future__ import annotations

import re
import unicodedata

import numpy as np
import pandas as pd

# Middle dots and slashes used between alternatives (しばしばある・常にある), and wave dashes.
_DOTS = str.maketrans({c: "・" for c in "･·•‧∙⋅/"} | {c: "~" for c in "〜~"})
_SPACE = re.compile(r"\s+")
_FLOAT_INT = re.compile(r"^(-?\d+)\.0+$")

# Written in raw files for "no answer" regardless of the question (compared as keys).
NO_ANSWER_WORDS = frozenset({"無回答", "未回答", "不明", "無記入", "回答なし", "NA", "N/A"})
# A row whose first filled cell says this is a totals row, not a respondent.
TOTAL_WORDS = frozenset({"合計", "計", "総数", "総計", "total", "Total", "TOTAL"})


def key(value: object) -> str:
    """The comparison key of one raw value: NFKC, unified dots and dashes, no whitespace.

    >>> key("しばしばある･常にある "), key("１２"), key(3.0), key(None)
    ('しばしばある・常にある', '12', '3', '')
    """
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = unicodedata.normalize("NFKC", str(value)).translate(_DOTS)
    text = _SPACE.sub("", text)
    return _FLOAT_INT.sub(r"\1", text)


def unique_keys(column: pd.Series) -> tuple[np.ndarray, list[object], list[str]]:
    """Factorise a column: (codes per row, -1 for empty cells), unique raw values, their keys.

    A categorical column (how CSV columns are read) is already factorised.
    """
    if isinstance(column.dtype, pd.CategoricalDtype):
        codes, raw = column.cat.codes.to_numpy(), column.cat.categories.tolist()
        return codes, raw, [key(v) for v in raw]
    codes, uniques = pd.factorize(column, use_na_sentinel=True)
    raw = list(uniques)
    return np.asarray(codes), raw, [key(v) for v in raw]

