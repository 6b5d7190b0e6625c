"""cleaning_report.md shows every string of the user's files as typed: rendered as GitHub and
VS Code render Markdown (CommonMark with pipe tables, markdown-it), hostile column names, labels,
cell values, file names and notes stay text, in the table cell they belong to."""

from __future__ import annotations

import copy
import itertools
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
import yaml
from markdown_it import MarkdownIt

from helpers.cleaning import clean_town
from helpers.cleaning.pipeline import report_markdown
from helpers.towns import Town

CORPUS = Path(__file__).parent / "bad_inputs"
TOWN = yaml.safe_load((CORPUS / "corpustown.yml").read_text("utf-8"))
#: The elements a report is made of: anything else came from a user string.
STRUCTURE = {"h1", "h2", "p", "ul", "li", "table", "thead", "tbody", "tr", "th", "td"}
HOSTILE = [
    "地区|<script>alert(1)</script>",
    "孤独感\n[x](javascript:alert(1))",
    "`人数` と ```fence``` **太字** _下線_",
    '<img src=x onerror="alert(1)">',
    "# 見出し > 引用 - リスト 1. 番号",
    "&amp; &lt;b&gt; \\* back\\slash |",
    "{{< env HOME >}} $x^2$ <!-- c",
]


class _Page(HTMLParser):
    """Elements, the text of each innermost element, and each table's rows of cell texts."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: set[str] = set()
        self.texts: list[str] = []
        self.tables: list[list[list[str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        self.texts.append("")
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.tables[-1].append([])

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th"):
            self.tables[-1][-1].append(self.texts[-1])

    def handle_data(self, data: str) -> None:
        if self.texts:
            self.texts[-1] += data


def _render(markdown: str) -> _Page:
    page = _Page()
    page.feed(MarkdownIt("commonmark").enable("table").render(markdown))
    page.close()
    return page


def _shown(text: str) -> str:
    """A string as the report shows it: on one line."""
    return " ".join(text.splitlines())


def _assert_plain(page: _Page) -> None:
    assert page.tags <= STRUCTURE, page.tags - STRUCTURE
    for rows in page.tables:
        assert len({len(r) for r in rows}) == 1, rows  # no row split or merged by a 「|」


def test_hostile_names_values_and_file_names_stay_text(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    mail = openpyxl.load_workbook(CORPUS / "good" / "郵送.xlsx")
    header = mail["回答データ"][1]
    header[[c.value for c in header].index("孤独感")].value = HOSTILE[1]  # a line break
    mail.save(raw / "郵送.xlsx")
    web = pd.read_csv(CORPUS / "good" / "web.csv", dtype=str, keep_default_na=False)
    renamed = {"q_area": HOSTILE[0], "q_lonely": HOSTILE[6], "q_members": HOSTILE[2]}
    web = web.rename(columns=renamed)
    web[HOSTILE[0]] = web[HOSTILE[0]].replace("北地区", HOSTILE[5])
    web_name = "web <i>x|y `z` [a](javascript:b).csv"
    web.to_csv(raw / web_name, index=False)

    data = copy.deepcopy(TOWN)
    data["sources"][0]["columns"]["lonely_direct"] = HOSTILE[1]
    source = data["sources"][1]
    source.update(file=web_name, no_answer=[HOSTILE[3]], ignore=[],
                  not_used={"submitted_at": HOSTILE[4]})
    source["columns"].update({"district": HOSTILE[0], "lonely_direct": HOSTILE[6],
                              "household_size": HOSTILE[2]})
    source["labels"]["district"] = {HOSTILE[5]: "北", "南地区": "南"}
    result = clean_town(Town.model_validate(data), raw_dir=raw, out_dir=tmp_path / "out")

    page = _render((tmp_path / "out" / "cleaning_report.md").read_text("utf-8"))
    _assert_plain(page)
    texts = "\n".join(page.texts)
    for text in [*HOSTILE, web_name]:
        assert _shown(text) in texts, text
    # each string in its own cell: the verification table's row of the hostile value
    rows = [row for table in page.tables for row in table]
    assert [web_name, "district", _shown(HOSTILE[0]), HOSTILE[5], "北"] in [r[:5] for r in rows]
    assert result.rows_out == 80


def _hostile_everywhere(report: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """The report with every string value and every name of a variable or a change (numbers
    and the report's own keys kept) replaced by a distinct hostile string: the same string
    everywhere by the same replacement."""
    replacements: dict[str, str] = {}
    numbered = (f"{h}〔{i}〕" for i, h in enumerate(itertools.cycle(HOSTILE)))

    def swap(value: Any, names: bool = False) -> Any:
        if isinstance(value, str):
            return replacements.setdefault(value, next(numbered))
        if isinstance(value, dict):
            return {swap(k) if names else k: swap(v, k in ("variables", "examples"))
                    for k, v in value.items()}
        if isinstance(value, list):
            return [swap(v) for v in value]
        return value

    return swap(report), replacements


def test_every_string_of_the_report_is_shown_as_typed(tmp_path: Path) -> None:
    """Each field of the report (files, modes, sheets, notes, variables, values, reasons,
    warnings, margins' notes, questions not used, variables not asked) holds a hostile
    string: the page keeps its structure and shows each one whole."""
    data = copy.deepcopy(TOWN)
    data["sources"][1]["not_used"] = {"submitted_at": "送信日時"}
    data["sources"][1]["ignore"] = []
    result = clean_town(Town.model_validate(data), raw_dir=CORPUS / "good",
                        out_dir=tmp_path / "out")
    report = copy.deepcopy(result.report)
    report["warnings"] = ["a warning"]
    report["population_notes"] = ["a note on the margins"]
    report["invalid_values"] = [{"file": "web.csv", "row": 3, "column": "q_age",
                                 "value": "150", "reason": "age 150 outside the range"}]
    report["sources"][0]["encoding"] = "utf-8"
    hostile, replacements = _hostile_everywhere(report)

    page = _render(report_markdown(hostile))
    _assert_plain(page)
    texts = "\n".join(page.texts)
    shown = {r for r in replacements.values() if _shown(r) in texts}
    for r in replacements.values():  # a marker seen means its string is seen whole
        assert ("〔" + r.rsplit("〔", 1)[1]) not in texts or r in shown, r
    for original in ["a warning", "a note on the margins", "150", "age 150 outside the range",
                     "utf-8", "郵送.xlsx", "回答データ", "送信日時", "web.csv", "q_lonely",
                     result.report["not_asked"][0], "corpustown"]:
        assert replacements[original] in shown, original
