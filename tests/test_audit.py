"""The disclosure audit catches planted breaches and passes a clean site."""

from __future__ import annotations

import base64
import html
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from helpers.analysis import write_json
from helpers.build.audit import (
    Secrets,
    UserText,
    audit,
    audit_html,
    audit_results,
    audit_text,
)
from helpers.excel import write_tables

FREE_TEXT = "冬は雪が多くて近所の人と会う機会がなく、とても寂しい思いをしています。"
IDS = ["IY-0417", "IY-0418", "42"]

CLEAN_PAGE = """<html lang="ja"><body><h1>飯山市</h1>
<p>回答者 643人のうち、孤独感がある人は 32.8% でした。IY-04170 は別の番号です。</p>
<table><thead><tr><th>性別</th><th>年代</th><th>回答者数</th><th>該当者数</th><th>割合（%）</th>
</tr></thead>
<tbody><tr><td>男性</td><td>20代</td><td>40</td><td>20</td><td>50.0%</td></tr>
<tr><td>女性</td><td>19歳以下</td><td>—</td><td>—</td><td>—</td></tr>
<tr><td>女性</td><td>80歳以上</td><td>—</td><td>—</td><td>—</td></tr></tbody></table>
<div id="fig" class="plotly-graph-div"></div>
<script>Plotly.newPlot("fig", [{"x": ["\\u7537\\u6027"], "y": [50.0]}])</script>
</body></html>"""


@pytest.fixture
def secrets() -> Secrets:
    return Secrets.from_values([FREE_TEXT, "特になし", None], IDS)


def _site(tmp_path: Path, page: str) -> Path:
    site = tmp_path / "site" / "towns"
    site.mkdir(parents=True)
    (site / "iiyama.html").write_text(page, encoding="utf-8")
    return tmp_path / "site"


def test_clean_site_passes(tmp_path: Path, secrets: Secrets) -> None:
    assert audit([_site(tmp_path, CLEAN_PAGE)], secrets, 10) == []


def test_planted_free_text_is_caught(tmp_path: Path, secrets: Secrets) -> None:
    page = CLEAN_PAGE.replace("</h1>", f"</h1><blockquote>{FREE_TEXT}</blockquote>")
    found = audit([_site(tmp_path, page)], secrets, 10)
    assert [(b.file.name, b.kind) for b in found] == [("iiyama.html", "free-text answer")]


def test_a_quoted_sentence_of_a_free_text_is_caught(secrets: Secrets, tmp_path: Path) -> None:
    sentence = FREE_TEXT.split("、")[1]  # 「とても寂しい…」 alone, in full-width spacing
    page = tmp_path / "p.html"
    page.write_text(f"<p>声：{sentence}</p>", encoding="utf-8")
    assert [b.kind for b in audit_html(page, secrets, 10)] == ["free-text answer"]


def test_free_text_hidden_in_chart_data_is_caught(tmp_path: Path, secrets: Secrets) -> None:
    escaped = json.dumps(FREE_TEXT)  # plotly writes non-ASCII as \\uXXXX in its JSON
    page = CLEAN_PAGE.replace('"y": [50.0]', f'"y": [50.0], "text": [{escaped}]')
    assert "\\u" in escaped
    assert [b.kind for b in audit([_site(tmp_path, page)], secrets, 10)] == ["free-text answer"]


def test_planted_id_is_caught_only_as_a_whole_token(tmp_path: Path, secrets: Secrets) -> None:
    assert secrets.ids == ("IY-0417", "IY-0418") and secrets.skipped_ids == 1
    page = CLEAN_PAGE.replace("<td>20代</td>", "<td>IY-0418</td>")
    found = audit([_site(tmp_path, page)], secrets, 10)
    assert [(b.kind, b.detail) for b in found] == [("respondent ID", "IY-0418")]


def test_a_column_of_ids_is_caught_even_when_they_are_short_numbers(
    tmp_path: Path, secrets: Secrets
) -> None:
    page = CLEAN_PAGE.replace("<th>性別</th>", "<th>回答者番号</th>")
    found = audit([_site(tmp_path, page)], secrets, 10)
    assert [(b.kind, b.detail) for b in found] == [("respondent ID", "a column 「回答者番号」")]


def test_planted_small_row_is_caught(tmp_path: Path, secrets: Secrets) -> None:
    row = "<tr><td>男性</td><td>70代</td><td>3</td><td>2</td><td>66.7%</td></tr>"
    page = CLEAN_PAGE.replace("<tbody>", "<tbody>" + row)
    found = audit([_site(tmp_path, page)], secrets, 10)
    details = " ".join(b.detail for b in found)
    assert {b.kind for b in found} == {"small cell"}
    assert "a count of 3" in details and "a count of 2" in details


def test_min_cell_of_the_town_applies(tmp_path: Path, secrets: Secrets) -> None:
    site = _site(tmp_path, CLEAN_PAGE)  # the page shows a base of 40 with 20 and 20
    found = audit([site], secrets, 10, {"iiyama": 25})
    assert [(b.file.name, b.kind, b.detail.split(": ", 1)[1]) for b in found] == [
        ("iiyama.html", "small cell",
         "「男性・20代」の該当者数: a count of 20 is shown (under 25)"),
        ("iiyama.html", "small cell",
         "「男性・20代」の該当しない人数: 回答者数 40 − 該当者数 20 = 20"),
    ]
    assert audit([site], secrets, 10, {"tsukumi": 25}) == []
    assert audit([site], secrets, 20, {"iiyama": 20}) == []  # 20 is not under 20


@pytest.mark.parametrize(("count", "small"), [(0, False), (1, True), (2, True), (9, True),
                                              (10, False), (11, False)])
def test_a_published_count_is_small_from_1_to_min_cell_minus_1(
    tmp_path: Path, secrets: Secrets, count: int, small: bool
) -> None:
    """A count of 1 (or of min_cell − 1) shown beside a large base is a breach; 0 and min_cell
    are not (the base of 200 keeps the complement large)."""
    row = (f"<tr><td>女性</td><td>30代</td><td>200</td><td>{count}</td>"
           f"<td>{100 * count / 200:.1f}%</td></tr>")
    found = audit([_site(tmp_path, CLEAN_PAGE.replace("<tbody>", "<tbody>" + row))], secrets, 10)
    expected = f"「女性・30代」の該当者数: a count of {count} is shown (under 10)"
    assert [b.detail.split(": ", 1)[1] for b in found] == ([expected] if small else [])


def test_results_and_workbook_breaches_are_caught(tmp_path: Path, secrets: Secrets) -> None:
    out = tmp_path / "build" / "towns" / "iiyama"
    ok = {"p": 50.0, "lo": 34.8, "hi": 65.2, "n": 40, "x": 20}
    results = {"town": "iiyama", "min_cell": 10, "headline": {"lonely": ok}}
    write_json(results, out / "results.json")
    table = pd.DataFrame({"年代": ["20代"], "回答者数": [40], "該当者数": [20],
                          "割合（%）": [50.0]})
    write_tables({"孤独感": [("年代別", table)]}, out / "iiyama_集計表.xlsx", ["合成データ"])
    assert audit([tmp_path / "build"], secrets, 10) == []

    results["headline"]["often_always"] = {"p": 66.7, "lo": 20.8, "hi": 93.9, "n": 3, "x": 2}
    write_json(results, out / "results.json")
    small = pd.DataFrame({"年代": ["70代"], "回答者数": [3], "該当者数": ["—"],
                          "割合（%）": [66.7]})
    ids = pd.DataFrame({"回答者番号": [17], "性別": ["女性"]})
    notes = ["合成データ", FREE_TEXT]
    write_tables({"孤独感": [("年代別", small), ("名簿", ids)]}, out / "iiyama_集計表.xlsx", notes)
    found = audit([tmp_path / "build"], secrets, 10)
    by_file = {(b.file.name.split(" ")[0], b.kind) for b in found}
    assert ("results.json", "small cell") in by_file
    assert ("iiyama_集計表.xlsx", "small cell") in by_file
    assert ("iiyama_集計表.xlsx", "free-text answer") in by_file
    assert ("iiyama_集計表.xlsx", "respondent ID") in by_file


def test_secrets_come_from_restricted_parquet(tmp_path: Path) -> None:
    town = tmp_path / "iiyama"
    town.mkdir()
    restricted = pd.DataFrame(
        {"resp_id": ["IY-0001", "IY-0002"], "age": [34, 81], "free_text": [FREE_TEXT, None]}
    )
    restricted.to_parquet(town / "restricted.parquet")
    secrets = Secrets.from_processed(tmp_path)
    assert secrets.ids == ("IY-0001", "IY-0002")
    assert FREE_TEXT in secrets.free_texts


# --- user text shown as markup ---

SCRIPT_NAME = "飯山市<script>alert(1)</script>"
IMG = '<img src=x onerror="alert(1)">'
STAR = "A*B地区"
UNDERSCORE = "C_D_E地区"


def _user_text(tmp_path: Path) -> UserText:
    towns = tmp_path / "towns"
    towns.mkdir()
    (towns / "hostile.yml").write_text(
        yaml.safe_dump({"name": {"ja": SCRIPT_NAME}, "prefecture": IMG,
                        "districts": [STAR, "AB地区", UNDERSCORE, "北"],
                        "labels": {"q_1": {"x": 1}}},
                       allow_unicode=True),
        encoding="utf-8",
    )
    (towns / "broken.yml").write_text("name: [unclosed\n", encoding="utf-8")
    return UserText.from_town_files(towns)


ESCAPED_PAGE = f"""<html><head><title>{html.escape(SCRIPT_NAME)}</title></head><body>
<h1>{html.escape(SCRIPT_NAME)}（{html.escape(IMG)}）</h1>
<p>地区別では「{STAR}」が最も高く、「AB地区」「{UNDERSCORE}」が低くなっています。q_1 は列です。</p>
<script>window.document.addEventListener("DOMContentLoaded", () => 1);</script>
<a href="#" onclick="toggle()">開く</a></body></html>"""


def test_user_text_shown_as_text_passes(tmp_path: Path) -> None:
    user = _user_text(tmp_path)
    assert {SCRIPT_NAME, IMG, STAR, "AB地区", "q_1"} <= set(user.strings)
    assert list(user.find(ESCAPED_PAGE)) == []


@pytest.mark.parametrize(
    ("planted", "expected"),
    [
        (f"<h2>{SCRIPT_NAME}</h2>", ["written into the page unescaped", "<script> element runs"]),
        (f"<p>{IMG}</p>", ["<img onerror> runs 「alert(1)」"]),
        ("<p>「C<em>D</em>E地区」</p>", ["「C_D_E地区」 is shown without its characters _"]),
        ("<p>&lt;img src=x onerror=&quot;alert(1)&quot;&gt;</p><td>C\\_D\\_E地区</td>",
         ["「C_D_E地区」 is shown without its characters _"]),  # escaped twice: backslashes shown
    ],
)
def test_a_planted_unescaped_user_string_is_caught(
    tmp_path: Path, planted: str, expected: list[str]
) -> None:
    user = _user_text(tmp_path)
    site = tmp_path / "site"
    site.mkdir()
    (site / "page.html").write_text(ESCAPED_PAGE.replace("</body>", planted + "</body>"),
                                    encoding="utf-8")
    found = audit_text([site], user)
    assert {b.kind for b in found} == {"user text as markup"}
    assert len(found) == len(expected)
    for b, words in zip(found, expected, strict=True):
        assert words in b.detail, b.detail


def test_a_formula_in_a_workbook_is_caught(tmp_path: Path) -> None:
    import xlsxwriter

    book = xlsxwriter.Workbook(tmp_path / "t.xlsx")  # the default: strings become formulas
    book.add_worksheet("注記").write(0, 0, '=HYPERLINK("http://example.invalid","x")')
    book.close()
    found = audit_text([tmp_path], UserText(()))
    formula = '=HYPERLINK("http://example.invalid","x")'
    assert [(b.kind, b.detail) for b in found] == [
        ("formula", f"sheet 「注記」 cell A1: 「{formula}」 is a formula")]
    frame = pd.DataFrame({"地区": ['=HYPERLINK("x")'], "回答者数": [12]})
    write_tables({"表": [("t", frame)]}, tmp_path / "t.xlsx", ['=1+1'])  # the project's writer
    assert audit_text([tmp_path], UserText(())) == []


def test_tsunagari_audit_checks_user_text(tmp_path: Path) -> None:
    """`tsunagari audit` (run_audit) reads the town files of the layout and fails the site."""
    from helpers.build.pipeline import Layout, run_audit

    user = _user_text(tmp_path)  # writes tmp/towns/*.yml
    layout = Layout(towns_config=tmp_path / "towns", build=tmp_path / "build",
                    reports=tmp_path / "reports", processed=tmp_path / "processed")
    layout.site.mkdir(parents=True)
    (layout.site / "index.html").write_text(ESCAPED_PAGE, encoding="utf-8")
    assert user.strings and run_audit(layout) == []
    (layout.site / "index.html").write_text(ESCAPED_PAGE.replace("</h1>", f"</h1>{IMG}"),
                                            encoding="utf-8")
    assert [b.kind for b in run_audit(layout)] == ["user text as markup"]


PRINTED = """---
title: 飯山市
---

## 孤独感

| 性別 | 年代 | 回答者数 | 該当者数 | 割合（%） |
|:--|:--|--:|--:|--:|
| 全体 | 全体 | 60 | 26 | 43.3 |
| 男性 | 全体 | 40 | 20 | 50.0 |
| 女性 | 全体 | 20 | 6 | 30.0 |

: 性別 孤独感がある人の割合 {#tbl-1}
"""


def test_printed_report_source_is_audited(tmp_path: Path, secrets: Secrets) -> None:
    folder = tmp_path / "build" / "towns" / "iiyama" / "print"
    folder.mkdir(parents=True)
    clean = PRINTED.replace("| 60 | 26 | 43.3 |", "| 60 | 30 | 50.0 |").replace(
        "| 20 | 6 | 30.0 |", "| 20 | 10 | 50.0 |")
    (folder / "iiyama.qmd").write_text(clean, encoding="utf-8")
    assert audit([tmp_path], secrets, 10) == []
    (folder / "iiyama.qmd").write_text(PRINTED + f"\n{FREE_TEXT}\n", encoding="utf-8")
    found = audit([tmp_path], secrets, 10)
    assert {b.kind for b in found} == {"small cell", "free-text answer"}
    assert any("性別 孤独感がある人の割合" in b.detail for b in found)  # the 6 women, by caption


def _csv_link(text: str) -> str:
    return "data:text/csv;charset=utf-8;base64," + base64.b64encode(text.encode()).decode()


def test_chart_data_is_audited_link_and_plotly_arrays(tmp_path: Path, secrets: Secrets) -> None:
    """A chart's numbers must be percentages with one decimal that the page's tables show,
    whether in its CSV link (a BOM first) or its plotly traces (typed numpy arrays too); a free
    text in the CSV is found, and with every other finding."""
    clean = "\ufeff性別,年代,割合（%）\n男性,20代,50.0\n女性,80歳以上,—\n"
    raw = "性別,年代,割合（%）\n男性,20代,50.05\n"
    typed = {"dtype": "i1", "bdata": base64.b64encode(bytes([50])).decode()}
    exact = {"dtype": "f8", "bdata": base64.b64encode(np.array([50.05]).tobytes()).decode()}
    page = tmp_path / "p.html"
    page.write_text(CLEAN_PAGE.replace('"y": [50.0]', f'"y": {json.dumps(typed)}')
                    + f'<a href="{_csv_link(clean)}">CSV</a>', encoding="utf-8")
    assert audit_html(page, secrets, 10) == []
    page.write_text(CLEAN_PAGE.replace('"y": [50.0]', f'"y": {json.dumps(exact)}')
                    + f'<a href="{_csv_link(raw + "男性,30代," + FREE_TEXT)}">CSV</a>',
                    encoding="utf-8")
    assert [(b.kind, b.detail) for b in audit_html(page, secrets, 10)] == [
        ("chart data", "chart 「」 at 「男性」: 50.05 is not a percentage with one decimal shown "
                       "in a table of the page"),
        ("chart data", "chart data 「男性・20代」: 50.05 is not a percentage with one decimal "
                       "shown in a table of the page"),
        ("free-text answer", FREE_TEXT),
    ]


def test_tables_are_named_by_their_caption_or_the_heading_before_them(
    tmp_path: Path, secrets: Secrets
) -> None:
    row = "<tr><th>性別</th><th>回答者数</th><th>該当者数</th></tr><tr><td>男性</td><td>40</td>"
    page = tmp_path / "p.html"
    page.write_text(
        "<script>var x = 1;</script><h1>性別</h1>"
        f"<table>{row}<td>3</td></tr></table>"
        f"<table><caption>表2 <span>地区別</span></caption>{row}<td>4</td></tr></table>"
        f"<h3>年代別</h3><table>{row}<td>5</td></tr></table>"
        f"<table>{row}<td>6</td></tr></table>", encoding="utf-8")
    names = [b.detail.split(":")[0] for b in audit_html(page, secrets, 10)]
    assert names == ["p.html 「性別」", "p.html 「表2 地区別」", "p.html 「年代別」",
                     "p.html 「table 4」"]


def test_an_id_ending_a_paragraph_or_a_header_is_still_a_whole_token(
    tmp_path: Path, secrets: Secrets
) -> None:
    page = tmp_path / "p.html"
    for html_text in ("<p>IY-0417</p><p>5人</p>", "<table><tr><th>IY-0418</th><th>5</th></tr>"
                                                   "</table>"):
        page.write_text(html_text, encoding="utf-8")
        assert [b.kind for b in audit_html(page, secrets, 10)] == ["respondent ID"], html_text


def test_a_town_whose_results_say_a_higher_min_cell_is_held_to_it(
    tmp_path: Path, secrets: Secrets
) -> None:
    row = {"p": 50.0, "lo": 34.8, "hi": 65.2, "n": 40, "x": 20}
    path = write_json({"town": "iiyama", "min_cell": 12, "headline": {
        "lonely": row, "often_always": {**row, "x": 11, "p": 27.5}}},
        tmp_path / "results.json")
    found = audit_results(path, secrets, 10)
    assert [b.kind for b in found] == ["small cell"] and "a count of 11" in found[0].detail


@pytest.mark.parametrize("folder", ["print", "pdf"])
def test_the_printed_reports_source_is_audited_in_either_folder(
    tmp_path: Path, secrets: Secrets, folder: str
) -> None:
    (tmp_path / folder).mkdir()
    (tmp_path / folder / "iiyama.qmd").write_text(f"{FREE_TEXT}\n", encoding="utf-8")
    (tmp_path / "notes.qmd").write_text(f"{FREE_TEXT}\n", encoding="utf-8")  # not published
    assert [(b.file.name, b.kind) for b in audit([tmp_path], secrets, 10)] == [
        ("iiyama.qmd", "free-text answer")]


def test_a_printed_table_without_caption_and_an_id_column_are_audited(
    tmp_path: Path, secrets: Secrets
) -> None:
    folder = tmp_path / "print"
    folder.mkdir()
    table = "| 回答者番号 | 性別 |\n|--:|:--|\n| 17 | 女性 |\n"
    (folder / "iiyama.qmd").write_text(f"## 名簿\n\n{table}", encoding="utf-8")
    assert [(b.kind, b.detail) for b in audit([tmp_path], secrets, 10)] == [
        ("respondent ID", "a column 「回答者番号」")]


def test_an_id_in_a_workbook_cell_beside_another_is_a_whole_token(
    tmp_path: Path, secrets: Secrets
) -> None:
    table = pd.DataFrame({"地区": ["IY-0417"], "回答者数": [40]})
    write_tables({"表": [("地区別", table)]}, tmp_path / "iiyama_集計表.xlsx", ["注記"])
    assert [(b.kind, b.detail) for b in audit([tmp_path], secrets, 10)] == [
        ("respondent ID", "IY-0417")]


def test_a_page_with_bytes_that_are_not_utf8_is_still_read(tmp_path: Path) -> None:
    user = _user_text(tmp_path)
    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").write_bytes(ESCAPED_PAGE.replace("</h1>", f"</h1>{IMG}").encode()
                                      + b"\xff\xfe")
    assert [b.kind for b in audit_text([site], user)] == ["user text as markup"]


@pytest.mark.parametrize("dask", [False, pytest.param(True, marks=pytest.mark.slow)])
def test_an_audit_on_the_workers_finds_what_a_serial_audit_finds(
    tmp_path: Path, secrets: Secrets, dask: bool
) -> None:
    """The cold audit's checks run in tasks on the workers (two local processes, or a local
    Dask cluster of two): the same breaches, in the same order, and the same files remembered
    as passed."""
    from helpers.build.audit import FILES_PER_TASK, Passed
    from helpers.build.pipeline import Options, Workers

    if dask:
        pytest.importorskip("distributed")

    user = _user_text(tmp_path)
    site = tmp_path / "site" / "towns"
    site.mkdir(parents=True)
    small = "<tr><td>男性</td><td>70代</td><td>3</td><td>2</td><td>66.7%</td></tr>"
    planted = {7: f"</h1><blockquote>{FREE_TEXT}</blockquote>", 31: "</h1><p>IY-0418 さん</p>",
               52: f"</h1><h2>{SCRIPT_NAME}</h2>"}
    for i in range(3 * FILES_PER_TASK - 10):  # three tasks, the last smaller
        page = CLEAN_PAGE.replace("</h1>", planted.get(i, "</h1>"))
        page = page.replace("<tbody>", "<tbody>" + small) if i == 44 else page
        (site / f"t{i:03d}.html").write_text(f"{page}<!-- {i} -->", encoding="utf-8")
    tasks = []
    workers = Workers(Options(workers=2, dask=dask), 2)

    def run(fn: object, items: list) -> list:
        tasks.append(len(items))
        return workers.map_cpu(fn, items)

    try:
        found = {}
        for name, how in (("serial", None), ("parallel", run)):
            passed = Passed(tmp_path / f"{name}.json")
            found[name] = (audit([site], secrets, 10, passed=passed, run=how)
                           + audit_text([site], user, passed, run=how))
            passed.save()
    finally:
        workers.close()
    assert tasks == [3, 3]
    assert found["parallel"] == found["serial"]
    where = [(b.file.stem, b.kind) for b in found["serial"]]
    assert where[:3] == [("t007", "free-text answer"), ("t031", "respondent ID"),
                         ("t044", "small cell")]
    assert ("t052", "user text as markup") in where
    passed = (tmp_path / "parallel.json").read_text(encoding="utf-8")
    assert passed == (tmp_path / "serial.json").read_text(encoding="utf-8")
    failed = {(b.file, b.kind == "user text as markup") for b in found["serial"]}  # by check
    assert len(json.loads(passed)) == 2 * (3 * FILES_PER_TASK - 10) - len(failed)
