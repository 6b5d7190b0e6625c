"""Read one raw export (xlsx, legacy xls, CSV or SPSS sav) into a table of raw cells, with Excel
row numbers.

Nothing is interpreted here beyond the file format: the encoding (stated or detected), the
delimiter, the sheet and the header rows (one or more: question numbers above short headings).
An SPSS file brings its variable labels as a second header and its value labels and declared
missing values per column. Problems with the file itself raise ``UserError``.
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
XLS_SUFFIXES = {".xls"}
SPSS_SUFFIXES = {".sav", ".zsav"}
CSV_SUFFIXES = {".csv", ".txt", ".tsv"}
# What Excel writes into a cell whose formula failed (and what a CSV saved from it then holds).
EXCEL_ERRORS = frozenset({"#N/A", "#VALUE!", "#DIV/0!", "#REF!", "#NAME?", "#NUM!", "#NULL!",
                          "#SPILL!", "#CALC!", "#GETTING_DATA", "#FIELD!", "#BLOCKED!",
                          "#CONNECT!", "#BUSY!", "#UNKNOWN!"})
_DELIMITERS = {",": "comma ','", "\t": "TAB", ";": "semicolon ';'", "|": "bar '|'"}
_HEADER_SCAN = 20  # rows searched for the header when the stated header row is wrong


@dataclass
class RawTable:
    """The raw cells of one file: ``data`` has the headers as written; ``rows`` are Excel rows
    (SPSS: case numbers).

    With several header rows a column's name is its non-empty header cells joined by a space
    (「問15 暮らし向き」); ``headers`` keeps each column's cells one by one (an SPSS file: its
    variable name and label). ``value_labels`` (code key → label) and ``missing_codes`` are an
    SPSS file's own, per column.
    """

    file: Path
    data: pd.DataFrame
    rows: np.ndarray
    sheet: str | None = None
    encoding: str | None = None
    notes: list[str] = field(default_factory=list)
    headers: list[tuple[str, ...]] = field(default_factory=list)
    value_labels: dict[str, dict[str, str]] = field(default_factory=dict)
    missing_codes: dict[str, set[str]] = field(default_factory=dict)
    header_rows: tuple[int, ...] = (1,)

    def __post_init__(self) -> None:
        if not self.headers:
            self.headers = [(str(c),) for c in self.data.columns]


def _rows_tuple(header_row: int | Collection[int]) -> tuple[int, ...]:
    return (header_row,) if isinstance(header_row, int) else tuple(header_row)


def read_table(
    path: Path,
    *,
    sheet: str | None = None,
    header_row: int | Collection[int] = 1,
    encoding: str = "auto",
    delimiter: str = ",",
    plain: Collection[str] = (),
) -> RawTable:
    """Read an xlsx, xls, CSV or SPSS file; the header is on ``header_row`` (1 = first row),
    or on several consecutive rows (``[1, 2]``).

    CSV columns are read factorised (categorical), except the ``plain`` ones (IDs, free text:
    about one value per row, where factorising only costs time).
    """
    header_rows = _rows_tuple(header_row)
    path = Path(path)
    if not path.exists():
        raise UserError(
            "file not found",
            file=path,
            hint="put the export in the town's data/raw/<town>/ folder or fix 'file:' in "
            "the parameter file",
        )
    suffix = path.suffix.lower()
    if suffix in EXCEL_SUFFIXES | XLS_SUFFIXES:
        table = _read_workbook(path, sheet, header_rows)
    elif suffix in SPSS_SUFFIXES:
        table = _read_sav(path)
    elif suffix in CSV_SUFFIXES:
        table = _read_csv(path, header_rows, encoding, delimiter, {key(c) for c in plain})
    else:
        raise UserError(
            f"cannot read files of type 「{path.suffix}」",
            file=path,
            hint="export the survey as .xlsx, .xls, .csv or SPSS .sav",
        )
    table.header_rows = header_rows if suffix not in SPSS_SUFFIXES else (0,)
    _check_header(table)
    if table.data.empty or table.data.isna().all(axis=None):
        raise UserError(
            "has a header row but no answers below it",
            file=path,
            rows=list(header_rows),
            hint="export the file again with the answers, or check 'header_row:' in the "
            "parameter file",
        )
    return table


def _check_header(table: RawTable) -> None:
    names = [key(c) for c in table.data.columns]
    seen: dict[str, int] = {}
    for name in names:
        seen[name] = seen.get(name, 0) + 1
    twice = [n for n, count in seen.items() if count > 1 and n]
    if twice:
        several = len(table.header_rows) > 1
        raise UserError(
            "the header names a column twice" + (" (its header rows joined)" if several
                                                 else ""),
            file=table.file,
            column=twice[0],
            rows=list(table.header_rows),
            hint="rename one of the two columns in the export so each header is unique"
            + ("" if several else ", or if the file has a second header row below this one, "
               "list both rows: 'header_row: [1, 2]'"),
        )


def column_letter(position: int) -> str:
    """Excel's letter of the column at ``position`` (0 = A)."""
    return openpyxl.utils.get_column_letter(position + 1)


def _joined_headers(cells: list[tuple], width: int) -> tuple[list[str], list[tuple[str, ...]]]:
    """Column names from one or more header rows: the non-empty cells joined by a space."""
    parts = [tuple("" if row[j] is None else str(row[j]).strip() for row in cells)
             for j in range(width)]
    return [" ".join(p for p in col if p) for col in parts], [tuple(p for p in col if p)
                                                               for col in parts]


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


def _xls_value(cell: object) -> object:
    """A legacy .xls cell as openpyxl would give it: None, a number, text or an error text."""
    import xlrd

    kind, value = cell.ctype, cell.value  # type: ignore[attr-defined]
    if kind in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK):
        return None
    if kind == xlrd.XL_CELL_ERROR:
        return xlrd.error_text_from_code.get(value, "#N/A")
    if kind == xlrd.XL_CELL_NUMBER and float(value).is_integer():
        return int(value)
    return value


def workbook_rows(path: Path, sheet: str | None, first: int = 1,
                   last: int | None = None) -> tuple[list[str], str, list[tuple]]:
    """(sheet names, the sheet read, its rows ``first``..``last`` as tuples) of xlsx or xls."""
    if path.suffix.lower() in XLS_SUFFIXES:
        import xlrd

        try:
            book = xlrd.open_workbook(path, on_demand=True)
        except (xlrd.XLRDError, OSError, ValueError, AssertionError) as exc:
            raise UserError(
                f"is not a readable Excel 97–2003 (.xls) file ({type(exc).__name__})",
                file=path,
                hint="open it in Excel and save it again as .xlsx (Excel workbook), or export "
                "CSV",
            ) from None
        try:
            names = book.sheet_names()
            chosen = _chosen_sheet(path, names, sheet)
            ws = book.sheet_by_name(chosen)
            stop = ws.nrows if last is None else min(last, ws.nrows)
            return names, chosen, [tuple(_xls_value(c) for c in ws.row(i))
                                   for i in range(first - 1, stop)]
        finally:
            book.release_resources()
    book = _open_workbook(path)
    try:
        names = book.sheetnames
        chosen = _chosen_sheet(path, names, sheet)
        rows = book[chosen].iter_rows(min_row=first, max_row=last, values_only=True)
        return names, chosen, [tuple(r) for r in rows]
    finally:
        book.close()


def _chosen_sheet(path: Path, names: list[str], sheet: str | None) -> str:
    if sheet is not None and sheet not in names:
        raise UserError(
            f"has no sheet 「{sheet}」 (sheets: {', '.join(names)})",
            file=path,
            hint="fix 'sheet:' in the parameter file",
        )
    return sheet or names[0]


def _read_workbook(path: Path, sheet: str | None, header_rows: tuple[int, ...]) -> RawTable:
    names, chosen, cells = workbook_rows(path, sheet, first=header_rows[0])
    notes = []
    if sheet is None and len(names) > 1:
        notes.append(f"the workbook has {len(names)} sheets; read the first, 「{chosen}」")
    if all(v is None for row in cells for v in row):
        raise UserError("is empty", file=path, hint="export the survey data again")
    width = max(len(r) for r in cells)
    cells = [tuple(r) + (None,) * (width - len(r)) for r in cells]
    header, parts = _joined_headers(cells[: len(header_rows)], width)
    data = pd.DataFrame.from_records(cells[len(header_rows):], columns=range(width),
                                     coerce_float=False)
    data = data.astype(object)
    data.columns = header
    rows = header_rows[-1] + 1 + np.arange(len(data))
    return RawTable(path, data, rows, sheet=chosen, notes=notes, headers=parts)


def _read_sav(path: Path) -> RawTable:
    """An SPSS file: codes as numbers, variable names and labels as two header rows, value
    labels and user-missing values per column."""
    import pyreadstat

    try:
        frame, meta = pyreadstat.read_sav(str(path), user_missing=True)
    except (pyreadstat.ReadstatError, pyreadstat.PyreadstatError, OSError) as exc:
        raise UserError(
            f"is not a readable SPSS file ({str(exc)[:80]})",
            file=path,
            hint="export it again from SPSS as .sav, or export CSV",
        ) from None
    if frame.empty and not meta.column_names:
        raise UserError("is empty", file=path, hint="export the survey data again")
    labels = meta.column_names_to_labels
    headers = [tuple(p for p in (name, labels.get(name) or "") if p)
               for name in meta.column_names]
    value_labels = {col: {key(code): str(label) for code, label in codes.items()}
                    for col, codes in meta.variable_value_labels.items()}
    missing = {col: {key(code) for r in ranges for code in _spss_range(r)}
               for col, ranges in meta.missing_ranges.items()}
    data = frame.astype(object).where(frame.notna(), None)
    data = data.map(lambda v: "" if isinstance(v, str) and not v.strip() else v).replace(
        {"": None})
    notes = ["SPSS file: variable labels read as a second header, value labels as the "
             "vendor's codes"] if value_labels else []
    return RawTable(path, data, 1 + np.arange(len(data)), notes=notes, headers=headers,
                    value_labels=value_labels, missing_codes=missing)


def _spss_range(missing: dict[str, float]) -> list[float]:
    """The codes of one user-missing entry (a value, or a short range of whole numbers)."""
    lo, hi = missing["lo"], missing["hi"]
    if lo == hi or not (float(lo).is_integer() and float(hi).is_integer()) or hi - lo > 1000:
        return [lo, hi]
    return [float(v) for v in range(int(lo), int(hi) + 1)]


def locate_header(path: Path, wanted: list[str], encoding: str = "auto", delimiter: str = ","
                  ) -> tuple[str | None, tuple[int, ...]]:
    """Find the sheet and row(s) holding most of the ``wanted`` column names (for a hint): one
    row, or two consecutive rows when the names are spread over both (question numbers above
    headings). ``()`` when no row holds any of them."""
    want = {key(w) for w in wanted}
    scanned: list[tuple[str | None, list[set[str]]]] = []
    suffix = path.suffix.lower()
    if suffix in SPSS_SUFFIXES:
        return None, ()
    if suffix in EXCEL_SUFFIXES | XLS_SUFFIXES:
        for name in workbook_rows(path, None, last=1)[0]:
            rows = workbook_rows(path, name, last=_HEADER_SCAN)[2]
            scanned.append((name, [{key(v) for v in row} for row in rows]))
    else:
        head = path.read_bytes()[:_PREFIX].removeprefix(codecs.BOM_UTF8)
        enc = "utf-8" if _decodes(head, "utf-8", final=False) else "cp932"
        lines = head.decode(enc, "replace").splitlines()[:_HEADER_SCAN]
        scanned.append((None, [{key(v) for d in {delimiter, *_DELIMITERS} for v in
                                next(csv.reader([line], delimiter=d), [])} for line in lines]))
    best: tuple[int, str | None, tuple[int, ...]] = (0, None, ())
    for sheet, rows in scanned:
        for i, names in enumerate(rows):
            hits = len(want & names)
            best = max(best, (hits, sheet, (i + 1,)), key=lambda b: b[0])
            if i + 1 < len(rows):
                both = len(want & (names | rows[i + 1]))
                if both > max(hits, len(want & rows[i + 1])):
                    best = max(best, (both, sheet, (i + 1, i + 2)), key=lambda b: b[0])
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


def _header_lines(utf8: bytes, header_rows: tuple[int, ...]) -> list[str]:
    """The text of the header rows (an empty string for a row beyond the end)."""
    lines = []
    for row in header_rows:
        pos = 0
        for _ in range(row - 1):
            pos = utf8.find(b"\n", pos) + 1
            if pos == 0:
                break
        if pos == 0 and row > 1:
            lines.append("")
            continue
        end = utf8.find(b"\n", pos)
        lines.append(utf8[pos : end if end >= 0 else len(utf8)].decode("utf-8", "replace")
                     .rstrip("\r"))
    return lines


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


def _arrow_read(utf8: bytes | memoryview, header_row: int, delimiter: str,
                header: list[tuple[str, ...]], plain: set[str], invalid: list[str]) -> pa.Table:
    """Parse CSV bytes as text, dictionary-encoded (= factorised) except the ``plain`` columns.

    A line break inside a cell needs quotes: a file without any quote is parsed the faster way.
    """
    quoted = (utf8.find(b'"') if isinstance(utf8, bytes) else utf8.obj.find(b'"')) >= 0
    def _invalid(row: pacsv.InvalidRow) -> str:
        invalid.append(row.text)
        return "skip"

    names = [f"c{i}" for i in range(len(header))]
    factorised = pa.dictionary(pa.int32(), pa.string())
    types = {n: pa.string() if {key(" ".join(h)), *map(key, h)} & plain else factorised
             for n, h in zip(names, header, strict=True)}
    return pacsv.read_csv(
        pa.BufferReader(pa.py_buffer(utf8)),
        read_options=pacsv.ReadOptions(skip_rows=header_row, column_names=names),
        parse_options=pacsv.ParseOptions(delimiter=delimiter, newlines_in_values=quoted,
                                         ignore_empty_lines=False, invalid_row_handler=_invalid),
        convert_options=pacsv.ConvertOptions(
            column_types=types,
            strings_can_be_null=True, quoted_strings_can_be_null=True, null_values=[""]),
    )


def _read_csv(path: Path, header_rows: tuple[int, ...], encoding: str, delimiter: str,
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
    lines = _header_lines(bytes(utf8[: 1 << 20]), header_rows)
    for row, line in zip(header_rows, lines, strict=True):
        if not line.strip():
            raise UserError(f"has no header on row {row}", file=path, rows=[row],
                            hint="check 'header_row:' in the parameter file")
    header_row = header_rows[-1]
    last = _check_delimiter(path, lines[-1], header_row, delimiter)
    cells = [tuple(next(csv.reader([line], delimiter=delimiter))) for line in lines[:-1]]
    width = len(last)
    cells = [(r + ("",) * width)[:width] for r in cells] + [tuple(last)]
    names, parts = _joined_headers(cells, width)
    header = [p or ("",) for p in parts]
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
    frame.columns = names
    rows = header_row + 1 + np.arange(len(frame))
    return RawTable(path, frame, rows, encoding=used, notes=notes, headers=parts)


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
