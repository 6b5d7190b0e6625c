"""Write the bad-input corpus of the cleaning tests (synthetic data; run once, files committed).

    .venv/bin/python tests/bad_inputs/make_corpus.py

``good/`` holds a valid 郵送.xlsx (labels) and web.csv (codes) for the town in ``corpustown.yml``;
``cases/<case>/`` holds one damaged copy of one of them per kind of bad input.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd

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
