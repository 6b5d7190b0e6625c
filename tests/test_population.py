"""Population margins in the town's sexes and age bands (helpers.population): typed counts and
population tables (住民基本台帳 exports by single year, statistics tables by band), each total
checked against a sum worked out by hand."""

from __future__ import annotations

import copy
from pathlib import Path

import pandas as pd
import pytest

from helpers.errors import ConfigError, UserError
from helpers.population import resolve
from helpers.towns import Town

BASE = {
    "id": "mihon",
    "name": {"ja": "見本町", "en": "Mihon"},
    "prefecture": "長野県",
    "synthetic": True,
    "survey": {"title": "見本町 調査（合成データ）", "population": 5000, "target": "18歳以上",
               "min_age": 18, "sampling": "無作為抽出", "distributed": 500, "returned": 200,
               "start": "2023-12-01", "end": "2023-12-20", "modes": ["郵送"]},
    "districts": ["北", "南"],
    "age_bands": ["18～29歳", "30～59歳", "60歳以上"],
    "sources": [{"file": "x.csv", "mode": "郵送",
                 "columns": {"sex": "性別", "age": "年齢", "district": "地区"}}],
}


def _town(margins: dict) -> Town:
    data = copy.deepcopy(BASE)
    data["margins"] = {"source": "合成データ", **margins}
    return Town.model_validate(data)


def _ages_table() -> pd.DataFrame:
    """A 住民基本台帳 export: one row per age 0–99, 100歳以上, a 総数 row and 不詳."""
    ages = [f"{a}歳" for a in range(100)] + ["100歳以上"]
    male = [10 + a % 7 for a in range(101)]
    female = [12 + a % 5 for a in range(101)]
    return pd.DataFrame({"年齢": ["総数", *ages, "年齢不詳"],
                         "男": [sum(male), *male, 3], "女": [sum(female), *female, 2]})


def _by_hand(column: list[int], first: int, last: int) -> int:
    return sum(column[first:last + 1])


def test_typed_counts_in_national_bands_add_up_into_the_towns_bands():
    counts = {"男性": {"19歳以下": 10, "20代": 20, "30代": 30, "40代": 40, "50代": 50,
                     "60代": 60, "70代": 70, "80歳以上": 80},
              "女性": {"18～29歳": 31, "30～59歳": 121, "60歳以上": 212}}
    population = resolve(_town({"sex_age_band": counts}))
    assert population.sex_age_band == {"男性": {"18～29歳": 30, "30～59歳": 120, "60歳以上": 210},
                                       "女性": {"18～29歳": 31, "30～59歳": 121, "60歳以上": 212}}


def test_a_band_counted_in_part_is_refused():
    counts = {"男性": {"20代": 20, "30～59歳": 1, "60歳以上": 1},
              "女性": {"18～29歳": 1, "30～59歳": 1, "60歳以上": 1}}
    with pytest.raises(ValueError, match=r"18～29歳」 is counted only in part .*ages 18–19"):
        _town({"sex_age_band": counts})


def test_a_population_file_by_single_year_is_summed_into_the_bands(tmp_path: Path):
    table = _ages_table()
    table.to_csv(tmp_path / "人口.csv", index=False, encoding="cp932")
    spec = {"file": "人口.csv", "age": "年齢", "count": {"男性": "男", "女性": "女"}}
    population = resolve(_town({"sex_age_band": spec}), raw_dir=tmp_path)
    male = [10 + a % 7 for a in range(101)]
    assert population.sex_age_band["男性"] == {
        "18～29歳": _by_hand(male, 18, 29), "30～59歳": _by_hand(male, 30, 59),
        "60歳以上": _by_hand(male, 60, 100)}
    assert "総数 (row 2)" in population.notes[0] and "年齢不詳" in population.notes[0]


def test_a_long_table_by_band_with_a_dash_for_zero(tmp_path: Path):
    rows = [("18～24歳", "男", "1,200"), ("25～29歳", "男", "800"), ("30～59歳", "男", "－"),
            ("60歳以上", "男", "３００"), ("18～29歳", "女", 900), ("30～59歳", "女", 700),
            ("60歳以上", "女", 400), ("計", "計", 4300)]
    pd.DataFrame(rows, columns=["年齢階級", "性別", "人口"]).to_excel(tmp_path / "人口.xlsx",
                                                                index=False)
    spec = {"file": "人口.xlsx", "age": "年齢階級", "sex": "性別", "count": "人口"}
    population = resolve(_town({"sex_age_band": spec}), raw_dir=tmp_path)
    assert population.sex_age_band["男性"] == {"18～29歳": 2000, "30～59歳": 0, "60歳以上": 300}


@pytest.mark.parametrize(
    ("rows", "message", "row"),
    [
        ([("15～19歳", 1), ("20～29歳", 1)], "starts at 18", 2),
        ([("18～19歳", 1), ("20～34歳", 1), ("35歳以上", 1)], "spans the town's bands", 3),
        ([("18～29歳", 1), ("30～59歳", 1)], "no count for ages 60–110", None),
        ([("18～29歳", 1), ("20～29歳", 1), ("30～59歳", 1), ("60歳以上", 1)], "already counted",
         3),
        ([("18～29歳", "多数"), ("30歳以上", 1)], "not a whole number", 2),
        ([("若者", 1), ("30歳以上", 1)], "neither an age nor an age band", 2),
    ],
)
def test_a_population_file_that_does_not_fit_names_the_row(tmp_path: Path, rows, message, row):
    frame = pd.DataFrame(rows, columns=["年齢", "男性"]).assign(女性=lambda f: f["男性"])
    frame.to_csv(tmp_path / "人口.csv", index=False)
    spec = {"file": "人口.csv", "age": "年齢", "count": {"男性": "男性", "女性": "女性"}}
    with pytest.raises(UserError, match=message) as info:
        resolve(_town({"sex_age_band": spec}), raw_dir=tmp_path)
    assert info.value.file == "人口.csv"
    assert list(info.value.rows)[:1] == ([row] if row else [])


def test_district_counts_of_the_surveyed_ages_and_totals_that_must_agree(tmp_path: Path):
    rows = [("北", "0～17歳", 500), ("北", "18～29歳", 100), ("北", "30歳以上", 900),
            ("南", "18～29歳", 50), ("南", "30歳以上", 450), ("合計", "", 2000)]
    pd.DataFrame(rows, columns=["地区名", "年齢", "人口"]).to_csv(tmp_path / "地区.csv",
                                                               index=False)
    typed = {"男性": {"18～29歳": 70, "30～59歳": 300, "60歳以上": 330},
             "女性": {"18～29歳": 80, "30～59歳": 310, "60歳以上": 410}}
    spec = {"file": "地区.csv", "district": "地区名", "age": "年齢", "count": "人口"}
    population = resolve(_town({"sex_age_band": typed, "district": spec}), raw_dir=tmp_path)
    assert population.district == {"北": 1000, "南": 500}
    assert population.total == 1500 and not population.notes
    typed["女性"]["60歳以上"] += 100  # 1,600 against 1,500: 6 % apart
    with pytest.raises(ConfigError, match="total 1,600 residents but the district counts 1,500"):
        resolve(_town({"sex_age_band": typed, "district": spec}), raw_dir=tmp_path)


def test_a_district_the_town_does_not_have_is_an_error(tmp_path: Path):
    pd.DataFrame({"地区名": ["北", "西"], "人口": [1, 2]}).to_csv(tmp_path / "地区.csv",
                                                           index=False)
    typed = {"男性": {"18～29歳": 1, "30～59歳": 1, "60歳以上": 1},
             "女性": {"18～29歳": 1, "30～59歳": 1, "60歳以上": 0}}
    spec = {"file": "地区.csv", "district": "地区名", "count": "人口"}
    with pytest.raises(UserError, match="not one of the town's districts") as info:
        resolve(_town({"sex_age_band": typed, "district": spec}), raw_dir=tmp_path)
    assert info.value.value == "西" and list(info.value.rows) == [3]


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"file": "p.csv", "count": {"男性": "男", "女性": "女"}}, "name the column of the ages"),
        ({"file": "p.csv", "age": "年齢", "count": "人口"}, "give either"),
        ({"file": "p.csv", "age": "年齢", "sex": "性別", "count": {"男性": "男"}}, "give either"),
        ({"file": "p.xlsx", "age": "年齢", "count": "人口", "sex": "性別", "encoding": "cp932"},
         "encoding: not used for a .xlsx file"),
    ],
)
def test_a_population_file_setting_that_cannot_work_is_refused_at_load(spec, message):
    with pytest.raises(ValueError, match=message):
        _town({"sex_age_band": spec})


def test_typed_district_counts_are_matched_as_answers_are():
    typed = {"男性": {"18～29歳": 1, "30～59歳": 1, "60歳以上": 1},
             "女性": {"18～29歳": 1, "30～59歳": 1, "60歳以上": 1}}
    population = resolve(_town({"sex_age_band": typed, "district": {"北 ": 3, "南": 3}}))
    assert population.district == {"北": 3, "南": 3}
