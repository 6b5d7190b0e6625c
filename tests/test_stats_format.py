"""Japanese number formats: half-up rounding on the shown decimals."""

from __future__ import annotations

import doctest

import pandas as pd
import pytest

from helpers.stats import (
    fmt_ci,
    fmt_n,
    fmt_p,
    fmt_pct,
    fmt_percent,
    fmt_points,
    percent,
    points,
    round_half_up,
)
from helpers.stats import format as fmt_module


def test_doctests() -> None:
    result = doctest.testmod(fmt_module)
    assert result.attempted >= 6
    assert result.failed == 0


@pytest.mark.parametrize(
    ("p", "digits", "shown"),
    [
        (0.5, 1, "50.0%"),
        (8 / 19, 1, "42.1%"),  # 42.105… → 42.1
        (0.12345, 2, "12.35%"),  # half-up on the decimal (float arithmetic gives 12.34)
        (0.0005, 1, "0.1%"),
        (0.00049, 1, "0.0%"),
        (0.125, 0, "13%"),  # Python's round() would give 12
        (1.0, 1, "100.0%"),
        (0.0, 1, "0.0%"),
    ],
)
def test_fmt_pct_rounds_half_up(p: float, digits: int, shown: str) -> None:
    assert fmt_pct(p, digits) == shown


@pytest.mark.parametrize("missing", [None, float("nan"), pd.NA])
def test_missing_values_show_a_dash(missing: object) -> None:
    assert fmt_pct(missing) == "—"
    assert fmt_n(missing) == "—"
    assert fmt_p(missing) == "—"
    assert fmt_points(missing, 0.3) == "—"
    assert fmt_ci(missing, 0.5) == ""


def test_round_half_up_differs_from_bankers_rounding() -> None:
    assert round_half_up(2.5) == 3.0
    assert round_half_up(0.0345, 3) == 0.035
    assert round_half_up(-0.125, 2) == -0.13
    assert round(100 * 13 / 80, 1) == 16.2  # what Python's round would publish for 13/80
    assert round_half_up(13 / 80, 1, shift=2) == 16.3


@pytest.mark.parametrize(
    ("x", "n", "shown"),
    [
        (13, 80, 16.3),  # 16.25 % → 16.3 % (四捨五入); round() and float × 100 give 16.2
        (1, 8, 12.5),
        (1, 16, 6.3),  # 6.25 → 6.3
        (57, 200, 28.5),  # 0.285 × 100 = 28.499999999999996 in floats
        (8, 19, 42.1),
        (1, 3, 33.3),
        (2, 3, 66.7),
    ],
)
def test_shares_are_published_as_percentages_rounded_half_up(x: int, n: int, shown: float) -> None:
    assert percent(x / n) == shown
    assert fmt_pct(x / n) == fmt_percent(shown) == f"{shown:.1f}%"


def test_fmt_ci_of_published_percentages() -> None:
    assert fmt_ci(41.2, 58.8) == "（95%信頼区間 41.2～58.8%）"
    assert fmt_ci(10, 20, level=0.9) == "（90%信頼区間 10.0～20.0%）"


def test_fmt_n() -> None:
    assert fmt_n(1234) == "1,234人"
    assert fmt_n(643.0) == "643人"
    assert fmt_n(0) == "0人"


def test_fmt_p() -> None:
    assert fmt_p(0.00099) == "p<0.001"
    assert fmt_p(0.001) == "p=0.001"
    assert fmt_p(0.0345) == "p=0.035"
    assert fmt_p(0.5) == "p=0.500"


def test_points_use_the_shown_percentages() -> None:
    # BRIEF §5: women in their 40s 42.1 %, all women 32.8 % → 9.3 points
    assert fmt_points(percent(8 / 19), percent(0.32795)) == "9.3ポイント"
    # unrounded difference 9.28 would give 9.3, but the reader sees 42.1 − 32.9 = 9.2
    assert fmt_points(percent(0.4214), percent(0.3286)) == "9.2ポイント"
    assert points(42.1, 32.9) == 9.2  # not 9.200000000000003
    assert fmt_points(30.0, 35.0) == "-5.0ポイント"
    assert fmt_points(30.0, 35.0, digits=0) == "-5ポイント"
