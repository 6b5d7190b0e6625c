"""Loading a town's standard dataset and telling which variables and sections it has."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import yaml

from helpers.cleaning import clean_town
from helpers.dataset import available_variables, load_survey, sections_present
from helpers.errors import UserError
from helpers.towns import Town

CORPUS = Path(__file__).parent / "bad_inputs"
TOWN = Town.model_validate(yaml.safe_load((CORPUS / "corpustown.yml").read_text("utf-8")))


@pytest.fixture(scope="module")
def loaded(tmp_path_factory):
    out = tmp_path_factory.mktemp("ds") / "corpustown"
    result = clean_town(TOWN, raw_dir=CORPUS / "good", out_dir=out)
    return result, load_survey(TOWN, processed_dir=out)


def test_load_survey_restores_the_codebook_categories(loaded, codebook):
    result, df = loaded
    pd.testing.assert_frame_equal(df, result.survey)
    assert list(df["outing_winter"].cat.categories) == list(
        codebook["outing_winter"].labels().values())
    assert df["outing_winter"].cat.ordered


def test_available_variables_and_sections(loaded):
    _, df = loaded
    names = available_variables(df)
    assert names[:3] == ["mode", "sex", "district"]
    assert "outing_purpose" in names and "lonely" in names and "health" not in names
    sections = sections_present(df)
    assert list(sections) == ["response", "attributes", "loneliness", "season"]
    assert sections["season"] == ["outing_summer", "outing_winter", "outing_purpose",
                                  "outing_change", "outing_less_in_winter"]


def test_a_variable_without_any_answer_is_not_available(loaded):
    _, df = loaded
    assert "sex" not in available_variables(df.assign(sex=pd.NA))


def test_a_town_not_cleaned_yet_is_a_clear_error(tmp_path):
    with pytest.raises(UserError, match="no cleaned data") as info:
        load_survey(TOWN, processed_dir=tmp_path)
    assert "tsunagari clean corpustown" in (info.value.hint or "")
