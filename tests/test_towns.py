"""Town parameter files: every committed town loads; mistakes name the file and the key."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from helpers.errors import ConfigError
from helpers.towns import list_towns, load_town

MINIMAL = {
    "id": "sampletown",
    "name": {"ja": "見本町", "en": "Sample Town"},
    "prefecture": "長野県",
    "synthetic": True,
    "survey": {
        "title": "見本町 孤独・孤立に関する調査（合成データ）",
        "population": 5000,
        "target": "町内在住の18歳以上",
        "min_age": 18,
        "sampling": "無作為抽出",
        "distributed": 500,
        "returned": 200,
        "start": "2023-12-01",
        "end": "2023-12-20",
        "modes": ["郵送"],
    },
    "districts": ["北", "南"],
    "sources": [
        {
            "file": "見本町_合成データ.csv",
            "mode": "郵送",
            "columns": {
                "sex": "性別",
                "age": "年齢",
                "district": "地区",
                "lonely_direct": "孤独感",
                "outing_purpose": {"joined": "外出目的"},
            },
        }
    ],
    "margins": {
        "source": "合成（架空）の人口",
        "sex_age_band": {"男性": {"20代": 100}, "女性": {"20代": 110}},
        "district": {"北": 80, "南": 130},
    },
}


def _write(tmp_path: Path, data: dict, name: str = "sampletown.yml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def test_a_minimal_town_loads(tmp_path):
    town = load_town(_write(tmp_path, MINIMAL))
    assert town.name.ja == "見本町"
    assert town.survey.response_rate == pytest.approx(0.4)
    assert town.report.min_cell == 10
    assert town.variables() == {"sex", "age", "district", "lonely_direct", "outing_purpose"}


@pytest.mark.parametrize("town_id", list_towns())
def test_every_committed_town_loads_and_is_labelled(town_id):
    town = load_town(town_id)
    assert town.id == town_id
    assert town.sources
    if town.synthetic:
        assert "合成" in town.survey.title


def _broken(mutate) -> dict:
    data = copy.deepcopy(MINIMAL)
    mutate(data)
    return data


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda d: d["survey"].pop("returned"), "survey → returned: required key is missing"),
        (lambda d: d["survey"].update(retuned=1), "survey → retuned: unknown key (misspelt?)"),
        (lambda d: d.update(distrcts=[]), "distrcts: unknown key (misspelt?)"),
        (lambda d: d["sources"][0]["columns"].update(loneliness="Q1"),
         "「loneliness」 is neither a standard variable"),
        (lambda d: d["sources"][0]["columns"].update(outing_purpose="外出目的"),
         "outing_purpose: a multi-answer item"),
        (lambda d: d["sources"][0].update(mode="FAX"), "sources[0] → mode"),
        (lambda d: d["survey"].update(returned=900), "returned is larger than distributed"),
        (lambda d: d.update(districts=["北", "北"]), "districts listed twice"),
        (lambda d: d["margins"]["sex_age_band"].update(その他={"20代": 1}),
         "「その他」 is not 男性 or 女性"),
        (lambda d: d["margins"]["sex_age_band"].pop("女性"), "no counts for ['女性']"),
        (lambda d: d["margins"]["district"].pop("南"), "district: no count for ['南']"),
        (lambda d: d["sources"][0]["columns"].pop("district"),
         "no source maps a district column"),
        (lambda d: d["sources"][0].update(labels={"income": {"low": 1}}),
         "['income'] not mapped under this source's columns"),
        (lambda d: d["sources"][0].update(header_row=[1, 3]), "consecutive rows"),
        (lambda d: d["sources"][0].update(header_row=0), "consecutive rows"),
        (lambda d: d["sources"][0].update(file="見本町.sav"), "set 'answers: codes'"),
        (lambda d: d["sources"][0].update(delimiter=";;"), "delimiter"),
        (lambda d: d["sources"][0].update(sheet="回答"), "sheet: not used for a .csv file"),
        (lambda d: d["sources"][0].update(file="見本町.xlsx", encoding="cp932"),
         "encoding: not used for a .xlsx file"),
        (lambda d: d["sources"][0].update(file="見本町.sav", answers="codes", header_row=2),
         "header_row: not used for a .sav file"),
        (lambda d: d["margins"]["sex_age_band"]["男性"].update({"若者": 1}),
         "「若者」 is not an age band"),
    ],
)
def test_a_mistake_names_the_file_and_the_key(tmp_path, mutate, expected):
    path = _write(tmp_path, _broken(mutate))
    with pytest.raises(ConfigError) as exc:
        load_town(path)
    assert expected in exc.value.message
    assert str(path) in exc.value.message


def test_the_id_must_match_the_file_name(tmp_path):
    with pytest.raises(ConfigError, match="rename the file"):
        load_town(_write(tmp_path, MINIMAL, name="othertown.yml"))


def test_an_unknown_town_lists_the_known_ones():
    with pytest.raises(ConfigError, match="towns with a parameter file"):
        load_town("atlantis")


# --- the town's view of the codebook -----------------------------------------------------------

OWN = [
    {"name": "activity", "question": "地域の活動に参加していますか。", "type": "single",
     "answers": {1: "参加している", 2: "以前は参加していた", 3: "参加したことはない"}},
    {"name": "reasons", "question": "参加していない理由（いくつでも）", "type": "multi",
     "answers": {1: "きっかけがない", 2: "時間がない", 3: "その他"},
     "asked_if": {"activity": ["以前は参加していた", 3]}},
    {"name": "visits", "question": "この1か月に公民館を訪れた回数", "type": "number",
     "range": [0, 31]},
]


def _with_own(mutate=None) -> dict:
    data = copy.deepcopy(MINIMAL)
    data["questions"] = copy.deepcopy(OWN)
    data["sources"][0]["columns"].update(activity="問20", reasons={"joined": "問20-1"},
                                         visits="問21")
    if mutate:
        mutate(data)
    return data


def test_own_questions_become_town_prefixed_variables(tmp_path):
    book = load_town(_write(tmp_path, _with_own())).codebook
    assert book["activity"].name == "sampletown_activity" and book["activity"].section == "own"
    assert book["reasons"].columns() == [f"sampletown_reasons__{c}" for c in (1, 2, 3)]
    assert book["reasons"].asked_if.variable == "sampletown_activity"
    assert book["reasons"].asked_if.codes == [2, 3]  # a label, and a code
    assert book["visits"].range == (0, 31) and book["visits"].key == "visits"
    assert "sampletown_visits" in book and "visits" in book and "health" in book
    town = load_town(_write(tmp_path, _with_own()))
    assert {"sampletown_activity", "sampletown_reasons", "sex"} <= town.variables()


def test_the_town_codebook_holds_its_districts_bands_and_wording(tmp_path):
    data = _with_own(lambda d: d.update(
        age_bands=["18～29歳", "30～59歳", "60歳以上"],
        wording={"sex": {"その他・答えたくない": "その他・回答しない"}}))
    data["margins"]["sex_age_band"] = {s: {"18～29歳": 50, "30～59歳": 80, "60歳以上": 80}
                                       for s in ("男性", "女性")}
    data["margins"]["district"] = {"北": 160, "南": 260}
    town = load_town(_write(tmp_path, data))
    book = town.codebook
    assert book["district"].labels() == {1: "北", 2: "南"}
    assert book["age_band"].labels() == {1: "18～29歳", 2: "30～59歳", 3: "60歳以上"}
    assert book["age_band"].derive.edges == [18, 30, 60, 200]
    assert book["sex"].labels()[3] == "その他・回答しない"
    moved = town.model_copy(update={"districts": ["東", "西"]})  # resolved again for the copy
    assert moved.codebook["district"].labels() == {1: "東", 2: "西"}


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda d: d["questions"].append({"name": "health", "question": "健康", "type": "single",
                                          "answers": {1: "a", 2: "b"}}),
         "「health」 is a standard variable"),
        (lambda d: d["questions"].append(dict(d["questions"][0])), "names used twice"),
        (lambda d: d["questions"].append({"name": "spare", "question": "予備", "type": "single",
                                          "answers": {1: "a", 2: "b"}}),
         "questions: ['spare'] not mapped under any source's columns"),
        (lambda d: d["questions"][1].update(asked_if={"activity": ["参加してない"]}),
         "「参加してない」 is not one of its answers"),
        (lambda d: d["questions"][1].update(asked_if={"visits": [1]}),
         "name another question with answers"),
        (lambda d: d["questions"][1].update(asked_if={"participation": [5]}),
         "「participation」 is not mapped under any source's columns"),
        (lambda d: d["questions"][2].update(answers={1: "a", 2: "b"}),
         "a number question takes no answers"),
        (lambda d: d["questions"][0].update(answers={1: "a", 2: "a"}), "labels used twice"),
        (lambda d: d.update(wording={"sex": {"無回答": "x"}}),
         "「無回答」 is not one of its answers"),
        (lambda d: d.update(wording={"sex": {3: "男性"}}), "two answers would read ['男性']"),
        (lambda d: d.update(wording={"age": {1: "x"}}), "「age」 is not a standard question"),
        (lambda d: d.update(wording={"lonely_direct": {5: "いつも"}}),
         "「しばしばある・常にある」 is compared with the national survey"),
        (lambda d: d.update(wording={"sex": {"男性": "男"}}), "「男性」 is compared with"),
        (lambda d: d.update(age_bands=["20～29歳", "30歳以上"]), "aged 18–19 would have no band"),
    ],
)
def test_a_mistake_in_the_towns_own_questions_names_the_key(tmp_path, mutate, expected):
    path = _write(tmp_path, _with_own(mutate))
    with pytest.raises(ConfigError) as exc:
        load_town(path)
    assert expected in exc.value.message
