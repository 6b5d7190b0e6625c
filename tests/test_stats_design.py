"""Design-based inference on a raked sample against R's ``survey`` package (every number of
tests/fixtures/r_survey_iiyama/r_survey_reference.json, to 1e-6), plus hand-worked cases."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from helpers.stats import (
    Design,
    logistic_odds_ratios,
    proportion,
    rake,
    rao_scott,
    rate_table,
)

FIXTURE = Path(__file__).parent / "fixtures" / "r_survey_iiyama"
REFERENCE = json.loads((FIXTURE / "r_survey_reference.json").read_text(encoding="utf-8"))
FACES = ["良いと思う", "良くないと思う", "どちらともいえない"]
TOL = 1e-6


@pytest.fixture(scope="module")
def respondents() -> pd.DataFrame:
    df = pd.read_csv(FIXTURE / "respondents.csv", encoding="utf-8")
    df["town_faces"] = pd.Categorical(df["town_faces"], categories=FACES)
    df["sex"] = pd.Categorical(df["sex"], categories=["男性", "女性"])
    return df


@pytest.fixture(scope="module")
def design(respondents: pd.DataFrame) -> Design:
    """The respondents raked to both population margins (no trimming, as R's ``rake``)."""
    margins = {
        name: dict(pd.read_csv(FIXTURE / file, encoding="utf-8").itertuples(index=False))
        for name, file in (("sex_age", "pop_sexage.csv"), ("district", "pop_district.csv"))
    }
    result = rake(respondents, margins, trim=None)
    assert result.converged
    return result.design


def test_raking_matches_r(respondents: pd.DataFrame, design: Design) -> None:
    assert design.n == len(respondents) == 635
    assert design.calibrated
    n_eff = design.weights.sum() ** 2 / (design.weights**2).sum()
    assert n_eff == pytest.approx(float(REFERENCE["about"].split("Kish n_eff ")[1]), abs=TOL)
    # R's weights sum to the population; ours to the respondents: the same up to that factor
    population = pd.read_csv(FIXTURE / "pop_sexage.csv")["Freq"].sum()
    assert population == REFERENCE["weights_sum"]


def test_overall_share_se_and_logit_interval(respondents: pd.DataFrame, design: Design) -> None:
    ref = REFERENCE["overall"]
    res = proportion(respondents["lonely"], design)
    assert res.method == "logit"
    assert res.n == ref["n"]
    assert res.p == pytest.approx(ref["p"], abs=TOL)
    assert res.se == pytest.approx(ref["se"], abs=TOL)
    assert (res.lo, res.hi) == pytest.approx(ref["ci_logit"], abs=TOL)


def test_domain_estimates_by_sex(respondents: pd.DataFrame, design: Design) -> None:
    table = rate_table(respondents, "lonely", ["sex"], design=design, min_cell=1).set_index("sex")
    for sex, ref in REFERENCE["by_sex"].items():
        assert table.loc[sex, "p"] == pytest.approx(ref["p"], abs=TOL)
        assert table.loc[sex, "se"] == pytest.approx(ref["se"], abs=TOL)
        # the same subgroup through proportion(): rows outside it are simply not passed
        one = proportion(respondents.loc[respondents["sex"] == sex, "lonely"], design)
        assert (one.p, one.se, one.lo, one.hi) == pytest.approx(
            tuple(table.loc[sex, ["p", "se", "lo", "hi"]]), abs=1e-12
        )


def test_rates_by_answer(respondents: pd.DataFrame, design: Design) -> None:
    ref = REFERENCE["town_faces"]
    table = rate_table(respondents, "lonely", ["town_faces"], design=design, min_cell=1)
    assert table["n"].sum() == ref["n"]
    table = table.set_index("town_faces")
    for answer, expected in ref["rates"].items():
        assert table.loc[answer, "p"] == pytest.approx(expected["p"], abs=TOL)
        assert table.loc[answer, "se"] == pytest.approx(expected["se"], abs=TOL)


def test_rao_scott_first_and_second_order(respondents: pd.DataFrame, design: Design) -> None:
    ref = REFERENCE["town_faces"]
    res = rao_scott(respondents, "town_faces", "lonely", design)
    assert res.n == ref["n"]
    second = ref["rao_scott_F"]
    assert res.f == pytest.approx(second["F"], abs=TOL)
    assert res.ndf == pytest.approx(second["ndf"], abs=TOL)
    assert res.ddf == pytest.approx(second["ddf"], abs=TOL)
    assert res.p == pytest.approx(second["p"], rel=TOL)
    first = ref["rao_scott_chisq"]
    assert res.pearson == pytest.approx(first["X2"], abs=TOL)
    assert res.p_chi2 == pytest.approx(first["p"], rel=TOL)
    # the first-order statistic X²/δ̄ and F·dof are the same adjusted statistic
    assert res.chi2 == pytest.approx(res.f * res.dof)
    assert res.chi2 == pytest.approx(res.pearson / res.mean_deff)
    assert res.cramers_v == pytest.approx(np.sqrt(res.chi2 / (design.n * 1)))


def test_survey_weighted_logistic_regression(respondents: pd.DataFrame, design: Design) -> None:
    ref = REFERENCE["logit_town_faces"]
    out = logistic_odds_ratios(
        respondents, "lonely", ["town_faces", "sex", "age_band", "household"],
        reference={"town_faces": "良いと思う"}, design=design,
    )
    assert out.attrs["n"] == ref["n"]
    faces = out[out["term"] == "town_faces"].set_index("level")
    assert faces.loc["良いと思う", "is_reference"]
    for level, expected in ref["terms"].items():
        row = faces.loc[level]
        assert np.log(row["odds_ratio"]) == pytest.approx(expected["log_or"], abs=TOL)
        assert row["odds_ratio"] == pytest.approx(expected["or"], abs=TOL)
        assert row["se"] == pytest.approx(expected["se"], abs=TOL)
        assert row["lo"] == pytest.approx(expected["or_lo"], abs=TOL)
        assert row["hi"] == pytest.approx(expected["or_hi"], abs=TOL)


def test_a_subgroup_mean_by_hand() -> None:
    # weights 1, 2, 3, 4 taken as fixed; the subgroup is respondents a, b and d (c is out, and
    # z is not in the design): means (1·1 + 2·0 + 4·1)/7 and (1·0 + 2·1 + 4·1)/7
    design = Design(pd.Index(list("abcd")), np.array([1.0, 2.0, 3.0, 4.0]))
    index = pd.Index(list("abczd"))
    values = np.array([[1, 0], [0, 1], [9, 9], [9, 9], [1, 1]])
    got = design.mean(values, index, np.array([True, True, False, True, True]))
    np.testing.assert_allclose(got.mean, [5 / 7, 6 / 7], rtol=1e-12)
    assert (got.n, got.df) == (3, 2)
    assert got.n_eff == pytest.approx(49 / 21, rel=1e-12)  # Kish: (1 + 2 + 4)² / (1 + 4 + 16)
    # the ratio's influence values w·(x − mean)/Σw (0 for c), as R's svymean on a subset
    x, w = np.array([[1, 0], [0, 1], [0, 0], [1, 1]]), np.array([1.0, 2.0, 0.0, 4.0])
    z = w[:, None] * (x - [5 / 7, 6 / 7]) / 7
    z -= z.mean(axis=0)
    np.testing.assert_allclose(got.cov, 4 / 3 * z.T @ z, rtol=1e-12, atol=1e-15)


def test_a_design_refuses_respondents_twice_or_without_a_weight() -> None:
    with pytest.raises(ValueError, match=r"^the respondents of a design must have a unique index$"):
        Design(pd.Index(["a", "a"]), np.array([1.0, 1.0]))
    with pytest.raises(ValueError, match="one value per respondent"):
        Design(pd.Index(["a", "b"]), np.array([1.0]))
    with pytest.raises(ValueError, match="positive"):
        Design(pd.Index(["a", "b"]), np.array([1.0, 0.0]))
