"""The comparison page's helpers (helpers.analysis.compare): one national round per page, the
national table row for row as config/national_reference.yml has it, weighted rates labelled,
and what differs between the surveys."""

from __future__ import annotations

import pandas as pd
import pytest
import yaml

from helpers import paths
from helpers.analysis import compare


def _results(town: str, year: int, weighted: float | None = None) -> dict:
    est = {"p": 34.9, "lo": 31.3, "hi": 38.6, "n": 640, "x": 223}
    return {
        "town": town, "name_ja": f"{town}市", "prefecture": "長野県", "synthetic": True,
        "min_cell": 10, "n": 643, "response_rate": 42.9,
        "survey": {"title": "t", "start": "2023-12-07", "end": "2023-12-29", "min_age": 18,
                   "modes": ["郵送", "Web"]},
        "weighting": {"applied": weighted is not None, "margin_names": ["性別×年代"]},
        "headline": {"lonely": est, "often_always": {**est, "p": 4.4}},
        "headline_weighted": None if weighted is None else {
            "lonely": {"p": weighted, "lo": weighted - 3.0, "hi": weighted + 3.0}},
        "national": {"round": year},
        "lonely_by_sex_age": [],
    }


def test_one_round_per_page_the_one_most_towns_use() -> None:
    assert compare.page_round([_results("a", 2022), _results("b", 2022),
                               _results("c", 2023)]) == 2022
    assert compare.page_round([_results("a", 2022), _results("c", 2023)]) == 2023  # tie: latest
    assert compare.page_round([_results("a", 2022)], requested=2024) == 2024


@pytest.mark.parametrize("year", [2021, 2022, 2023, 2024])
def test_national_table_matches_the_reference_file_row_for_row(year: int) -> None:
    raw = yaml.safe_load((paths.CONFIG / "national_reference.yml").read_text(encoding="utf-8"))
    groups = raw["rounds"][year].get("groups", [])
    table = compare.national_groups(year)
    assert len(table) == len(groups)
    for (_, row), entry in zip(table.iterrows(), groups, strict=True):
        assert row["指標"] == compare.MEASURES[entry["measure"]]
        assert (row["性別"], row["年代"]) == (entry["sex"], compare._printed(entry["age_band"]))
        assert row["区分"] == entry.get("group", "—")
        assert row["全国（%）"] == f"{entry['pct']:.1f}"
    keys = table[["指標", "性別", "年代", "区分"]].apply(tuple, axis=1)
    assert keys.is_unique  # no two rows read the same (the 相談相手 split keeps its label)


def test_weighted_rates_are_labelled_and_only_where_weighted() -> None:
    heads = compare.headline_table([_results("a", 2022, weighted=36.2), _results("b", 2022)],
                                   2022)
    shown = compare.headline_display(heads).set_index("市町村")
    assert shown.loc["a市", "孤独感がある（重み付け）"] == "36.2%（33.2～39.2%）"
    assert shown.loc["b市", "孤独感がある（重み付け）"] == "重み付けなし"
    assert shown.loc["全国（令和4年）", "孤独感がある（重み付けなし）"] == "40.3%"
    chart = compare.headline_chart(heads, 10, True)
    assert set(chart.data["系列"]) == {"重み付けなし", "重み付け"}


def test_surveys_table_says_what_differs() -> None:
    table = compare.surveys_table([_results("a", 2022)], 2022)
    assert list(table["対象の年齢"]) == ["18歳以上", "16歳以上"]
    assert table.iloc[0]["調査期間"] == "2023年12月7日～12月29日"
    assert table.iloc[-1]["調査"].startswith("全国（人々のつながりに関する基礎調査、令和4年）")
    assert isinstance(table, pd.DataFrame)
