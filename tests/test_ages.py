"""Age bands as surveys print them (helpers.ages): parsing, the town's bands, the default."""

from __future__ import annotations

import numpy as np
import pytest

from helpers.ages import national_bands, parse_band, town_bands


@pytest.mark.parametrize(
    ("text", "ages"),
    [
        ("18～29歳", (18, 29)), ("18〜29歳", (18, 29)), ("18-29", (18, 29)),
        ("１８～２９歳", (18, 29)),
        ("20代", (20, 29)), ("20歳代", (20, 29)), ("19歳以下", (16, 19)), ("20歳未満", (16, 19)),
        ("～19歳", (16, 19)), ("80歳以上", (80, 110)), ("80～", (80, 110)), ("80歳超", (81, 110)),
        ("35", (35, 35)), ("35歳", (35, 35)), (" 40 ～ 49 歳 ", (40, 49)),
        ("男性", None), ("総数", None), ("", None), ("不詳", None),
    ],
)
def test_a_band_is_read_as_printed(text, ages):
    assert parse_band(text, 16, 110) == ages


def test_the_national_bands_start_at_the_surveys_youngest_age():
    assert national_bands(18, 110).labels == ["18～19歳", "20～29歳", "30～39歳", "40～49歳",
                                              "50～59歳", "60～69歳", "70～79歳", "80歳以上"]
    assert national_bands(16, 110).labels[0] == "16～19歳"
    assert national_bands(20, 110).labels[0] == "20～29歳"  # no band below the survey
    assert national_bands(15, 64).labels[-2:] == ["50～59歳", "60～64歳"]  # ends at max_age


def test_exact_ages_fall_into_the_town_bands_by_their_edges():
    bands = town_bands(["18～29歳", "30～39歳", "40歳以上"], 18, 110)
    ages = np.array([18, 29, 30, 39, 40, 104, np.nan, 17])
    np.testing.assert_array_equal(bands.codes(ages), [1, 1, 2, 2, 3, 3, np.nan, np.nan])
    assert bands.code_of(20, 24) == 1 and bands.code_of(25, 34) is None
    assert bands.code_of(85, 110) == 3


def test_bands_may_be_given_as_first_ages():
    bands = town_bands([18, 30, 50], 18, 110)
    assert bands.labels == ["18～29歳", "30～49歳", "50歳以上"]


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (["20～29歳", "30歳以上"], "respondents aged 18–19 would have no band"),
        (["18～29歳", "31歳以上"], "do not meet"),
        (["18～29歳", "25歳以上"], "do not meet"),
        (["18～29歳", "30～39歳"], "ends below the survey's max_age"),
        (["10～15歳", "16～29歳", "30歳以上"], "cannot hold any respondent"),
        (["若者", "30歳以上"], "「若者」 is not an age band"),
        ([], "give the bands"),
    ],
)
def test_bands_that_leave_an_age_out_or_cannot_hold_anyone_are_refused(spec, message):
    with pytest.raises(ValueError, match=message):
        town_bands(spec, 18, 110)
