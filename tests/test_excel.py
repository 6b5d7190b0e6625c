"""Excel tables for staff: valid Japanese sheet names, "—" for suppressed cells, notes, atomic."""

from __future__ import annotations

import numpy as np
import openpyxl
import pandas as pd

from helpers.excel import NOTES_SHEET, read_tables, sheet_name, text_width, write_tables


def _tables() -> dict[str, list[tuple[str, pd.DataFrame]]]:
    rates = pd.DataFrame({"年代": ["20代", "80歳以上"], "回答者数": [20, np.nan],
                          "割合（%）": [50.0, np.nan]})
    counts = pd.DataFrame({"回答方法": ["郵送", "Web"], "人数": [527, 116]})
    return {"2. 孤独感": [("性別・年代別 孤独感がある人の割合", rates), ("回答方法", counts)],
            "4. 冬と春～秋の外出頻度：季節別の集計/年代別": [("年代別", rates)]}


def test_sheet_names_are_valid():
    assert sheet_name("a/b:c*d?[e]") == "a・b・c・d・・e・"
    assert len(sheet_name("冬と春～秋の外出頻度" * 5)) == 31
    assert text_width("男性") == 4 and text_width("n") == 1


def test_round_trip_with_dash_for_suppressed(tmp_path):
    path = write_tables(_tables(), tmp_path / "town_集計表.xlsx", ["合成データです", "最小セル 10"])
    back = read_tables(path)
    assert list(back) == ["2. 孤独感", sheet_name("4. 冬と春～秋の外出頻度：季節別の集計/年代別")]
    title, frame = back["2. 孤独感"][0]
    assert title == "性別・年代別 孤独感がある人の割合"
    assert frame.to_dict("list") == {"年代": ["20代", "80歳以上"], "回答者数": [20, "—"],
                                     "割合（%）": [50, "—"]}
    assert back["2. 孤独感"][1][1]["人数"].tolist() == [527, 116]


def test_notes_sheet_first_and_readable_layout(tmp_path):
    path = write_tables(_tables(), tmp_path / "t.xlsx", ["合成データです", "最小セル 10"])
    book = openpyxl.load_workbook(path)
    assert book.sheetnames[0] == NOTES_SHEET
    assert [c.value for c in book[NOTES_SHEET]["A"]] == ["合成データです", "最小セル 10"]
    ws = book["2. 孤独感"]
    assert ws["A1"].font.b and ws["A2"].font.b  # table title and header row are bold
    assert ws.column_dimensions["A"].width >= text_width("80歳以上") + 2  # widest value, padded
    assert ws.column_dimensions["C"].width >= text_width("割合（%）")


def test_atomic_replace_leaves_no_temporary_file(tmp_path):
    path = tmp_path / "t.xlsx"
    path.write_bytes(b"old")
    write_tables(_tables(), path, ["注記"])
    assert openpyxl.load_workbook(path).sheetnames[0] == NOTES_SHEET
    assert [p.name for p in tmp_path.iterdir()] == ["t.xlsx"]


def test_duplicate_sheet_names_get_a_suffix(tmp_path):
    frame = pd.DataFrame({"a": [1]})
    long = "とても長いシート名" * 5
    path = write_tables({long: [("x", frame)], long + "2": [("y", frame)]}, tmp_path / "d.xlsx", [])
    names = list(read_tables(path))
    assert len(names) == 2 and len(set(names)) == 2 and all(len(n) <= 31 for n in names)


def test_user_strings_stay_strings(tmp_path):
    """「=HYPERLINK(…)」, 「@SUM(…)」 or a URL is stored as text: no formula, no link."""
    import openpyxl

    hostile = ['=HYPERLINK("http://example.invalid","x")', "@SUM(1,2)", "+1+1", "-1+1",
               "http://example.invalid/", "=1+1"]
    frame = pd.DataFrame({hostile[0]: hostile, "n": [10, 20, 30, 40, 50, 60]})
    path = write_tables({"地区別": [(hostile[5], frame)]}, tmp_path / "t.xlsx",
                        notes=[hostile[0], hostile[4]])
    book = openpyxl.load_workbook(path)  # not data_only: a formula would read back as type "f"
    cells = [c for ws in book.worksheets for row in ws.iter_rows() for c in row
             if c.value is not None]
    assert {c.data_type for c in cells} == {"s", "n"}
    texts = {c.value for c in cells if c.data_type == "s"}
    assert set(hostile) <= texts
    assert all(c.hyperlink is None for c in cells)
