"""The bad-input corpus (tests/bad_inputs/): each kind of bad export ends in one clear message
naming the file, column, rows and value, and nothing is written — or it is recovered from, as a
user would expect, and the recovery is reported.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml

from helpers.cleaning import check_file, clean_town
from helpers.errors import UserError
from helpers.towns import Town

CORPUS = Path(__file__).parent / "bad_inputs"
TOWN = Town.model_validate(yaml.safe_load((CORPUS / "corpustown.yml").read_text("utf-8")))


def _case_file(case: str) -> Path:
    return next((CORPUS / "cases" / case).iterdir())


def _raw_dir(tmp_path: Path, case: str) -> Path:
    """The good files with the case's damaged file in place of its good twin (copies)."""
    raw = tmp_path / "raw"
    shutil.copytree(CORPUS / "good", raw)
    shutil.copy(_case_file(case), raw / _case_file(case).name)
    return raw


def _snapshot(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


@pytest.fixture(scope="module")
def good(tmp_path_factory):
    out = tmp_path_factory.mktemp("good") / "out"
    return clean_town(TOWN, raw_dir=CORPUS / "good", out_dir=out)


# case, words of the problem, column, rows (as in Excel), value, words of the hint
ERRORS = [
    ("empty_file", "is empty", None, [], None, "export"),
    ("header_only", "no answers", None, [1], None, "header_row"),
    ("wrong_encoding", "cannot be read as utf-8", None, [2], "bytes", "encoding: cp932"),
    ("missing_column", "missing", "q_lonely", [1], None, "columns:"),
    ("unknown_column", "not in the parameter file", "備考", [1], None, "ignore:"),
    ("unknown_label", "answer not known for sex", "性別", [5, 10], "おとこ", "labels: sex:"),
    ("out_of_range_code", "code outside the codes of lonely_direct", "q_lonely", [14], "7",
     "valid codes"),
    ("duplicated_ids", "share a respondent ID", "整理番号", [6, 12, 32], "M005", "unique"),
    ("many_impossible_ages", "outside the survey's range", "年齢", [3, 4, 5, 6, 7, 8], None,
     "min_age"),
    ("non_numeric_age", "age must be a number", "年齢", [11], "三十五", "number"),
    ("wrong_delimiter", "separated by semicolon", None, [1], "id;q_sex", 'delimiter: ";"'),
    ("corrupt_xlsx", "not a readable Excel file", None, [], None, "save it again"),
    ("xlsx_extra_header_rows", "missing", "整理番号", [1], None, "header_row: 3"),
    ("xlsx_wrong_sheet", "no sheet 「回答データ」", None, [], None, "sheet:"),
    ("ragged_rows", "different number of cells", None, [3], "W2,1,3", "export"),
]


@pytest.mark.parametrize(
    ("case", "problem", "column", "rows", "value", "hint"), ERRORS, ids=[e[0] for e in ERRORS]
)
def test_bad_input_is_one_clear_error_and_nothing_is_written(
    tmp_path, good, case, problem, column, rows, value, hint
):
    raw = _raw_dir(tmp_path, case)
    fresh = tmp_path / "fresh"
    previous = tmp_path / "previous"
    shutil.copytree(good.out_dir, previous)
    before = _snapshot(previous)

    for out in (fresh, previous):
        with pytest.raises(UserError) as info:
            clean_town(TOWN, raw_dir=raw, out_dir=out)
        exc = info.value
        assert _case_file(case).name in str(exc.file)
        assert problem in exc.problem
        assert exc.column == column
        assert list(exc.rows) == rows
        if value is not None:
            assert value in str(exc.value)
        assert hint in (exc.hint or "")
        assert "Traceback" not in exc.message

    assert not fresh.exists()
    assert _snapshot(previous) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["previous", "raw"]  # no temp left

    with pytest.raises(UserError) as checked:
        check_file(raw / _case_file(case).name, TOWN)
    assert (checked.value.column, list(checked.value.rows)) == (column, rows)
    assert problem in checked.value.problem


def _recovered(tmp_path: Path, case: str):
    return clean_town(TOWN, raw_dir=_raw_dir(tmp_path, case), out_dir=tmp_path / "out")


def _mail(frame: pd.DataFrame) -> pd.DataFrame:
    return frame[frame["mode"] == "郵送"].reset_index(drop=True)


@pytest.mark.parametrize("case", ["label_variants_and_spaces", "xlsx_extra_sheets", "bom"])
def test_recoverable_variants_give_the_same_dataset(tmp_path, good, case):
    result = _recovered(tmp_path, case)
    pd.testing.assert_frame_equal(result.survey, good.survey)
    assert pd.read_parquet(tmp_path / "out" / "survey.parquet").shape == good.survey.shape


def test_variants_are_counted_as_recoded(tmp_path, good):
    report = _recovered(tmp_path, "label_variants_and_spaces").report
    assert report["variables"]["sex"]["recoded"] == 40
    assert set(report["variables"]["sex"]["examples"]) == {
        "「男性 」 → 男性", "「女性 」 → 女性", "「9」 → missing"}  # 9: the web file's no answer
    changed = _mail(good.survey)["lonely_direct"].astype(str).str.contains("ある|・")
    assert report["variables"]["lonely_direct"]["recoded"] == changed.sum() > 0
    assert good.report["variables"]["sex"]["recoded"] == 0


def test_a_bom_is_removed_and_reported(tmp_path):
    notes = _recovered(tmp_path, "bom").report["sources"][1]["notes"]
    assert any("BOM" in n for n in notes)


def test_full_width_digits_are_read_as_numbers(tmp_path, good):
    result = _recovered(tmp_path, "fullwidth_digits")
    pd.testing.assert_frame_equal(result.restricted, good.restricted)
    assert result.report["variables"]["age"]["recoded"] == 40


def test_a_totals_row_and_a_blank_row_at_the_bottom_are_skipped(tmp_path, good):
    result = _recovered(tmp_path, "totals_row")
    assert result.rows_out == good.rows_out == 80
    notes = result.report["sources"][0]["notes"]
    assert "totals row 43 at the bottom skipped" in notes
    assert any("rows 42" in n for n in notes)


def test_an_exact_duplicate_row_is_kept_once(tmp_path, good):
    result = _recovered(tmp_path, "exact_duplicate_row")
    assert (result.rows_in, result.rows_out) == (81, 80)
    assert result.report["duplicates_removed"] == 1
    pd.testing.assert_frame_equal(result.survey, good.survey)


def test_an_impossible_age_is_set_to_missing_and_the_respondent_kept(tmp_path, good):
    result = _recovered(tmp_path, "impossible_age")
    assert result.rows_out == good.rows_out
    rejected = pd.read_csv(tmp_path / "out" / "rejected.csv", encoding="utf-8-sig")
    assert rejected.values.tolist() == [
        ["郵送.xlsx", 8, "年齢", 150, "age 150 outside the survey's range 18–110"]]
    assert pd.isna(result.restricted["age"].iloc[6]) and pd.isna(result.survey["age_band"][6])
    kept = result.survey.drop(columns=["age_band"]).iloc[6]
    pd.testing.assert_series_equal(kept, good.survey.drop(columns=["age_band"]).iloc[6])
    assert result.report["variables"]["age"]["invalid"] == 1
    assert result.report["invalid_values"][0]["row"] == 8
    md = (tmp_path / "out" / "cleaning_report.md").read_text("utf-8")
    assert "| 郵送.xlsx | 8 | 年齢 | 150 | age 150 outside the survey's range 18–110 |" in md


def test_an_inconsistent_household_sets_both_answers_to_missing(tmp_path, good):
    result = _recovered(tmp_path, "inconsistent_household")
    assert result.invalid[["row", "column", "value"]].values.tolist() == [
        [9, "同居人数", "3"], [9, "世帯", "単身世帯"]]
    assert set(result.invalid["reason"]) == {"単身世帯 but household size 3"}
    assert result.survey[["household", "household_size"]].iloc[7].isna().all()
    assert result.rows_out == good.rows_out


def test_an_entirely_empty_column_leaves_that_variable_missing_with_a_warning(tmp_path, good):
    result = _recovered(tmp_path, "empty_column")
    mail = _mail(result.survey)
    assert mail["lonely_direct"].isna().all() and mail["lonely"].isna().all()
    assert not _mail(good.survey)["lonely_direct"].isna().any()
    assert result.survey["lonely_direct"].notna().sum() == 40  # the web rows still have it
    assert any("孤独感" in w and "entirely empty" in w for w in result.report["warnings"])


def test_the_corpus_has_at_least_fifteen_kinds_of_bad_input():
    cases = {p.name for p in (CORPUS / "cases").iterdir()}
    assert len(cases) >= 15
    assert {e[0] for e in ERRORS} <= cases


def test_cells_of_only_spaces_are_missing_answers(tmp_path, good):
    result = _recovered(tmp_path, "space_only_cells")
    mail, before = _mail(result.survey), _mail(good.survey)
    assert mail["household"].isna().tolist()[2] and not before["household"].isna().tolist()[2]
    assert pd.isna(mail["household_size"].iloc[3]) and not pd.isna(before["household_size"].iloc[3])
    assert mail.filter(like="outing_purpose__").iloc[4].isna().all()
    assert result.rows_out == good.rows_out
