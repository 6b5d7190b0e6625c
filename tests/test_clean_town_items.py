"""Cleaning with the town's own codebook: its age bands (exact ages and a vendor's finer bands),
its wording of answers, and its own questions, follow-ups included (合成データ, made here)."""

from __future__ import annotations

import copy
from pathlib import Path

import pandas as pd
import pytest

from helpers.cleaning import clean_town
from helpers.derive import applicable
from helpers.errors import UserError
from helpers.towns import Town

TOWN = {
    "id": "mihon-cho",
    "name": {"ja": "見本町", "en": "Mihon"},
    "prefecture": "長野県",
    "synthetic": True,
    "survey": {"title": "見本町 調査（合成データ）", "population": 5000, "target": "18歳以上",
               "min_age": 18, "sampling": "無作為抽出", "distributed": 100, "returned": 12,
               "start": "2023-12-01", "end": "2023-12-20", "modes": ["郵送", "Web"]},
    "age_bands": ["18～29歳", "30～59歳", "60歳以上"],
    "wording": {"sex": {3: "その他・回答しない"}},
    "questions": [
        {"name": "activity", "question": "地域の活動に参加していますか。", "type": "single",
         "answers": {1: "参加している", 2: "以前は参加していた", 3: "参加したことはない"}},
        {"name": "reasons", "question": "問20で2か3と答えた方：参加していない理由（いくつでも）",
         "type": "multi", "answers": {1: "きっかけがない", 2: "時間がない", 3: "その他"},
         "asked_if": {"activity": [2, 3]}},
        {"name": "visits", "question": "この1か月に公民館を訪れた回数", "type": "number",
         "range": [0, 31]},
    ],
    "sources": [
        {"file": "郵送.csv", "mode": "郵送",
         "columns": {"resp_id": "番号", "sex": "性別", "age": "年齢", "lonely_direct": "孤独感",
                     "activity": "問20", "reasons": {"joined": "問20-1"}, "visits": "問21"}},
        {"file": "web.csv", "mode": "Web",
         "columns": {"resp_id": "id", "sex": "sex", "age_band": "age", "activity": "q20",
                     "reasons": {"options": {1: "q20_1", 2: "q20_2", 3: "q20_3"}}}},
    ],
}
MAIL = pd.DataFrame({
    "番号": [1, 2, 3, 4, 5, 6, 7, 8],
    "性別": ["男性", "女性", "その他・回答しない", "女性", "男性", "女性", "男性", "女性"],
    "年齢": [18, 25, 33, 47, 61, 88, 29, 30],
    "孤独感": ["決してない", "時々ある", "たまにある", "ほとんどない", "決してない", "時々ある",
            "ほとんどない", "たまにある"],
    "問20": ["参加している", "以前は参加していた", "参加したことはない", "参加したことはない",
            "参加している", "参加したことはない", "参加している", ""],
    # row 7 (番号 6) asked, no answer; row 8 (番号 7) answered although not asked
    "問20-1": ["", "きっかけがない、時間がない", "その他", "時間がない", "", "", "時間がない", ""],
    "問21": [3, 0, 12, "", 31, 1, 2, 5],
})
WEB = pd.DataFrame({
    "id": [101, 102, 103, 104],
    "sex": ["女性", "男性", "女性", "男性"],
    "age": ["20～24歳", "25～29歳", "30～34歳", "80歳以上"],
    "q20": ["参加したことはない", "参加している", "以前は参加していた", "参加したことはない"],
    "q20_1": [1, "", 0, 0],
    "q20_2": [0, "", 1, 0],
    "q20_3": [0, "", 0, 0],  # 104: asked, chose nothing
})


def _clean(tmp_path: Path, town: dict = TOWN, web: pd.DataFrame = WEB):
    raw = tmp_path / "raw"
    raw.mkdir(exist_ok=True)
    MAIL.to_csv(raw / "郵送.csv", index=False)
    web.to_csv(raw / "web.csv", index=False)
    spec = Town.model_validate(town)
    return spec, clean_town(spec, raw_dir=raw, out_dir=tmp_path / "out")


@pytest.fixture(scope="module")
def cleaned(tmp_path_factory):
    return _clean(tmp_path_factory.mktemp("own"))


def test_ages_and_the_vendors_finer_bands_fall_into_the_towns_bands(cleaned):
    _, result = cleaned
    survey = result.survey
    assert list(survey["age_band"].cat.categories) == ["18～29歳", "30～59歳", "60歳以上"]
    assert survey["age_band"].astype(str).tolist() == [
        "18～29歳", "18～29歳", "30～59歳", "30～59歳", "60歳以上", "60歳以上", "18～29歳",
        "30～59歳", "18～29歳", "18～29歳", "30～59歳", "60歳以上"]


def test_the_towns_wording_is_the_answer_in_the_data(cleaned):
    _, result = cleaned
    assert list(result.survey["sex"].cat.categories) == ["男性", "女性", "その他・回答しない"]
    assert (result.survey["sex"] == "その他・回答しない").sum() == 1


def test_own_questions_are_kept_under_the_town_prefixed_name(cleaned):
    _, result = cleaned
    survey = result.survey
    assert list(survey["mihon_cho_activity"].cat.categories) == [
        "参加している", "以前は参加していた", "参加したことはない"]
    assert survey["mihon_cho_visits"].tolist()[:4] == [3, 0, 12, pd.NA]
    reasons = survey[[f"mihon_cho_reasons__{c}" for c in (1, 2, 3)]]
    assert reasons.iloc[1].tolist() == [1, 1, 0] and reasons.iloc[2].tolist() == [0, 0, 1]
    assert reasons.iloc[8].tolist() == [1, 0, 0] and reasons.iloc[10].tolist() == [0, 1, 0]


def test_not_applicable_is_told_apart_from_no_answer(cleaned):
    spec, result = cleaned
    survey, book = result.survey, spec.codebook
    asked = applicable(survey, book["reasons"], book)
    answered = survey[book["reasons"].columns()].notna().any(axis=1)
    # asked: 番号 2, 3, 4, 6 and web 101, 103, 104; 番号 8 did not answer 問20: not asked
    assert asked.tolist() == [False, True, True, True, False, True, False, False, True, False,
                              True, True]
    assert (asked & ~answered).tolist().count(True) == 2  # 番号 6 and web 104: no answer
    assert not (answered & ~asked).any()


def test_an_answer_to_a_follow_up_not_asked_is_set_to_missing_and_listed(cleaned):
    _, result = cleaned
    rejected = result.invalid
    row = rejected[rejected["column"] == "問20-1"].iloc[0]
    assert (row["file"], row["row"], row["value"]) == ("郵送.csv", 8, "時間がない")
    assert "asked only of those answering activity" in row["reason"] and "非該当" in row[
        "reason"]
    assert result.survey.iloc[6][[f"mihon_cho_reasons__{c}" for c in (1, 2, 3)]].isna().all()


def test_a_vendor_band_that_spans_two_town_bands_stops_with_the_fix(tmp_path):
    web = WEB.assign(age=["20～24歳", "25～34歳", "30～34歳", "80歳以上"])
    with pytest.raises(UserError, match="the age band 「25～34歳」 does not fit") as info:
        _clean(tmp_path, web=web)
    assert info.value.column == "age" and list(info.value.rows) == [3]
    assert "age_bands:" in (info.value.hint or "")


def test_a_number_outside_the_questions_range_is_set_to_missing(tmp_path):
    town = copy.deepcopy(TOWN)
    town["questions"][2]["range"] = [0, 20]
    _, result = _clean(tmp_path, town=town)
    assert "mihon_cho_visits 31 outside 0–20" in result.invalid["reason"].tolist()
