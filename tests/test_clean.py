"""The cleaning pipeline on the corpus town's good files: outputs, data contract, respondent
protection, all-or-nothing writes, and the `clean` / `check` commands.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from helpers import escape, paths
from helpers.cleaning import check_file, clean_town
from helpers.cleaning import write as write_module
from helpers.cleaning.schema import build_schema, validate
from helpers.cli import app
from helpers.errors import ConfigError, UserError
from helpers.towns import Town, load_town

CORPUS = Path(__file__).parent / "bad_inputs"
TOWN_FILE = CORPUS / "corpustown.yml"
TOWN = Town.model_validate(yaml.safe_load(TOWN_FILE.read_text("utf-8")))
OUTPUTS = {"survey.parquet", "restricted.parquet", "rejected.csv", "cleaning_report.json",
           "cleaning_report.md"}


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    return clean_town(TOWN, raw_dir=CORPUS / "good", out_dir=tmp_path_factory.mktemp("c") / "o")


def test_every_output_is_written(result):
    assert {p.name for p in result.out_dir.iterdir()} == OUTPUTS
    report = json.loads((result.out_dir / "cleaning_report.json").read_text("utf-8"))
    assert (report["rows_in"], report["rows_out"], report["values_set_missing"]) == (80, 80, 0)
    assert [s["file"] for s in report["sources"]] == ["郵送.xlsx", "web.csv"]
    md = (result.out_dir / "cleaning_report.md").read_text("utf-8")
    assert "| sex | 0 | 1 | 0 | 0 |" in md  # the web file's 9 = no answer


def test_the_survey_follows_the_data_contract(result, codebook):
    survey = pd.read_parquet(result.out_dir / "survey.parquet")
    build_schema(TOWN.codebook, TOWN.id).validate(survey)
    assert survey["mode"].value_counts().to_dict() == {"郵送": 40, "Web": 40}
    assert list(survey["lonely_direct"].cat.categories) == list(
        codebook["lonely_direct"].labels().values())
    assert survey["lonely_direct"].cat.ordered and not survey["sex"].cat.ordered
    assert list(survey["district"].cat.categories) == ["北", "南"]
    assert str(survey["household_size"].dtype) == "Float64"
    assert str(survey["lonely"].dtype) == "boolean"
    assert str(survey["outing_purpose__1"].dtype) == "Int8"
    assert survey["sex"].isna().sum() == 1


def test_restricted_variables_stay_out_of_the_survey(result):
    survey = pd.read_parquet(result.out_dir / "survey.parquet")
    assert not {"resp_id", "age", "free_text"} & set(survey.columns)
    restricted = pd.read_parquet(result.out_dir / "restricted.parquet")
    assert list(restricted.columns) == ["resp_id", "age", "free_text"]
    assert restricted.index.equals(survey.index)
    assert restricted["resp_id"].iloc[[0, 40]].tolist() == ["M001", "W001"]
    texts = set(restricted["free_text"].dropna())
    assert texts and not any(t in survey.astype(str).to_numpy() for t in texts)


def test_both_answer_layouts_give_the_same_codes(result):
    """Mail labels + joined multi-answers and web codes + 0/1 columns land in one format."""
    survey = result.survey
    mail, web = survey[survey["mode"] == "郵送"], survey[survey["mode"] == "Web"]
    purpose = [c for c in survey if c.startswith("outing_purpose__")]
    assert len(purpose) == 7
    for part in (mail, web):
        assert part[purpose].notna().all(axis=None)
        assert (part[purpose].sum(axis=1) >= 1).all()
        assert part["age_band"].notna().all() and part["lonely"].notna().all()


def test_a_failed_write_keeps_the_previous_output(tmp_path, result, monkeypatch):
    out = tmp_path / "out"
    shutil.copytree(result.out_dir, out)
    before = {p.name: p.read_bytes() for p in out.iterdir()}

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(pd.DataFrame, "to_csv", broken)
    with pytest.raises(OSError, match="disk full"):
        clean_town(TOWN, raw_dir=CORPUS / "good", out_dir=out)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert [p.name for p in tmp_path.iterdir()] == ["out"]
    assert write_module.SURVEY in before


def test_check_file_matches_the_source_by_name_and_writes_nothing(tmp_path):
    raw = tmp_path / "raw"
    shutil.copytree(CORPUS / "good", raw)
    res = check_file(raw / "web.csv", TOWN)
    assert res.out_dir is None and res.rows_out == 40
    assert set(res.survey["mode"]) == {"Web"}
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["raw", "web.csv", "郵送.xlsx"]
    other = raw / "回答.csv"
    shutil.copy(raw / "web.csv", other)
    with pytest.raises(UserError, match="does not match a source") as info:
        check_file(other, TOWN)
    assert "web.csv" in (info.value.hint or "")


def test_cli_check_prints_one_message_and_exits_2():
    bad = CORPUS / "cases" / "unknown_label" / "郵送.xlsx"
    run = CliRunner().invoke(app, ["check", str(bad), "--town", str(TOWN_FILE)])
    assert run.exit_code == 2
    assert "郵送.xlsx" in run.output and "「性別」" in run.output and "rows 5, 10" in run.output
    assert "おとこ" in run.output and "labels: sex:" in run.output
    assert "Traceback" not in run.output


def test_cli_check_with_debug_raises_the_error():
    bad = CORPUS / "cases" / "unknown_label" / "郵送.xlsx"
    run = CliRunner().invoke(app, ["--debug", "check", str(bad), "--town", str(TOWN_FILE)])
    assert isinstance(run.exception, UserError)


def test_cli_check_reports_answers_set_to_missing():
    case = CORPUS / "cases" / "impossible_age" / "郵送.xlsx"
    run = CliRunner().invoke(app, ["check", str(case), "--town", str(TOWN_FILE)])
    assert run.exit_code == 0, run.output
    assert ("40 rows read, 0 exact duplicate(s), 0 without any answer, 1 impossible answer(s) "
            "set to missing, 40 respondents") in run.output
    assert "郵送.xlsx row 8, column 「年齢」, value 「150」: age 150 outside" in run.output


def test_an_encoding_left_to_auto_is_detected(tmp_path):
    """The cp932 file that fails as stated utf-8 reads fine with 'encoding: auto'."""
    raw = tmp_path / "raw"
    shutil.copytree(CORPUS / "good", raw)
    shutil.copy(CORPUS / "cases" / "wrong_encoding" / "web.csv", raw / "web.csv")
    web = TOWN.sources[1].model_copy(update={"encoding": "auto"})
    town = TOWN.model_copy(update={"sources": [TOWN.sources[0], web]})
    result = check_file(raw / "web.csv", town)
    assert result.report["sources"][0]["encoding"] == "cp932"
    assert "雪かきが大変（合成）" in result.restricted["free_text"].tolist()


def test_the_schema_rejects_what_the_codebook_forbids(result, codebook):
    schema = build_schema(TOWN.codebook, TOWN.id)
    too_big = result.survey.assign(household_size=result.survey["household_size"] + 20)
    with pytest.raises(Exception, match="household_size"):
        schema.validate(too_big)
    with pytest.raises(Exception, match="resp_id"):
        schema.validate(result.survey.assign(resp_id="M001"))
    with pytest.raises(UserError, match="breaks the codebook's rules") as info:
        validate(too_big, TOWN.codebook, TOWN.id)
    assert info.value.column == "household_size"


def test_cli_clean_summarises_and_exits_2_when_a_town_fails(tmp_path, monkeypatch):
    monkeypatch.setattr(paths, "DATA_PROCESSED", tmp_path)
    run = CliRunner().invoke(app, ["clean", "tsukumi", "nosuchtown"])
    assert run.exit_code == 2
    assert "tsukumi" in run.output and "failed" in run.output
    assert "nosuchtown" in run.output and "no parameter file" in run.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tsukumi"]
    assert (tmp_path / "tsukumi" / "survey.parquet").exists()


def test_a_label_mapped_to_a_non_answer_is_a_parameter_file_error(tmp_path):
    mail = TOWN.sources[0].model_copy(update={"labels": {"sex": {"おとこ": "男の人"}}})
    town = TOWN.model_copy(update={"sources": [mail, TOWN.sources[1]]})
    with pytest.raises(ConfigError, match="labels → sex → 「おとこ」") as info:
        clean_town(town, raw_dir=CORPUS / "good", out_dir=tmp_path / "out")
    assert "男性" in (info.value.hint or "") and str(info.value.file).endswith("corpustown.yml")
    assert not (tmp_path / "out").exists()


def test_an_id_in_both_files_with_different_answers_names_both_files(tmp_path):
    raw = tmp_path / "raw"
    shutil.copytree(CORPUS / "good", raw)
    web = pd.read_csv(raw / "web.csv", dtype=str, keep_default_na=False)
    web.loc[2, "id"] = "Ｍ００１"  # full-width: the same ID as the mail form's M001
    web.to_csv(raw / "web.csv", index=False)
    with pytest.raises(UserError, match="share a respondent ID") as info:
        clean_town(TOWN, raw_dir=raw, out_dir=tmp_path / "out")
    assert info.value.file == "郵送.xlsx, web.csv"
    assert info.value.column == "整理番号 / id"
    assert list(info.value.rows) == [2, 4]
    assert "(郵送.xlsx row 2, web.csv row 4)" in info.value.problem


def test_a_line_break_inside_a_quoted_cell_stays_in_the_cell(tmp_path):
    raw = tmp_path / "raw"
    shutil.copytree(CORPUS / "good", raw)
    web = pd.read_csv(raw / "web.csv", dtype=str, keep_default_na=False)
    web.loc[1, "q_comment"] = "一行目,\n二行目"
    web.loc[5, "q_age"] = "150"
    web.to_csv(raw / "web.csv", index=False)
    result = check_file(raw / "web.csv", TOWN)
    assert "一行目,\n二行目" in result.restricted["free_text"].tolist()
    assert result.invalid["row"].tolist() == [7]  # the record's row, as Excel numbers it


def test_rejected_csv_cells_cannot_start_a_formula(tmp_path):
    """rejected.csv shows raw cells and opens in Excel: a vendor value like 「@HYPERLINK(…)」 is
    written with a leading ' (OWASP's CSV-injection advice), the file's own values as they are."""
    import csv

    raw = tmp_path / "raw"
    shutil.copytree(CORPUS / "good", raw)
    web = pd.read_csv(raw / "web.csv", dtype=str, keep_default_na=False)
    hostile = '@HYPERLINK("http://x.invalid")'
    web.loc[5, ["q_household", "q_members"]] = [hostile, "3"]
    web.to_csv(raw / "web.csv", index=False)
    source = TOWN.sources[1].model_copy(update={"labels": {
        **TOWN.sources[1].labels, "household": {hostile: "単身世帯"}}})
    town = TOWN.model_copy(update={"sources": [TOWN.sources[0], source]})
    clean_town(town, raw_dir=raw, out_dir=tmp_path / "out")
    text = (tmp_path / "out" / "rejected.csv").read_text(encoding="utf-8-sig")
    header, *rows = list(csv.reader(text.splitlines()))
    cells = {row[2]: dict(zip(header, row, strict=True)) for row in rows}
    assert cells["q_household"]["value"] == "'" + hostile
    assert cells["q_members"]["value"] == "3" and cells["q_members"]["row"] == "7"
    assert cells["q_members"]["file"] == "web.csv"


# --- raw files named in a town file stay inside the town's folder ---


def _outside(tmp_path: Path) -> tuple[Path, Path]:
    """The good raw files in tmp/raw, and a readable copy of one outside that folder."""
    raw = tmp_path / "raw"
    shutil.copytree(CORPUS / "good", raw)
    shutil.copy(raw / "web.csv", tmp_path / "elsewhere.csv")
    return raw, tmp_path / "elsewhere.csv"


@pytest.mark.parametrize("kind", ["dot-dot", "absolute", "link"])
def test_a_raw_file_outside_the_towns_folder_is_refused(tmp_path, kind):
    raw, outside = _outside(tmp_path)
    name = {"dot-dot": "../raw/../elsewhere.csv", "absolute": str(outside), "link": "web.csv"}[kind]
    if kind == "link":
        (raw / "web.csv").unlink()
        (raw / "web.csv").symlink_to(outside)
    town = TOWN.model_copy(update={"sources": [
        TOWN.sources[0], TOWN.sources[1].model_copy(update={"file": name})]})
    with pytest.raises(ConfigError) as info:
        clean_town(town, raw_dir=raw, out_dir=tmp_path / "out")
    message = info.value.message
    assert f"sources[1] → file: 「{name}」 is outside the town's raw-data folder" in message
    assert str(outside.resolve()) in message and "relative to that folder" in message
    assert not (tmp_path / "out").exists()


def test_a_code_sheet_outside_the_towns_folder_is_refused(tmp_path):
    from helpers.towns import CodeSheet

    raw, _ = _outside(tmp_path)
    sheet = CodeSheet(file="../elsewhere.csv", question="q", code="c", label="l")
    town = TOWN.model_copy(update={"sources": [
        TOWN.sources[0], TOWN.sources[1].model_copy(update={"code_sheet": sheet})]})
    with pytest.raises(ConfigError, match=r"sources\[1\] → code_sheet → file: 「\.\./elsewhere"):
        clean_town(town, raw_dir=raw, out_dir=tmp_path / "out")
    with pytest.raises(ConfigError, match="code_sheet → file"):
        check_file(raw / "web.csv", town)  # the same check when one export is tested


def test_raw_files_inside_the_folder_are_found_through_links_and_subfolders(tmp_path):
    data = tmp_path / "disk" / "corpustown"  # the town's folder kept elsewhere, linked in
    shutil.copytree(CORPUS / "good", data / "2023")
    raw = tmp_path / "raw"
    raw.symlink_to(data)
    sources = [s.model_copy(update={"file": f"2023/../2023/{s.file}"}) for s in TOWN.sources]
    result = clean_town(TOWN.model_copy(update={"sources": sources}), raw_dir=raw,
                        out_dir=tmp_path / "out")
    assert result.rows_out == 80
    assert TOWN.raw_file("a/b.csv", "sources[0] → file", raw) == raw / "a" / "b.csv"


def test_cli_messages_quote_vendor_text_as_typed(tmp_path):
    """A header such as 「[/]備考」 is quoted as it is: rich would read it as markup (and fail)."""
    raw = tmp_path / "raw"
    shutil.copytree(CORPUS / "good", raw)
    web = pd.read_csv(raw / "web.csv", dtype=str, keep_default_na=False)
    web.insert(1, "[/][red]備考", "x")
    web.to_csv(raw / "web.csv", index=False)
    run = CliRunner().invoke(app, ["check", str(raw / "web.csv"), "--town", str(TOWN_FILE)])
    assert run.exit_code == 2, run.output
    assert "column 「[/][red]備考」" in run.output and "Traceback" not in run.output


def test_cli_check_verbose_prints_the_full_table_of_values():
    run = CliRunner().invoke(app, ["check", str(CORPUS / "good" / "web.csv"), "--town",
                                   str(TOWN_FILE), "--verbose"], env={"COLUMNS": "150"})
    assert run.exit_code == 0, run.output
    web = pd.read_csv(CORPUS / "good" / "web.csv")
    fives = int((web["q_lonely"] == 5).sum())
    row = next(line for line in run.output.splitlines() if "q_lonely" in line and "│ 5 " in line)
    assert "しばしばある・常にある" in row and row.split("│")[-2].strip() == str(fives)


def test_cli_clean_prints_the_verification_view_and_answers_set_to_missing(tmp_path,
                                                                          monkeypatch):
    monkeypatch.setattr(paths, "DATA_PROCESSED", tmp_path)
    run = CliRunner().invoke(app, ["clean", "tsukumi"])
    assert run.exit_code == 0, run.output
    assert "living_standard ← 「暮らし向き」: " in run.output
    assert "set to missing: 津久見市_アンケート_合成データ.csv row" in run.output
    assert "age 142 outside the survey's range 18–110" in run.output


def test_headings_listed_as_no_answer_do_not_make_an_empty_respondent(tmp_path):
    """The workaround a user finds for a second header row still ends in the right message."""
    raw = tmp_path / "raw"
    shutil.copytree(CORPUS / "good", raw)
    shutil.copy(CORPUS / "cases" / "second_header_row" / "郵送.xlsx", raw / "郵送.xlsx")
    headings = [f"{c}（設問）" for c in ("性別", "年齢", "地区", "世帯", "同居人数", "孤独感")]
    mail = TOWN.sources[0].model_copy(update={"no_answer": ["無回答", *headings]})
    town = TOWN.model_copy(update={"sources": [mail, TOWN.sources[1]]})
    with pytest.raises(UserError, match="row 2 looks like a second header row") as info:
        clean_town(town, raw_dir=raw, out_dir=tmp_path / "out")
    assert "header_row: [1, 2]" in (info.value.hint or "")
    assert not (tmp_path / "out").exists()


def test_cli_check_of_a_reversed_scale_is_a_clear_error():
    """Answers on the vendor's numbering, a code sheet that matches no column: exit 2, no data."""
    case = CORPUS / "cases" / "code_sheet_matches_no_column"
    changes = yaml.safe_load((case / "town.yml").read_text("utf-8"))["sources"]["web.csv"]
    data = yaml.safe_load(TOWN_FILE.read_text("utf-8"))
    data["sources"][1] |= changes
    town = Town.model_validate(data)
    with pytest.raises(UserError, match="the code sheet matches no column") as info:
        check_file(case / "web.csv", town)
    assert info.value.file == "コード表.xlsx" and "問1" in str(info.value.value)


def test_a_no_answer_value_in_no_cell_is_reported(tmp_path):
    mail = TOWN.sources[0].model_copy(update={"no_answer": ["無回答", "999"]})
    town = TOWN.model_copy(update={"sources": [mail, TOWN.sources[1]]})
    result = clean_town(town, raw_dir=CORPUS / "good", out_dir=tmp_path / "out")
    notes = result.report["sources"][0]["notes"]
    assert "no_answer: 「999」 is in no cell of this file (the setting is not used)" in notes
    report = (tmp_path / "out" / "cleaning_report.md").read_text("utf-8")
    assert escape.md("no_answer: 「999」 is in no cell of this file") in report


def test_checking_one_file_of_a_town_with_margins_does_not_judge_the_margins():
    """The web answers of Iiyama alone leave margin cells empty: only `clean` of both files
    checks the margins."""
    town = load_town("iiyama")
    result = check_file(town.raw_dir / town.sources[1].file, town)
    assert result.rows_out == 116 and not result.report["warnings"]
