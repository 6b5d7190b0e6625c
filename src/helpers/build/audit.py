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

``audit_text`` checks that text from users stayed text (``UserText``: the strings of the town
files): no user string shown as markup in a page (written there unescaped, its Markdown specials
consumed, or become a script or an event handler), and no formula in any Excel file.
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


# --- user text shown as markup ---

#: Characters that Markdown or HTML can consume: a user string holding one can be mis-rendered.
MARKUP_CHARS = frozenset("\\`*_{}[]<>#|$~^&")
#: A user string whose other characters are fewer than this is too short to be traced.
MIN_TRACE = 3
#: A string that is one tag and nothing else cannot be told from the page's own markup (an event
#: handler in it is still found).
_ONE_TAG = re.compile(r"</?[A-Za-z][^<>]*>")
_TAG_OR_ENTITY = re.compile(r"<[A-Za-z/!?]|&(#\d+|#x[0-9A-Fa-f]+|[A-Za-z]+);")


_FORMULA_ELEMENT = re.compile(rb"<(?:\w+:)?f[\s>/]")


def _strip_markup(text: str) -> str:
    return "".join(c for c in text if c not in MARKUP_CHARS)


class _Markup(HTMLParser):
    """Visible text, scripts and event-handler or ``javascript:`` attributes of a page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.visible: list[str] = []
        self.scripts: list[list[str]] = []
        self.handlers: list[tuple[str, str]] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            code = (value or "").strip()
            if name.startswith("on") or code.lower().startswith("javascript:"):
                self.handlers.append((f"<{tag} {name}>", code))
        if tag in _Page.HIDDEN:
            self._hidden += 1
            if tag == "script":
                self.scripts.append([])

    def handle_endtag(self, tag: str) -> None:
        if tag in _Page.HIDDEN:
            self._hidden = max(0, self._hidden - 1)

    def handle_data(self, data: str) -> None:
        if self._hidden:
            if self.scripts:
                self.scripts[-1].append(data)
        else:
            self.visible.append(data)


@dataclass(frozen=True)
class UserText:
    """The strings users wrote (every text and key of the town files): the site must show each
    as the characters typed. Only those holding a ``MARKUP_CHARS`` character are checked."""

    strings: tuple[str, ...]

    @classmethod
    def from_town_files(cls, folder: Path) -> UserText:
        """Every string of every ``*.yml`` under ``folder`` (unreadable files are skipped: their
        town is not built)."""
        import yaml

        found: set[str] = set()

        def collect(node: object) -> None:
            if isinstance(node, str):
                found.add(normalize(node))
            elif isinstance(node, dict):
                for k, v in node.items():
                    collect(k)
                    collect(v)
            elif isinstance(node, list):
                for v in node:
                    collect(v)

        for f in sorted(Path(folder).glob("*.yml")):
            try:
                collect(yaml.safe_load(f.read_text(encoding="utf-8")))
            except (OSError, yaml.YAMLError):
                continue
        return cls(tuple(sorted(s for s in found if s)))

    @cached_property
    def risky(self) -> tuple[str, ...]:
        return tuple(s for s in self.strings if MARKUP_CHARS & set(s))

    def find(self, page: str) -> Iterator[str]:
        """Where a user string became markup in an HTML page, one line each."""
        flat = normalize(page)
        for s in self.risky:  # written into the page as it is: an element, a comment, an entity
            if _TAG_OR_ENTITY.search(s) and not _ONE_TAG.fullmatch(s) and s in flat:
                yield f"「{s}」 is written into the page unescaped"
        parsed = _Markup()
        parsed.feed(page)
        compact = [_compact(s) for s in self.risky]
        for name, code in parsed.handlers:
            if code and any(_compact(code) in c for c in compact):
                yield f"{name} runs 「{code}」 from a user string"
        for script in map(_compact, ("".join(s) for s in parsed.scripts)):
            source = next((s for s, c in zip(self.risky, compact, strict=True) if script in c),
                          None) if script else None
            if source:
                yield f"a <script> element runs 「{script}」 from 「{source}」"
        yield from self._consumed(_compact("".join(parsed.visible)))

    @cached_property
    def _compact(self) -> tuple[tuple[str, str], ...]:
        """(compact, compact without markup characters) of every string."""
        return tuple((c, _strip_markup(c)) for c in map(_compact, self.strings))

    def _consumed(self, visible: str) -> Iterator[str]:
        """User strings shown without some of their characters (taken as markup): the page shows
        the string's other characters more often than the string itself and other user strings
        explain."""
        bare = _strip_markup(visible)
        shown = [(b, n) for c, b in self._compact if (n := visible.count(c))]
        for s in self.risky:
            trace = _strip_markup(_compact(s))
            if len(trace) < MIN_TRACE:
                continue
            explained = sum(n * b.count(trace) for b, n in shown)
            if bare.count(trace) > explained:
                lost = "".join(sorted(MARKUP_CHARS & set(s)))
                yield f"「{s}」 is shown without its characters {lost} (read as markup)"


def formula_cells(path: Path) -> list[str]:
    """Cells of an Excel file that hold a formula: the project writes none, so each came from
    text (one line each). The sheets' XML is scanned for a formula element first (fast)."""
    import zipfile

    from openpyxl import load_workbook

    with zipfile.ZipFile(path) as z:
        sheets = [n for n in z.namelist() if n.startswith("xl/worksheets/")]
        if not any(_FORMULA_ELEMENT.search(z.read(n)) for n in sheets):
            return []
    wb = load_workbook(path, read_only=True)
    try:
        return [
            f"sheet 「{ws.title}」 cell {cell.coordinate}: 「{cell.value}」 is a formula"
            for ws in wb.worksheets
            for row in ws.iter_rows()
            for cell in row
            if cell.data_type == "f"
        ]
    finally:
        wb.close()


def audit_text(roots: Iterable[Path], user: UserText) -> list[Breach]:
    """User text shown as markup in HTML pages, and formulas in Excel files, under ``roots``."""
    found: list[Breach] = []
    for root in roots:
        for f in sorted(Path(root).rglob("*")):
            if not f.is_file() or "site_libs" in f.parts:
                continue
            if f.suffix == ".html":
                page = f.read_text(encoding="utf-8", errors="replace")
                found += [Breach(f, "user text as markup", d) for d in user.find(page)]
            elif f.suffix == ".xlsx":
                found += [Breach(f, "formula", d) for d in formula_cells(f)]
    return found
