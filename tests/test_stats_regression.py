"""Logistic odds ratios: a hand-worked 2×2 table and a statsmodels formula fit."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf
from scipy import stats

from helpers.stats import Design, logistic_odds_ratios

FACES = ["良いと思う", "良くないと思う", "どちらともいえない"]
SEXES = ["男性", "女性"]


def two_by_two() -> pd.DataFrame:
    # not valuing faces: 30 lonely, 20 not; valuing: 15 lonely, 35 not
    faces = ["良くないと思う"] * 50 + ["良いと思う"] * 50
    lonely = [True] * 30 + [False] * 20 + [True] * 15 + [False] * 35
    return pd.DataFrame(
        {
            "town_faces": pd.Categorical(faces, categories=FACES),
            "lonely": pd.array(lonely, dtype="boolean"),
        }
    )


def test_two_by_two_by_hand() -> None:
    out = logistic_odds_ratios(two_by_two(), "lonely", ["town_faces"])
    columns = ["term", "level", "odds_ratio", "lo", "hi", "p", "se", "n", "is_reference",
               "estimable"]
    assert out.columns.tolist() == columns
    # どちらともいえない has no respondents: left out
    assert out["level"].tolist() == ["良いと思う", "良くないと思う"]
    ref, row = out.iloc[0], out.iloc[1]
    assert ref["is_reference"] and ref["odds_ratio"] == 1.0 and np.isnan(ref["lo"])
    # OR = ad / bc = (30·35) / (20·15); Woolf: se(log OR) = √(1/a + 1/b + 1/c + 1/d)
    odds_ratio = 30 * 35 / (20 * 15)
    se = np.sqrt(1 / 30 + 1 / 20 + 1 / 15 + 1 / 35)
    z = stats.norm.ppf(0.975)
    assert row["odds_ratio"] == pytest.approx(odds_ratio)
    assert row["lo"] == pytest.approx(np.exp(np.log(odds_ratio) - z * se))
    assert row["hi"] == pytest.approx(np.exp(np.log(odds_ratio) + z * se))
    assert row["p"] == pytest.approx(2 * stats.norm.sf(np.log(odds_ratio) / se), rel=1e-5)
    assert row["se"] == pytest.approx(se)
    assert (ref["n"], row["n"]) == (50, 50)
    assert out.attrs["n"] == 100


def test_reference_level_can_be_chosen() -> None:
    out = logistic_odds_ratios(
        two_by_two(), "lonely", ["town_faces"], reference={"town_faces": "良くないと思う"}
    )
    assert out.loc[out["is_reference"], "level"].tolist() == ["良くないと思う"]
    assert out.loc[~out["is_reference"], "odds_ratio"].iloc[0] == pytest.approx(20 * 15 / (30 * 35))


def test_matches_a_statsmodels_formula_fit_with_covariates() -> None:
    rng = np.random.default_rng(31)
    n = 800
    faces = rng.choice(3, n, p=[0.6, 0.15, 0.25])
    sex = rng.choice(2, n)
    age = rng.uniform(18, 90, n)
    logit = -0.8 + np.array([0, 0.7, 0.4])[faces] + 0.2 * sex - 0.01 * (age - 50)
    lonely = rng.random(n) < 1 / (1 + np.exp(-logit))
    df = pd.DataFrame(
        {
            "town_faces": pd.Categorical.from_codes(faces, categories=FACES),
            "sex": pd.Categorical.from_codes(sex, categories=SEXES),
            "age": pd.array(age, dtype="Float64"),
            "lonely": pd.array(lonely, dtype="boolean"),
        }
    )
    df.loc[rng.choice(n, 30, replace=False), "sex"] = np.nan
    df.loc[rng.choice(n, 30, replace=False), "lonely"] = pd.NA

    out = logistic_odds_ratios(df, "lonely", ["town_faces", "sex", "age"])

    data = df.dropna().astype({"lonely": int, "age": float, "town_faces": str, "sex": str})
    fit = smf.logit(
        "lonely ~ C(town_faces, Treatment('良いと思う')) + C(sex, Treatment('男性')) + age", data
    ).fit(disp=0)
    ci = fit.conf_int()
    expected = {
        (
            "town_faces",
            "良くないと思う",
        ): "C(town_faces, Treatment('良いと思う'))[T.良くないと思う]",
        (
            "town_faces",
            "どちらともいえない",
        ): "C(town_faces, Treatment('良いと思う'))[T.どちらともいえない]",
        ("sex", "女性"): "C(sex, Treatment('男性'))[T.女性]",
        ("age", "1単位あたり"): "age",
    }
    est = out[~out["is_reference"]].set_index(["term", "level"])
    assert set(est.index) == set(expected)
    for key, name in expected.items():
        assert est.loc[key, "odds_ratio"] == pytest.approx(np.exp(fit.params[name]), rel=1e-6)
        assert est.loc[key, "lo"] == pytest.approx(np.exp(ci.loc[name, 0]), rel=1e-6)
        assert est.loc[key, "hi"] == pytest.approx(np.exp(ci.loc[name, 1]), rel=1e-6)
        assert est.loc[key, "p"] == pytest.approx(fit.pvalues[name], rel=1e-5)
    assert out.attrs["n"] == len(data)
    assert est.loc[("sex", "女性"), "n"] == int((data["sex"] == "女性").sum())


def test_weights_act_as_replication_for_the_estimates() -> None:
    rng = np.random.default_rng(32)
    n = 300
    df = pd.DataFrame(
        {
            "town_faces": pd.Categorical.from_codes(rng.choice(3, n), categories=FACES),
            "lonely": pd.array(rng.random(n) < 0.4, dtype="boolean"),
            "w": rng.integers(1, 4, n).astype(float),
        }
    )
    weighted = logistic_odds_ratios(
        df, "lonely", ["town_faces"], design=Design.from_weights(df["w"])
    )
    replicated = df.loc[df.index.repeat(df["w"].astype(int))]
    plain = logistic_odds_ratios(replicated, "lonely", ["town_faces"])
    assert np.allclose(weighted["odds_ratio"], plain["odds_ratio"])
    assert (
        weighted["n"].tolist() == logistic_odds_ratios(df, "lonely", ["town_faces"])["n"].tolist()
    )


def test_unit_weights_give_the_robust_sandwich_with_the_design_factor() -> None:
    # Without calibration, the linearized covariance is the HC0 sandwich times n/(n − 1), and
    # intervals and p-values use Student t on n − k degrees of freedom (R's svyglm).
    rng = np.random.default_rng(33)
    n = 400
    df = pd.DataFrame(
        {
            "town_faces": pd.Categorical.from_codes(rng.choice(3, n), categories=FACES),
            "lonely": pd.array(rng.random(n) < 0.4, dtype="boolean"),
            "w": np.ones(n),
        }
    )
    out = logistic_odds_ratios(df, "lonely", ["town_faces"], design=Design.from_weights(df["w"]))
    data = df.astype({"lonely": int, "town_faces": str})
    fit = smf.logit("lonely ~ C(town_faces, Treatment('良いと思う'))", data).fit(
        disp=0, cov_type="HC0"
    )
    name = "C(town_faces, Treatment('良いと思う'))[T.良くないと思う]"
    row = out.set_index("level").loc["良くないと思う"]
    se = fit.bse[name] * np.sqrt(n / (n - 1))
    t = stats.t.ppf(0.975, n - 3)
    assert row["se"] == pytest.approx(se, rel=1e-6)
    assert row["lo"] == pytest.approx(np.exp(fit.params[name] - t * se), rel=1e-6)
    assert row["p"] == pytest.approx(2 * stats.t.sf(abs(fit.params[name] / se), n - 3), rel=1e-5)


def test_separated_levels_are_not_estimated() -> None:
    df = two_by_two()
    df["town_faces"] = df["town_faces"].cat.reorder_categories(
        ["どちらともいえない", "良いと思う", "良くないと思う"]
    )
    # three more respondents who all feel lonely in the (first) category どちらともいえない
    extra = pd.DataFrame(
        {
            "town_faces": pd.Categorical(
                ["どちらともいえない"] * 3, categories=df["town_faces"].cat.categories
            ),
            "lonely": pd.array([True] * 3, dtype="boolean"),
        }
    )
    out = logistic_odds_ratios(pd.concat([df, extra], ignore_index=True), "lonely", ["town_faces"])
    rows = out.set_index("level")
    # the first category cannot be the reference (constant outcome): the next one is
    assert rows.loc["良いと思う", "is_reference"]
    assert not rows.loc["どちらともいえない", "estimable"]
    assert np.isnan(
        rows.loc["どちらともいえない", ["odds_ratio", "lo", "hi", "p"]].astype(float)
    ).all()
    assert rows.loc["どちらともいえない", "n"] == 3
    # the dummy absorbs the separated rows: the other estimate is the 2×2 one
    assert rows.loc["良くないと思う", "odds_ratio"] == pytest.approx(30 * 35 / (20 * 15), rel=1e-6)
    with pytest.raises(ValueError, match="same outcome"):
        logistic_odds_ratios(
            pd.concat([df, extra], ignore_index=True),
            "lonely",
            ["town_faces"],
            reference={"town_faces": "どちらともいえない"},
        )


def test_errors() -> None:
    df = two_by_two()
    with pytest.raises(ValueError, match="reference level"):
        logistic_odds_ratios(
            df, "lonely", ["town_faces"], reference={"town_faces": "どちらともいえない"}
        )
    one_level = df[df["town_faces"] == "良いと思う"]
    with pytest.raises(ValueError, match="single answered level"):
        logistic_odds_ratios(one_level, "lonely", ["town_faces"])
    all_lonely = df.assign(lonely=pd.array([True] * len(df), dtype="boolean"))
    with pytest.raises(ValueError, match="single value"):
        logistic_odds_ratios(all_lonely, "lonely", ["town_faces"])


def test_weighted_model_with_a_separated_level_by_hand() -> None:
    # With one categorical predictor the weighted odds ratio is the weighted 2×2 ratio
    # (Σw over each cell); the level where everyone is lonely stays in but is not estimated.
    df = two_by_two()
    extra = pd.DataFrame({
        "town_faces": pd.Categorical(["どちらともいえない"] * 3, categories=FACES),
        "lonely": pd.array([True] * 3, dtype="boolean"),
    })
    df = pd.concat([df, extra], ignore_index=True)
    w = pd.Series(np.random.default_rng(34).uniform(0.5, 2.0, len(df)))
    out = logistic_odds_ratios(df, "lonely", ["town_faces"], design=Design.from_weights(w))
    out = out.set_index("level")
    cell = w.groupby([df["town_faces"].astype(str), df["lonely"].astype(bool)]).sum()
    by_hand = (cell[("良くないと思う", True)] * cell[("良いと思う", False)]
               / (cell[("良くないと思う", False)] * cell[("良いと思う", True)]))
    assert out.loc["良くないと思う", "odds_ratio"] == pytest.approx(by_hand, rel=1e-6)
    assert not out.loc["どちらともいえない", "estimable"]
    assert np.isnan(out.loc["どちらともいえない", "odds_ratio"])
