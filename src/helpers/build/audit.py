"""Disclosure audit (BRIEF §7): scan what the build publishes for anything that must not be there.

Checked in every HTML page and the search index of the site, every Excel file, and every
``results.json``:

- **free-text answers** and **respondent IDs** from the towns' ``restricted.parquet``: free texts
  (and their longer sentences) anywhere in a page's text, chart data included, and in any cell;
  IDs as whole tokens. Purely numeric IDs shorter than ``MIN_NUMERIC_ID`` digits cannot be told
  apart from counts and are not searched for (``Secrets.skipped_ids`` counts them), but a table
  column headed like an ID or an exact age (``ID_HEADERS``) is a breach whatever it holds;
- **small cells**: in an HTML table with a base column (回答者数, n), a count of 1 … min_cell−1,
  or any other number in a row whose base is under ``min_cell`` or hidden; in ``results.json``
  and the Excel tables, the report's own rules (``helpers.analysis.disclosure_breaches`` and
  ``workbook_breaches``), applied again to the files as published.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import cached_property
from html.parser import HTMLParser
from pathlib import Path
from typing import ClassVar

MIN_FREE_TEXT = 8
MIN_SENTENCE = 12
MIN_NUMERIC_ID = 5
#: Headers of a table's base column and of its count columns (those of the report's tables,
#: ``helpers.analysis.results``, plus the short forms n and x).
BASE_HEADERS = {"回答者数", "n"}
COUNT_HEADERS = BASE_HEADERS | {"該当者数", "人数", "x"}
ID_HEADERS = {
    "resp_id",
    "id",
    "回答者番号",
    "回答者id",
    "整理番号",
    "age",
    "年齢（満年齢）",
    "満年齢",
}
EMPTY = {"", "—", "-", "–", "nan", "none", "null", "*"}
NUMBER = re.compile(r"^[+-]?\d[\d,]*(\.\d+)?\s*[%％]?$")


@dataclass(frozen=True)
class Breach:
    """One thing that must not be published, where it was found and what it is."""

    file: Path
    kind: str
    detail: str

    def __str__(self) -> str:
        return f"{self.file}: {self.kind}: {self.detail}"


@dataclass(frozen=True)
class Secrets:
    """What must never appear: free-text answers (and sentences of them) and respondent IDs."""

    free_texts: tuple[str, ...]
    ids: tuple[str, ...]
    skipped_ids: int = 0

    @classmethod
    def from_values(cls, free_texts: Iterable[object], ids: Iterable[object]) -> Secrets:
        texts: set[str] = set()
        for t in free_texts:
            s = _compact(t)
            if len(s) >= MIN_FREE_TEXT:
                texts.add(s)
                texts.update(x for x in re.split(r"[。．！？!?、,\n]", s) if len(x) >= MIN_SENTENCE)
        checked, skipped = set(), 0
        for i in ids:
            s = normalize(i)
            if not s:
                continue
            if s.isdigit() and len(s) < MIN_NUMERIC_ID:
                skipped += 1
            else:
                checked.add(s)
        return cls(tuple(sorted(texts)), tuple(sorted(checked)), skipped)

    @classmethod
    def from_processed(cls, processed: Path) -> Secrets:
        """Collect every town's ``restricted.parquet`` under ``processed`` (data/processed)."""
        import pandas as pd

        texts: list[object] = []
        ids: list[object] = []
        for f in sorted(Path(processed).glob("*/restricted.parquet")):
            df = pd.read_parquet(f)
            if "free_text" in df:
                texts += df["free_text"].dropna().tolist()
            if "resp_id" in df:
                ids += df["resp_id"].dropna().tolist()
        return cls.from_values(texts, ids)

    def find(self, text: str) -> Iterator[tuple[str, str]]:
        """(kind, value) for every secret in ``text`` (normalised first)."""
        compact = _compact(text)
        found: list[str] = []
        for t in sorted(self.free_texts, key=len, reverse=True):
            if t in compact and not any(t in f for f in found):  # a sentence of one already found
                found.append(t)
                yield "free-text answer", t
        if self.ids:
            for m in self._id_pattern.finditer(normalize(text)):
                yield "respondent ID", m.group(0)

    @cached_property
    def _id_pattern(self) -> re.Pattern[str]:
        alternatives = "|".join(re.escape(i) for i in sorted(self.ids, key=len, reverse=True))
        return re.compile(rf"(?<![0-9A-Za-z_-])(?:{alternatives})(?![0-9A-Za-z_-])")


def normalize(value: object) -> str:
    """NFKC (full-width digits and letters to ASCII) and whitespace collapsed."""
    if value is None:
        return ""
    return " ".join(unicodedata.normalize("NFKC", str(value)).split())


def _compact(value: object) -> str:
    """``normalize`` without any whitespace: free text is found across line and tag breaks."""
    return "".join(normalize(value).split())


# --- reading what is published ---


class _Page(HTMLParser):
    """Visible text, tables (rows of cell texts) and script text of an HTML page."""

    HIDDEN: ClassVar[set[str]] = {"script", "style", "noscript", "template"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.visible: list[str] = []
        self.scripts: list[str] = []
        self.tables: list[list[list[str]]] = []
        self._hidden = 0
        self._stack: list[list[list[str]]] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.HIDDEN:
            self._hidden += 1
        elif tag == "table":
            self._stack.append([])
        elif tag == "tr" and self._stack:
            self._stack[-1].append([])
        elif tag in ("td", "th") and self._stack and self._stack[-1]:
            self._cell = []
        if tag in ("br", "p", "div", "li", "tr", "td", "th"):
            self.visible.append("\n")  # text of neighbouring elements must not run together

    def handle_endtag(self, tag: str) -> None:
        if tag in self.HIDDEN:
            self._hidden = max(0, self._hidden - 1)
        elif tag in ("td", "th") and self._cell is not None and self._stack:
            self._stack[-1][-1].append(normalize("".join(self._cell)))
            self._cell = None
        elif tag == "table" and self._stack:
            self.tables.append(self._stack.pop())

    def handle_data(self, data: str) -> None:
        if self._hidden:
            self.scripts.append(data)
            return
        self.visible.append(data)
        if self._cell is not None:
            self._cell.append(data)


def _unescape_js(text: str) -> str:
    return re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), text)


def _xlsx_tables(path: Path) -> Iterator[tuple[str, list[list[str]]]]:
    from openpyxl import load_workbook

    wb = load_workbook(path, read_only=True, data_only=True)
    try:
        for ws in wb.worksheets:
            rows = [
                ["" if v is None else normalize(_cell_text(v)) for v in row]
                for row in ws.iter_rows(values_only=True)
            ]
            yield ws.title, rows
    finally:
        wb.close()


def _cell_text(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


# --- the rules ---


def _number(cell: str) -> float | None:
    cell = cell.strip()
    if cell.lower() in EMPTY or not NUMBER.match(cell):
        return None
    return float(cell.rstrip("%％ ").replace(",", ""))


def id_columns(header: Iterable[object]) -> list[str]:
    """Columns headed like a respondent ID or an exact age: never published, whatever they hold.

    (Short numeric IDs cannot be searched for as values, so their columns are looked for.)
    """
    return [f"a column 「{h}」" for h in header if normalize(h).lower() in ID_HEADERS]


def table_breaches(rows: list[list[str]], min_cell: int) -> list[str]:
    """Rows of a table (header rows included) that publish a small cell; one line each.

    A header row is a row naming a count column; the rows under it, up to the next header or
    blank row, are checked against it: counts must be 0 or at least ``min_cell``, and a row whose
    base is under ``min_cell`` or hidden ("—") may show no other number.
    """
    found: list[str] = []
    header: list[str] | None = None
    for row in rows:
        keys = [c.strip().lower() for c in row]
        if any(k in COUNT_HEADERS for k in keys):
            header = keys
            continue
        if header is None:
            continue
        if not any(c.strip() for c in row):
            header = None
            continue
        label = next((c for c in row if c and _number(c) is None), "?")
        bases = [c.strip() for k, c in zip(header, row, strict=False) if k in BASE_HEADERS]
        base = bases[0] if bases else None
        small = base is not None and (
            base.lower() in EMPTY - {""} or (_number(base) is not None and _number(base) < min_cell)
        )
        for k, c in zip(header, row, strict=False):
            value = _number(c)
            if value is None:
                continue
            if k in COUNT_HEADERS:
                if 0 < value < min_cell:
                    found.append(f"row 「{label}」: {k} = {c} (a count under {min_cell})")
            elif small:
                found.append(f"row 「{label}」: {k} = {c} on a base of {base} (< {min_cell})")
    return found


# --- the audit ---


def audit_html(path: Path, secrets: Secrets, min_cell: int) -> list[Breach]:
    """Secrets anywhere in the page (charts included) and small cells in its tables."""
    page = _Page()
    page.feed(path.read_text(encoding="utf-8", errors="replace"))
    text = "".join(page.visible) + "\n" + _unescape_js("\n".join(page.scripts))
    found = [Breach(path, kind, value) for kind, value in secrets.find(text)]
    for table in page.tables:
        found += [Breach(path, "small cell", d) for d in table_breaches(table, min_cell)]
        header = table[0] if table else []
        found += [Breach(path, "respondent ID", d) for d in id_columns(header)]
    return found


def audit_xlsx(path: Path, secrets: Secrets, min_cell: int) -> list[Breach]:
    """Secrets in any cell of any sheet, and the report's rules for its Excel tables."""
    from helpers.analysis import workbook_breaches
    from helpers.excel import read_tables

    found = []
    for sheet, rows in _xlsx_tables(path):
        text = "\n".join("\t".join(r) for r in rows)
        where = Path(f"{path} [{sheet}]")
        found += [Breach(where, kind, value) for kind, value in secrets.find(text)]
    try:
        small = workbook_breaches(path, min_cell)
        for sheet, tables in read_tables(path).items():
            for _, frame in tables:
                where = Path(f"{path} [{sheet}]")
                found += [Breach(where, "respondent ID", d) for d in id_columns(frame.columns)]
    except Exception as exc:  # a workbook the audit cannot read cannot be published either
        small = [f"could not be checked ({type(exc).__name__}: {exc})"]
    return found + [Breach(path, "small cell", d) for d in small]


def audit_results(path: Path, secrets: Secrets, min_cell: int) -> list[Breach]:
    """Secrets in a ``results.json`` and the report's disclosure rule for its values."""
    from helpers.analysis import disclosure_breaches

    text = path.read_text(encoding="utf-8")
    results = json.loads(text)
    found = [Breach(path, kind, value) for kind, value in secrets.find(_unescape_js(text))]
    small = disclosure_breaches(results, max(min_cell, int(results.get("min_cell") or 0)))
    return found + [Breach(path, "small cell", d) for d in small]


def audit(
    roots: Iterable[Path],
    secrets: Secrets,
    min_cell: int,
    town_min_cell: Mapping[str, int] | None = None,
) -> list[Breach]:
    """Audit every HTML page, search index, Excel file and results.json under ``roots``.

    A file belongs to a town when its path contains the town's id as a folder or file stem
    (``towns/iiyama.html``, ``build/towns/iiyama/…``); it is then checked against the town's
    ``min_cell``, other files against ``min_cell``.
    """
    found: list[Breach] = []
    for root in roots:
        for f in sorted(Path(root).rglob("*")):
            if not f.is_file() or "site_libs" in f.parts:
                continue
            names = {f.stem, *f.parts, f.stem.split("_")[0]}
            mc = next((m for t, m in (town_min_cell or {}).items() if t in names), min_cell)
            if f.suffix == ".html" or f.name == "search.json":
                found += audit_html(f, secrets, mc)
            elif f.suffix == ".xlsx":
                found += audit_xlsx(f, secrets, mc)
            elif f.name == "results.json":
                found += audit_results(f, secrets, mc)
    return found
