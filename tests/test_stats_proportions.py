"""Proportions, Wilson and weighted intervals, rate tables (checked against statsmodels)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.stats.proportion import proportion_confint

from helpers.stats import Design, proportion, rake, rate_table

SEXES = ["男性", "女性", "その他・答えたくない"]
AGES = ["19歳以下", "20代", "30代", "40代"]


def flags(x: int, n: int) -> pd.Series:
    return pd.Series([True] * x + [False] * (n - x), dtype="boolean", name="lonely")


@pytest.mark.parametrize(("x", "n"), [(0, 12), (3, 10), (50, 100), (257, 643), (20, 20)])
@pytest.mark.parametrize("level", [0.9, 0.95, 0.99])
def test_wilson_matches_statsmodels(x: int, n: int, level: float) -> None:
    res = proportion(flags(x, n), level=level)
    lo, hi = proportion_confint(x, n, alpha=1 - level, method="wilson")
    assert (res.x, res.n, res.method) == (x, n, "wilson")
    assert res.p == pytest.approx(x / n)
    assert res.lo == pytest.approx(lo, abs=1e-12)
    assert res.hi == pytest.approx(hi, abs=1e-12)
    assert res.n_eff == n
    assert res.se == pytest.approx(np.sqrt(x / n * (1 - x / n) / n), abs=1e-15)  # binomial


def test_missing_flags_are_dropped() -> None:
    s = pd.Series([True, pd.NA, False, True, pd.NA], dtype="boolean")
    res = proportion(s)
    assert (res.x, res.n) == (2, 3)
    lo, hi = proportion_confint(2, 3, method="wilson")
    assert (res.lo, res.hi) == pytest.approx((lo, hi))


def test_zero_one_integers_are_flags_and_other_values_are_errors() -> None:
    assert proportion(pd.Series([1, 0, 1, pd.NA], dtype="Int8")).p == pytest.approx(2 / 3)
    with pytest.raises(ValueError, match="not a flag"):
        proportion(pd.Series([1.0, 2.0, 0.0]))


def test_empty_flag_gives_nan_without_error() -> None:
    res = proportion(pd.Series([pd.NA, pd.NA], dtype="boolean"))
    assert res.n == 0
    assert np.isnan([res.p, res.lo, res.hi]).all()


def test_equal_weights_without_calibration_by_hand() -> None:
    # Fixed equal weights: influence (y − p)/n, variance n/(n − 1)·Σ(y − p)²/n² = p(1 − p)/(n − 1);
    # the interval is expit(logit p ± t₁₉₉·se/(p(1 − p))).
    rng = np.random.default_rng(1)
    s = pd.Series(rng.random(200) < 0.3, dtype="boolean")
    res = proportion(s, Design.from_weights(pd.Series(np.full(200, 2.5))))
    p = float(s.mean())
    se = np.sqrt(p * (1 - p) / 199)
    half = stats.t.ppf(0.975, 199) * se / (p * (1 - p))
    logit = np.log(p / (1 - p))
    assert res.method == "logit"
    assert (res.p, res.se, res.n_eff) == pytest.approx((p, se, 200))
    bounds = 1 / (1 + np.exp(-np.array([logit - half, logit + half])))
    assert (res.lo, res.hi) == pytest.approx(bounds)


def test_unequal_weights_by_hand() -> None:
    y = pd.Series([1, 1, 0, 0, 1, pd.NA], dtype="Int8")
    w = pd.Series([1.0, 2.0, 3.0, 1.0, 1.0, 1.0])
    res = proportion(y, Design.from_weights(w))
    # p = (1 + 2 + 1) / 8 = 0.5; Kish n_eff = 8² / (1 + 4 + 9 + 1 + 1) = 4; influence
    # w(y − p)/8 = (0.5, 1, −1.5, −0.5, 0.5)/8 (0 for the unanswered row, which is outside
    # the subgroup): Σz² = 4/64, mean 0, variance 6/5 · 4/64 → se = √(6/5)/4
    assert res.p == pytest.approx(0.5)
    assert res.n_eff == pytest.approx(4.0)
    assert (res.x, res.n) == (3, 5)
    assert res.se == pytest.approx(np.sqrt(6 / 5) / 4)
    half = stats.t.ppf(0.975, 4) * res.se / 0.25
    assert (res.lo, res.hi) == pytest.approx((1 / (1 + np.exp(half)), 1 / (1 + np.exp(-half))))


def test_post_stratification_gives_the_textbook_variance() -> None:
    # One calibration margin = post-stratification: var = n/(n − 1)·Σ_h P_h²·Σ_{i∈h}(y − ȳ_h)²/n_h²
    rng = np.random.default_rng(4)
    df = pd.DataFrame({"sex": rng.choice(["男性", "女性"], 300, p=[0.3, 0.7])})
    df["lonely"] = pd.array(rng.random(300) < np.where(df["sex"] == "男性", 0.5, 0.3),
                            dtype="boolean")
    design = rake(df, {"sex": {"男性": 480.0, "女性": 520.0}}, trim=None).design
    res = proportion(df["lonely"], design)
    y = df["lonely"].astype(float)
    share = {"男性": 0.48, "女性": 0.52}
    var = sum(share[h] ** 2 * ((g - g.mean()) ** 2).sum() / len(g) ** 2
              for h, g in y.groupby(df["sex"]))
    assert res.p == pytest.approx(sum(share[h] * g.mean() for h, g in y.groupby(df["sex"])))
    assert res.se == pytest.approx(np.sqrt(300 / 299 * var))


def test_a_calibrated_share_has_no_sampling_error() -> None:
    # the share of men is fixed by the margin: its linearized variance is 0, the interval a point
    rng = np.random.default_rng(5)
    df = pd.DataFrame({"sex": rng.choice(["男性", "女性"], 200),
                       "ward": rng.choice(["A", "B"], 200)})
    design = rake(df, {"sex": {"男性": 1.0, "女性": 1.0}, "ward": {"A": 2.0, "B": 1.0}},
                  trim=None).design
    res = proportion((df["sex"] == "男性").astype("boolean"), design)
    assert res.p == pytest.approx(0.5)
    assert res.se == pytest.approx(0.0, abs=1e-12)
    assert (res.lo, res.hi) == pytest.approx((0.5, 0.5))


def test_unequal_weights_widen_the_interval() -> None:
    rng = np.random.default_rng(2)
    s = pd.Series(rng.random(400) < 0.4, dtype="boolean")
    w = pd.Series(rng.choice([0.5, 2.0], 400))
    plain, weighted = proportion(s), proportion(s, Design.from_weights(w))
    assert weighted.n_eff < 400
    assert weighted.hi - weighted.lo > plain.hi - plain.lo


def test_weighted_share_of_zero_falls_back_to_wilson_on_n_eff() -> None:
    s = pd.Series([False] * 30, dtype="boolean")
    w = pd.Series(np.r_[np.full(10, 2.0), np.ones(20)])
    res = proportion(s, Design.from_weights(w))
    assert res.method == "wilson-kish"
    n_eff = 40**2 / (10 * 4 + 20)
    assert (res.lo, res.hi) == pytest.approx(proportion_confint(0, n_eff, method="wilson"))
    assert (res.n, res.x, res.n_eff, res.se) == (30, 0.0, pytest.approx(n_eff), 0.0)


def test_rows_outside_the_design_are_left_out() -> None:
    s = pd.Series([True, False, True, True], dtype="boolean", index=[10, 11, 12, 13])
    design = Design.from_weights(pd.Series([1.0, 1.0, 2.0], index=[10, 11, 12]))
    res = proportion(s, design)
    assert (res.n, res.x, res.p) == (3, 2, pytest.approx(0.75))


def test_missing_or_negative_weights_are_errors() -> None:
    with pytest.raises(ValueError, match="positive"):
        Design.from_weights(pd.Series([1.0, np.nan, 1.0]))
    with pytest.raises(ValueError, match="positive"):
        Design.from_weights(pd.Series([1.0, -1.0, 1.0]))


@pytest.fixture
def survey() -> pd.DataFrame:
    rng = np.random.default_rng(3)
    n = 400
    df = pd.DataFrame(
        {
            "sex": pd.Categorical(rng.choice(SEXES, n, p=[0.49, 0.49, 0.02]), categories=SEXES),
            # 19歳以下 is never used; 20代 is small
            "age_band": pd.Categorical(
                rng.choice(AGES[1:], n, p=[0.04, 0.48, 0.48]), categories=AGES, ordered=True
            ),
            "lonely": pd.array(rng.random(n) < 0.4, dtype="boolean"),
            "w": rng.uniform(0.5, 2.0, n),
        }
    )
    df.loc[rng.choice(n, 15, replace=False), "lonely"] = pd.NA
    df.loc[rng.choice(n, 5, replace=False), "age_band"] = np.nan
    return df


def test_rate_table_layout(survey: pd.DataFrame) -> None:
    t = rate_table(survey, "lonely", ["sex", "age_band"])
    assert len(t) == len(SEXES) * (1 + len(AGES))
    expected = [(s, a) for s in SEXES for a in ["全体", *AGES]]
    assert list(zip(t["sex"], t["age_band"], strict=True)) == expected
    assert list(t["age_band"].cat.categories) == ["全体", *AGES]
    assert list(t["sex"].cat.categories) == SEXES
    assert list(t.columns) == [
        "sex", "age_band", "n", "x", "p", "lo", "hi", "se", "n_eff", "suppressed"
    ]


def test_rate_table_values_match_an_independent_count(survey: pd.DataFrame) -> None:
    t = rate_table(survey, "lonely", ["sex", "age_band"], min_cell=10)
    answered = survey.dropna(subset=["lonely"])
    for row in t.itertuples():
        rows = answered[answered["sex"] == row.sex]
        if row.age_band != "全体":
            rows = rows[rows["age_band"] == row.age_band]
        n, x = len(rows), int(rows["lonely"].sum())
        assert row.n == n
        assert row.suppressed == (n < 10)
        if n < 10:
            assert np.isnan([row.x, row.p, row.lo, row.hi]).all()
            continue
        lo, hi = proportion_confint(x, n, method="wilson")
        assert (row.x, row.p, row.lo, row.hi) == pytest.approx((x, x / n, lo, hi))


def test_rate_table_suppresses_small_and_empty_groups(survey: pd.DataFrame) -> None:
    t = rate_table(survey, "lonely", ["age_band"], min_cell=30).set_index("age_band")
    assert t.loc["19歳以下", "n"] == 0
    assert t.loc["20代", "n"] < 30
    assert t.loc[["19歳以下", "20代"], "suppressed"].all()
    assert t.loc[["19歳以下", "20代"], ["x", "p", "lo", "hi"]].isna().all().all()
    assert not t.loc[["30代", "40代"], "suppressed"].any()
    assert len(t) == len(AGES)  # one by-column: no total rows


def test_weighted_rate_table(survey: pd.DataFrame) -> None:
    design = Design.from_weights(survey["w"])
    t = rate_table(survey, "lonely", ["sex"], design=design).set_index("sex")
    answered = survey.dropna(subset=["lonely"])
    for sex in ["男性", "女性"]:
        g = answered[answered["sex"] == sex]
        y = g["lonely"].astype(float).to_numpy()
        assert t.loc[sex, "p"] == pytest.approx(np.average(y, weights=g["w"]))
        assert t.loc[sex, "n"] == len(g)
        assert t.loc[sex, "n_eff"] == pytest.approx(g["w"].sum() ** 2 / (g["w"] ** 2).sum())
        # by hand, as R's svyciprop(~lonely, subset(design, sex == …), method = "logit"): the
        # domain's linearized variance over the whole design (influence 0 outside the domain),
        # and t on the domain's n − 1 degrees of freedom
        w = survey["w"].to_numpy()
        inside = survey.index.isin(g.index)
        y = survey["lonely"].fillna(False).astype(float).to_numpy()
        p = (w * y)[inside].sum() / w[inside].sum()
        z = np.where(inside, w * (y - p), 0.0) / w[inside].sum()
        se = np.sqrt(len(w) / (len(w) - 1) * ((z - z.mean()) ** 2).sum())
        half = stats.t.ppf(0.975, len(g) - 1) * se / (p * (1 - p))
        logit = np.log(p / (1 - p)) + np.array([-half, half])
        assert (t.loc[sex, "se"], t.loc[sex, "lo"], t.loc[sex, "hi"]) == pytest.approx(
            (se, *(1 / (1 + np.exp(-logit)))), abs=1e-12)


def test_rate_table_on_plain_and_boolean_columns() -> None:
    df = pd.DataFrame(
        {
            "ward": pd.array(["門司区", "若松区", "門司区", None] * 10, dtype="str"),
            "alone": pd.array([True, False] * 20, dtype="boolean"),
            "lonely": pd.array([True, False, False, True, True] * 8, dtype="boolean"),
        }
    )
    t = rate_table(df, "lonely", ["ward", "alone"], min_cell=1, level=0.9)
    assert list(t["ward"].cat.categories) == sorted(["門司区", "若松区"])
    assert list(t["alone"].cat.categories) == ["全体", False, True]
    row = t[(t["ward"] == "門司区") & (t["alone"] == True)].iloc[0]  # noqa: E712
    sub = df[(df["ward"] == "門司区") & df["alone"]]
    x, n = int(sub["lonely"].sum()), len(sub)
    assert (row["n"], row["x"]) == (n, x)
    assert (row["lo"], row["hi"]) == pytest.approx(
        proportion_confint(x, n, alpha=0.1, method="wilson")
    )


def test_rate_table_needs_a_group() -> None:
    with pytest.raises(ValueError, match="at least one"):
        rate_table(pd.DataFrame({"lonely": [True]}), "lonely", [])


def test_logit_interval_by_hand_and_where_it_has_none() -> None:
    from helpers.stats.proportions import logit_interval

    t = stats.t.ppf(0.975, 99)
    half = t * 0.05 / (0.3 * 0.7)
    expected = [1 / (1 + np.exp(-(np.log(0.3 / 0.7) + s * half))) for s in (-1, 1)]
    assert logit_interval(0.3, 0.05, 99) == pytest.approx(expected, rel=1e-12)
    for p, df in ((0.0, 99), (1.0, 99), (0.3, 0)):
        assert np.isnan(logit_interval(p, 0.05, df)).all()


def test_respondents_without_a_group_are_in_no_group() -> None:
    df = pd.DataFrame({"ward": pd.array(["門司区", None, "若松区", None, "門司区"] * 4,
                                        dtype="str"),
                       "lonely": pd.array([True, True, False, True, True] * 4, dtype="boolean")})
    t = rate_table(df, "lonely", ["ward"], min_cell=1).set_index("ward")
    assert (t.loc["門司区", "n"], t.loc["門司区", "x"]) == (8, 8)
    assert (t.loc["若松区", "n"], t.loc["若松区", "x"]) == (4, 0)
    df["alone"] = pd.array([True, None, False, None, True] * 4, dtype="boolean")  # NA, not False
    t = rate_table(df, "lonely", ["alone"], min_cell=1).set_index("alone")
    assert (t.loc[True, "n"], t.loc[False, "n"]) == (8, 4)
