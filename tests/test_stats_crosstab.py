"""Cross tables: counts, (weighted) row shares, base n, suppression and the display table."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from helpers.stats import crosstab

DISTRICTS = ["飯山", "秋津", "木島", "富倉", "岡山"]
FACES = ["良いと思う", "良くないと思う", "どちらともいえない"]


@pytest.fixture
def survey() -> pd.DataFrame:
    rng = np.random.default_rng(11)
    n = 300
    df = pd.DataFrame(
        {
            # 富倉 is tiny, 岡山 has nobody
            "district": pd.Categorical(
                rng.choice(DISTRICTS[:4], n, p=[0.5, 0.3, 0.18, 0.02]), categories=DISTRICTS
            ),
            "town_faces": pd.Categorical(rng.choice(FACES, n), categories=FACES),
            "w": rng.uniform(0.5, 2.0, n),
        }
    )
    df.loc[rng.choice(n, 12, replace=False), "town_faces"] = np.nan
    df.loc[rng.choice(n, 4, replace=False), "district"] = np.nan
    return df


def test_counts_keep_category_order_and_unused_categories(survey: pd.DataFrame) -> None:
    ct = crosstab(survey, "district", "town_faces")
    assert list(ct.counts.index) == DISTRICTS
    assert list(ct.counts.columns) == FACES
    expected = pd.crosstab(survey["district"], survey["town_faces"], dropna=False)
    expected = expected.reindex(index=DISTRICTS, columns=FACES, fill_value=0)
    assert (ct.counts.to_numpy() == expected.to_numpy()).all()
    assert ct.counts.loc["岡山"].sum() == 0
    assert ct.base.tolist() == expected.sum(axis=1).tolist()
    assert ct.total_base == int(expected.to_numpy().sum())


def test_row_shares(survey: pd.DataFrame) -> None:
    ct = crosstab(survey, "district", "town_faces")
    expected = pd.crosstab(survey["district"], survey["town_faces"], normalize="index")
    assert np.allclose(ct.row_pct.loc[expected.index].to_numpy(), expected.to_numpy())
    assert ct.row_pct.loc["岡山"].isna().all()  # no division by zero


def test_weighted_row_shares(survey: pd.DataFrame) -> None:
    ct = crosstab(survey, "district", "town_faces", weights="w")
    sub = survey.dropna(subset=["district", "town_faces"])
    expected = pd.crosstab(
        sub["district"], sub["town_faces"], values=sub["w"], aggfunc="sum", normalize="index"
    )
    assert np.allclose(ct.row_pct.loc[expected.index].to_numpy(), expected.to_numpy())
    total = sub.groupby("town_faces", observed=False)["w"].sum()
    assert np.allclose(ct.total_pct.to_numpy(), (total / total.sum()).to_numpy())
    # bases stay unweighted
    assert ct.base.tolist() == crosstab(survey, "district", "town_faces").base.tolist()


def test_suppression(survey: pd.DataFrame) -> None:
    ct = crosstab(survey, "district", "town_faces", min_cell=10)
    small = ct.base < 10
    assert small["富倉"] and small["岡山"] and not small["飯山"]
    assert ct.suppressed.loc[small].all().all()
    assert not ct.suppressed.loc[~small].any().any()
    counts = ct.counts.to_numpy()
    assert ct.counts_suppressed.to_numpy()[(counts > 0) & (counts < 10)].all()


def test_display_table(survey: pd.DataFrame) -> None:
    ct = crosstab(survey, "district", "town_faces")
    t = ct.table()
    assert list(t.index) == ["全体", *DISTRICTS]
    assert list(t.columns) == [*FACES, "回答者数"]
    assert (t.loc["富倉", FACES] == "—").all()
    assert (t.loc["岡山", FACES] == "—").all()
    assert t.loc["岡山", "回答者数"] == "0"
    assert t.loc["富倉", "回答者数"] == "—"
    # the tiny base of 富倉 could be worked out from the total: one more base is hidden
    assert (t["回答者数"] == "—").sum() == 2
    share = ct.row_pct.loc["飯山", "良いと思う"]
    assert t.loc["飯山", "良いと思う"] == f"{share * 100:.1f}%"
    assert t.loc["全体", "回答者数"] == f"{ct.total_base:,}"

    counts = ct.table("count", total=False)
    assert list(counts.index) == DISTRICTS
    shown = counts[FACES].to_numpy()
    assert ((shown == "—") == ct.counts_suppressed.to_numpy()).all()
    assert counts.loc["飯山", "回答者数"] == f"{ct.base['飯山']:,}"


def test_count_table_total_row_by_hand() -> None:
    # column totals 4 and 36 under a shown grand total 40: hiding 4 alone would not protect it
    df = pd.DataFrame(
        {
            "a": ["x"] * 22 + ["y"] * 18,
            "b": ["p"] * 2 + ["q"] * 20 + ["p"] * 2 + ["q"] * 16,
        }
    )
    t = crosstab(df, "a", "b").table("count")
    assert t.loc["全体"].tolist() == ["—", "—", "40"]
    assert t.loc["x"].tolist() == ["—", "—", "22"]
    assert t.loc["y"].tolist() == ["—", "—", "18"]


def test_bad_table_kind(survey: pd.DataFrame) -> None:
    ct = crosstab(survey, "district", "town_faces")
    with pytest.raises(ValueError, match="values"):
        ct.table("share")


def test_thresholds_of_the_town_by_hand() -> None:
    # min_cell 5: row y has exactly 5 (shown), row z 1 (hidden); the bases 11 + 5 + 1 = 17
    # would give z's 1 away: y's base is hidden too
    df = pd.DataFrame({"a": ["x"] * 11 + ["y"] * 5 + ["z"],
                       "b": ["p"] * 5 + ["q"] * 6 + ["p"] * 5 + ["p"]})
    ct = crosstab(df, "a", "b", min_cell=5)
    assert ct.row_pct.loc["z"].tolist() == [1.0, 0.0]  # a row of one respondent has shares
    assert ct.base.name == "回答者数" and ct.suppressed["p"].tolist() == [False, False, True]
    t = ct.table()
    assert t.index.name == "a"
    assert t.to_dict("index") == {
        "全体": {"p": "64.7%", "q": "35.3%", "回答者数": "17"},  # 11/17, 6/17
        "x": {"p": "45.5%", "q": "54.5%", "回答者数": "11"},  # 5/11, 6/11
        "y": {"p": "100.0%", "q": "0.0%", "回答者数": "—"},
        "z": {"p": "—", "q": "—", "回答者数": "—"},
    }
    assert ct.table("count").loc["全体"].tolist() == ["11", "6", "17"]  # 6 ≥ 5: shown


@pytest.mark.parametrize(("n", "base"), [(6, "—"), (0, "0")])
def test_a_survey_under_min_cell_shows_no_total(n: int, base: str) -> None:
    df = pd.DataFrame({"a": pd.Categorical(["x"] * n, categories=["x"]),
                       "b": pd.Categorical((["p", "q"] * 3)[:n], categories=["p", "q"])})
    ct = crosstab(df, "a", "b")
    assert ct.table().loc["全体"].tolist() == ["—", "—", base]
    assert ct.table("count").loc["全体"].tolist() == ["—" if n else "0", "—" if n else "0", base]
