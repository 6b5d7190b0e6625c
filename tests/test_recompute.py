"""The independent recomputation (tests/recompute.py) finds what the issue found by hand, and
nothing in clean tables: so when it finds nothing in the sample towns, that means something."""

from __future__ import annotations

from types import ModuleType

HEADER = ["地区", "回答者数", "該当者数", "割合（%）", "95%信頼区間 下限（%）",
          "95%信頼区間 上限（%）"]


def test_it_finds_the_breaches_of_the_issue(recompute: ModuleType) -> None:
    rows = [
        ["柳原", "35", "—", "11.4", "4.5", "26.0"],  # 35 × 11.4 % → 4
        ["富倉", "10", "—", "50.0", "23.7", "76.3"],  # → 5
        ["女性20代", "10人以上", "—", "40.9", "23.3", "61.3"],  # the interval pins 9 of 22
        ["全くない", "14", "11", "78.6", "52.4", "92.4"],  # 14 − 11 = 3
        ["その他", "—", "0", "—", "—", "—"],  # 0 vs —
        ["週に1日程度", "103", "—", "0.009709", "—", "—"],  # a raw fraction
    ]
    found = recompute.recover([(HEADER, rows)], 10)
    for label in ("柳原", "富倉", "女性20代", "全くない", "その他", "週に1日程度"):
        assert any(f.startswith(label) for f in found), label


def test_total_minus_one_hidden_row(recompute: ModuleType) -> None:
    header = ["性別", "人数", "構成比（%）"]
    rows = [["全体", "643", "100.0"], ["男性", "300", "46.7"], ["女性", "335", "52.1"],
            ["その他・答えたくない", "—", "—"]]
    assert recompute.recover([(header, rows)], 10) == [
        "その他・答えたくない: 全体 − the other rows = 8 (count)"]
    rows.append(["無回答", "—", "—"])
    assert recompute.recover([(header, rows)], 10) == []


def test_clean_tables_give_nothing(recompute: ModuleType) -> None:
    rows = [["全体", "637", "222", "34.9", "31.3", "38.6"], ["飯山", "242", "90", "37.2", "31.3",
            "43.4"], ["柳原", "35", "—", "—", "—", "—"], ["富倉", "10", "—", "—", "—", "—"]]
    assert recompute.recover([(HEADER, rows)], 10) == []
    html = "<table><tr>" + "".join(f"<th>{h}</th>" for h in HEADER) + "</tr>" + "".join(
        "<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>" for r in rows) + "</table>"
    assert recompute.tables_of_html(html) == [(HEADER, rows)]
    results = {"district": {"rows": [{"地区": r[0], "n": int(r[1]), "x": None, "p": None}
                                     for r in rows[2:]]}}
    assert recompute.recover(recompute.tables_of_results(results), 10) == []
