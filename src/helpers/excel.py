"""Excel workbooks of published tables for municipal staff (xlsxwriter).

One sheet per report section, the section's tables stacked with a bold title above each, a 注記
sheet first (synthetic-data notice, suppression rule, minimum cell size). Missing values in a
table are suppressed cells and are written as "—". Strings stay strings (never formulas or links).
The file is written atomically.
"""

from __future__ import annotations

import os
import re
import tempfile
import unicodedata
from collections.abc import Sequence
from pathlib import Path

import pandas as pd
import xlsxwriter

SUPPRESSED = "—"
NOTES_SHEET = "注記"
#: Text is stored as text: a town or district name like 「=HYPERLINK(…)」 or a URL must not
#: become a formula or a link (xlsxwriter turns such strings into both by default).
WORKBOOK_OPTIONS = {"nan_inf_to_errors": True, "strings_to_formulas": False,
                    "strings_to_urls": False}
_BAD_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")


def sheet_name(name: str) -> str:
    """A valid Excel sheet name: forbidden characters replaced, at most 31 characters.

    >>> sheet_name("小規模都市ならではの孤独/全体")
    '小規模都市ならではの孤独・全体'
    """
    return _BAD_SHEET_CHARS.sub("・", name).strip("'")[:31] or "表"


def text_width(value: object) -> int:
    """Display width of a cell value: full-width characters count twice.

    >>> text_width("男性"), text_width("n=12")
    (4, 4)
    """
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in str(value))


def _cell(value: object) -> object:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return SUPPRESSED
    if hasattr(value, "item"):  # numpy scalars → Python
        return value.item()
    return value


def _write_sheet(
    book: xlsxwriter.Workbook,
    name: str,
    tables: Sequence[tuple[str, pd.DataFrame]],
    formats: dict[str, xlsxwriter.format.Format],
) -> None:
    ws = book.add_worksheet(name)
    widths: dict[int, int] = {}
    row = 0
    for title, frame in tables:
        ws.write(row, 0, title, formats["title"])
        row += 1
        for j, col in enumerate(frame.columns):
            ws.write(row, j, str(col), formats["header"])
            widths[j] = max(widths.get(j, 0), text_width(col))
        row += 1
        for values in frame.itertuples(index=False):
            for j, value in enumerate(values):
                cell = _cell(value)
                fmt = formats["number"] if isinstance(cell, float) else formats["text"]
                ws.write(row, j, cell, fmt)
                widths[j] = max(widths.get(j, 0), text_width(cell))
            row += 1
        row += 1  # a blank row between tables
    for j, width in widths.items():
        ws.set_column(j, j, min(max(width + 2, 8), 60))


def write_tables(
    sheets: dict[str, list[tuple[str, pd.DataFrame]]], path: Path, notes: Sequence[str]
) -> Path:
    """Write ``{sheet: [(table title, frame), …]}`` to ``path`` with a 注記 sheet of ``notes``.

    Sheet names are made valid for Excel (≤ 31 characters); missing values become "—". The
    workbook is written to a temporary file in the same folder and then moved into place.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(suffix=".xlsx", dir=path.parent)
    os.close(fd)
    try:
        book = xlsxwriter.Workbook(tmp, WORKBOOK_OPTIONS)
        formats = {
            "title": book.add_format({"bold": True, "font_size": 12}),
            "header": book.add_format(
                {"bold": True, "bg_color": "#DCE6F1", "border": 1, "text_wrap": True}
            ),
            "text": book.add_format({"border": 1}),
            "number": book.add_format({"border": 1, "num_format": "0.0"}),
        }
        ws = book.add_worksheet(NOTES_SHEET)
        ws.set_column(0, 0, 110)
        for i, line in enumerate(notes):
            ws.write(i, 0, line, formats["title"] if i == 0 else None)
        used = {NOTES_SHEET}
        for name, tables in sheets.items():
            base = sheet_name(name)
            unique, k = base, 2
            while unique in used:
                unique = f"{base[: 31 - len(str(k)) - 1]}_{k}"
                k += 1
            used.add(unique)
            _write_sheet(book, unique, tables, formats)
        book.close()
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


def read_tables(path: Path) -> dict[str, list[tuple[str, pd.DataFrame]]]:
    """Read back a workbook written by :func:`write_tables` (for checks and tests)."""
    import openpyxl

    book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    out: dict[str, list[tuple[str, pd.DataFrame]]] = {}
    for ws in book.worksheets:
        if ws.title == NOTES_SHEET:
            continue
        tables: list[tuple[str, pd.DataFrame]] = []
        block: list[list[object]] = []
        for values in [*ws.iter_rows(values_only=True), ()]:
            cells = [v for v in values if v is not None]
            if cells:
                block.append(list(values))
                continue
            if len(block) >= 2:
                header = [h for h in block[1] if h is not None]
                rows = [r[: len(header)] for r in block[2:]]
                tables.append((str(block[0][0]), pd.DataFrame(rows, columns=header)))
            block = []
        out[ws.title] = tables
    book.close()
    return out
