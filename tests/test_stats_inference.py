"""Chi-square, Wilcoxon signed-rank and Kruskal–Wallis against scipy and pingouin."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pingouin as pg
import pytest
from scipy import stats
from scipy.stats.contingency import association

from helpers.stats import Design, chi_square, compare_groups, rao_scott, wilcoxon_paired

FACES = ["良いと思う", "良くないと思う", "どちらともいえない"]
OUTING = ["ほぼ毎日", "週に4～5日", "週に2～3日", "週に1日程度", "月に1～3日", "ほとんど外出しない"]


@pytest.fixture
def survey() -> pd.DataFrame:
    rng = np.random.default_rng(21)
    n = 500
    faces = rng.choice(3, n, p=[0.6, 0.15, 0.25])
    lonely = rng.random(n) < np.array([0.3, 0.5, 0.42])[faces]
    summer = rng.choice(5, n, p=[0.35, 0.25, 0.2, 0.12, 0.08])
    winter = np.clip(summer + rng.choice([-1, 0, 0, 1, 1, 2], n), 0, 5)
    df = pd.DataFrame(
        {
            "town_faces": pd.Categorical.from_codes(faces, categories=[*FACES, "無関係"]),
            "lonely": pd.array(lonely, dtype="boolean"),
            "ucla_total": pd.array(rng.integers(3, 13, n) + faces, dtype="Float64"),
            "outing_summer": pd.Categorical.from_codes(summer, categories=OUTING, ordered=True),
            "outing_winter": pd.Categorical.from_codes(winter, categories=OUTING, ordered=True),
        }
    )
    df.loc[rng.choice(n, 20, replace=False), "lonely"] = pd.NA
    df.loc[rng.choice(n, 10, replace=False), "town_faces"] = np.nan
    df.loc[rng.choice(n, 15, replace=False), "outing_winter"] = np.nan
    df.loc[rng.choice(n, 8, replace=False), "ucla_total"] = pd.NA
    return df


# --- chi-square -------------------------------------------------------------------------------


def test_chi_square_matches_scipy(survey: pd.DataFrame) -> None:
    res = chi_square(survey, "town_faces", "lonely")
    sub = survey.dropna(subset=["town_faces", "lonely"])
    observed = pd.crosstab(sub["town_faces"].astype(str), sub["lonely"].astype(bool)).to_numpy()
    assert observed.shape == (3, 2)  # the unused category 無関係 is dropped
    ref = stats.chi2_contingency(observed, correction=False)
    assert res.chi2 == pytest.approx(ref.statistic)
    assert res.p == pytest.approx(ref.pvalue)
    assert res.dof == ref.dof == 2
    assert res.n == observed.sum()
    assert res.min_expected == pytest.approx(ref.expected_freq.min())
    assert res.cramers_v == pytest.approx(association(observed, method="cramer"))


def test_rao_scott_on_equal_weights_is_the_pearson_test_by_hand(survey: pd.DataFrame) -> None:
    # Equal fixed weights, everyone in the table: the cell shares' covariance is (D − pp′)/(n − 1),
    # so every design effect is δ = n/(n − 1): X²_RS = X²·(n − 1)/n on (r−1)(c−1) df, F = X²_RS/df
    # with ndf = df and ddf = df·(n − 1). X² is Pearson's (scipy), the table scaled to n.
    sub = survey.dropna(subset=["town_faces", "lonely"]).reset_index(drop=True)
    n = len(sub)
    res = rao_scott(sub, "town_faces", "lonely", Design.from_weights(pd.Series(np.full(n, 3.0))))
    observed = pd.crosstab(sub["town_faces"].astype(str), sub["lonely"].astype(bool)).to_numpy()
    pearson = stats.chi2_contingency(observed, correction=False).statistic
    assert (res.n, res.dof) == (n, 2)
    assert res.pearson == pytest.approx(pearson)
    assert res.mean_deff == pytest.approx(n / (n - 1))
    assert res.chi2 == pytest.approx(pearson * (n - 1) / n)
    assert res.p_chi2 == pytest.approx(stats.chi2.sf(pearson * (n - 1) / n, 2))
    assert (res.ndf, res.ddf) == pytest.approx((2, 2 * (n - 1)))
    assert res.f == pytest.approx(pearson * (n - 1) / n / 2)
    assert res.p == pytest.approx(stats.f.sf(res.f, 2, 2 * (n - 1)))
    assert res.cramers_v == pytest.approx(np.sqrt(pearson * (n - 1) / n / n))


def test_rao_scott_needs_two_weighted_categories(survey: pd.DataFrame) -> None:
    one = survey[survey["town_faces"] == "良いと思う"]
    with pytest.raises(ValueError, match="two answered categories"):
        rao_scott(one, "town_faces", "lonely", Design.from_weights(pd.Series(1.0, one.index)))


def test_chi_square_2x2_by_hand() -> None:
    # a=30, b=20, c=10, d=40: χ² = n(ad − bc)² / (row and column totals) = 100·1000² / (50·50·40·60)
    df = pd.DataFrame(
        {"a": ["x"] * 50 + ["y"] * 50, "b": ["p"] * 30 + ["q"] * 20 + ["p"] * 10 + ["q"] * 40}
    )
    res = chi_square(df, "a", "b")
    chi2 = 100 * (30 * 40 - 20 * 10) ** 2 / (50 * 50 * 40 * 60)
    assert res.chi2 == pytest.approx(chi2)
    assert res.cramers_v == pytest.approx(np.sqrt(chi2 / 100))
    assert res.min_expected == pytest.approx(20.0)


def test_chi_square_degenerate_table_is_an_error() -> None:
    df = pd.DataFrame(
        {
            "a": pd.Categorical(["x"] * 20, categories=["x", "y"]),
            "b": pd.array([True, False] * 10, dtype="boolean"),
        }
    )
    with pytest.raises(ValueError, match="at least two"):
        chi_square(df, "a", "b")


# --- Wilcoxon signed-rank -----------------------------------------------------------------------


def test_wilcoxon_matches_scipy_and_pingouin(survey: pd.DataFrame) -> None:
    res = wilcoxon_paired(survey["outing_summer"], survey["outing_winter"])
    both = survey.dropna(subset=["outing_summer", "outing_winter"])
    before = both["outing_summer"].cat.codes.to_numpy() + 1.0
    after = both["outing_winter"].cat.codes.to_numpy() + 1.0
    d = after - before
    ref = stats.wilcoxon(after, before)
    assert res.n == len(both)
    assert res.n_nonzero == int((d != 0).sum())
    assert res.w == pytest.approx(ref.statistic)
    assert res.p == pytest.approx(ref.pvalue)
    rbc = pg.wilcoxon(after, before)["RBC"].iloc[0]
    assert res.effect_r == pytest.approx(rbc)
    assert res.effect_r > 0  # winter answers are higher codes = fewer outings
    assert res.share_higher == pytest.approx((d > 0).mean())
    assert res.share_lower == pytest.approx((d < 0).mean())
    assert res.share_equal == pytest.approx((d == 0).mean())
    assert res.median_diff == np.median(d)


def test_wilcoxon_p_is_the_tie_corrected_normal_approximation(survey: pd.DataFrame) -> None:
    res = wilcoxon_paired(survey["outing_summer"], survey["outing_winter"])
    both = survey.dropna(subset=["outing_summer", "outing_winter"])
    d = (both["outing_winter"].cat.codes - both["outing_summer"].cat.codes).to_numpy()
    d = d[d != 0]
    n = d.size
    ranks = stats.rankdata(np.abs(d))
    _, t = np.unique(np.abs(d), return_counts=True)
    var = n * (n + 1) * (2 * n + 1) / 24 - (t**3 - t).sum() / 48
    z = (ranks[d > 0].sum() - n * (n + 1) / 4) / np.sqrt(var)
    assert res.p == pytest.approx(2 * stats.norm.sf(abs(z)))


def test_wilcoxon_small_example_by_hand() -> None:
    before = pd.Series([1, 2, 3, 4, 2, 3, np.nan], dtype="Float64")
    after = pd.Series([2, 2, 5, 3, 5, np.nan, 1], dtype="Float64")
    res = wilcoxon_paired(before, after)
    # pairs: d = 1, 0, 2, −1, 3 → non-zero |d| 1, 2, 1, 3 → ranks 1.5, 3, 1.5, 4
    # R+ = 1.5 + 3 + 4 = 8.5, R− = 1.5; r = (8.5 − 1.5) / 10
    assert (res.n, res.n_nonzero) == (5, 4)
    assert res.w == pytest.approx(1.5)
    assert res.effect_r == pytest.approx(0.7)
    assert (res.share_lower, res.share_equal, res.share_higher) == pytest.approx((0.2, 0.2, 0.6))
    assert res.median_diff == 1.0


def test_wilcoxon_without_differences() -> None:
    s = pd.Series([1.0, 2.0, 3.0])
    res = wilcoxon_paired(s, s)
    assert res.n == 3 and res.n_nonzero == 0 and res.share_equal == 1.0
    assert np.isnan([res.w, res.p, res.effect_r]).all()


def test_wilcoxon_needs_the_same_scale() -> None:
    a = pd.Series(pd.Categorical(["a", "b"], categories=["a", "b"], ordered=True))
    b = pd.Series(pd.Categorical(["a", "b"], categories=["b", "a"], ordered=True))
    with pytest.raises(ValueError, match="same answer scale"):
        wilcoxon_paired(a, b)
    with pytest.raises(ValueError, match="same answer scale"):
        wilcoxon_paired(a, pd.Series([1.0, 2.0]))


# --- Kruskal–Wallis ---------------------------------------------------------------------------


def test_kruskal_matches_scipy_and_pingouin(survey: pd.DataFrame) -> None:
    res = compare_groups(survey, "ucla_total", "town_faces")
    sub = survey.dropna(subset=["ucla_total", "town_faces"]).astype({"ucla_total": float})
    groups = [sub.loc[sub["town_faces"] == g, "ucla_total"].to_numpy() for g in FACES]
    ref = stats.kruskal(*groups)
    assert res.test == "Kruskal-Wallis"
    assert res.statistic == pytest.approx(ref.statistic)
    assert res.p == pytest.approx(ref.pvalue)
    pg_ref = pg.kruskal(sub.astype({"town_faces": str}), dv="ucla_total", between="town_faces")
    assert res.statistic == pytest.approx(pg_ref["H"].iloc[0])
    n = sum(len(g) for g in groups)
    assert res.effect == pytest.approx(ref.statistic / (n - 1))
    assert res.effect_name == "epsilon²"


def test_kruskal_summary(survey: pd.DataFrame) -> None:
    res = compare_groups(survey, "ucla_total", "town_faces", min_cell=10)
    s = res.summary
    assert list(s["group"]) == [*FACES, "無関係"]
    assert list(s.columns) == ["group", "n", "mean", "median", "suppressed"]
    sub = survey.dropna(subset=["ucla_total", "town_faces"]).astype({"ucla_total": float})
    by = sub.groupby("town_faces", observed=False)["ucla_total"]
    assert s["n"].tolist() == by.size().tolist()
    assert np.allclose(s["mean"].iloc[:3], by.mean().iloc[:3])
    assert np.allclose(s["median"].iloc[:3], by.median().iloc[:3])
    assert s.loc[3, "n"] == 0 and s.loc[3, "suppressed"] and np.isnan(s.loc[3, "mean"])


def test_kruskal_on_an_ordinal_score_uses_codes(survey: pd.DataFrame) -> None:
    res = compare_groups(survey, "outing_winter", "town_faces")
    sub = survey.dropna(subset=["outing_winter", "town_faces"])
    codes = sub["outing_winter"].cat.codes + 1
    ref = stats.kruskal(*[codes[sub["town_faces"] == g] for g in FACES])
    assert res.statistic == pytest.approx(ref.statistic)


def test_kruskal_small_groups_are_suppressed_in_the_summary() -> None:
    df = pd.DataFrame({"score": [1.0, 2, 3, 4, 5, 6, 7, 8], "g": list("aaaaaabb")})
    res = compare_groups(df, "score", "g", min_cell=3)
    assert res.summary["suppressed"].tolist() == [False, True]
    assert res.summary["mean"].iloc[0] == pytest.approx(3.5)
    assert np.isnan(res.summary["mean"].iloc[1])
    assert res.statistic == pytest.approx(stats.kruskal([1, 2, 3, 4, 5, 6], [7, 8]).statistic)


def test_kruskal_errors() -> None:
    one_group = pd.DataFrame({"score": [1.0, 2.0, 3.0], "g": ["a"] * 3})
    with pytest.raises(ValueError, match="two answered groups"):
        compare_groups(one_group, "score", "g")
    constant = pd.DataFrame({"score": [2.0] * 4, "g": list("aabb")})
    with pytest.raises(ValueError, match="all values"):
        compare_groups(constant, "score", "g")
