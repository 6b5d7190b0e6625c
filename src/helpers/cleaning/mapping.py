"""Map one raw table onto the standard variables: columns by the town's ``columns:``, answers
by the codebook labels, the town's ``labels:``, numeric codes or a vendor's code sheet.

The result is a frame of numeric codes (``float``, NaN = missing) per standard column, plus
counts of what was recoded or set to missing. Each column's unique values are mapped once.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from helpers.cleaning.normalize import NO_ANSWER_WORDS, TOTAL_WORDS, key, unique_keys
from helpers.cleaning.read import RawTable, locate_header, read_table
from helpers.codebook import Codebook, Variable, VarType
from helpers.errors import ConfigError, UserError
from helpers.towns import CodeSheet, Joined, Options, Source, Town, town_file

_UNKNOWN = -np.inf  # marks a unique value that maps to nothing
_F = np.float32  # codes and numbers while cleaning (exact for every code and count)
_NUMBER_SUFFIX = re.compile(r"(歳|才|人|点)$")
_TICKED = {"1", "○", "◯", "〇", "●", "✓", "✔", "レ", "はい", "該当", "TRUE", "True", "true"}
_UNTICKED = {"0", "×", "いいえ", "非該当", "FALSE", "False", "false"}
_JOINERS = ("、", ",", ";")


@dataclass
class VarCounts:
    """What happened to one standard variable's values during cleaning."""

    recoded: int = 0
    no_answer: int = 0
    blank: int = 0
    rejected: int = 0
    notes: list[str] = field(default_factory=list)
    examples: dict[str, int] = field(default_factory=dict)  # 「raw」 → result: count

    def add(self, other: VarCounts) -> None:
        self.recoded += other.recoded
        self.no_answer += other.no_answer
        self.blank += other.blank
        self.rejected += other.rejected
        self.notes += other.notes
        for example, count in other.examples.items():
            self.examples[example] = self.examples.get(example, 0) + count


def _tally(codes: np.ndarray, raw: list, mapped: np.ndarray, recoded: list[bool],
           shown: dict[float, str] | None = None) -> VarCounts:
    """Count blanks, no-answers and recoded values of a column, with examples of each."""
    n = np.bincount(codes[codes >= 0], minlength=len(raw))
    out = VarCounts(blank=int((codes < 0).sum()))
    for i, value in enumerate(raw):
        count = int(n[i])
        if count and np.isnan(mapped[i]):
            out.no_answer += count
            out.examples[f"「{value}」 → missing"] = count
        elif count and recoded[i]:
            out.recoded += count
            result = shown[float(mapped[i])] if shown else f"{float(mapped[i]):g}"
            out.examples[f"「{value}」 → {result}"] = count
    return out


@dataclass
class Mapped:
    """One source mapped onto standard columns (codes as floats, NaN = missing)."""

    codes: pd.DataFrame
    text: pd.DataFrame
    counts: dict[str, VarCounts]
    notes: list[str]


def _no_answer_keys(var: Variable, source: Source) -> set[str]:
    """Keys meaning 'no answer': a cell of only spaces, the usual words, the source's own
    values and the variable's no-answer codes."""
    words = set(NO_ANSWER_WORDS) | set(source.no_answer) | {""}
    return {key(w) for w in words} | {str(c) for c in var.no_answer}


class _Answers:
    """Lookup of answer keys → standard codes for one variable in one source."""

    def __init__(
        self,
        var: Variable,
        source: Source,
        town: Town,
        vendor: dict[str, str] | None,
    ) -> None:
        labels = var.labels(town.districts)
        self.var = var
        self.exact = set(labels.values())
        by_label: dict[str, float] = {key(lab): float(c) for c, lab in labels.items()}
        missing = dict.fromkeys(_no_answer_keys(var, source), np.nan)
        lookup: dict[str, float] = {**missing, **by_label}
        if source.answers == "codes" and vendor is None:
            lookup |= {str(c): float(c) for c in labels}
            self.exact |= {str(c) for c in labels}
        for raw, target in source.labels.get(var.name, {}).items():
            lookup[key(raw)] = self._target(raw, target, by_label, missing, town)
        if vendor is not None:
            for code, label in vendor.items():
                if key(label) in lookup:
                    lookup[code] = lookup[key(label)]
        self.lookup = lookup

    def _target(
        self, raw: str, target: str | int, by_label: dict[str, float], missing: dict, town: Town
    ) -> float:
        if isinstance(target, int) and target in self.var.labels(town.districts):
            return float(target)
        if isinstance(target, int) and target in self.var.no_answer:
            return np.nan
        if isinstance(target, str) and key(target) in by_label:
            return by_label[key(target)]
        if isinstance(target, str) and key(target) in missing:
            return np.nan
        answers = "、".join(self.var.labels(town.districts).values())
        raise ConfigError(
            f"labels → {self.var.name} → 「{raw}」: 「{target}」 is not an answer of "
            f"{self.var.name}",
            file=town_file(town.id),
            hint=f"use one of: {answers}",
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
    mapped = np.array([answers.lookup.get(k, _UNKNOWN) for k in keys] + [np.nan], dtype=_F)
    bad = [i for i, m in enumerate(mapped[:-1]) if m == _UNKNOWN]
    if bad:
        var = answers.var
        numeric = all(keys[i].lstrip("-").isdigit() for i in bad)
        choices = "、".join(f"{c} {lab}" for c, lab in var.labels(town.districts).items())
        if numeric and any(str(c) in answers.lookup for c in var.labels(town.districts)):
            problem = f"code outside the codes of {var.name}"
            hint = f"valid codes: {choices}; no answer: {var.no_answer or 'blank'}"
        else:
            problem = f"answer not known for {var.name}"
            hint = (f"add it under 'labels: {var.name}:' in config/towns/{town.id}.yml, e.g. "
                    f"「{raw[bad[0]]}: <codebook label>」 (codebook labels: {choices})")
        _fail(table, column, codes, raw, bad, problem, hint)
    recoded = [str(key(v) if isinstance(v, float) else v) not in answers.exact for v in raw]
    shown = {float(c): lab for c, lab in answers.var.labels(town.districts).items()}
    return mapped[codes], _tally(codes, raw, mapped, recoded, shown)


def _number(k: str) -> float:
    try:
        return float(_NUMBER_SUFFIX.sub("", k))
    except ValueError:
        return _UNKNOWN


def _map_number(table: RawTable, column: str, var: Variable, source: Source) -> tuple[
        np.ndarray, VarCounts]:
    codes, raw, keys = unique_keys(table.data[column])
    missing = _no_answer_keys(var, source)
    mapped = np.array([np.nan if k in missing else _number(k) for k in keys] + [np.nan],
                      dtype=_F)
    bad = [i for i, m in enumerate(mapped[:-1]) if m == _UNKNOWN or (not np.isfinite(m)
           and keys[i] not in missing)]
    if bad:
        _fail(table, column, codes, raw, bad, f"{var.name} must be a number",
              "write a plain number (e.g. 35) in these cells or leave them empty; if the "
              "value means 'no answer', list it under 'no_answer:' in the parameter file")
    recoded = [not isinstance(v, (int, float)) and str(v) != k for v, k in zip(raw, keys,
                                                                                strict=True)]
    return mapped[codes], _tally(codes, raw, mapped, recoded)


def _map_options(table: RawTable, spec: Options, var: Variable, source: Source) -> tuple[
        dict[str, np.ndarray], VarCounts]:
    missing = _no_answer_keys(var, source)
    ticks: dict[str, np.ndarray] = {}
    out = VarCounts()
    for code, column in spec.options.items():
        codes, raw, keys = unique_keys(table.data[column])
        mapped = np.array([1.0 if k in _TICKED else 0.0 if k in _UNTICKED else
                           np.nan if k in missing else _UNKNOWN for k in keys] + [0.0], dtype=_F)
        bad = [i for i, m in enumerate(mapped[:-1]) if m == _UNKNOWN]
        if bad:
            _fail(table, column, codes, raw, bad, f"option cell of {var.name} is neither 1 nor 0",
                  "write 1 for a chosen option and 0 or nothing otherwise")
        ticks[f"{var.name}__{code}"] = mapped[codes]
    return _none_chosen_is_missing(ticks, out), out


def _none_chosen_is_missing(ticks: dict[str, np.ndarray], out: VarCounts) -> dict[
        str, np.ndarray]:
    """All options missing when none is chosen; otherwise a missing option is 'not chosen'."""
    matrix = np.column_stack(list(ticks.values()))
    chosen = (matrix == 1).any(axis=1)
    out.blank = int((~chosen).sum())
    matrix = np.where(chosen[:, None], np.where(np.isnan(matrix), 0, matrix), np.nan).astype(_F)
    return {name: matrix[:, j] for j, name in enumerate(ticks)}


def _map_joined(table: RawTable, spec: Joined, answers: _Answers, town: Town) -> tuple[
        dict[str, np.ndarray], VarCounts]:
    var = answers.var
    options = list(var.labels())
    codes, raw, keys = unique_keys(table.data[spec.joined])
    joiners = {key(spec.sep), *_JOINERS}
    matrix = np.zeros((len(raw) + 1, len(options)), dtype=_F)
    bad: list[int] = []
    for i, k in enumerate(keys):
        for j in joiners - {","}:
            k = k.replace(j, ",")
        for token in filter(None, k.split(",")):
            code = answers.lookup.get(token, _UNKNOWN)
            if code == _UNKNOWN:
                bad.append(i)
            elif np.isfinite(code):
                matrix[i, options.index(int(code))] = 1.0
    if bad:
        choices = "、".join(var.labels().values())
        _fail(table, spec.joined, codes, raw, sorted(set(bad)),
              f"answer not known for {var.name}",
              f"separate the answers with 「{spec.sep}」 and use the codebook labels ({choices}), "
              f"or add the label under 'labels: {var.name}:' in config/towns/{town.id}.yml")
    out = VarCounts()
    ticks = {f"{var.name}__{c}": matrix[codes, j] for j, c in enumerate(options)}
    return _none_chosen_is_missing(ticks, out), out


def _text(values: pd.Series, normalise: bool) -> pd.Series:
    """Text cells stripped; with ``normalise``, IDs compared as NFKC without spaces (１２３ = 123).

    Vectorised with pyarrow (a categorical column: on its distinct values).
    """
    cats = values.cat if isinstance(values.dtype, pd.CategoricalDtype) else None
    source = cats.categories if cats is not None else values
    text = pc.utf8_trim_whitespace(pa.array(source.astype("str"), type=pa.string(),
                                            from_pandas=True))
    if normalise:
        text = pc.replace_substring_regex(pc.utf8_normalize(text, form="NFKC"), r"\s+", "")
    if cats is not None:
        positions = cats.codes.to_numpy()
        text = pc.take(text, pa.array(positions, mask=positions < 0))
    return pd.Series(text.to_pandas(), index=values.index)


def _code_sheet(sheet: CodeSheet, path: Path) -> dict[str, dict[str, str]]:
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
    return result


def _drop_non_respondents(table: RawTable) -> list[str]:
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


def _resolve_columns(table: RawTable, source: Source, town: Town) -> dict[str, str]:
    """Mapped raw name → header as written; fatal errors for missing and unknown columns."""
    headers = {key(c): c for c in table.data.columns}
    wanted = [source.mode_column] if source.mode_column else []
    for spec in source.columns.values():
        if isinstance(spec, Joined):
            wanted.append(spec.joined)
        elif isinstance(spec, Options):
            wanted.extend(spec.options.values())
        else:
            wanted.append(spec)
    missing = [w for w in wanted if key(w) not in headers]
    if missing:
        sheet, row = locate_header(table.file, wanted, source.encoding)
        where = f" on sheet 「{sheet}」" if sheet else ""
        if row and (row != source.header_row or (sheet and sheet != table.sheet)):
            hint = (f"the header seems to be on row {row}{where}: set 'header_row: {row}'"
                    + (f" and 'sheet: {sheet}'" if sheet and sheet != table.sheet else "")
                    + f" for this source in config/towns/{town.id}.yml")
        else:
            hint = (f"rename the column in the export or fix 'columns:' in "
                    f"config/towns/{town.id}.yml (the file has: "
                    f"{', '.join(list(headers.values())[:12])} …)")
        others = f" (also missing: {', '.join(missing[1:6])})" if len(missing) > 1 else ""
        raise UserError(f"column mapped in the parameter file is missing{others}",
                        file=table.file.name, column=missing[0],
                        rows=[source.header_row], hint=hint)
    used = {key(w) for w in wanted} | {key(i) for i in source.ignore}
    resolved = {w: headers[key(w)] for w in wanted}
    unknown = [c for k, c in headers.items() if k not in used]
    empty_unnamed = [c for c in unknown if key(c) == "" or key(c).startswith("Unnamed")]
    unknown = [c for c in unknown if c not in empty_unnamed or table.data[c].notna().any()]
    if unknown:
        first = unknown[0]
        name = first if key(first) else "(no header)"
        rows = [] if key(first) else [int(r) for r in table.rows[table.data[first].notna()]]
        others = f" (also: {', '.join(unknown[1:6])})" if len(unknown) > 1 else ""
        raise UserError(f"column is not in the parameter file{others}", file=table.file.name,
                        column=name, rows=rows or [source.header_row],
                        hint=f"map it under 'columns:' or list it under 'ignore:' in "
                        f"config/towns/{town.id}.yml")
    return resolved


def map_source(
    table: RawTable, source: Source, town: Town, book: Codebook, raw_dir: Path
) -> Mapped:
    """Map one raw table onto standard columns; mapping problems raise ``UserError``."""
    notes = list(table.notes) + _drop_non_respondents(table)
    columns = _resolve_columns(table, source, town)
    vendor = None
    if source.code_sheet:
        where = f"sources[{town.sources.index(source)}] → code_sheet → file"
        path = town.raw_file(source.code_sheet.file, where, raw_dir)
        vendor = _code_sheet(source.code_sheet, path)
    out: dict[str, np.ndarray] = {}
    text: dict[str, pd.Series] = {}
    counts: dict[str, VarCounts] = {}
    n = len(table.data)
    if source.mode_column:
        answers = _Answers(book["mode"], source, town, vendor and vendor.get(key(
            source.mode_column)))
        out["mode"], counts["mode"] = _map_single(table, columns[source.mode_column], answers,
                                                  town)
    else:
        out["mode"] = np.full(n, next(c for c, lab in book["mode"].labels().items()
                                      if lab == source.mode), dtype=_F)
    for name, spec in source.columns.items():
        var = book[name]
        if isinstance(spec, str) and table.data[columns[spec]].isna().all():
            counts[name] = VarCounts(blank=n, notes=[f"column 「{spec}」 is entirely empty: "
                                                     f"{name} is missing for {table.file.name}"])
            notes.append(counts[name].notes[0])
            continue
        sheet = vendor.get(key(spec if isinstance(spec, str) else getattr(
            spec, "joined", ""))) if vendor else None
        if var.type in (VarType.TEXT, VarType.ID):
            values = table.data[columns[spec]]
            text[name] = _text(values, normalise=var.type is VarType.ID)
            counts[name] = VarCounts(blank=int(values.isna().sum()))
        elif var.type is VarType.NUMBER:
            out[name], counts[name] = _map_number(table, columns[spec], var, source)
        elif isinstance(spec, Options):
            cols = Options(options={c: columns[o] for c, o in spec.options.items()})
            ticks, counts[name] = _map_options(table, cols, var, source)
            out |= ticks
        elif isinstance(spec, Joined):
            answers = _Answers(var, source, town, sheet)
            ticks, counts[name] = _map_joined(
                table, Joined(joined=columns[spec.joined], sep=spec.sep), answers, town)
            out |= ticks
        else:
            answers = _Answers(var, source, town, sheet)
            out[name], counts[name] = _map_single(table, columns[spec], answers, town)
    return Mapped(pd.DataFrame(out), pd.DataFrame(text, index=range(n)), counts, notes)
