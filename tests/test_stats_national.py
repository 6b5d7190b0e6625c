"""National reference figures agree with national_reference.md (transcribed by hand here)."""

from __future__ import annotations

import numpy as np
import pytest

from helpers.errors import ConfigError
from helpers.stats import national_reference

# national_reference.md, direct question (%): しばしば・常に, 時々, たまに, ほとんどない,
# 決してない, 無回答, feels lonely
MD_DIRECT = {
    2021: (4.5, 14.5, 17.4, 38.9, 23.7, 0.9, 36.4),
    2022: (4.9, 15.8, 19.6, 40.6, 18.4, 0.6, 40.3),
    2023: (4.8, 14.8, 19.7, 41.4, 17.9, 1.5, 39.3),
    2024: (4.3, 15.4, 19.6, None, None, None, 39.3),
}
MD_DESIGN = {2021: (11867, 59.3), 2022: (11218, 56.1), 2023: (11141, 55.7), 2024: (10876, 54.4)}
CODEBOOK_ORDER = ["決してない", "ほとんどない", "たまにある", "時々ある", "しばしばある・常にある"]


def test_headline_2022() -> None:
    ref = national_reference()
    assert ref.lonely_rate(2022) == pytest.approx(0.403)
    assert ref.often_always(2022) == pytest.approx(0.049)
    assert ref.ucla_high(2022) == pytest.approx(0.071)
    assert ref.rounds == [2021, 2022, 2023, 2024]
    assert ref.latest == 2024


@pytest.mark.parametrize("year", sorted(MD_DIRECT))
def test_direct_item_matches_the_table(year: int) -> None:
    ref = national_reference()
    often, sometimes, rarely, hardly, never, no_answer, lonely = MD_DIRECT[year]
    table = ref.direct_item(year, include_no_answer=True)
    assert table["label"].tolist() == [*CODEBOOK_ORDER, "無回答"]
    expected = [never, hardly, rarely, sometimes, often, no_answer]
    got = [None if np.isnan(v) else v for v in table["pct"]]
    assert got == pytest.approx(expected)
    assert ref.lonely_rate(year) == pytest.approx(lonely / 100)
    # feels lonely = たまに + 時々 + しばしば・常に, as published
    assert rarely + sometimes + often == pytest.approx(lonely, abs=0.051)
    assert ref.round(year).responses == MD_DESIGN[year][0]
    assert ref.round(year).response_rate == MD_DESIGN[year][1]


def test_direct_item_in_codebook_order(codebook) -> None:
    table = national_reference().direct_item(2022)
    assert table["label"].tolist() == list(codebook["lonely_direct"].labels().values())
    assert table["label"].cat.ordered
    assert np.allclose(table["p"], table["pct"] / 100)


def test_groups_2022() -> None:
    g = national_reference().groups(2022)
    assert {"measure", "sex", "age_band", "group", "pct", "p", "official", "note"} <= set(g.columns)

    def pct(measure: str, sex: str = "全体", age: str = "全体", group: object = None) -> float:
        rows = g[(g["measure"] == measure) & (g["sex"] == sex) & (g["age_band"] == age)]
        rows = rows[rows["group"].isna()] if group is None else rows[rows["group"] == group]
        assert len(rows) == 1
        return float(rows["pct"].iloc[0])

    assert pct("often_always", sex="男性") == 5.1
    assert pct("often_always", sex="女性") == 4.6
    assert pct("often_always", age="19歳以下") == 5.2
    assert pct("often_always", age="20代") == 7.1
    assert pct("often_always", age="30代") == 7.2
    assert pct("often_always", group="相談できる相手がいる") == 3.2
    assert pct("often_always", group="相談できる相手がいない") == 19.5
    assert pct("lonely", age="20代") == 47.9
    assert pct("lonely", age="50代") == 46.2
    assert pct("lonely", sex="男性", age="50代") == 47.6
    assert pct("lonely", sex="女性", age="20代") == 50.3
    assert pct("ucla_high", sex="男性") == 7.8
    assert pct("ucla_high", sex="女性") == 6.4
    # the 16–19 → 19歳以下 mapping is the project's, and marked so
    assert not g.loc[g["age_band"] == "19歳以下", "official"].iloc[0]


def test_rounds_without_figures() -> None:
    ref = national_reference()
    assert ref.groups(2021).empty
    assert np.isnan(ref.direct_item(2024)["pct"].iloc[0])
    with pytest.raises(ValueError, match="UCLA"):
        ref.ucla_high(2021)
    with pytest.raises(ValueError, match="available"):
        ref.lonely_rate(2019)


def test_source_cites_the_official_summary() -> None:
    ref = national_reference()
    assert "内閣官房" in ref.source(2022) and "令和4年" in ref.source(2022)
    assert "内閣府" in ref.source(2024)
    assert "資料3" in ref.source(2023)


def test_a_wrong_label_is_a_config_error(tmp_path, root) -> None:
    text = (root / "config" / "national_reference.yml").read_text(encoding="utf-8")
    bad = tmp_path / "national.yml"
    bad.write_text(text.replace("時々ある: 15.8", "ときどきある: 15.8"), encoding="utf-8")
    with pytest.raises(ConfigError, match="direct labels"):
        national_reference(bad)
