"""The bad-input corpus (tests/bad_inputs/): each kind of bad export ends in one clear message
naming the file, column, rows and value, and nothing is written — or it is recovered from, as a
user would expect, and the recovery is reported.
"""

from __future__ import annotations

import copy
import hashlib
import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml

from helpers import escape
from helpers.cleaning import check_file, clean_town
from helpers.errors import UserError
from helpers.towns import Town

CORPUS = Path(__file__).parent / "bad_inputs"
TOWN_DATA = yaml.safe_load((CORPUS / "corpustown.yml").read_text("utf-8"))
TOWN = Town.model_validate(TOWN_DATA)
CHANGES = "town.yml"  # a case's changes to the town file


def _case_files(case: str) -> list[Path]:
    return sorted(p for p in (CORPUS / "cases" / case).iterdir() if p.name != CHANGES)


def _town(case: str) -> Town:
    """The corpus town with the case's changes: ``sources:`` by file name, ``town:`` keys; a
    key changed to None is removed."""
    path = CORPUS / "cases" / case / CHANGES
    if not path.exists():
        return TOWN
    changes = yaml.safe_load(path.read_text("utf-8"))
    data = copy.deepcopy(TOWN_DATA) | changes["town"]
    for source in data["sources"]:
        change = changes["sources"].get(source["file"], {})
        columns = source["columns"] | change.get("columns", {})
        source.update(change, columns=columns)
        for name in [k for k, v in source.items() if v is None]:
            del source[name]
    return Town.model_validate(data)


def _data_file(case: str) -> Path:
    """The case's file that is one of the town's sources."""
    files = {s.file for s in _town(case).sources}
    return next(p for p in _case_files(case) if p.name in files)


def _raw_dir(tmp_path: Path, case: str) -> Path:
    """The good files with the case's files in place of their good twins (copies)."""
    raw = tmp_path / "raw"
    shutil.copytree(CORPUS / "good", raw)
    for path in _case_files(case):
        shutil.copy(path, raw / path.name)
    return raw


def _snapshot(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


@pytest.fixture(scope="module")
def good(tmp_path_factory):
    out = tmp_path_factory.mktemp("good") / "out"
    return clean_town(TOWN, raw_dir=CORPUS / "good", out_dir=out)


ALL_WEB = list(range(3, 43))  # the web file's answers under two header rows
WHOLE_TOWN = {"margin_cell_without_respondents", "margin_category_missing"}

# case, words of the problem, column, rows (as in Excel), value, words of the hint; the file
# named is the case's data file unless a file is given as the last item
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
    ("second_header_row", "row 2 looks like a second header row", "性別", [2], "性別（設問）",
     "header_row: [1, 2]"),
    ("code_sheet_matches_no_column", "the code sheet matches no column of web.csv", "設問", [],
     "問1", "header_row: [1, 2]", "コード表.xlsx"),
    ("code_sheet_misses_a_column", "numeric code of lonely_direct without a meaning",
     "問6 q_lonely", ALL_WEB, "1", "never taken to mean the codebook's answer"),
    ("corrupt_sav", "not a readable SPSS file", None, [], None, "export it again"),
    ("corrupt_xls", "not a readable Excel 97–2003 (.xls) file", None, [], None, "save it again"),
    ("xls_error_cells", "2 cell(s) of sheet 「回答データ」 hold an Excel error value (#DIV/0!, "
     "#N/A)", "性別", [5, 9], "B5 #N/A (性別); C9 #DIV/0! (年齢)", "values instead of formulas"),
    ("excel_error_cells", "2 cell(s) of sheet 「回答データ」 hold an Excel error value",
     "性別", [5, 9], "B5 #N/A (性別); C9 #DIV/0! (年齢)", "formula"),
    ("csv_error_values", "1 cell(s) hold an Excel error value (#VALUE!)", "q_lonely", [7],
     "G7 #VALUE! (q_lonely)", "formula"),
    ("ambiguous_heading", "the name matches 3 columns", "問7", [1, 2], None,
     "「問7 q_ucla1」"),
    ("number_label_not_a_number", "labels → household_size → 「1人（あなたのみ）」: 「ひとり」 is "
     "neither a number nor 無回答", None, [], None, "6人以上: 6", "corpustown.yml"),
    ("label_matches_nothing", "labels → sex: 「おとこ」 matches no answer in 郵送.xlsx", "sex", [],
     "おとこ", "silently unused", "corpustown.yml"),
    ("ignore_matches_nothing", "'ignore:' names a column the file does not have", "備考", [1],
     None, "remove it from 'ignore:'"),
    ("joined_wrong_sep", "answer not known for outing_purpose", "外出の目的", [5],
     "買い物/通院", "split on 「、」"),
    ("numeric_ids_leading_zeros", "2 rows share a respondent ID but have different answers "
     "(郵送.xlsx row 6, web.csv row 4)", "整理番号 / id", [6, 4], "105", "unique",
     "郵送.xlsx, web.csv"),
    ("whole_float_ids", "2 rows share a respondent ID", "id", [6, 10], "12", "unique"),
    ("margin_cell_without_respondents", "margins → sex_age_band → 男性 → 18～19歳 (100 "
     "residents): no respondent is in this cell", None, [], None, "allow_unweighted: true",
     "corpustown.yml"),
    ("margin_category_missing", "margins → sex_age_band → 女性: no count for 「80歳以上」",
     None, [], None, "allow_unweighted: true", "corpustown.yml"),
]


@pytest.mark.parametrize(
    ("case", "problem", "column", "rows", "value", "hint", "file"),
    [(*e, None) if len(e) == 6 else e for e in ERRORS], ids=[e[0] for e in ERRORS]
)
def test_bad_input_is_one_clear_error_and_nothing_is_written(
    tmp_path, good, case, problem, column, rows, value, hint, file
):
    raw = _raw_dir(tmp_path, case)
    town = _town(case)
    fresh = tmp_path / "fresh"
    previous = tmp_path / "previous"
    shutil.copytree(good.out_dir, previous)
    before = _snapshot(previous)

    for out in (fresh, previous):
        with pytest.raises(UserError) as info:
            clean_town(town, raw_dir=raw, out_dir=out)
        exc = info.value
        assert (file or _data_file(case).name) in str(exc.file)
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

    if ", " in str(exc.file):
        return  # an error across files: `check` reads one file
    if case in WHOLE_TOWN:  # one file of two cannot fill the margins: `check` says nothing
        assert check_file(raw / _data_file(case).name, town).rows_out == 40
        return
    with pytest.raises(UserError) as checked:
        check_file(raw / _data_file(case).name, town)
    assert (checked.value.column, list(checked.value.rows)) == (column, rows)
    assert problem in checked.value.problem


def _recovered(tmp_path: Path, case: str):
    return clean_town(_town(case), raw_dir=_raw_dir(tmp_path, case), out_dir=tmp_path / "out")


def _mail(frame: pd.DataFrame) -> pd.DataFrame:
    return frame[frame["mode"] == "郵送"].reset_index(drop=True)


@pytest.mark.parametrize("case", [
    "label_variants_and_spaces", "xlsx_extra_sheets", "bom", "legacy_xls", "csv_cp932_semicolon",
    "csv_cp932_tab", "csv_two_header_rows", "joined_semicolon", "code_sheet_by_question_number"])
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
    reason = "age 150 outside the survey's range 18–110"
    assert escape.md_row(["郵送.xlsx", 8, "年齢", 150, reason]) in md


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


def test_the_corpus_has_at_least_thirty_five_kinds_of_bad_input():
    cases = {p.name for p in (CORPUS / "cases").iterdir()}
    assert len(cases) >= 35
    assert {e[0] for e in ERRORS} <= cases


def test_cells_of_only_spaces_are_missing_answers(tmp_path, good):
    result = _recovered(tmp_path, "space_only_cells")
    mail, before = _mail(result.survey), _mail(good.survey)
    assert mail["household"].isna().tolist()[2] and not before["household"].isna().tolist()[2]
    assert pd.isna(mail["household_size"].iloc[3]) and not pd.isna(before["household_size"].iloc[3])
    assert mail.filter(like="outing_purpose__").iloc[4].isna().all()
    assert result.rows_out == good.rows_out


def _web(frame: pd.DataFrame) -> pd.DataFrame:
    return frame[frame["mode"] == "Web"].reset_index(drop=True)


def _lines(report: dict, variable: str) -> list[str]:
    from helpers.cleaning import verify

    return [line for line in verify.lines(report) if line.startswith(f"  {variable} ")]


def test_a_code_sheet_keyed_by_question_numbers_gives_the_right_scale(tmp_path, good):
    """The vendor's 1 is しばしばある・常にある: read through the code sheet, not reversed."""
    result = _recovered(tmp_path, "code_sheet_by_question_number")
    pd.testing.assert_frame_equal(_web(result.survey), _web(good.survey))
    raw = pd.read_csv(_data_file("code_sheet_by_question_number"), header=1)
    assert (raw["q_lonely"] == 1).sum() == (_web(good.survey)["lonely_direct"]
                                           == "しばしばある・常にある").sum() > 0
    line = _lines(result.report, "lonely_direct")[-1]
    assert "lonely_direct ← 「問6 q_lonely」: 1 → しばしばある・常にある (" in line


def test_the_verification_view_shows_each_code_and_what_it_became(tmp_path, good):
    web = next(line for line in _lines(good.report, "lonely_direct") if "q_lonely" in line)
    counts = _web(good.survey)["lonely_direct"].value_counts()
    assert f"1 → 決してない ({counts['決してない']})" in web
    assert f"5 → しばしばある・常にある ({counts['しばしばある・常にある']})" in web
    mail = _lines(good.report, "sex")[0]
    assert mail.startswith("  sex ← 「性別」: ") and "→" not in mail  # plain labels
    md = (good.out_dir / "cleaning_report.md").read_text("utf-8")
    web_csv, q_lonely, n = "web.csv", "q_lonely", counts["決してない"]
    row = escape.md_row([web_csv, "lonely_direct", q_lonely, 1, "決してない", n])
    assert row in md


def test_an_spss_file_reads_its_value_labels_and_declared_missing_codes(tmp_path, good):
    result = _recovered(tmp_path, "spss_value_labels")
    web, before = _web(result.survey), _web(good.survey)
    assert pd.isna(web.loc[6, "household_size"]) and not pd.isna(before.loc[6, "household_size"])
    pd.testing.assert_frame_equal(web.drop(columns="household_size"),
                                  before.drop(columns="household_size"))
    assert web["sex"].isna().sum() == 1  # code 9 = 無回答 in the value labels
    line = _lines(result.report, "household_size")[-1]
    assert "99 → (no answer) (1)" in line
    assert result.restricted["free_text"].dropna().tolist() == good.restricted[
        "free_text"].dropna().tolist()


def test_number_items_take_labels_and_their_own_no_answer_code(tmp_path, good):
    result = _recovered(tmp_path, "number_labels")
    mail, before = _mail(result.survey), _mail(good.survey)
    assert pd.isna(mail.loc[5, "household_size"]) and not pd.isna(before.loc[5, "household_size"])
    pd.testing.assert_series_equal(mail["household_size"].drop(5), before["household_size"].drop(5))
    ones = int((before["household_size"] == 1).sum()) - int(before.loc[5, "household_size"] == 1)
    assert f"1人（あなたのみ） → 1 ({ones})" in _lines(result.report, "household_size")[0]


def test_a_second_header_row_listed_in_header_row_is_read_as_a_header(tmp_path, good):
    raw = _raw_dir(tmp_path, "second_header_row")
    mail = TOWN.sources[0]
    columns = {**mail.columns, "sex": "性別（設問）", "age": "年齢 年齢（設問）"}
    both = mail.model_copy(update={"header_row": [1, 2], "columns": columns})
    town = TOWN.model_copy(update={"sources": [both, TOWN.sources[1]]})
    result = clean_town(town, raw_dir=raw, out_dir=tmp_path / "out")
    pd.testing.assert_frame_equal(result.survey, good.survey)
    assert result.invalid.empty


def test_a_form_without_any_answer_is_skipped_and_said(tmp_path, good):
    result = _recovered(tmp_path, "empty_form_row")
    assert (result.rows_in, result.rows_out, result.report["empty_rows_skipped"]) == (81, 80, 1)
    pd.testing.assert_frame_equal(result.survey, good.survey)
    assert any("rows 42" in n and "without any answer" in n
               for n in result.report["sources"][0]["notes"])
