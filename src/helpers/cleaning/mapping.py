"""Map one raw table onto the standard variables: columns by the town's ``columns:``, answers
by the codebook labels, the town's ``labels:``, numeric codes or the vendor's numbering (a code
sheet, or an SPSS file's value labels).

The result is a frame of numeric codes (``float``, NaN = missing) per standard column, plus
counts of what was recoded or set to missing and every raw value seen with what it became (the
verification view). Each column's unique values are mapped once.

Nothing is guessed: a code sheet, a label or an ``ignore:`` entry that matches nothing is an
error, and so is a numeric code when the vendor's numbering is known but this column's is not.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from helpers.ages import parse_band
from helpers.cleaning.normalize import NO_ANSWER_WORDS, TOTAL_WORDS, key, unique_keys
from helpers.cleaning.read import EXCEL_ERRORS, RawTable, column_letter, locate_header, read_table
from helpers.codebook import Codebook, Variable, VarType
from helpers.errors import ConfigError, UserError
from helpers.towns import CodeSheet, Joined, Options, Source, Town, town_file

_UNKNOWN = -np.inf  # marks a unique value that maps to nothing
_F = np.float32  # codes and numbers while cleaning (exact for every code and count)
_NUMBER_SUFFIX = re.compile(r"(歳|才|人|点)$")
_QUESTION_NUMBER = re.compile(r"^([^\s_:：]+)[\s_:：]")
_TICKED = {"1", "○", "◯", "〇", "●", "✓", "✔", "レ", "はい", "該当", "TRUE", "True", "true"}
_UNTICKED = {"0", "×", "いいえ", "非該当", "FALSE", "False", "false"}
BLANK = "(blank)"
MISSING = "(no answer)"


@dataclass
class VarCounts:
    """What happened to one standard variable's values during cleaning.

    ``values``: every raw value seen, as [file, column, raw value, what it became, count].
    """

    recoded: int = 0
    no_answer: int = 0
    blank: int = 0
    invalid: int = 0
    notes: list[str] = field(default_factory=list)
    examples: dict[str, int] = field(default_factory=dict)  # 「raw」 → result: count
    values: list[list] = field(default_factory=list)

    def add(self, other: VarCounts) -> None:
        self.recoded += other.recoded
        self.no_answer += other.no_answer
        self.blank += other.blank
        self.invalid += other.invalid
        self.notes += other.notes
        self.values += other.values
        for example, count in other.examples.items():
            self.examples[example] = self.examples.get(example, 0) + count


def _tally(table: RawTable, column: str, codes: np.ndarray, raw: list, mapped: np.ndarray,
           recoded: list[bool], shown: dict[float, str] | None = None) -> VarCounts:
    """Count blanks, no-answers and recoded values of a column; list every value seen."""
    n = np.bincount(codes[codes >= 0], minlength=len(raw))
    out = VarCounts(blank=int((codes < 0).sum()))
    name = table.file.name
    for i, value in enumerate(raw):
        count = int(n[i])
        if not count:
            continue
        if np.isnan(mapped[i]):
            result = MISSING
            out.no_answer += count
            out.examples[f"「{value}」 → missing"] = count
        else:
            result = shown[float(mapped[i])] if shown else f"{float(mapped[i]):g}"
            if recoded[i]:
                out.recoded += count
                out.examples[f"「{value}」 → {result}"] = count
        out.values.append([name, column, shown_raw(value), result, count])
    if out.blank:
        out.values.append([name, column, "", BLANK, out.blank])
    return out


def shown_raw(value: object) -> str:
    return key(value) if isinstance(value, float) else str(value)


@dataclass
class Mapped:
    """One source mapped onto standard columns (codes as floats, NaN = missing)."""

    codes: pd.DataFrame
    text: pd.DataFrame
    counts: dict[str, VarCounts]
    notes: list[str]
    columns: dict[str, list[str]] = field(default_factory=dict)  # variable → its raw columns


def _no_answer_keys(var: Variable, source: Source, table: RawTable, column: str) -> set[str]:
    """Keys meaning 'no answer': a cell of only spaces, the usual words, the source's own
    values, the variable's no-answer codes and the column's declared missing codes (SPSS)."""
    words = set(NO_ANSWER_WORDS) | set(source.no_answer) | {""}
    return ({key(w) for w in words} | {str(c) for c in var.no_answer}
            | table.missing_codes.get(column, set()))


class _Answers:
    """Lookup of answer keys → standard codes for one variable in one column of one source.

    ``vendor`` is the column's numbering (code key → vendor label) from a code sheet or the
    file's value labels; ``numbered`` says the source has a numbering of its own, so a bare
    code of a column without one is not taken for a codebook code.
    """

    def __init__(self, var: Variable, source: Source, town: Town, table: RawTable,
                 column: str, vendor: dict[str, str] | None, numbered: bool) -> None:
        labels = var.labels()
        self.var, self.town, self.vendor, self.numbered = var, town, vendor or {}, numbered
        self.exact = set(labels.values())
        by_label: dict[str, float] = {key(lab): float(c) for c, lab in labels.items()}
        missing = dict.fromkeys(_no_answer_keys(var, source, table, column), np.nan)
        lookup: dict[str, float] = {**missing, **by_label}
        if source.answers == "codes" and not numbered:
            lookup |= {str(c): float(c) for c in labels}
            self.exact |= {str(c) for c in labels}
        for raw, target in source.labels.get(var.key, {}).items():
            lookup[key(raw)] = self._target(raw, target, by_label, missing)
        for code, label in self.vendor.items():
            if key(label) in lookup:
                lookup[code] = lookup[key(label)]
        self.lookup = lookup

    def find(self, k: str) -> float:
        """The code of an answer key; an age band the file writes its own way (「20～24歳」)
        falls into the town's band that holds its ages (straddling two: unknown)."""
        code = self.lookup.get(k, _UNKNOWN)
        if code == _UNKNOWN and self.var.name == "age_band":
            survey = self.town.survey
            ages = parse_band(k, survey.min_age, survey.max_age)
            if ages is not None:
                lo, hi = max(ages[0], survey.min_age), min(ages[1], survey.max_age)
                band = self.town.bands.code_of(lo, hi) if lo <= hi else None
                code = _UNKNOWN if band is None else float(band)
        return code

    def _target(self, raw: str, target: str | int | float, by_label: dict[str, float],
                missing: dict) -> float:
        labels = self.var.labels()
        if isinstance(target, int) and target in labels:
            return float(target)
        if isinstance(target, int) and target in self.var.no_answer:
            return np.nan
        if isinstance(target, str) and key(target) in by_label:
            return by_label[key(target)]
        if isinstance(target, str) and key(target) in missing:
            return np.nan
        answers = "、".join(labels.values())
        raise ConfigError(
            f"labels → {self.var.key} → 「{raw}」: 「{target}」 is not an answer of "
            f"{self.var.key}",
            file=town_file(self.town.id),
            hint=f"use one of: {answers}, or 無回答 for no answer",
        )


def _rows_with(table: RawTable, codes: np.ndarray, bad: Iterable[int]) -> list[int]:
    return [int(r) for r in table.rows[np.isin(codes, list(bad))]]


def _fail(table: RawTable, column: str, codes: np.ndarray, raw: list, bad: list[int],
          problem: str, hint: str) -> None:
    values = "」, 「".join(str(raw[i]) for i in bad[:5]) + (" …" if len(bad) > 5 else "")
    raise UserError(problem, file=table.file.name, column=column,
                    rows=_rows_with(table, codes, bad), value=values, hint=hint)


def _map_single(table: RawTable, column: str, answers: _Answers, town: Town) -> tuple[
        np.ndarray, VarCounts]:
    codes, raw, keys = unique_keys(table.data[column])
    mapped = np.array([answers.find(k) for k in keys] + [np.nan], dtype=_F)
    bad = [i for i, m in enumerate(mapped[:-1]) if m == _UNKNOWN]
    if bad:
        _fail(table, column, codes, raw, bad, *_unknown_answer(answers, [keys[i] for i in bad],
                                                               raw[bad[0]], town))
    recoded = [str(key(v) if isinstance(v, float) else v) not in answers.exact for v in raw]
    shown = {float(c): lab for c, lab in answers.var.labels().items()}
    return mapped[codes], _tally(table, column, codes, raw, mapped, recoded, shown)


def _unknown_answer(answers: _Answers, bad: list[str], first: object,
                    town: Town) -> tuple[str, str]:
    """(problem, hint) for answers that map to nothing."""
    var = answers.var
    choices = "、".join(f"{c} {lab}" for c, lab in var.labels().items())
    if var.name == "age_band" and parse_band(bad[0], 0, town.survey.max_age) is not None:
        return (f"the age band 「{first}」 does not fit in one of the town's age bands "
                f"({choices}): it spans two of them or lies outside the survey's ages "
                f"{town.survey.min_age}–{town.survey.max_age}",
                "set age_bands: in config/towns/"
                f"{town.id}.yml to bands the file's bands fit in (e.g. the file's own), or "
                "map this band under 'labels: age_band:'")
    named = [k for k in bad if k in answers.vendor]
    if named:
        said = ", ".join(f"{k} = 「{answers.vendor[k]}」" for k in named[:3])
        return (f"the vendor's label is not an answer of {var.name} ({said})",
                f"add the vendor's wording under 'labels: {var.name}:' in "
                f"config/towns/{town.id}.yml, e.g. 「{answers.vendor[named[0]]}: <codebook "
                f"label>」 (codebook labels: {choices})")
    numeric = all(k.lstrip("-").isdigit() for k in bad)
    if numeric and answers.numbered and not answers.vendor:
        return (f"numeric code of {var.name} without a meaning: the vendor's numbering is not "
                "given for this column",
                "add this column's codes to the code sheet, or write what each code means "
                f"under 'labels: {var.name}:' in config/towns/{town.id}.yml, e.g. "
                f"「\"{bad[0]}\": <codebook label>」 (codebook labels: {choices}); a code is "
                "never taken to mean the codebook's answer of the same number here")
    if numeric and any(str(c) in answers.lookup for c in var.labels()):
        return (f"code outside the codes of {var.name}",
                f"valid codes: {choices}; no answer: {var.no_answer or 'blank'}")
    return (f"answer not known for {var.name}",
            f"add it under 'labels: {var.name}:' in config/towns/{town.id}.yml, e.g. "
            f"「{first}: <codebook label>」 (codebook labels: {choices})")


def _number(k: str) -> float:
    try:
        return float(_NUMBER_SUFFIX.sub("", k))
    except ValueError:
        return _UNKNOWN


def _number_labels(var: Variable, source: Source, town: Town) -> dict[str, float]:
    """A number item's ``labels:`` (「6人以上」: 6, "99": 無回答) as keys → number or NaN."""
    out: dict[str, float] = {}
    for raw, target in source.labels.get(var.key, {}).items():
        if isinstance(target, (int, float)) and not isinstance(target, bool):
            out[key(raw)] = float(target)
        elif isinstance(target, str) and key(target) in {key(w) for w in NO_ANSWER_WORDS}:
            out[key(raw)] = np.nan
        else:
            raise ConfigError(
                f"labels → {var.name} → 「{raw}」: 「{target}」 is neither a number nor 無回答",
                file=town_file(town.id),
                hint=f"{var.name} is a number: map each wording to its number (e.g. 「6人以上: "
                "6」) or to 無回答 (no answer)",
            )
    return out


def _map_number(table: RawTable, column: str, var: Variable, source: Source, town: Town
                ) -> tuple[np.ndarray, VarCounts, set[str]]:
    codes, raw, keys = unique_keys(table.data[column])
    missing = _no_answer_keys(var, source, table, column)
    own = _number_labels(var, source, town)
    mapped = np.array([own[k] if k in own else np.nan if k in missing else _number(k)
                       for k in keys] + [np.nan], dtype=_F)
    bad = [i for i, m in enumerate(mapped[:-1]) if m == _UNKNOWN or (not np.isfinite(m)
           and keys[i] not in missing and keys[i] not in own)]
    if bad:
        _fail(table, column, codes, raw, bad, f"{var.name} must be a number",
              "write a plain number (e.g. 35) in these cells or leave them empty; if the "
              f"value means 'no answer' or stands for a number, map it under 'labels: "
              f"{var.name}:' (e.g. 「\"99\": 無回答」 or 「6人以上: 6」) in the parameter file")
    recoded = [(not isinstance(v, (int, float)) and str(v) != k) or k in own
               for v, k in zip(raw, keys, strict=True)]
    return mapped[codes], _tally(table, column, codes, raw, mapped, recoded), set(keys) & set(own)


def _map_options(table: RawTable, spec: Options, var: Variable, source: Source,
                 town: Town) -> tuple[dict[str, np.ndarray], VarCounts]:
    ticks: dict[str, np.ndarray] = {}
    out = VarCounts()
    labels = var.labels()
    for code, column in spec.options.items():
        codes, raw, keys = unique_keys(table.data[column])
        missing = _no_answer_keys(var, source, table, column)
        mapped = np.array([1.0 if k in _TICKED else 0.0 if k in _UNTICKED else
                           np.nan if k in missing else _UNKNOWN for k in keys] + [0.0], dtype=_F)
        bad = [i for i, m in enumerate(mapped[:-1]) if m == _UNKNOWN]
        if bad:
            _fail(table, column, codes, raw, bad, f"option cell of {var.name} is neither 1 nor 0",
                  "write 1 for a chosen option and 0 or nothing otherwise")
        ticks[f"{var.name}__{code}"] = mapped[codes]
        shown = {1.0: f"{code} {labels[code]}: chosen", 0.0: "not chosen"}
        seen = _tally(table, column, codes, raw, mapped, [False] * len(raw), shown)
        out.values += seen.values
    return _none_chosen_is_missing(ticks, out), out


def _none_chosen_is_missing(ticks: dict[str, np.ndarray], out: VarCounts) -> dict[
        str, np.ndarray]:
    """All options missing when none is chosen; otherwise a missing option is 'not chosen'."""
    matrix = np.column_stack(list(ticks.values()))
    chosen = (matrix == 1).any(axis=1)
    out.blank = int((~chosen).sum())
    matrix = np.where(chosen[:, None], np.where(np.isnan(matrix), 0, matrix), np.nan).astype(_F)
    return {name: matrix[:, j] for j, name in enumerate(ticks)}


def _split(value: object, sep: str) -> list[str]:
    """The answers of one joined cell, split on the source's separator only."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return []
    text = unicodedata.normalize("NFKC", str(value))
    return [key(t) for t in text.split(unicodedata.normalize("NFKC", sep)) if key(t)]


def _map_joined(table: RawTable, spec: Joined, answers: _Answers, town: Town) -> tuple[
        dict[str, np.ndarray], VarCounts, set[str]]:
    var = answers.var
    options = list(var.labels())
    codes, raw, _ = unique_keys(table.data[spec.joined])
    matrix = np.zeros((len(raw) + 1, len(options)), dtype=_F)
    bad: list[int] = []
    counts = np.bincount(codes[codes >= 0], minlength=len(raw))
    seen: dict[str, int] = {}
    for i, value in enumerate(raw):
        for token in _split(value, spec.sep):
            code = answers.find(token)
            seen[token] = seen.get(token, 0) + int(counts[i])
            if code == _UNKNOWN:
                bad.append(i)
            elif np.isfinite(code):
                matrix[i, options.index(int(code))] = 1.0
    if bad:
        choices = "、".join(var.labels().values())
        _fail(table, spec.joined, codes, raw, sorted(set(bad)),
              f"answer not known for {var.name}",
              f"the answers are split on 「{spec.sep}」 ('sep:' of this column); use the "
              f"codebook labels ({choices}), or add the label under 'labels: {var.name}:' in "
              f"config/towns/{town.id}.yml")
    out = VarCounts()
    labels = var.labels()
    for token, n in seen.items():
        code = answers.lookup[token]
        result = MISSING if np.isnan(code) else labels[int(code)]
        out.values.append([table.file.name, spec.joined, token, result, n])
    ticks = {f"{var.name}__{c}": matrix[codes, j] for j, c in enumerate(options)}
    return _none_chosen_is_missing(ticks, out), out, set(seen)


_WHOLE_FLOAT = r"^(\d+)\.0+$"
_LEADING_ZEROS = r"^0+(\d)"


def _text(values: pd.Series, normalise: bool) -> pd.Series:
    """Text cells stripped; with ``normalise``, IDs as compared: NFKC without spaces (１２３ =
    123), a whole number read as a float without its ``.0``, a number without leading zeros
    (0435 = 435).

    Vectorised with pyarrow (a categorical column: on its distinct values).
    """
    cats = values.cat if isinstance(values.dtype, pd.CategoricalDtype) else None
    source = cats.categories if cats is not None else values
    text = pc.utf8_trim_whitespace(pa.array(source.astype("str"), type=pa.string(),
                                            from_pandas=True))
    if normalise:
        text = pc.replace_substring_regex(pc.utf8_normalize(text, form="NFKC"), r"\s+", "")
        text = pc.replace_substring_regex(text, _WHOLE_FLOAT, r"\1")
        text = pc.replace_substring_regex(text, _LEADING_ZEROS + r"(\d*)$", r"\1\2")
    if cats is not None:
        positions = cats.codes.to_numpy()
        text = pc.take(text, pa.array(positions, mask=positions < 0))
    return pd.Series(text.to_pandas(), index=values.index)


@dataclass
class SheetCodes:
    """A vendor's code sheet: question key → {code key: label}, and its file for messages."""

    file: str
    codes: dict[str, dict[str, str]]


def read_code_sheet(sheet: CodeSheet, path: Path) -> SheetCodes:
    """Vendor code sheet (the file at ``path``) → {question key: {code key: label}}."""
    table = read_table(path, sheet=sheet.sheet)
    cols = {key(c): c for c in table.data.columns}
    for wanted in (sheet.question, sheet.code, sheet.label):
        if key(wanted) not in cols:
            raise UserError("column of the code sheet is missing", file=sheet.file,
                            column=wanted, hint="fix 'code_sheet:' in the parameter file")
    frame = table.data[[cols[key(sheet.question)], cols[key(sheet.code)], cols[key(sheet.label)]]]
    frame = frame.ffill()  # a question code is often written once above its codes
    result: dict[str, dict[str, str]] = {}
    for question, code, label in frame.itertuples(index=False):
        if code is not None and label is not None:
            result.setdefault(key(question), {})[key(code)] = str(label)
    return SheetCodes(sheet.file, result)


def question_keys(table: RawTable, column: str) -> set[str]:
    """Every name a code sheet may use for a column: its name, each header row's text, and the
    question number a heading starts with (問15 of 「問15 暮らし向き」)."""
    parts = table.headers[list(table.data.columns).index(column)]
    names = {key(column), *map(key, parts)}
    for text in (column, *parts):
        found = _QUESTION_NUMBER.match(unicodedata.normalize("NFKC", text))
        if found:
            names.add(key(found.group(1)))
    return names


def _numbering(table: RawTable, columns: dict[str, str], sheet: SheetCodes | None,
               ignored: list[str], town: Town, source: Source) -> tuple[
                   dict[str, dict[str, str]], list[str]]:
    """Each mapped column's vendor numbering (code sheet or value labels) and notes.

    A code sheet that matches no column of the file is an error: its codes would be ignored.
    """
    numbering = {col: labels for col, labels in table.value_labels.items() if labels}
    if sheet is None:
        return numbering, []
    questions: dict[str, str] = {}
    for col in [*columns.values(), *ignored]:
        for name in question_keys(table, col):
            if name in sheet.codes:
                questions.setdefault(name, col)
                numbering.setdefault(col, sheet.codes[name])
    if not set(columns.values()) & set(numbering):
        raise UserError(
            f"the code sheet matches no column of {table.file.name}: its questions are neither "
            "the column names nor the question numbers they start with",
            file=sheet.file,
            column=source.code_sheet.question if source.code_sheet else None,
            value=", ".join(list(sheet.codes)[:6]) + (" …" if len(sheet.codes) > 6 else ""),
            hint="the code sheet's question column must hold the column names of the data "
            "file, or the question numbers their headings start with (問15 for 「問15 "
            "暮らし向き」); if the question numbers are on their own row above the headings, "
            "list both rows as 'header_row: [1, 2]' in "
            f"config/towns/{town.id}.yml",
        )
    unmatched = [q for q in sheet.codes if q not in questions]
    notes = [f"code sheet {sheet.file}: no column for questions {', '.join(unmatched[:10])}"
             + (" …" if len(unmatched) > 10 else "")] if unmatched else []
    return numbering, notes


def drop_non_respondents(table: RawTable) -> list[str]:
    """Drop blank rows, and rows at the bottom whose first filled cell says 合計/計/総数 (totals);
    say what was dropped."""
    data = table.data
    blank = data.isna().all(axis=1).to_numpy()
    keep = ~blank
    notes = []
    if blank.any():
        notes.append(f"{int(blank.sum())} empty row(s) skipped (rows "
                     f"{', '.join(map(str, table.rows[blank][:10]))})")
    position = len(data) - 1
    while position >= 0 and (blank[position] or key(
            data.iloc[position].dropna().iloc[0]) in TOTAL_WORDS):
        if not blank[position]:
            keep[position] = False
            notes.append(f"totals row {table.rows[position]} at the bottom skipped")
        position -= 1
    if not keep.all():
        table.data = data[keep].reset_index(drop=True)
        table.rows = table.rows[keep]
    return notes


class _Names:
    """The table's columns by every name a parameter file may use: the column's name and, with
    several header rows (or an SPSS file's variable labels), each row's text."""

    def __init__(self, table: RawTable) -> None:
        self.by_name: dict[str, list[str]] = {}
        for col, parts in zip(table.data.columns, table.headers, strict=True):
            for name in dict.fromkeys([key(col), *map(key, parts)]):
                self.by_name.setdefault(name, []).append(col)

    def find(self, wanted: str) -> list[str]:
        return self.by_name.get(key(wanted), [])


def _spec_columns(spec: str | Joined | Options) -> list[str]:
    """The raw columns a ``columns:`` entry names."""
    if isinstance(spec, Joined):
        return [spec.joined]
    if isinstance(spec, Options):
        return list(spec.options.values())
    return [spec]


def _wanted(source: Source) -> list[str]:
    wanted = [source.mode_column] if source.mode_column else []
    for spec in source.columns.values():
        wanted += _spec_columns(spec)
    return wanted


def _resolve_columns(table: RawTable, source: Source, town: Town) -> tuple[
        dict[str, str], list[str]]:
    """(mapped raw name → column, skipped columns); errors for missing, ambiguous, unknown
    columns and for ``ignore:`` and ``not_used:`` entries that match no column."""
    names = _Names(table)
    skipped = {**dict.fromkeys(source.ignore, "ignore"),
               **dict.fromkeys(source.unused_questions, "not_used")}
    header_rows = list(source.header_rows)
    wanted = _wanted(source)
    missing = [w for w in wanted if not names.find(w)]
    if missing:
        delimiter = source.delimiter
        sheet, rows = locate_header(table.file, wanted, source.encoding, delimiter)
        where = f" on sheet 「{sheet}」" if sheet else ""
        if rows and (list(rows) != header_rows or (sheet and sheet != table.sheet)):
            shown = str(rows[0]) if len(rows) == 1 else f"[{', '.join(map(str, rows))}]"
            hint = (f"the header seems to be on row{'s' if len(rows) > 1 else ''} "
                    f"{', '.join(map(str, rows))}{where}: set 'header_row: {shown}'"
                    + (f" and 'sheet: {sheet}'" if sheet and sheet != table.sheet else "")
                    + f" for this source in config/towns/{town.id}.yml")
        else:
            hint = (f"rename the column in the export or fix 'columns:' in "
                    f"config/towns/{town.id}.yml (the file has: "
                    f"{', '.join(map(str, list(table.data.columns)[:12]))} …)")
        others = f" (also missing: {', '.join(missing[1:6])})" if len(missing) > 1 else ""
        raise UserError(f"column mapped in the parameter file is missing{others}",
                        file=table.file.name, column=missing[0], rows=header_rows, hint=hint)
    ambiguous = [w for w in [*wanted, *skipped] if len(names.find(w)) > 1]
    if ambiguous:
        cols = names.find(ambiguous[0])
        raise UserError(f"the name matches {len(cols)} columns ({', '.join(cols[:5])})",
                        file=table.file.name, column=ambiguous[0], rows=header_rows,
                        hint=f"use the full heading of the column, e.g. 「{cols[0]}」, in "
                        f"config/towns/{town.id}.yml")
    resolved = {w: names.find(w)[0] for w in wanted}
    unused = [i for i in skipped if not names.find(i)]
    if unused:
        where = skipped[unused[0]]
        raise UserError(f"'{where}:' names a column the file does not have (also: "
                        f"{', '.join(unused[1:6]) or 'none'})", file=table.file.name,
                        column=unused[0], rows=header_rows,
                        hint=f"remove it from '{where}:' or correct its spelling in "
                        f"config/towns/{town.id}.yml (the setting would never be used)")
    ignored = [names.find(i)[0] for i in skipped]
    both = [(c, w) for c, w in zip(ignored, skipped.values(), strict=True)
            if c in resolved.values()]
    if both:
        raise UserError(f"the column is both mapped under 'columns:' and listed under "
                        f"'{both[0][1]}:'", file=table.file.name, column=both[0][0],
                        rows=header_rows,
                        hint=f"remove it from one of the two in config/towns/{town.id}.yml")
    used = set(resolved.values()) | set(ignored)
    unknown = [c for c in table.data.columns if c not in used]
    empty_unnamed = [c for c in unknown if key(c) == "" or key(c).startswith("Unnamed")]
    unknown = [c for c in unknown if c not in empty_unnamed or table.data[c].notna().any()]
    if unknown:
        first = unknown[0]
        name = first if key(first) else "(no header)"
        rows = [] if key(first) else [int(r) for r in table.rows[table.data[first].notna()]]
        others = f" (also: {', '.join(unknown[1:6])})" if len(unknown) > 1 else ""
        raise UserError(f"column is not in the parameter file{others}", file=table.file.name,
                        column=name, rows=rows or header_rows,
                        hint=f"in config/towns/{town.id}.yml map it under 'columns:' (a "
                        "standard question) or declare it under 'questions:' (your own), or "
                        "list it under 'not_used:' (a question the report leaves out, named on "
                        "the town's page) or 'ignore:' (not a question: timestamps, codes)")
    return resolved, ignored


def plain_columns(source: Source, book: Codebook) -> list[str]:
    """The source's ID and free-text columns (about one value per row; never answers)."""
    return [spec for var, spec in source.columns.items()
            if isinstance(spec, str) and book[var].type in (VarType.ID, VarType.TEXT)]


def _error_cells(table: RawTable, columns: Iterable[str]) -> None:
    """Excel error values (#N/A, #DIV/0! …) in answer columns: all of them in one message."""
    found: list[tuple[int, int, str, str]] = []
    positions = {c: i for i, c in enumerate(table.data.columns)}
    for col in dict.fromkeys(columns):
        values = table.data[col]
        raw = (values.cat.categories if isinstance(values.dtype, pd.CategoricalDtype)
               else pd.unique(values))
        text = pd.Series(raw, dtype=object)
        errors = text[text.astype("string").str.strip().str.upper().isin(EXCEL_ERRORS)].tolist()
        if not errors:
            continue
        for value in errors:
            for row in table.rows[(values == value).to_numpy()]:
                found.append((positions[col], int(row), value.strip(), col))
    if not found:
        return
    found.sort(key=lambda f: (f[1], f[0]))
    cells = "; ".join(f"{column_letter(p)}{r} {v} ({c})" for p, r, v, c in found[:20])
    kinds = ", ".join(sorted({f[2] for f in found}))
    where = f" of sheet 「{table.sheet}」" if table.sheet else ""
    raise UserError(
        f"{len(found)} cell(s){where} hold an Excel error value ({kinds}) instead of an answer: "
        "a formula in the vendor's file is broken",
        file=table.file.name,
        column=found[0][3],
        rows=sorted({f[1] for f in found}),
        value=cells + (" …" if len(found) > 20 else ""),
        hint="ask the vendor for the file with values instead of formulas (in Excel: copy the "
        "sheet and paste as values), or correct these cells; they are never read as answers",
    )


def _second_header(table: RawTable, source: Source, columns: dict[str, str], book: Codebook,
                   town: Town) -> None:
    """Stop when the first row of answers is really a second header row (short headings below
    question numbers): its cells are text that appears nowhere else in the column."""
    answer_columns = [columns[spec] for var, spec in source.columns.items()
                      if isinstance(spec, str) and book[var].type not in (VarType.ID,
                                                                          VarType.TEXT)]
    if len(answer_columns) < 3 or len(table.data) < 10:
        return
    first = table.data.iloc[0]
    heading = [c for c in answer_columns if isinstance(first[c], str) and first[c].strip()
               and not key(first[c]).lstrip("-").replace(".", "").isdigit()
               and int((table.data[c] == first[c]).sum()) == 1]
    if len(heading) >= 0.8 * len(answer_columns):
        row = int(table.rows[0])
        rows = [*source.header_rows, row]
        shown = ", ".join(f"「{first[c]}」" for c in heading[:4])
        raise UserError(
            f"row {row} looks like a second header row ({shown} …), not a respondent's "
            "answers",
            file=table.file.name,
            column=heading[0],
            rows=[row],
            value=first[heading[0]],
            hint=f"list both header rows: 'header_row: [{', '.join(map(str, rows))}]' for this "
            f"source in config/towns/{town.id}.yml; a column can then be named by "
            "either row's text or both joined by a space",
        )


def _unused_labels(source: Source, used: dict[str, set[str]], table: RawTable,
                   town: Town) -> None:
    """A ``labels:`` entry whose wording matches no cell (nor a vendor label) is an error."""
    for var, entries in source.labels.items():
        if var not in used:
            continue
        unused = [raw for raw in entries if key(raw) not in used[var]]
        if unused:
            raise ConfigError(
                f"labels → {var}: 「{unused[0]}」 matches no answer in {table.file.name}"
                + (f" (also: {', '.join(map(str, unused[1:6]))})" if len(unused) > 1 else ""),
                file=town_file(town.id),
                column=var,
                value=unused[0],
                hint="every label must match an answer written in the file (up to full-width "
                "and space variants): correct its spelling or remove it, so that no setting "
                "is silently unused",
            )


def _unused_no_answer(source: Source, counts: dict[str, VarCounts],
                      numbering: dict[str, dict[str, str]]) -> list[str]:
    """A note for each ``no_answer:`` value that no cell (nor vendor label) holds."""
    seen = {key(v[2]) for c in counts.values() for v in c.values}
    seen |= {key(label) for labels in numbering.values() for label in labels.values()}
    unused = [v for v in source.no_answer if key(v) not in seen]
    return [f"no_answer: 「{v}」 is in no cell of this file (the setting is not used)"
            for v in unused]


def map_source(
    table: RawTable, source: Source, town: Town, book: Codebook, raw_dir: Path
) -> Mapped:
    """Map one raw table onto standard columns; mapping problems raise ``UserError``."""
    notes = list(table.notes) + drop_non_respondents(table)
    columns, ignored = _resolve_columns(table, source, town)
    _error_cells(table, [columns[w] for w in _wanted(source) if w not in plain_columns(
        source, book)])
    _second_header(table, source, columns, book, town)
    sheet = None
    if source.code_sheet:
        where = f"sources[{town.sources.index(source)}] → code_sheet → file"
        sheet = read_code_sheet(source.code_sheet, town.raw_file(source.code_sheet.file, where,
                                                             raw_dir))
    numbering, sheet_notes = _numbering(table, columns, sheet, ignored, town, source)
    notes += sheet_notes
    numbered = bool(numbering)
    out: dict[str, np.ndarray] = {}
    text: dict[str, pd.Series] = {}
    counts: dict[str, VarCounts] = {}
    used: dict[str, set[str]] = {}
    n = len(table.data)

    def answers_for(var: Variable, column: str) -> _Answers:
        vendor = numbering.get(column)
        used.setdefault(var.key, set()).update(key(v) for v in (vendor or {}).values())
        return _Answers(var, source, town, table, column, vendor, numbered)

    def seen(var: Variable, column: str) -> None:
        _, _, keys = unique_keys(table.data[column])
        used.setdefault(var.key, set()).update(keys)

    if source.mode_column:
        col = columns[source.mode_column]
        out["mode"], counts["mode"] = _map_single(table, col, answers_for(book["mode"], col),
                                                  town)
        seen(book["mode"], col)
    else:
        out["mode"] = np.full(n, next(c for c, lab in book["mode"].labels().items()
                                      if lab == source.mode), dtype=_F)
    raw_columns: dict[str, list[str]] = {}
    for name, spec in source.columns.items():
        var = book[name]
        raw_columns[var.name] = [columns[c] for c in _spec_columns(spec)]
        if isinstance(spec, str) and table.data[columns[spec]].isna().all():
            counts[var.name] = VarCounts(blank=n, notes=[
                f"column 「{spec}」 is entirely empty: {name} is missing for {table.file.name}"])
            notes.append(counts[var.name].notes[0])
            continue
        used.setdefault(var.key, set())
        if var.type in (VarType.TEXT, VarType.ID):
            values = table.data[columns[spec]]
            text[var.name] = _text(values, normalise=var.type is VarType.ID)
            counts[var.name] = VarCounts(blank=int(values.isna().sum()))
        elif var.type is VarType.NUMBER:
            out[var.name], counts[var.name], hit = _map_number(table, columns[spec], var,
                                                               source, town)
            used[var.key].update(hit)
        elif isinstance(spec, Options):
            cols = Options(options={c: columns[o] for c, o in spec.options.items()})
            ticks, counts[var.name] = _map_options(table, cols, var, source, town)
            out |= ticks
        elif isinstance(spec, Joined):
            col = columns[spec.joined]
            ticks, counts[var.name], tokens = _map_joined(
                table, Joined(joined=col, sep=spec.sep), answers_for(var, col), town)
            used[var.key].update(tokens)
            out |= ticks
        else:
            out[var.name], counts[var.name] = _map_single(table, columns[spec],
                                                          answers_for(var, columns[spec]), town)
            seen(var, columns[spec])
    _unused_labels(source, used, table, town)
    notes += _unused_no_answer(source, counts, numbering)
    return Mapped(pd.DataFrame(out), pd.DataFrame(text, index=range(n)), counts, notes,
                  raw_columns)
