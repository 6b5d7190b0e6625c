"""The codebook: loading, typed access and the errors a bad entry gets."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from helpers import paths
from helpers.codebook import VarType, load_codebook
from helpers.errors import ConfigError


def _write(tmp_path: Path, data: dict) -> Path:
    path = tmp_path / "codebook.yml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def _raw() -> dict:
    return yaml.safe_load(paths.CODEBOOK.read_text(encoding="utf-8"))


def test_the_project_codebook_loads_with_the_national_direct_item(codebook):
    item = codebook["lonely_direct"]
    assert item.type is VarType.ORDINAL
    assert list(item.labels().values()) == [
        "決してない", "ほとんどない", "たまにある", "時々ある", "しばしばある・常にある",
    ]
    assert codebook["lonely"].derive.codes == [3, 4, 5]
    assert codebook["ucla_band"].derive.edges == [3, 4, 7, 10, 13]


def test_every_brief_section_4_item_is_a_standard_variable(codebook):
    for name in ["sex", "age", "district", "origin", "residence_years", "ucla_1", "ucla_2",
                 "ucla_3", "outing_summer", "outing_winter", "town_ties", "town_faces",
                 "town_selfcontained", "gathering_place", "consult", "rely_on", "free_text"]:
        assert name in codebook
    assert "nonsense" not in codebook


def test_restricted_variables_are_not_public(codebook):
    public = {v.name for v in codebook.public}
    assert {"resp_id", "age", "free_text"}.isdisjoint(public)
    assert "age_band" in public


def test_multi_answer_items_become_one_column_per_option(codebook):
    assert codebook["outing_purpose"].columns()[:2] == ["outing_purpose__1", "outing_purpose__2"]
    assert codebook["sex"].columns() == ["sex"]


def test_district_and_age_band_codes_come_from_the_town(codebook):
    assert codebook["district"].codes == "town" and codebook["district"].labels() == {}
    assert codebook["age_band"].codes == "town" and codebook["age_band"].labels() == {}


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda d: d["variables"].append(dict(d["variables"][2])), "variable names used twice"),
        (lambda d: d["variables"][2]["codes"].update({3: "男性"}), "labels used twice"),
        (lambda d: d["variables"][2].update(tipe="single"), "sex) → tipe: unknown key"),
        (lambda d: d["variables"][2].pop("question"), "sex) → question: required key is missing"),
        (lambda d: d["variables"][2].update(type="choice"), "sex) → type"),
        (lambda d: d["variables"][2].update(no_answer=[1]), "both answers and no_answer"),
        (lambda d: d["derived"][0]["derive"].update({"from": ["lonely_x"]}),
         "derives from unknown variables ['lonely_x']"),
        (lambda d: d["variables"][3].update(codes={1: "a"}), "type number takes no codes"),
    ],
)
def test_a_bad_entry_gets_an_error_naming_it(tmp_path, mutate, expected):
    data = _raw()
    mutate(data)
    with pytest.raises(ConfigError) as exc:
        load_codebook(_write(tmp_path, data))
    assert expected in exc.value.message
    assert "codebook.yml" in exc.value.message


def test_a_yaml_syntax_error_names_the_line(tmp_path):
    path = tmp_path / "codebook.yml"
    path.write_text("variables:\n  - name: sex\n   type: single\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="line 3"):
        load_codebook(path)
