"""Shared internals of helpers.stats: levels, numbers with missing values, weights, quantiles."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from helpers.stats._common import (
    flag_values,
    kish_n_eff,
    levels,
    ordinal_codes,
    to_float,
    weight_values,
    z_value,
)


def test_levels_in_display_order() -> None:
    answers = pd.Series(pd.Categorical(["b"], categories=["c", "b", "a"]))
    assert levels(answers) == ["c", "b", "a"]  # unused categories too, in their order
    assert levels(pd.Series([True, None], dtype="boolean")) == [False, True]
    assert levels(pd.Series([3, 1, None, 3])) == [1.0, 3.0]


def test_numbers_and_flags_with_missing_values_become_nan() -> None:
    got = to_float(pd.Series([True, None, False], dtype="boolean"))
    np.testing.assert_array_equal(got, [1.0, np.nan, 0.0])
    np.testing.assert_array_equal(to_float(pd.Series([2, None], dtype="Int64")), [2.0, np.nan])
    ordinal = pd.Series(pd.Categorical(["高い", None, "低い"], categories=["低い", "高い"]))
    np.testing.assert_array_equal(ordinal_codes(ordinal), [2.0, np.nan, 1.0])
    np.testing.assert_array_equal(to_float(ordinal), [2.0, np.nan, 1.0])


def test_a_flag_is_zero_or_one() -> None:
    np.testing.assert_array_equal(flag_values(pd.Series([1, 0, None], dtype="Int64")),
                                  [1.0, 0.0, np.nan])
    with pytest.raises(ValueError, match=r"^'score' is not a flag: 2 values are neither 0/1"):
        flag_values(pd.Series([1, 2, 3, 0], name="score"))


def test_weights_missing_or_negative_are_counted_in_the_error() -> None:
    np.testing.assert_array_equal(weight_values(None, 3), [1.0, 1.0, 1.0])
    np.testing.assert_array_equal(weight_values(pd.Series([0.5, 0.0, 2.0]), 3), [0.5, 0.0, 2.0])
    with pytest.raises(ValueError, match=r"^weights 'w': 2 rows have no weight$"):
        weight_values(pd.Series([1.0, None, None], name="w"), 3)
    with pytest.raises(ValueError, match=r"^weights 'w': 1 rows have negative weights$"):
        weight_values(pd.Series([1.0, 0.0, -0.5], name="w"), 3)  # 0 is a weight, not negative


@pytest.mark.parametrize("level", [0.8, 0.95, 0.99])
def test_z_value_is_the_normal_quantile(level: float) -> None:
    assert z_value(level) == pytest.approx(stats.norm.ppf(1 - (1 - level) / 2), rel=1e-12)


@pytest.mark.parametrize("level", [0.0, 1.0, 95])
def test_a_confidence_level_outside_0_1_is_an_error(level: float) -> None:
    with pytest.raises(ValueError, match="between 0 and 1"):
        z_value(level)


def test_kish_n_eff_by_hand_and_for_no_rows() -> None:
    assert kish_n_eff(np.array([1.0, 1.0, 2.0])) == 16 / 6  # (1 + 1 + 2)² / (1 + 1 + 4)
    assert kish_n_eff(np.ones(7)) == 7
    assert math.isnan(kish_n_eff(np.array([])))
    assert math.isnan(kish_n_eff(np.zeros(3)))
