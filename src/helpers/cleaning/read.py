"""Read one raw export (xlsx or CSV) into a table of raw cells, with Excel row numbers.

Nothing is interpreted here beyond the file format: the encoding (stated or detected), the
delimiter, the sheet and the header row. Problems with the file itself raise ``UserError``.
"""

from __future__ import annotations

import codecs
import csv
import io
import zipfile
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
from openpyxl.utils.exceptions import InvalidFileException

from helpers.cleaning.normalize import key
from helpers.errors import UserError

EXCEL_SUFFIXES = {".xlsx", ".xlsm"}
CSV_SUFFIXES = {".csv", ".txt", ".tsv"}
_DELIMITERS = {",": "comma ','", "\t": "TAB", ";": "semicolon ';'", "|": "bar '|'"}
_HEADER_SCAN = 20  # rows searched for the header when the stated header row is wrong


@dataclass
class RawTable:
    """The raw cells of one file: ``data`` has the headers as written; ``rows`` are Excel rows."""

    file: Path
    data: pd.DataFrame
    rows: np.ndarray
    sheet: str | None = None
    encoding: str | None = None
    notes: list[str] = field(default_factory=list)


def read_table(
    path: Path,
    *,
    sheet: str | None = None,
    header_row: int = 1,
    encoding: str = "auto",
    delimiter: str = ",",
    plain: Collection[str] = (),
) -> RawTable:
    """Read an xlsx or CSV file; the header is on ``header_row`` (1 = first row).

    CSV columns are read factorised (categorical), except the ``plain`` ones (IDs, free text:
    about one value per row, where factorising only costs time).
    """
    path = Path(path)
    if not path.exists():
        raise UserError(
            "file not found",
            file=path,
            hint="put the export in the town's data/raw/<town>/ folder or fix 'file:' in "
            "the parameter file",
        )
    suffix = path.suffix.lower()
    if suffix in EXCEL_SUFFIXES:
        table = _read_xlsx(path, sheet, header_row)
    elif suffix in CSV_SUFFIXES:
        table = _read_csv(path, header_row, encoding, delimiter, {key(c) for c in plain})
    else:
        raise UserError(
            f"cannot read files of type 「{path.suffix}」",
            file=path,
            hint="export the survey as .xlsx or .csv",
        )
    _check_header(table, header_row)
    if table.data.empty or table.data.isna().all(axis=None):
        raise UserError(
            "has a header row but no answers below it",
            file=path,
            rows=[header_row],
            hint="export the file again with the answers, or check 'header_row:' in the "
            "parameter file",
        )
    return table


def _check_header(table: RawTable, header_row: int) -> None:
    names = [key(c) for c in table.data.columns]
    seen: dict[str, int] = {}
    for name in names:
        seen[name] = seen.get(name, 0) + 1
    twice = [n for n, count in seen.items() if count > 1 and n]
    if twice:
        raise UserError(
            "the header names a column twice",
            file=table.file,
            column=twice[0],
            rows=[header_row],
            hint="rename one of the two columns in the export so each header is unique",
        )


# --- Excel --------------------------------------------------------------------------------------


def _open_workbook(path: Path) -> openpyxl.Workbook:
    try:
        return openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError) as exc:
        raise UserError(
            f"is not a readable Excel file ({type(exc).__name__})",
            file=path,
            hint="open it in Excel and save it again as .xlsx (Excel workbook), or export CSV",
        ) from None


def _read_xlsx(path: Path, sheet: str | None, header_row: int) -> RawTable:
    book = _open_workbook(path)
    try:
        names = book.sheetnames
        if sheet is not None and sheet not in names:
            raise UserError(
                f"has no sheet 「{sheet}」 (sheets: {', '.join(names)})",
                file=path,
                hint="fix 'sheet:' in the parameter file",
            )
        chosen = sheet or names[0]
        cells = list(book[chosen].iter_rows(min_row=header_row, values_only=True))
    finally:
        book.close()
    notes = []
    if sheet is None and len(names) > 1:
        notes.append(f"the workbook has {len(names)} sheets; read the first, 「{chosen}」")
    if all(v is None for row in cells for v in row):
        raise UserError("is empty", file=path, hint="export the survey data again")
    width = max(len(r) for r in cells)
    cells = [tuple(r) + (None,) * (width - len(r)) for r in cells]
    header = ["" if v is None else str(v) for v in cells[0]]
    data = pd.DataFrame.from_records(cells[1:], columns=range(width), coerce_float=False)
    data = data.astype(object)
    data.columns = header
    rows = header_row + 1 + np.arange(len(data))
    return RawTable(path, data, rows, sheet=chosen, notes=notes)


def locate_header(path: Path, wanted: list[str], encoding: str = "auto") -> tuple[str | None, int]:
    """Find the sheet and row holding most of the ``wanted`` column names (for a hint)."""
    want = {key(w) for w in wanted}
    best: tuple[int, str | None, int] = (0, None, 0)
    if path.suffix.lower() in EXCEL_SUFFIXES:
        book = _open_workbook(path)
        try:
            for name in book.sheetnames:
                rows = book[name].iter_rows(max_row=_HEADER_SCAN, values_only=True)
                for i, row in enumerate(rows, start=1):
                    hits = len(want & {key(v) for v in row})
                    best = max(best, (hits, name, i), key=lambda b: b[0])
        finally:
            book.close()
    else:
        head = path.read_bytes()[:_PREFIX].removeprefix(codecs.BOM_UTF8)
        enc = "utf-8" if _decodes(head, "utf-8", final=False) else "cp932"
        for i, line in enumerate(head.decode(enc, "replace").splitlines()[:_HEADER_SCAN], 1):
            for delim in _DELIMITERS:
                hits = len(want & {key(v) for v in line.split(delim)})
                best = max(best, (hits, None, i), key=lambda b: b[0])
    return best[1], best[2]


# --- CSV ----------------------------------------------------------------------------------------

_PREFIX = 1 << 16  # bytes looked at to guess the encoding before the full (strict) read


def _decodes(data: bytes, encoding: str, *, final: bool = True) -> bool:
    """True when ``data`` decodes strictly (``final=False``: a cut last character is fine)."""
    try:
        codecs.getincrementaldecoder(encoding)().decode(data, final=final)
    except UnicodeDecodeError:
        return False
    return True


def _line_of(data: bytes, position: int) -> int:
    return data[:position].count(b"\n") + 1


def _decode(path: Path, data: bytes, encoding: str) -> tuple[str, str]:
    """Decode the whole file strictly: (text, encoding used), or a ``UserError`` naming the line."""
    tries = ["utf-8", "cp932"] if encoding == "auto" else [encoding.replace("-sig", "")]
    failure: UnicodeDecodeError | None = None
    for enc in tries:
        try:
            return data.decode(enc), enc
        except UnicodeDecodeError as exc:
            failure = failure or exc
    assert failure is not None
    line = _line_of(data, failure.start)
    bad = data[failure.start : failure.start + 4].hex(" ")
    if encoding == "auto":
        problem = "cannot be read as UTF-8 or as Shift_JIS (cp932)"
        hint = "open it in Excel and save it as 'CSV UTF-8 (comma delimited)'"
    elif encoding != "cp932" and _decodes(data, "cp932"):
        problem = f"cannot be read as {encoding}"
        hint = "the file looks like Shift_JIS: set 'encoding: cp932' (or 'auto') for this " \
            "source in the parameter file"
    else:
        problem = f"cannot be read as {encoding}"
        hint = "set 'encoding: auto' for this source in the parameter file, or save the file " \
            "as 'CSV UTF-8'"
    raise UserError(problem, file=path, rows=[line], value=f"bytes {bad}", hint=hint)


def _header_line(utf8: bytes, header_row: int) -> str:
    pos = 0
    for _ in range(header_row - 1):
        pos = utf8.find(b"\n", pos) + 1
        if pos == 0:
            return ""
    end = utf8.find(b"\n", pos)
    return utf8[pos : end if end >= 0 else len(utf8)].decode("utf-8", "replace").rstrip("\r")


def _check_delimiter(path: Path, header_line: str, header_row: int, delimiter: str) -> list[str]:
    header = next(csv.reader([header_line], delimiter=delimiter))
    if len(header) == 1:
        for other, name in _DELIMITERS.items():
            if other != delimiter and len(next(csv.reader([header_line], delimiter=other))) > 2:
                stated = _DELIMITERS.get(delimiter, repr(delimiter))
                raise UserError(
                    f"the columns are separated by {name}, not by {stated}",
                    file=path,
                    rows=[header_row],
                    value=header_line[:60],
                    hint=f"set 'delimiter: \"{other.encode('unicode_escape').decode()}\"' for "
                    "this source in the parameter file (or export the file again with commas)",
                )
    return header


def _arrow_read(utf8: bytes | memoryview, header_row: int, delimiter: str, header: list[str],
                plain: set[str], invalid: list[str]) -> pa.Table:
    """Parse CSV bytes as text, dictionary-encoded (= factorised) except the ``plain`` columns.

    A line break inside a cell needs quotes: a file without any quote is parsed the faster way.
    """
    quoted = (utf8.find(b'"') if isinstance(utf8, bytes) else utf8.obj.find(b'"')) >= 0
    def _invalid(row: pacsv.InvalidRow) -> str:
        invalid.append(row.text)
        return "skip"

    names = [f"c{i}" for i in range(len(header))]
    factorised = pa.dictionary(pa.int32(), pa.string())
    types = {n: pa.string() if key(h) in plain else factorised for n, h in zip(names, header,
                                                                             strict=True)}
    return pacsv.read_csv(
        pa.BufferReader(pa.py_buffer(utf8)),
        read_options=pacsv.ReadOptions(skip_rows=header_row, column_names=names),
        parse_options=pacsv.ParseOptions(delimiter=delimiter, newlines_in_values=quoted,
                                         ignore_empty_lines=False, invalid_row_handler=_invalid),
        convert_options=pacsv.ConvertOptions(
            column_types=types,
            strings_can_be_null=True, quoted_strings_can_be_null=True, null_values=[""]),
    )


def _read_csv(path: Path, header_row: int, encoding: str, delimiter: str,
              plain: set[str]) -> RawTable:
    data = path.read_bytes()
    if len(data) < _PREFIX and not data.removeprefix(codecs.BOM_UTF8).strip():
        raise UserError("is empty", file=path, hint="export the survey data again")
    notes: list[str] = []
    body = memoryview(data)
    if data.startswith(codecs.BOM_UTF8):
        body = body[len(codecs.BOM_UTF8) :]
        notes.append("UTF-8 byte-order mark (BOM) removed")
        if encoding == "cp932":
            encoding = "utf-8"
            notes.append("the file is UTF-8 (it has a BOM) although the parameter file says cp932")
    head = bytes(body[:_PREFIX])
    if encoding == "cp932" and not head.isascii() and _decodes(head, "utf-8", final=False):
        raise UserError(
            "is encoded as UTF-8, but the parameter file says cp932 (Shift_JIS)",
            file=path,
            hint="set 'encoding: utf-8' (or 'auto') for this source in the parameter file",
        )
    used, utf8 = "utf-8", body
    if encoding == "cp932" or (encoding == "auto" and not _decodes(head, "utf-8", final=False)):
        text, used = _decode(path, bytes(body), encoding)
        utf8 = text.encode("utf-8")
    header_line = _header_line(bytes(utf8[: 1 << 20]), header_row)
    if not header_line.strip():
        raise UserError(f"has no header on row {header_row}", file=path, rows=[header_row],
                        hint="check 'header_row:' in the parameter file")
    header = _check_delimiter(path, header_line, header_row, delimiter)
    invalid: list[str] = []
    try:
        table = _arrow_read(utf8, header_row, delimiter, header, plain, invalid)
    except pa.ArrowInvalid as exc:
        if "UTF8" not in str(exc) or used != "utf-8":
            raise UserError(
                f"cannot be read as CSV ({str(exc).splitlines()[0][:120]})",
                file=path,
                hint="look for a cell with an opening quote (\") that is never closed, or "
                "export the file again",
            ) from None
        text, used = _decode(path, bytes(body), encoding)  # names the line, or cp932 for auto
        utf8 = text.encode("utf-8")
        table = _arrow_read(utf8, header_row, delimiter, header, plain, invalid)
    if invalid:
        _raise_ragged(path, bytes(utf8).decode("utf-8"), header_row, delimiter, len(header))
    frame = table.to_pandas()
    frame.columns = header
    rows = header_row + 1 + np.arange(len(frame))
    return RawTable(path, frame, rows, encoding=used, notes=notes)


def _raise_ragged(path: Path, text: str, header_row: int, delimiter: str, width: int) -> None:
    """Name the records whose number of cells differs from the header (the slow path)."""
    records = csv.reader(io.StringIO(text), delimiter=delimiter)
    bad = [
        (i, rec)
        for i, rec in enumerate(records, start=1)
        if i > header_row and rec and len(rec) != width
    ]
    raise UserError(
        f"rows have a different number of cells than the header ({width})",
        file=path,
        rows=[i for i, _ in bad],
        value=delimiter.join(bad[0][1])[:60] if bad else None,
        hint="a cell probably contains an unquoted delimiter or a line is cut: fix those rows "
        "or export the file again",
    )
