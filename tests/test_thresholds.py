"""The report's other thresholds, each on both sides: an age band 5 points above its sex, the
p-value shown as p<0.001, and the cleaning's 5 % of failed answers that stops a town."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from helpers.analysis.common import RATES, Table
from helpers.analysis.loneliness import Loneliness, SexHighlight
from helpers.analysis.wording import say
from helpers.cleaning.checks import Invalid, too_many
from helpers.codebook import Codebook
from helpers.errors import UserError
from helpers.stats import fmt_p, points


def _loneliness(rates: dict[tuple[str, str], float | None]) -> Loneliness:
    """A loneliness section whose published sex × age table has these rates (%)."""
    frame = pd.DataFrame([{"sex": s, "age_band": a, "n": 100, "x": None, "p": p, "lo": None,
                           "hi": None} for (s, a), p in rates.items()])
    table = Table("lonely_by_sex_age", "t", frame, RATES, labels=("sex", "age_band"),
                  published=frame)
    return Loneliness(headline_table=None, national=None, direct=None, ucla=None,
                      by_sex_age=table, standout=None, weighted_methods=None, min_cell=10,
                      town_name="試験市")


def _said(h: SexHighlight) -> tuple[str, str]:
    """The highlight as the section's summary says it, and as the key findings say it."""
    summary = say("loneliness", "summary", lonely={"p": 30.0, "n": 100}, often={"p": None},
                  often_diff=None, national={"round_name": "令和4年", "lonely": 39.3,
                                             "often_always": 4.3, "ucla_high": None},
                  ucla_high=None, weighted=None, standout=[], hidden_standout=1,
                  standout_points="10",
                  highlights=[{**vars(h), "others": [b for b in h.above if b != h.top_band]}])
    (sentence,) = [p for p in summary.split("\n\n") if p.startswith(f"{h.sex}では")]
    return sentence, say("findings", "sexes", highlights=[h.to_json()])


def test_an_age_band_is_named_from_5_points_above_its_sex() -> None:
    section = _loneliness({("女性", "全体"): 32.8, ("女性", "20代"): 37.7,  # 4.9 points
                           ("女性", "30代"): 37.8, ("女性", "40代"): 37.9,  # 5.0, 5.1
                           ("女性", "50代"): None, ("女性", "無回答"): 60.0})
    (women,) = section.highlights
    assert women.to_json() == {
        "sex": "女性", "total_p": 32.8, "top_age_band": "40代", "top_p": 37.9,
        "points_above_total": 5.1, "bands_5_points_above": ["30代", "40代"]}
    assert _said(women) == (
        "女性では40代が37.9%と最も高く、女性全体（32.8%）より5.1ポイント高くなっています。"
        "30代でも女性全体より5ポイント以上高くなっています。",
        "年代別では、女性は40代（**37.9%**、女性全体の32.8%より5.1ポイント高い）で孤独感がある人の"
        "割合が最も高くなっています。")


def test_a_sex_without_a_published_total_or_band_has_no_highlight() -> None:
    section = _loneliness({("男性", "全体"): None, ("男性", "20代"): 50.0,
                           ("女性", "全体"): 30.0, ("女性", "20代"): None,
                           ("全体", "全体"): 31.0})
    assert section.highlights == []


@pytest.mark.parametrize(("band", "said", "finding"), [
    (39.9, "より0.1ポイント低くなっています", "より0.1ポイント低い"),
    (40.0, "と同じです", "と同じ"),
])
def test_a_top_band_not_above_its_sex_is_said_as_it_is(band: float, said: str,
                                                         finding: str) -> None:
    """The bands hidden to protect respondents may hold the higher rates: the highest shown band
    can lie below its sex as a whole, and the sentence says so."""
    (men,) = _loneliness({("男性", "全体"): 40.0, ("男性", "20代"): band}).highlights
    assert men.to_json()["points_above_total"] == points(band, 40.0)
    assert _said(men) == (
        f"男性では20代が{band:.1f}%と最も高く、男性全体（40.0%）{said}。",
        f"年代別では、男性は20代（**{band:.1f}%**、男性全体の40.0%{finding}）で孤独感がある人の"
        "割合が最も高くなっています。")


@pytest.mark.parametrize(("p", "shown"), [(0.0009999, "p<0.001"), (0.001, "p=0.001"),
                                          (0.0014999, "p=0.001"), (0.0015, "p=0.002"),
                                          (0.0, "p<0.001"), (1.0, "p=1.000")])
def test_p_values_on_both_sides_of_0_001(p: float, shown: str) -> None:
    assert fmt_p(p) == shown


def _check(failed: int, answered: int, codebook: Codebook) -> None:
    """``failed`` of ``answered`` answers to household_size in one file fail a check."""
    n = answered + 5  # five respondents did not answer the question
    mask = np.zeros(n, dtype=bool)
    mask[:failed] = True
    codes = pd.DataFrame({"household_size": [2.0] * answered + [np.nan] * 5})
    origin = pd.DataFrame({"file": ["郵送.xlsx"] * n, "row": np.arange(2, n + 2)})
    invalid = Invalid(("household_size",), mask,
                      pd.Series(["単身世帯なのに世帯人数が2人"] * n))
    too_many([invalid], origin, {"household_size": {"郵送.xlsx": "F6"}}, codes, codebook)


@pytest.mark.parametrize(("failed", "answered", "stops"), [
    (3, 60, False),  # 5.0 %: not more than 5 %
    (4, 60, True),  # 6.7 %
    (3, 59, True),  # 5.08 %
    (2, 10, False),  # 20 %, but two answers are not a pattern
    (3, 10, True),
    (0, 10, False),
])
def test_more_than_5_percent_of_failed_answers_stops_the_town(
    failed: int, answered: int, stops: bool, codebook: Codebook
) -> None:
    if not stops:
        _check(failed, answered, codebook)
        return
    with pytest.raises(UserError, match=rf": {failed} of {answered} answers to household_size "
                                        r"fail the check \(more than 5%\)") as info:
        _check(failed, answered, codebook)
    assert (str(info.value.file), info.value.column) == ("郵送.xlsx", "F6")
    assert info.value.rows == list(range(2, failed + 2))
