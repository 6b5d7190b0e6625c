"""Raking: a hand-worked 2×2 IPF, margins after convergence, trimming and the error messages."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from helpers.errors import UserError
from helpers.stats import add_sex_age, rake, sex_age_margins

AGES = ["19歳以下", "20代", "30代", "40代"]


def sample_2x2() -> pd.DataFrame:
    # respondents: A·X 30, A·Y 20, B·X 10, B·Y 40
    cells = [("A", "X", 30), ("A", "Y", 20), ("B", "X", 10), ("B", "Y", 40)]
    rows = [(s, r) for s, r, k in cells for _ in range(k)]
    return pd.DataFrame(rows, columns=["sex", "region"])


MARGINS_2X2 = {"sex": {"A": 5000, "B": 5000}, "region": {"X": 6000, "Y": 4000}}


def cell_weights(df: pd.DataFrame, w: pd.Series) -> dict[tuple[str, str], float]:
    return {k: float(v) for k, v in w.groupby([df["sex"], df["region"]]).mean().items()}


def test_two_by_two_ipf_by_hand() -> None:
    # The raked cell totals keep the sample odds ratio (30·40)/(20·10) = 6 and meet the margins
    # 50/50 and 60/40: with m = A·X total, m(m − 10) = 6(50 − m)(60 − m) → m = 40, so the cells
    # are 40, 10, 20, 30 and the weights 40/30, 10/20, 20/10, 30/40.
    df = sample_2x2()
    res = rake(df, MARGINS_2X2, trim=None, tol=1e-10, max_iter=1000)
    assert res.converged
    expected = {("A", "X"): 4 / 3, ("A", "Y"): 0.5, ("B", "X"): 2.0, ("B", "Y"): 0.75}
    assert cell_weights(df, res.weights) == pytest.approx(expected, rel=1e-8)
    assert res.weights.mean() == pytest.approx(1.0)
    assert res.weights.index.equals(df.index)
    # Kish: n_eff = (Σw)² / Σw² = 100² / (30·16/9 + 20/4 + 10·4 + 40·9/16)
    n_eff = 100**2 / (30 * 16 / 9 + 20 / 4 + 10 * 4 + 40 * 9 / 16)
    assert res.n_eff == pytest.approx(n_eff, rel=1e-6)
    assert res.efficiency == pytest.approx(n_eff / 100, rel=1e-6)


def test_trimming_within_a_feasible_range() -> None:
    # Weights constant within cells meet the margins along a line: B·X = s, A·X = (60 − 10s)/30,
    # A·Y = (s − 1)/2, B·Y = (50 − 10s)/40. With an upper bound of 1.8 the solution s = 1.8
    # keeps every weight in [0.3, 1.8] (A·X 1.4, A·Y 0.4, B·Y 0.8).
    df = sample_2x2()
    res = rake(df, MARGINS_2X2, trim=(0.3, 1.8), tol=1e-8, max_iter=5000)
    assert res.converged
    assert res.weights.max() <= 1.8 + 1e-9
    assert res.weights.min() >= 0.3 - 1e-9
    assert res.max_margin_error < 1e-6
    assert cell_weights(df, res.weights) == pytest.approx(
        {("A", "X"): 1.4, ("A", "Y"): 0.4, ("B", "X"): 1.8, ("B", "Y"): 0.8}, abs=1e-5
    )


def survey(n: int = 600, seed: int = 41) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "sex": pd.Categorical(rng.choice(["男性", "女性"], n, p=[0.4, 0.6])),
            "age_band": pd.Categorical(
                rng.choice(AGES[1:], n, p=[0.15, 0.35, 0.5]), categories=AGES, ordered=True
            ),
            "district": pd.Categorical(rng.choice(["飯山", "秋津", "木島"], n, p=[0.5, 0.3, 0.2])),
        }
    )


POPULATION = {
    "男性": {"20代": 900, "30代": 1000, "40代": 1200},
    "女性": {"20代": 850, "30代": 1050, "40代": 1250},
}


def test_weighted_margins_meet_the_targets() -> None:
    df = add_sex_age(survey())
    district = {"飯山": 3000.0, "秋津": 2000.0, "木島": 1400.0}  # total differs from sex × age
    margins = {"sex_age": sex_age_margins(POPULATION), "district": district}
    res = rake(df, margins)
    assert res.converged and res.max_margin_error <= 1e-6
    w = res.weights
    for col, pop in margins.items():
        got = w.groupby(df[col].astype(str)).sum() / w.sum()
        target = pd.Series(pop) / sum(pop.values())
        assert np.allclose(got.reindex(target.index), target, atol=1e-6)
    assert w.mean() == pytest.approx(1.0)
    assert res.n_eff == pytest.approx(w.sum() ** 2 / (w**2).sum())
    assert res.efficiency == pytest.approx(res.n_eff / len(df)) and res.efficiency < 0.999


def test_trimming_bounds_are_respected() -> None:
    df = survey()
    margins = {"district": {"飯山": 100.0, "秋津": 100.0, "木島": 800.0}}  # 木島 needs weight 4
    loose = rake(df, margins, trim=None)
    assert loose.weights.max() > 3
    with pytest.raises(UserError, match="did not converge"):
        rake(df, margins, trim=(0.3, 3.0))
    res = rake(df, margins, trim=(0.3, 3.0), strict=False)
    assert not res.converged
    assert res.iterations == 1000
    assert res.trimmed == int((res.weights == 3.0).sum()) > 0
    assert not res.design.calibrated  # weights that miss the margins are taken as fixed
    assert res.weights.max() <= 3.0 + 1e-12
    assert res.weights.min() >= 0.3 - 1e-12
    assert res.max_margin_error > 0.01


def test_population_category_without_respondents() -> None:
    df = survey()
    margins = {"district": {"飯山": 1.0, "秋津": 1.0, "木島": 1.0, "富倉": 1.0}}
    with pytest.raises(UserError, match="no respondent") as err:
        rake(df, margins)
    assert "district" in str(err.value) and "富倉" in str(err.value)


def test_respondents_in_a_category_the_margin_lacks() -> None:
    df = survey()
    n_kijima = int((df["district"] == "木島").sum())
    with pytest.raises(UserError, match="has no category for") as err:
        rake(df, {"district": {"飯山": 1.0, "秋津": 1.0}})
    assert "district" in str(err.value)
    assert f"「木島」 ({n_kijima} respondents)" in str(err.value)
    n_akitsu = int((df["district"] == "秋津").sum())
    with pytest.raises(UserError, match=f"「秋津」 \\({n_akitsu} respondents\\)"):
        rake(df, {"district": {"飯山": 1.0}})


def test_respondents_in_a_category_with_zero_population() -> None:
    with pytest.raises(UserError, match="population in margin") as err:
        rake(survey(), {"district": {"飯山": 1.0, "秋津": 1.0, "木島": 0.0}})
    assert "木島" in str(err.value)


def test_missing_answers_in_a_margin_variable() -> None:
    df = survey()
    df.loc[[3, 7, 11], "district"] = np.nan
    with pytest.raises(UserError, match="3 respondents have no answer") as err:
        rake(df, {"district": {"飯山": 1.0, "秋津": 1.0, "木島": 1.0}})
    assert err.value.column == "district"


def test_margin_column_not_in_the_data() -> None:
    with pytest.raises(UserError, match="not a column"):
        rake(survey(), {"ward": {"門司区": 1.0}})


def test_sex_age_helpers() -> None:
    margins = sex_age_margins(POPULATION)
    assert margins["女性×30代"] == 1050.0
    assert len(margins) == 6
    df = survey(20)
    df.loc[0, "sex"] = np.nan
    out = add_sex_age(df)
    assert "sex_age" not in df.columns  # the input is not modified
    assert pd.isna(out.loc[0, "sex_age"])
    row = out.loc[1]
    assert row["sex_age"] == f"{row['sex']}×{row['age_band']}"
    cats = list(out["sex_age"].cat.categories)
    assert cats[:4] == ["女性×19歳以下", "女性×20代", "女性×30代", "女性×40代"]
    assert len(cats) == 2 * len(AGES)


def _refused(df: pd.DataFrame, margins: dict) -> tuple:
    with pytest.raises(UserError) as err:
        rake(df, margins)
    e = err.value
    return e.problem, e.column, e.value, e.hint


def test_each_margin_error_says_what_and_what_to_do() -> None:
    """The exact problem, column, value and hint of every margin that does not fit the data."""
    df = sample_2x2()
    merge = ("merge the category with a neighbouring one in both the data and the population "
             "margin, or check the spelling of the labels in the town's parameter file")
    assert _refused(df, {"ward": {"門司区": 1.0}}) == (
        "the weighting margin 「ward」 is not a column of the data", "ward", None,
        "columns are: sex, region")
    for population in ({"A": 1.0, "B": -1.0}, {"A": 0.0, "B": 0.0}):
        assert _refused(df, {"sex": population}) == (
            "population margin 「sex」 must have non-negative counts with a positive total",
            "sex", None, None)
    gaps = df.copy()
    gaps.loc[[0, 1], "sex"] = None
    assert _refused(gaps, {"sex": {"A": 1.0, "B": 1.0}}) == (
        "2 respondents have no answer for 「sex」, so they cannot be weighted", "sex", None,
        "leave those respondents out of the weighted estimates (or impute the answer) before "
        "raking")
    assert _refused(df, {"region": {"X": 1.0}}) == (
        "the population margin 「region」 has no category for 「Y」 (60 respondents)", "region",
        "Y", merge)
    assert _refused(df, {"region": {"X": 1.0, "Y": 1.0, "Z": 5.0}}) == (
        "the population margin 「region」 has 5 people in 「Z」 but no respondent is in that "
        "category", "region", "Z", merge)
