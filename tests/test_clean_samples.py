"""Every sample town cleans; the processed Iiyama data gives the published figures (BRIEF §5)."""

from __future__ import annotations

import pandas as pd
import pytest

from helpers.cleaning import clean_town
from helpers.dataset import load_survey
from helpers.towns import list_towns, load_town


@pytest.fixture(scope="module")
def iiyama(tmp_path_factory):
    out = tmp_path_factory.mktemp("iiyama") / "iiyama"
    clean_town("iiyama", out_dir=out)
    return load_survey("iiyama", processed_dir=out)


@pytest.mark.parametrize("town", list_towns())
def test_every_sample_town_cleans(tmp_path, town):
    result = clean_town(town, out_dir=tmp_path / town)
    t = load_town(town)
    assert result.rows_out == t.survey.returned
    assert result.rows_out + result.report["empty_rows_skipped"] + result.report[
        "duplicates_removed"] == result.rows_in
    assert set(result.survey["mode"].dropna()) == set(t.survey.modes)
    assert not {"resp_id", "age", "free_text"} & set(result.survey.columns)
    assert result.survey["lonely"].notna().mean() > 0.9
    assert result.survey["age_band"].notna().mean() > 0.9  # from exact ages or from bands


def test_iiyama_reproduces_the_published_figures(iiyama):
    assert len(iiyama) == 643
    assert (iiyama["mode"] == "Web").sum() == 116
    rate = iiyama.groupby(["sex", "age_band"], observed=True)["lonely"].mean() * 100
    women = iiyama.loc[iiyama["sex"] == "女性", "lonely"].mean() * 100
    assert round(rate[("男性", "20～29歳")], 1) == 50.0
    assert rate["男性"].idxmax() == "20～29歳"
    assert round(rate[("女性", "40～49歳")], 1) == 42.1
    assert rate["女性"].idxmax() == "40～49歳"
    assert round(rate[("女性", "40～49歳")] - women, 1) == 9.3


def test_iiyama_keeps_both_layouts_in_one_format(iiyama):
    by_mode = iiyama.groupby("mode", observed=True)
    filled = by_mode[["outing_purpose__1", "town_faces", "outing_change"]].count()
    assert (filled > 0).all(axis=None)
    assert isinstance(iiyama["district"].dtype, pd.CategoricalDtype)
    assert list(iiyama["district"].cat.categories) == load_town("iiyama").districts


def test_noboribetsu_spss_file_reads_the_vendors_numbering(tmp_path):
    """F9 暮らし向き is numbered from 大変苦しい in the SPSS file: the value labels decide."""
    import pyreadstat

    result = clean_town("noboribetsu", out_dir=tmp_path / "noboribetsu")
    raw, meta = pyreadstat.read_sav(str(load_town("noboribetsu").raw_dir / load_town(
        "noboribetsu").sources[0].file), user_missing=True)
    assert meta.variable_value_labels["F9"][1.0] == "大変苦しい"
    hardest = int((raw["F9"] == 1).sum())
    assert (result.survey["living_standard"] == "大変苦しい").sum() == hardest > 0
    assert (raw["F6"] == 99).sum() == result.survey["household_size"].isna().sum() > 0
    assert result.report["invalid_values"][0]["value"] == "142"
    assert set(result.survey["mode"]) == {"郵送", "Web"}
