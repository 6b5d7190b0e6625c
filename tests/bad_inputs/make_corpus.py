"""Write the bad-input corpus of the cleaning tests (synthetic data; run once, files committed).

    .venv/bin/python tests/bad_inputs/make_corpus.py

``good/`` holds a valid 郵送.xlsx (labels) and web.csv (codes) for the town in ``corpustown.yml``;
``cases/<case>/`` holds one damaged copy of one of them per kind of bad input (or the same
answers in another layout: .xls, SPSS .sav, cp932 with ``;`` or tabs, two header rows), with any
extra file it needs (a code sheet) and, where the case needs other settings, ``town.yml``: the
changes to the town file (``sources:`` by file name, ``town:`` for top-level keys).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import xlwt
import yaml

from helpers.sample.layouts import sav_bytes

HERE = Path(__file__).parent
N = 40
SEX = ["男性", "女性"]
HOUSEHOLD = ["単身世帯", "夫婦のみの世帯", "二世代世帯（親と子）", "三世代世帯（親と子と孫）"]
LONELY = ["決してない", "ほとんどない", "たまにある", "時々ある", "しばしばある・常にある"]
UCLA = ["決してない", "ほとんどない", "時々ある", "常にある"]
OUTING = ["ほぼ毎日", "週に4～5日", "週に2～3日", "週に1日程度", "月に1～3日", "ほとんど外出しない"]
PURPOSE = ["買い物", "通院", "仕事・通学", "趣味・運動", "地域の活動", "友人・知人と会う", "その他"]


def _codes(rng: np.random.Generator) -> pd.DataFrame:
    household = rng.integers(1, 5, N)
    return pd.DataFrame({
        "sex": rng.integers(1, 3, N),
        "age": rng.integers(18, 91, N),
        "district": rng.integers(1, 3, N),
        "household": household,
        "household_size": np.select([household == 1, household == 2], [1, 2], household),
        "lonely": rng.integers(1, 6, N),
        "ucla1": rng.integers(1, 5, N),
        "ucla2": rng.integers(1, 5, N),
        "ucla3": rng.integers(1, 5, N),
        "summer": rng.integers(1, 4, N),
        "winter": rng.integers(2, 7, N),
        "purpose": [sorted(set(rng.integers(1, 8, 2).tolist())) for _ in range(N)],
    })


def mail_frame() -> pd.DataFrame:
    """The paper forms keyed into Excel: Japanese headers and answer labels."""
    c = _codes(np.random.default_rng(1))
    return pd.DataFrame({
        "整理番号": [f"M{i:03d}" for i in range(1, N + 1)],
        "性別": [SEX[s - 1] for s in c["sex"]],
        "年齢": c["age"],
        "地区": ["北" if d == 1 else "南" for d in c["district"]],
        "世帯": [HOUSEHOLD[h - 1] for h in c["household"]],
        "同居人数": c["household_size"],
        "孤独感": [LONELY[x - 1] for x in c["lonely"]],
        "尺度1": [UCLA[x - 1] for x in c["ucla1"]],
        "尺度2": [UCLA[x - 1] for x in c["ucla2"]],
        "尺度3": [UCLA[x - 1] for x in c["ucla3"]],
        "外出（春～秋）": [OUTING[x - 1] for x in c["summer"]],
        "外出（冬）": [OUTING[x - 1] for x in c["winter"]],
        "外出の目的": ["、".join(PURPOSE[p - 1] for p in ps) for ps in c["purpose"]],
        "自由記述": ["雪の日は外に出ない（合成）" if i % 7 == 0 else None for i in range(N)],
    })


def web_frame() -> pd.DataFrame:
    """The web form's CSV: other column names, numeric codes, one 0/1 column per option."""
    c = _codes(np.random.default_rng(2))
    frame = pd.DataFrame({
        "id": [f"W{i:03d}" for i in range(1, N + 1)],
        "q_sex": c["sex"],
        "q_age": c["age"],
        "q_area": ["北地区" if d == 1 else "南地区" for d in c["district"]],
        "q_household": c["household"],
        "q_members": c["household_size"],
        "q_lonely": c["lonely"],
        "q_ucla1": c["ucla1"],
        "q_ucla2": c["ucla2"],
        "q_ucla3": c["ucla3"],
        "q_out_summer": c["summer"],
        "q_out_winter": c["winter"],
    })
    for code in range(1, 8):
        frame[f"q_purpose_{code}"] = [int(code in ps) for ps in c["purpose"]]
    frame["q_comment"] = ["冬は寂しい（合成）" if i % 9 == 0 else "" for i in range(N)]
    frame["submitted_at"] = "2023-12-10 10:00"
    frame.loc[3, "q_sex"] = 9  # no answer
    return frame


def write_xlsx(frame: pd.DataFrame, path: Path, *, sheets: tuple[str, ...] = ("回答データ",),
               title_rows: int = 0) -> None:
    """One sheet of data (after ``title_rows`` title lines); other sheets hold a note."""
    book = openpyxl.Workbook()
    book.remove(book.active)
    for name in sheets:
        sheet = book.create_sheet(name)
        if name != "回答データ" and "回答データ" in sheets:
            sheet.append(["この調査の説明（合成データ）"])
            continue
        for i in range(title_rows):
            sheet.append([f"見本町 調査結果（合成データ） {i + 1}"])
        sheet.append(list(frame.columns))
        for row in frame.itertuples(index=False):
            sheet.append([None if pd.isna(v) else v.item() if hasattr(v, "item") else v
                          for v in row])
    book.save(path)


def write_csv(frame: pd.DataFrame, path: Path, **kw: object) -> None:
    frame.to_csv(path, index=False, lineterminator="\n", **{"encoding": "utf-8", **kw})


def write_xls(frame: pd.DataFrame, path: Path, errors: dict[tuple[int, str], int] | None = None
              ) -> None:
    """A legacy Excel 97–2003 workbook (sheet 回答データ); ``errors``: (row, column) → #N/A …"""
    book = xlwt.Workbook(encoding="utf-8")
    sheet = book.add_sheet("回答データ")
    errors = errors or {}
    for j, col in enumerate(frame.columns):
        sheet.write(0, j, col)
        for i, value in enumerate(frame[col]):
            if (i, col) in errors:
                sheet.row(i + 1).set_cell_error(j, errors[(i, col)])
            elif not pd.isna(value):
                sheet.write(i + 1, j, value.item() if hasattr(value, "item") else value)
    book.save(str(path))


def _changed(frame: pd.DataFrame, change: Callable[[pd.DataFrame], object]) -> pd.DataFrame:
    result = change(frame)
    return result if isinstance(result, pd.DataFrame) else frame


def _mail(change: Callable[[pd.DataFrame], object], **kw: object):
    def make(folder: Path) -> None:
        write_xlsx(_changed(mail_frame(), change), folder / "郵送.xlsx", **kw)
    return make


def _web(change: Callable[[pd.DataFrame], object], **kw: object):
    def make(folder: Path) -> None:
        write_csv(_changed(web_frame(), change), folder / "web.csv", **kw)
    return make


def _bytes(name: str, data: bytes):
    def make(folder: Path) -> None:
        (folder / name).write_bytes(data)
    return make


def _set(frame: pd.DataFrame, row: int, column: str, value: object) -> pd.DataFrame:
    frame[column] = frame[column].astype(object)
    frame.loc[row, column] = value
    return frame


def _fullwidth(frame: pd.DataFrame) -> pd.DataFrame:
    frame["年齢"] = [str(a).translate(str.maketrans("0123456789", "０１２３４５６７８９"))
                   for a in frame["年齢"]]
    return frame


def _variants(frame: pd.DataFrame) -> pd.DataFrame:
    frame["性別"] = frame["性別"] + " "
    frame["孤独感"] = frame["孤独感"].str.replace("・", "･").str.replace("ある", "ある　")
    return frame.rename(columns={"地区": "地区 "})


def _totals(frame: pd.DataFrame) -> pd.DataFrame:
    total = dict.fromkeys(frame.columns) | {"整理番号": "合計", "年齢": int(frame["年齢"].sum())}
    return pd.concat([frame, pd.DataFrame([{}]), pd.DataFrame([total])], ignore_index=True)


def _space_cells(frame: pd.DataFrame) -> pd.DataFrame:
    frame = _set(frame, 2, "世帯", "　")
    return _set(_set(frame, 3, "同居人数", " "), 4, "外出の目的", "　")


def _exact_dupe(frame: pd.DataFrame) -> pd.DataFrame:
    return pd.concat([frame, frame.iloc[[5]]], ignore_index=True)


def _id_clash(frame: pd.DataFrame) -> pd.DataFrame:
    frame.loc[10, "整理番号"] = frame.loc[4, "整理番号"]
    frame.loc[30, "整理番号"] = frame.loc[4, "整理番号"]
    return frame


def _many_old(frame: pd.DataFrame) -> pd.DataFrame:
    frame.loc[[1, 2, 3, 4, 5, 6], "年齢"] = 250
    return frame


def _inconsistent(frame: pd.DataFrame) -> pd.DataFrame:
    frame.loc[7, "世帯"] = "単身世帯"
    frame.loc[7, "同居人数"] = 3
    return frame


# Question numbers of the web form (a vendor's first header row), and its vendor numbering.
QUESTION = {"id": "No", "q_sex": "問1", "q_age": "問2", "q_area": "問3", "q_household": "問4",
            "q_members": "問5", "q_lonely": "問6", "q_ucla1": "問7-1", "q_ucla2": "問7-2",
            "q_ucla3": "問7-3", "q_out_summer": "問8", "q_out_winter": "問9",
            **{f"q_purpose_{k}": f"問10-{k}" for k in range(1, 8)}, "q_comment": "問11",
            "submitted_at": ""}
VENDOR_LABELS = {"q_sex": ["男", "女"], "q_household": HOUSEHOLD, "q_lonely": LONELY[::-1],
                 "q_ucla1": UCLA, "q_ucla2": UCLA, "q_ucla3": UCLA, "q_out_summer": OUTING,
                 "q_out_winter": OUTING}
CODE_SHEET = {"file": "コード表.xlsx", "question": "設問", "code": "コード", "label": "選択肢"}


def _vendor_web() -> pd.DataFrame:
    """The web answers on the vendor's numbering: 孤独感 runs the other way (1 = しばしば…)."""
    frame = web_frame()
    frame["q_lonely"] = 6 - frame["q_lonely"]
    return frame


def _two_rows(frame: pd.DataFrame, top: dict[str, str]) -> str:
    """CSV text with a first header row of question numbers above the column names."""
    return ",".join(top.get(c, "") for c in frame.columns) + "\n" + frame.to_csv(
        index=False, lineterminator="\n")


def _code_sheet(folder: Path, keys: dict[str, str], skip: tuple[str, ...] = ()) -> None:
    rows = [(keys[col], code, label) for col, labels in VENDOR_LABELS.items() if col not in skip
            for code, label in enumerate(labels, start=1)]
    rows += [(keys["q_sex"], 9, "無回答")]
    sheet = pd.DataFrame(rows, columns=["設問", "コード", "選択肢"])
    write_xlsx(sheet, folder / "コード表.xlsx", sheets=("コード表",))


def _town_yml(folder: Path, sources: dict | None = None, town: dict | None = None) -> None:
    """The case's changes to the town file; a key set to None is removed."""
    changes = {"sources": sources or {}, "town": town or {}}
    (folder / "town.yml").write_text(yaml.safe_dump(changes, allow_unicode=True), "utf-8")


def _code_sheet_case(header_row: object, skip: tuple[str, ...] = ()):
    """Web answers on the vendor's numbering under two header rows, and the vendor's code sheet
    keyed by question number."""
    def make(folder: Path) -> None:
        (folder / "web.csv").write_text(_two_rows(_vendor_web(), QUESTION), "utf-8")
        _code_sheet(folder, QUESTION, skip)
        _town_yml(folder, {"web.csv": {"header_row": header_row, "code_sheet": CODE_SHEET,
                                       "labels": {"sex": {"男": "男性", "女": "女性"},
                                                  "district": {"北地区": "北", "南地区": "南"}}}})
    return make


def _sav(folder: Path) -> None:
    """The web answers as SPSS: codes on the vendor's numbering with value labels, question
    texts as variable labels, 99 declared missing for the household size."""
    frame = _vendor_web()
    frame.loc[6, "q_members"] = 99
    frame = frame.astype({c: float for c in frame.columns if c.startswith("q_")
                          and c not in ("q_area", "q_comment")})
    labels = {c: f"{QUESTION[c]} {c}" for c in frame.columns if QUESTION[c]}
    values = {c: dict(enumerate(v, start=1)) | {9: "無回答"} for c, v in VENDOR_LABELS.items()}
    values["q_sex"] = {1: "男性", 2: "女性", 9: "無回答"}
    data = sav_bytes(frame, labels, values, {"q_members": [99]})
    (folder / "web.sav").write_bytes(data)
    _town_yml(folder, {"web.csv": {"file": "web.sav", "encoding": None}})


def _numeric_ids(folder: Path) -> None:
    """Numeric IDs: 105 in the workbook, 「0105」 in the CSV with other answers."""
    mail = mail_frame()
    mail["整理番号"] = range(101, 101 + N)
    write_xlsx(mail, folder / "郵送.xlsx")
    web = web_frame()
    web["id"] = [f"{i:04d}" for i in range(201, 201 + N)]
    web.loc[2, "id"] = "0105"
    write_csv(web, folder / "web.csv")


def _error_cells(frame: pd.DataFrame) -> pd.DataFrame:
    return _set(_set(frame, 3, "性別", "#N/A"), 7, "年齢", "#DIV/0!")


def _slash_joined(frame: pd.DataFrame) -> pd.DataFrame:
    return _set(frame, 3, "外出の目的", "買い物/通院")


def _semicolons(frame: pd.DataFrame) -> pd.DataFrame:
    frame["外出の目的"] = [c.replace("、", ";").replace("仕事・通学", "仕事、通学")
                        for c in frame["外出の目的"]]
    return frame


def _number_words(frame: pd.DataFrame) -> pd.DataFrame:
    frame["同居人数"] = ["1人（あなたのみ）" if n == 1 else n for n in frame["同居人数"]]
    return _set(frame, 5, "同居人数", 99)


def _headings(frame: pd.DataFrame) -> pd.DataFrame:
    """A second header row of short headings below the column names."""
    heading = {c: f"{c}（設問）" for c in frame.columns}
    return pd.concat([pd.DataFrame([heading]), frame], ignore_index=True)


def _empty_form(frame: pd.DataFrame) -> pd.DataFrame:
    empty = {c: "無回答" for c in frame.columns} | {"整理番号": "M041", "自由記述": None}
    return pd.concat([frame, pd.DataFrame([empty])], ignore_index=True)


def _margins(skip: tuple[str, str] | None = None, extra: tuple[str, str] | None = None):
    """Margins fitting the good files' respondents, minus the ``skip`` cell, plus a count for
    the ``extra`` cell (which has no respondent)."""
    bands = ["18～19歳", "20～29歳", "30～39歳", "40～49歳", "50～59歳", "60～69歳", "70～79歳",
             "80歳以上"]
    ages = np.concatenate([_codes(np.random.default_rng(s))["age"] for s in (1, 2)])
    sexes = np.concatenate([_codes(np.random.default_rng(s))["sex"] for s in (1, 2)])
    sexes[N + 3] = 0  # the web file's no answer
    counts: dict[str, dict[str, int]] = {"男性": {}, "女性": {}}
    for sex, age in zip(sexes, ages, strict=True):
        if sex:
            band = bands[min(max(age // 10 - 1, 0), 7)]
            counts[SEX[sex - 1]][band] = 100
    if skip:
        counts[skip[0]].pop(skip[1])
    if extra:
        assert extra[1] not in counts[extra[0]]
        counts[extra[0]][extra[1]] = 100
    total = sum(sum(c.values()) for c in counts.values())
    return {"source": "合成データ", "sex_age_band": counts,
            "district": {"北": total * 2 // 5, "南": total - total * 2 // 5}}


def _with_town(make: Callable[[Path], None], sources: dict | None = None,
               town: dict | None = None) -> Callable[[Path], None]:
    def both(folder: Path) -> None:
        make(folder)
        _town_yml(folder, sources, town)
    return both


CASES: dict[str, Callable[[Path], None]] = {
    "empty_file": _bytes("web.csv", b""),
    "header_only": _bytes("web.csv", (",".join(web_frame().columns) + "\n").encode()),
    "wrong_encoding": _web(lambda f: _set(f, 2, "q_comment", "雪かきが大変（合成）"),
                           encoding="cp932"),
    "missing_column": _web(lambda f: f.drop(columns=["q_lonely"])),
    "unknown_column": _web(lambda f: f.assign(備考="メモ")),
    "unknown_label": _mail(lambda f: _set(_set(f, 3, "性別", "おとこ"), 8, "性別", "おとこ")),
    "out_of_range_code": _web(lambda f: _set(f, 12, "q_lonely", 7)),
    "duplicated_ids": _mail(_id_clash),
    "exact_duplicate_row": _mail(_exact_dupe),
    "impossible_age": _mail(lambda f: _set(f, 6, "年齢", 150)),
    "many_impossible_ages": _mail(_many_old),
    "non_numeric_age": _mail(lambda f: _set(f, 9, "年齢", "三十五")),
    "wrong_delimiter": _web(lambda f: None, sep=";"),
    "corrupt_xlsx": _bytes("郵送.xlsx", b"PK\x03\x04 this is not really a workbook"),
    "xlsx_extra_header_rows": _mail(lambda f: None, title_rows=2),
    "xlsx_wrong_sheet": _mail(lambda f: None, sheets=("Sheet1",)),
    "xlsx_extra_sheets": _mail(lambda f: None, sheets=("説明", "回答データ", "集計")),
    "totals_row": _mail(_totals),
    "empty_column": _mail(lambda f: f.assign(**{"孤独感": None})),
    "bom": _web(lambda f: None, encoding="utf-8-sig"),
    "fullwidth_digits": _mail(_fullwidth),
    "label_variants_and_spaces": _mail(_variants),
    "inconsistent_household": _mail(_inconsistent),
    "space_only_cells": _mail(_space_cells),
    "ragged_rows": _bytes("web.csv", ("id,q_sex\n" + "W1,1\nW2,1,3\n").encode()),
    # --- layouts the samples do not show, and settings that would go unused ---
    "second_header_row": _mail(_headings),
    "code_sheet_by_question_number": _code_sheet_case([1, 2]),
    "code_sheet_matches_no_column": _code_sheet_case(2),
    "code_sheet_misses_a_column": _code_sheet_case([1, 2], skip=("q_lonely",)),
    "spss_value_labels": _sav,
    "corrupt_sav": _with_town(_bytes("web.sav", b"$FL2 not really an SPSS file"),
                              {"web.csv": {"file": "web.sav", "encoding": None}}),
    "legacy_xls": _with_town(lambda f: write_xls(mail_frame(), f / "郵送.xls"),
                             {"郵送.xlsx": {"file": "郵送.xls"}}),
    "corrupt_xls": _with_town(_bytes("郵送.xls", b"\xd0\xcf\x11\xe0 not a workbook"),
                              {"郵送.xlsx": {"file": "郵送.xls"}}),
    "xls_error_cells": _with_town(
        lambda f: write_xls(mail_frame(), f / "郵送.xls", {(3, "性別"): 0x2A, (7, "年齢"): 0x07}),
        {"郵送.xlsx": {"file": "郵送.xls"}}),
    "excel_error_cells": _mail(_error_cells),
    "csv_error_values": _web(lambda f: _set(f, 5, "q_lonely", "#VALUE!")),
    "csv_cp932_semicolon": _with_town(_web(lambda f: _set(f, 2, "q_comment", "雪かき（合成）"),
                                           encoding="cp932", sep=";"),
                                      {"web.csv": {"encoding": "cp932", "delimiter": ";"}}),
    "csv_cp932_tab": _with_town(_web(lambda f: None, encoding="cp932", sep="\t"),
                                {"web.csv": {"encoding": "auto", "delimiter": "\t"}}),
    "csv_two_header_rows": _with_town(
        lambda f: (f / "web.csv").write_text(_two_rows(web_frame(), QUESTION), "utf-8"),
        {"web.csv": {"header_row": [1, 2]}}),
    "ambiguous_heading": _with_town(
        lambda f: (f / "web.csv").write_text(_two_rows(web_frame(), QUESTION | {
            "q_ucla1": "問7", "q_ucla2": "問7", "q_ucla3": "問7"}), "utf-8"),
        {"web.csv": {"header_row": [1, 2], "columns": {"ucla_1": "問7"}}}),
    "number_labels": _with_town(_mail(_number_words), {"郵送.xlsx": {"labels": {
        "household_size": {"1人（あなたのみ）": 1, "99": "無回答"}}}}),
    "number_label_not_a_number": _with_town(_mail(_number_words), {"郵送.xlsx": {"labels": {
        "household_size": {"1人（あなたのみ）": "ひとり", "99": "無回答"}}}}),
    "label_matches_nothing": _with_town(_mail(lambda f: None), {"郵送.xlsx": {"labels": {
        "sex": {"おとこ": "男性"}}}}),
    "ignore_matches_nothing": _with_town(_web(lambda f: None), {"web.csv": {
        "ignore": ["submitted_at", "備考"]}}),
    "joined_semicolon": _with_town(_mail(_semicolons), {"郵送.xlsx": {
        "columns": {"outing_purpose": {"joined": "外出の目的", "sep": ";"}},
        "labels": {"outing_purpose": {"仕事、通学": "仕事・通学"}}}}),
    "joined_wrong_sep": _mail(_slash_joined),
    "numeric_ids_leading_zeros": _numeric_ids,
    "whole_float_ids": _web(lambda f: _set(_set(f, 4, "id", "12.0"), 8, "id", "12")),
    "margin_cell_without_respondents": _with_town(
        _mail(lambda f: None), town={"margins": _margins(extra=("男性", "18～19歳"))}),
    "margin_category_missing": _with_town(
        _mail(lambda f: None), town={"margins": _margins(skip=("女性", "80歳以上"))}),
    "empty_form_row": _mail(_empty_form),
}


def main() -> None:
    good = HERE / "good"
    good.mkdir(exist_ok=True)
    write_xlsx(mail_frame(), good / "郵送.xlsx")
    write_csv(web_frame(), good / "web.csv")
    cases = HERE / "cases"
    shutil.rmtree(cases, ignore_errors=True)
    for name, make in CASES.items():
        folder = cases / name
        folder.mkdir(parents=True)
        make(folder)


if __name__ == "__main__":
    main()
