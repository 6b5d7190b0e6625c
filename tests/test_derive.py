"""Derived variables, each rule on a tiny frame (helpers.derive)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from helpers.derive import (
    RULES,
    bins,
    codes_in,
    derive_all,
    derive_variable,
    difference,
    greater_than,
    sum_of,
)
from helpers.towns import load_town


def _list(s: pd.Series) -> list:
    return [None if pd.isna(v) else v for v in s]


def test_codes_in_flags_lonely_and_keeps_missing():
    df = pd.DataFrame({"x": [1, 2, 3, 4, 5, np.nan]})
    assert _list(codes_in(df, ["x"], codes=[3, 4, 5])) == [0, 0, 1, 1, 1, None]


def test_sum_is_missing_when_any_item_is_missing():
    df = pd.DataFrame({"a": [1, 4, 2], "b": [1, 4, np.nan], "c": [1, 4, 3]})
    assert _list(sum_of(df, ["a", "b", "c"])) == [3, 12, None]


def test_bins_are_closed_left_open_right():
    df = pd.DataFrame({"age": [16, 19, 20, 29, 30, 79, 80, 110, np.nan, -1]})
    got = bins(df, ["age"], edges=[0, 20, 30, 40, 50, 60, 70, 80, 200])
    assert _list(got) == [1, 1, 2, 2, 3, 7, 8, 8, None, None]


def test_difference_and_greater_than():
    df = pd.DataFrame({"w": [3, 1, 2, np.nan], "s": [1, 1, 4, 2]})
    diff = difference(df, ["w", "s"])
    assert _list(diff) == [2, 0, -2, None]
    assert _list(greater_than(pd.DataFrame({"d": diff}), ["d"], value=0)) == [1, 0, 0, None]


def test_ucla_band_uses_codebook_codes(codebook):
    df = pd.DataFrame({"ucla_total": [3, 4, 6, 7, 9, 10, 12, np.nan]})
    assert _list(derive_variable(df, codebook["ucla_band"])) == [1, 2, 2, 3, 3, 4, 4, None]


def test_derive_all_adds_what_the_inputs_allow_and_keeps_a_raw_age_band():
    codebook = load_town("iiyama").codebook  # age bands 18～19歳, 20～29歳, …
    df = pd.DataFrame({
        "lonely_direct": [1, 3], "ucla_1": [1, 4], "ucla_2": [1, 4], "ucla_3": [1, 4],
        "age": [np.nan, 45], "age_band": [2, np.nan],
    })
    out = derive_all(df, codebook)
    assert _list(out["lonely"]) == [0, 1]
    assert _list(out["ucla_total"]) == [3, 12]
    assert _list(out["ucla_band"]) == [1, 4]
    assert _list(out["age_band"]) == [2, 4]
    assert "outing_change" not in out and "outing_less_in_winter" not in out
    assert "lonely" not in df  # the input frame is not changed


def test_every_rule_used_by_the_codebook_has_a_function(codebook):
    assert {v.derive.rule for v in codebook.derived if v.derive} <= set(RULES)
