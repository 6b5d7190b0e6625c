"""How a raw file is laid out, found from the file itself: its type, encoding, delimiter, sheet,
header rows and where the answers start — the settings a town file's source needs."""

from __future__ import annotations

import codecs
import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

from helpers.cleaning.normalize import key
from helpers.cleaning.read import (
    CSV_SUFFIXES,
    EXCEL_SUFFIXES,
    SPSS_SUFFIXES,
    XLS_SUFFIXES,
    RawTable,
    read_table,
    workbook_rows,
)
from helpers.errors import UserError

_HEAD = 40  # rows looked at to find the header
_DELIMITERS = (",", "\t", ";", "|")


@dataclass
class Layout:
    """The reading settings of one file, and what was found on the way (``notes``)."""

    path: Path
    header_rows: tuple[int, ...] = (1,)
    sheet: str | None = None
    encoding: str | None = None
    delimiter: str = ","
    notes: list[str] = field(default_factory=list)

    @property
    def suffix(self) -> str:
        return self.path.suffix.lower()

    def read(self) -> RawTable:
        """The file's raw table, read with these settings."""
        return read_table(self.path, sheet=self.sheet, header_row=self.header_rows,
                          encoding=self.encoding or "auto", delimiter=self.delimiter)


def _blank(value: object) -> bool:
    return key(value) == ""


def _text(value: object) -> bool:
    """A cell holding words, not a number."""
    k = key(value)
    return k != "" and not k.replace(".", "", 1).lstrip("-").isdigit()


def header_rows(rows: list[tuple]) -> tuple[int, ...]:
    """The header's rows (counted from 1) among a file's first rows: the first row whose cells
    are mostly filled with words, above rows of answers (title and blank rows above it are
    skipped); the row below it too when it holds headings that appear nowhere in the answers
    (short headings under question numbers)."""
    width = max((len(r) for r in rows), default=0)
    padded = [tuple(r) + (None,) * (width - len(r)) for r in rows]
    for i, row in enumerate(padded[:15]):
        used = [j for j in range(width) if any(not _blank(r[j]) for r in padded[i:i + 20])]
        filled = [row[j] for j in used if not _blank(row[j])]
        if len(filled) < max(2, 0.6 * len(used)) or sum(map(_text, filled)) < 0.7 * len(filled):
            continue
        below = padded[i + 1:i + 22]
        if len(below) > 2 and _second_header(below[0], below[1:], used):
            return (i + 1, i + 2)
        return (i + 1,)
    return (1,)


def _second_header(row: tuple, answers: list[tuple], used: list[int]) -> bool:
    filled = [j for j in used if not _blank(row[j])]
    heads = [j for j in filled if _text(row[j])
             and all(key(a[j]) != key(row[j]) for a in answers)]
    return len(heads) >= 3 and len(heads) >= 0.8 * len(filled) >= 0.4 * len(used)


def _csv_head(path: Path) -> tuple[str, str, str, list[tuple]]:
    """(encoding, delimiter, note, first rows) of a text file."""
    data = path.read_bytes()
    head = data[: 1 << 16]
    if head.startswith(codecs.BOM_UTF8):
        encoding, text = "utf-8-sig", head[3:].decode("utf-8", "ignore")
    else:
        try:
            codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
            encoding, text = "utf-8", head.decode("utf-8", "ignore")
        except UnicodeDecodeError:
            encoding, text = "cp932", head.decode("cp932", "replace")
    lines = text.splitlines()[:_HEAD]
    best, most = ",", 0
    for d in _DELIMITERS:
        counts = [len(next(csv.reader([line], delimiter=d), [])) for line in lines if line]
        if not counts:
            continue
        common = max(set(counts), key=counts.count)
        score = counts.count(common) * (common > 1) * common
        if score > most:
            best, most = d, score
    rows = [tuple(r) for r in csv.reader(io.StringIO("\n".join(lines)), delimiter=best)]
    name = {"utf-8": "UTF-8", "utf-8-sig": "UTF-8 with BOM", "cp932": "Shift_JIS (cp932)"}
    shown = {",": "commas", "\t": "tabs", ";": "semicolons", "|": "bars"}[best]
    return encoding, best, f"text in {name[encoding]}, separated by {shown}", rows


def detect(path: Path) -> Layout:
    """The layout of ``path`` (xlsx, xls, CSV/TSV/TXT or SPSS sav)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if not path.exists():
        raise UserError("file not found", file=path, hint="give the path of a raw export")
    if suffix in SPSS_SUFFIXES:
        return Layout(path, (0,), notes=["SPSS file: variable names and labels as headers"])
    if suffix in CSV_SUFFIXES:
        encoding, delimiter, note, rows = _csv_head(path)
        layout = Layout(path, header_rows(rows), encoding=encoding, delimiter=delimiter,
                        notes=[note])
    elif suffix in EXCEL_SUFFIXES | XLS_SUFFIXES:
        sheets = workbook_rows(path, None, last=1)[0]
        heads = {name: workbook_rows(path, name, last=_HEAD)[2] for name in sheets}
        sheet = max(sheets, key=lambda s: sum(not _blank(v) for r in heads[s] for v in r))
        layout = Layout(path, header_rows(heads[sheet]), sheet=sheet)
        if len(sheets) > 1:
            layout.notes.append(f"the workbook has {len(sheets)} sheets "
                                f"({', '.join(sheets)}): the answers are on 「{sheet}」")
    else:
        raise UserError(f"cannot read files of type 「{path.suffix}」", file=path,
                        hint="give the survey's exports as .xlsx, .xls, .csv or SPSS .sav")
    if layout.header_rows != (1,):
        rows = ", ".join(map(str, layout.header_rows))
        layout.notes.append(f"header on row{'s' if len(layout.header_rows) > 1 else ''} {rows}"
                            f", answers from row {layout.header_rows[-1] + 1}")
    return layout
