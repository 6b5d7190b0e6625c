"""Write simulated respondents in a vendor's layout: the columns and labels of a town's source,
plus the vendor's habits (how no-answer is written, width variants, vendor codes)."""

from __future__ import annotations

import datetime as dt
import io
import os
import tempfile
import zlib
from pathlib import Path

import numpy as np
import pandas as pd
import xlsxwriter

from helpers.codebook import Codebook, VarType
from helpers.derive import applicable
from helpers.sample.profiles import Style
from helpers.towns import Joined, Options, Source, Town

SYNTHETIC_NOTE = (
    "合成データ（synthetic data）: このファイルは tsunagari-reports の `tsunagari sample` が乱数の"
    "シードから生成した架空の回答です。実在の回答者・実際の調査結果ではありません。"
)
FIXED_TIME = dt.datetime(2024, 4, 1, 9, 0, 0)
_FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


def write_atomic(path: Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` through a temporary file, so no half-written file remains."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def variant(label: str, rng: np.random.Generator) -> str:
    """A spelling of ``label`` that normalisation (NFKC, spaces, ・ variants) maps back."""
    options = [lambda s: s + " ", lambda s: "　" + s]
    if any(c.isdigit() for c in label):
        options.append(lambda s: s.translate(_FULLWIDTH))
    if "・" in label:
        options.append(lambda s: s.replace("・", "･"))
    return options[int(rng.integers(len(options)))](label)


def _inverse(source: Source, var: str) -> dict[int | str, str]:
    """Raw labels the source's ``labels:`` entry gives for a code or codebook label."""
    return {target: raw for raw, target in reversed(list(source.labels.get(var, {}).items()))}


class Renderer:
    """Turns standard codes into one source's raw cells."""

    def __init__(self, town: Town, source: Source, style: Style, book: Codebook,
                 rng: np.random.Generator) -> None:
        self.town, self.source, self.style, self.book, self.rng = town, source, style, book, rng
        self.codes = source.answers == "codes"
        # the vendor's numbering is in the delivery (a code sheet, or an SPSS file's labels)
        self.numbered = source.code_sheet is not None or source.file.endswith(".sav")

    def label(self, var: str, code: int) -> str:
        """The raw label of a code: the source's own wording if it has one, else the codebook's."""
        book_label = self.book[var].labels()[code]
        inverse = _inverse(self.source, var)
        raw = inverse.get(code, inverse.get(book_label))
        if raw is not None:
            return raw
        if self.style.variants and self.rng.random() < self.style.variants:
            return variant(book_label, self.rng)
        return book_label

    def vendor_code(self, var: str, code: int) -> int:
        """The vendor's number for a codebook code (the same unless the style renumbers)."""
        return self.style.vendor_codes.get(var, {}).get(code, code)

    def blank(self, var: str) -> str:
        """How this vendor writes 'no answer' to a categorical item."""
        if self.codes:
            return str(self.style.missing_code.get(var, 9))
        return self.style.blanks[int(self.rng.integers(len(self.style.blanks)))]

    def number(self, var: str, value: float) -> str:
        """A number as the vendor writes it (sometimes full-width); missing as the vendor's code."""
        if value != value:
            code = self.style.missing_code.get(var)
            return self.style.number_blank if code is None else str(code)
        text = str(int(value))
        if self.style.fullwidth_numbers and self.rng.random() < self.style.fullwidth_numbers:
            return text.translate(_FULLWIDTH)
        return text

    def single(self, var: str, value: float) -> str:
        """One answer of a single-choice item: a (vendor) code or a label."""
        if value != value:
            return self.blank(var)
        code = int(value)
        if self.codes and var != "age_band" and (var not in self.source.labels
                                                  or self.numbered):
            return str(self.vendor_code(var, code))
        return self.label(var, code)

    def render(self, frame: pd.DataFrame) -> pd.DataFrame:
        """The raw table of this source for the respondents in ``frame``: a follow-up question
        is left blank where it was not asked."""
        cols: dict[str, list[str]] = {
            col: self._extra(kind, len(frame)) for col, kind in self.style.extra_columns.items()
            if isinstance(kind, str)
        }
        rows = frame.to_dict("records")
        for var, spec in self.source.columns.items():
            v = self.book[var]
            name, asked = v.name, applicable(frame, v, self.book).tolist()
            if isinstance(spec, Options):
                for code, col in spec.options.items():
                    cols[col] = ["" if r[f"{name}__{code}"] != r[f"{name}__{code}"]
                                 else str(int(r[f"{name}__{code}"])) for r in rows]
            elif isinstance(spec, Joined):
                cols[spec.joined] = [self._joined(var, spec.sep, r) if a else ""
                                     for r, a in zip(rows, asked, strict=True)]
            elif v.type is VarType.ID:
                cols[spec] = [str(int(r[name])) for r in rows]
            elif v.type is VarType.TEXT:
                cols[spec] = [r[name] if isinstance(r[name], str) else "" for r in rows]
            elif v.type is VarType.NUMBER:
                cols[spec] = [self.number(var, r[name]) for r in rows]
            else:
                cols[spec] = [self.single(var, r[name]) if a else ""
                              for r, a in zip(rows, asked, strict=True)]
        if self.source.mode_column:
            cols[self.source.mode_column] = [str(int(r["mode"])) for r in rows]
        for col, answers in self.style.extra_columns.items():
            if not isinstance(answers, str):
                cols[col] = self._unused_question(col, answers, len(frame))
        return pd.DataFrame(cols, dtype=object)

    def _joined(self, var: str, sep: str, row: dict) -> str:
        name = self.book[var].name
        codes = [c for c in self.book[var].labels() if row[f"{name}__{c}"] == 1]
        if not codes:
            return self.blank(var)
        return sep.join(self.label(var, c) for c in codes)

    def _unused_question(self, column: str, answers: tuple[str, ...], n: int) -> list[str]:
        """Answers to a question the town file does not map, from a stream of its own (so
        the other columns do not change)."""
        rng = np.random.default_rng(zlib.crc32(column.encode("utf-8")))
        return [answers[i] for i in rng.integers(0, len(answers), n)]

    def _extra(self, kind: str, n: int) -> list[str]:
        if kind == "tract":
            return [f"{x:03d}" for x in self.rng.integers(1, 400, n)]
        start = dt.datetime.combine(self.town.survey.start, dt.time(8))
        span = (self.town.survey.end - self.town.survey.start).days * 86400
        seconds = np.sort(self.rng.integers(0, span, n))
        return [(start + dt.timedelta(seconds=int(s))).strftime("%Y-%m-%d %H:%M:%S")
                for s in seconds]

    def numbering(self) -> list[tuple[str, int, str]]:
        """The vendor's numbering: (column, vendor code, label) of every categorical column,
        no answer included, in column order."""
        rows = []
        for var, col in self.source.columns.items():
            v = self.book[var]
            if not isinstance(col, str) or not v.is_categorical:
                continue
            inverse = _inverse(self.source, var)
            for code, label in v.labels().items():
                raw = inverse.get(code, inverse.get(label, label))
                rows.append((col, self.vendor_code(var, code), raw))
            rows.append((col, self.style.missing_code.get(var, 9), "無回答"))
        rows.sort(key=lambda r: (list(self.source.columns.values()).index(r[0]), r[1]))
        if self.source.mode_column:
            rows += [(self.source.mode_column, c, lab) for c, lab in
                     self.book["mode"].labels().items()]
        return rows

    def code_sheet(self) -> pd.DataFrame:
        """The vendor's code sheet: question code, vendor code, label (no answer included)."""
        sheet = self.source.code_sheet
        assert sheet is not None
        rows = [r for r in self.numbering() if r[0] != self.source.mode_column]
        return pd.DataFrame(rows, columns=[sheet.question, sheet.code, sheet.label])

    def spss(self, table: pd.DataFrame) -> bytes:
        """The table as the vendor's SPSS file: numbers where the column holds numbers, the
        question texts as variable labels, the numbering as value labels, no-answer codes
        declared missing."""
        labels: dict[str, str] = {}
        missing: dict[str, list[float]] = {}
        for var, spec in self.source.columns.items():
            question = self.book[var].question
            if isinstance(spec, Options):
                options = self.book[var].labels()
                labels |= {col: f"{question} {options[c]}" for c, col in spec.options.items()}
            elif isinstance(spec, str):
                labels[spec] = question
                code = self.style.missing_code.get(var, 9 if self.book[var].is_categorical
                                                   else None)
                if code is not None:
                    missing[spec] = [float(code)]
        if self.source.mode_column:
            labels[self.source.mode_column] = self.book["mode"].question
        values: dict[str, dict[float, str]] = {}
        for col, code, label in self.numbering():
            values.setdefault(col, {})[float(code)] = label
        text = {spec for var, spec in self.source.columns.items()
                if self.book[var].type in (VarType.ID, VarType.TEXT)}
        frame = pd.DataFrame({col: table[col] if col in text else pd.to_numeric(
            table[col].replace("", None)) for col in table.columns})
        return sav_bytes(frame, labels, values, missing)


def csv_bytes(table: pd.DataFrame, source: Source) -> bytes:
    """A CSV export in the source's encoding and delimiter (Windows line ends for cp932)."""
    newline = "\r\n" if source.encoding == "cp932" else "\n"
    text = table.to_csv(index=False, sep=source.delimiter, lineterminator=newline)
    encoding = "utf-8" if source.encoding == "auto" else source.encoding
    return text.encode(encoding)


def xlsx_bytes(sheet: str, table: pd.DataFrame, title: str, header_row: int = 1) -> bytes:
    """An Excel workbook with a 注記 (note) sheet and document properties saying 合成データ.

    Rows above ``header_row`` hold a title and blank rows. Digit-only cells are stored as
    numbers, as when typed into Excel; blanks stay empty. The timestamps are fixed so the same
    data give byte-identical files.
    """
    if "合成" not in title:
        title = f"{title}（合成データ）"
    buf = io.BytesIO()
    book = xlsxwriter.Workbook(buf, {"in_memory": True, "strings_to_numbers": False})
    book.set_properties({
        "title": title, "subject": "合成データ (synthetic sample survey)",
        "author": "tsunagari sample", "company": "tsunagari-reports",
        "comments": SYNTHETIC_NOTE, "created": FIXED_TIME,
    })
    bold = book.add_format({"bold": True})
    ws = book.add_worksheet(sheet)
    top = header_row - 1
    if top > 0:
        ws.write_string(0, 0, title, bold)
    for j, col in enumerate(table.columns):
        ws.write_string(top, j, str(col), bold)
        for i, value in enumerate(table[col].tolist(), start=top + 1):
            text = str(value)
            if text == "":
                continue
            if text.isascii() and text.isdigit():
                ws.write_number(i, j, int(text))
            else:
                ws.write_string(i, j, text)
    note = book.add_worksheet("注記")
    note.write_string(0, 0, SYNTHETIC_NOTE)
    note.write_string(1, 0, "このファイルは架空のデータです。実際の調査票の回答を含みません。")
    book.close()
    return buf.getvalue()


def sav_bytes(table: pd.DataFrame, labels: dict[str, str], value_labels: dict[str, dict],
              missing: dict[str, list[float]]) -> bytes:
    """An SPSS .sav file: variable labels, value labels and user-missing codes per column.

    The header's creation date and time are fixed, so the same data give byte-identical files.
    """
    import pyreadstat

    fd, tmp = tempfile.mkstemp(suffix=".sav")
    os.close(fd)
    try:
        pyreadstat.write_sav(table, tmp, file_label="synthetic sample (gosei data)",
                             column_labels=labels, variable_value_labels=value_labels,
                             missing_ranges=missing, row_compress=True)
        data = bytearray(Path(tmp).read_bytes())
    finally:
        Path(tmp).unlink(missing_ok=True)
    data[92:109] = FIXED_TIME.strftime("%d %b %y%H:%M:%S").encode("ascii")  # header record
    return bytes(data)
