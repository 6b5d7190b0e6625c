"""The cleaning pipeline: read → map → check → derive → validate → write, per town."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from helpers import paths
from helpers import population as margins
from helpers.cleaning import verify
from helpers.cleaning.checks import (
    Invalid,
    duplicates,
    margin_problems,
    too_many,
    value_checks,
)
from helpers.cleaning.mapping import Mapped, VarCounts, map_source, plain_columns, shown_raw
from helpers.cleaning.read import RawTable, read_table
from helpers.cleaning.schema import standard_frame, validate
from helpers.cleaning.write import write_outputs
from helpers.codebook import Codebook
from helpers.derive import derive_all
from helpers.errors import ConfigError, UserError
from helpers.escape import md, md_row
from helpers.towns import Source, Town, list_towns, load_town, town_file

RESTRICTED_COLUMNS = ("resp_id", "age", "free_text")
INVALID_COLUMNS = ["file", "row", "column", "value", "reason"]


@dataclass
class CleanResult:
    """A town's cleaned data and what happened on the way (``out_dir`` None: nothing written)."""

    town: str
    survey: pd.DataFrame
    restricted: pd.DataFrame
    invalid: pd.DataFrame
    report: dict[str, Any]
    out_dir: Path | None = None

    @property
    def rows_in(self) -> int:
        return int(self.report["rows_in"])

    @property
    def rows_out(self) -> int:
        return int(self.report["rows_out"])


@dataclass
class _Part:
    source: Source
    table: RawTable
    mapped: Mapped


def _as_town(town: str | Town) -> Town:
    return town if isinstance(town, Town) else load_town(town)


def _read(source: Source, path: Path, town: Town, raw_dir: Path) -> _Part:
    book = town.codebook
    plain = plain_columns(source, book)
    table = read_table(path, sheet=source.sheet, header_row=source.header_row,
                       encoding=source.encoding, delimiter=source.delimiter,
                       plain=[*plain, *source.ignore])
    return _Part(source, table, map_source(table, source, town, book, raw_dir))


def _shown_cells(data: pd.DataFrame, columns: list[str], pos: np.ndarray) -> list[str]:
    """The raw cells of the rows at ``pos``: one column's value, or 「column=value」 for each
    filled cell of several (a multi-answer item's option columns)."""
    if len(columns) == 1:
        return [shown_raw(v) for v in data[columns[0]].iloc[pos]]
    cells = data[columns].iloc[pos]
    return ["; ".join(f"{c}={shown_raw(v)}" for c, v in row.items() if pd.notna(v))
            for _, row in cells.iterrows()]


def _invalid_values(parts: list[_Part], origin: pd.DataFrame, invalid: list[Invalid]
                    ) -> pd.DataFrame:
    """file, row, column, value (as written in the file) and reason of each answer set to
    missing by a check."""
    frames = []
    for inv in invalid:
        for variable in inv.variables:
            for i, part in enumerate(parts):
                picked = inv.mask & (origin["source"] == i).to_numpy()
                columns = part.mapped.columns.get(variable)
                if not picked.any() or not columns:
                    continue
                pos = origin.loc[picked, "pos"].to_numpy()
                frames.append(pd.DataFrame({
                    "file": part.table.file.name,
                    "row": origin.loc[picked, "row"].to_numpy(),
                    "column": columns[0] if len(columns) == 1 else f"{columns[0]} …",
                    "value": _shown_cells(part.table.data, columns, pos),
                    "reason": inv.reason[picked].to_numpy(),
                }))
    if not frames:
        return pd.DataFrame(columns=INVALID_COLUMNS)
    return pd.concat(frames, ignore_index=True).sort_values(["file", "row"], kind="stable",
                                                            ignore_index=True)


def _stack(frames: list[pd.DataFrame]) -> pd.DataFrame:
    return frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)


def _raw_names(parts: list[_Part]) -> dict[str, dict[str, str]]:
    """Standard variable → {file name: raw column}, for messages."""
    names: dict[str, dict[str, str]] = {}
    for part in parts:
        for var, columns in part.mapped.columns.items():
            names.setdefault(var, {})[part.table.file.name] = " / ".join(columns[:2]) + (
                " …" if len(columns) > 2 else "")
    return names


def _empty_forms(codes: pd.DataFrame, origin: pd.DataFrame, parts: list[_Part]) -> np.ndarray:
    """Rows without a single answer (an ID at most): not a respondent; noted per file."""
    answers = codes.drop(columns="mode")
    empty = answers.isna().all(axis=1).to_numpy() if answers.shape[1] else np.zeros(
        len(codes), dtype=bool)
    for i, part in enumerate(parts):
        rows = origin.loc[empty & (origin["source"] == i).to_numpy(), "row"].tolist()
        if rows:
            part.mapped.notes.append(
                f"{len(rows)} row(s) without any answer skipped (rows "
                f"{', '.join(map(str, rows[:10]))}{' …' if len(rows) > 10 else ''}): every "
                "cell is blank or a no-answer value")
    return empty


def _run(town: Town, sources: list[tuple[Source, Path]], raw_dir: Path) -> CleanResult:
    """Clean the given sources; the margins are checked when they are all the town's."""
    book = town.codebook
    parts = [_read(source, path, town, raw_dir) for source, path in sources]
    codes = _stack([p.mapped.codes for p in parts])
    text = _stack([p.mapped.text for p in parts])
    origin = pd.concat(
        [pd.DataFrame({"file": p.table.file.name, "row": p.table.rows, "source": i,
                       "pos": np.arange(len(p.table.rows))}) for i, p in enumerate(parts)],
        ignore_index=True,
    )
    rows_in = len(codes)
    counts: dict[str, VarCounts] = {}
    for part in parts:
        for name, c in part.mapped.counts.items():
            counts.setdefault(name, VarCounts()).add(c)

    raw_names = _raw_names(parts)
    empty = _empty_forms(codes, origin, parts)
    dropped = empty.copy()
    if "resp_id" in text:
        ids = text["resp_id"].where(~empty)
        dropped |= duplicates(ids, codes, origin, raw_names.get("resp_id", {}))
    keep = ~dropped
    invalid = value_checks(codes, town, book)
    for inv in invalid:
        inv.mask = inv.mask & keep
    invalid = [inv for inv in invalid if inv.mask.any()]
    too_many(invalid, origin, raw_names, codes, book)
    for inv in invalid:
        for variable in inv.variables:
            counts.setdefault(variable, VarCounts()).invalid += int(inv.mask.sum())
            codes.loc[inv.mask, [c for c in book[variable].columns() if c in codes]] = np.nan
    invalid_frame = _invalid_values(parts, origin, invalid)

    if not keep.all():
        codes, text = codes[keep].reset_index(drop=True), text[keep].reset_index(drop=True)
    derived = derive_all(codes, book)
    survey = validate(standard_frame(derived, book), book, town.id)
    restricted = pd.concat([text, derived.filter(["age"])], axis=1).filter(RESTRICTED_COLUMNS)
    restricted.index.name = "row_key"
    report = _report(town, parts, counts, rows_in, int((dropped & ~empty).sum()),
                     int(empty.sum()), invalid_frame, survey, book)
    if len(sources) == len(town.sources) and town.margins is not None:
        population = margins.resolve(town, raw_dir)
        report["warnings"] += _weighting_notes(town, population, survey)
        report["population_notes"] = population.notes
    return CleanResult(town.id, survey, restricted, invalid_frame, report)


def _weighting_notes(town: Town, population: margins.Population, survey: pd.DataFrame
                     ) -> list[str]:
    """Margins that do not fit the data: an error when the town asks for weighting, unless
    its file allows unweighted output (then a warning that says what happens)."""
    problems = margin_problems(population, survey)
    if not problems:
        return []
    if not town.report.weighting:
        return [f"margins are given but 'report: weighting: false': they are not used "
                f"({problems[0]})"]
    if town.report.allow_unweighted:
        return [*problems, "the report may be published unweighted ('report: "
                           "allow_unweighted: true')"]
    more = f" (and {len(problems) - 1} more: {'; '.join(problems[1:4])})" if len(
        problems) > 1 else ""
    raise ConfigError(
        f"the population margins do not fit the survey data: {problems[0]}{more}",
        file=town_file(town.id),
        hint="give a count for every sex × age band and district that has respondents and "
        "remove counts no respondent falls in (merge them into a neighbour), or set 'report: "
        "allow_unweighted: true' to let the report go out without weighting",
    )


def _report(town: Town, parts: list[_Part], counts: dict[str, VarCounts], rows_in: int,
            duplicates_removed: int, empty: int, invalid: pd.DataFrame, survey: pd.DataFrame,
            book: Codebook) -> dict[str, Any]:
    asked = town.variables()
    warnings = [n for c in counts.values() for n in c.notes]
    return {
        "town": town.id,
        "synthetic": town.synthetic,
        "sources": [
            {"file": p.table.file.name, "mode": p.source.mode or f"column {p.source.mode_column}",
             "sheet": p.table.sheet, "encoding": p.table.encoding,
             "rows": len(p.table.rows), "notes": p.mapped.notes}
            for p in parts
        ],
        "rows_in": rows_in,
        "duplicates_removed": duplicates_removed,
        "empty_rows_skipped": empty,
        "values_set_missing": len(invalid),
        "invalid_values": invalid.to_dict("records"),
        "rows_out": len(survey),
        "variables": {name: asdict(c) for name, c in counts.items()},
        "not_asked": [v.name for v in book.variables
                      if not v.restricted and v.name not in asked and v.name != "mode"],
        "derived": [v.name for v in book.derived if v.name in survey],
        "warnings": warnings,
        "population_notes": [],
        "not_used": [{"file": p.table.file.name, "column": column, "question": question}
                     for p in parts for column, question in p.source.unused_questions.items()],
    }


def report_markdown(report: dict[str, Any]) -> str:
    """The cleaning report as a readable Markdown page. Every string from the town file, the raw
    files or the data (names, values, notes quoting them) passes ``escape.md``: it shows as typed,
    never as markup, and cannot break a table."""
    lines = [
        f"# Cleaning report: {md(report['town'])}" + (" (synthetic data)" if report["synthetic"]
                                                       else ""),
        "",
        f"- rows read: {report['rows_in']}",
        f"- exact duplicates removed: {report['duplicates_removed']}",
        f"- rows without any answer skipped: {report['empty_rows_skipped']}",
        f"- impossible answers set to missing (see rejected.csv): "
        f"{report['values_set_missing']}",
        f"- rows in the standard dataset: {report['rows_out']}",
        "",
        "## Files",
        "",
    ]
    for src in report["sources"]:
        lines.append(f"- {md(src['file'])} ({md(src['mode'])}, {src['rows']} rows"
                     + (f", encoding {md(src['encoding'])}" if src["encoding"] else "")
                     + (f", sheet {md(src['sheet'])}" if src["sheet"] else "") + ")")
        lines += [f"  - {md(note)}" for note in src["notes"]]
    lines += ["", "## Variables", "",
              "| variable | recoded | no answer | blank | set missing | most frequent changes |",
              "|---|---:|---:|---:|---:|---|"]
    for name, c in report["variables"].items():
        top = sorted(c["examples"].items(), key=lambda kv: -kv[1])[:4]
        changes = "; ".join(f"{what} ×{n}" for what, n in top)
        lines.append(md_row([name, c["recoded"], c["no_answer"], c["blank"], c["invalid"],
                              changes]))
    lines += ["", "recoded: written differently from the codebook (variant spelling, code, "
              "full-width digits) and mapped to the codebook answer.", ""]
    if report["invalid_values"]:
        lines += ["## Impossible answers set to missing", "",
                  "| file | row | column | value | reason |", "|---|---:|---|---|---|"]
        lines += [md_row([v["file"], v["row"], v["column"], v["value"], v["reason"]])
                  for v in report["invalid_values"]]
        lines.append("")
    if report["warnings"]:
        lines += ["## Warnings", "", *[f"- {md(w)}" for w in report["warnings"]], ""]
    if report["population_notes"]:
        lines += ["## Population margins", "",
                  *[f"- {md(n)}" for n in report["population_notes"]], ""]
    if report["not_used"]:
        lines += ["## Questions the report does not use (not_used:)", "",
                  *[f"- {md(q['file'])}: {md(q['column'])}"
                    + (f" ({md(q['question'])})" if q["question"] != q["column"] else "")
                    for q in report["not_used"]], ""]
    lines += verify.markdown(report)
    lines += ["## Not asked by this town", "",
              ", ".join(md(name) for name in report["not_asked"]) or "(none)", ""]
    return "\n".join(lines)


def clean_town(
    town: str | Town, *, raw_dir: Path | None = None, out_dir: Path | None = None
) -> CleanResult:
    """Clean every raw file of a town and write ``data/processed/<town>/`` (or ``out_dir``)."""
    town = _as_town(town)
    raw_dir = Path(raw_dir) if raw_dir is not None else paths.raw_dir(town.id)
    out_dir = Path(out_dir) if out_dir is not None else paths.processed_dir(town.id)
    sources = [(s, town.raw_file(s.file, f"sources[{i}] → file", raw_dir))
               for i, s in enumerate(town.sources)]
    result = _run(town, sources, raw_dir)
    write_outputs(out_dir, survey=result.survey, restricted=result.restricted,
                  rejected=result.invalid, report=result.report,
                  report_md=report_markdown(result.report))
    result.out_dir = out_dir
    return result


def check_file(path: Path, town: str | Town) -> CleanResult:
    """Read and validate one export through the matching source of the town; write nothing."""
    town = _as_town(town)
    path = Path(path)
    matching = [s for s in town.sources if s.file == path.name]
    if not matching and len(town.sources) == 1:
        matching = list(town.sources)
    if not matching:
        names = ", ".join(s.file for s in town.sources)
        raise UserError(
            "does not match a source of the town",
            file=path,
            hint=f"name the file like one of the town's sources ({names}) or fix 'file:' in "
            f"{town_file(town.id)}",
        )
    # the code sheet and population files: beside the export when they are there too
    beside = [matching[0].code_sheet.file] if matching[0].code_sheet else []
    beside += [spec.file for _, spec in (town.margins.files if town.margins else [])]
    aux_dir = path.parent if all((path.parent / f).exists() for f in beside) else (
        paths.raw_dir(town.id))
    return _run(town, [(matching[0], path)], aux_dir)


def clean_towns(towns: list[str] | None = None) -> dict[str, CleanResult | UserError]:
    """Clean the named towns (all when None); one town's failure does not stop the others."""
    results: dict[str, CleanResult | UserError] = {}
    for town in towns or list_towns():
        try:
            results[town] = clean_town(town)
        except UserError as exc:
            results[town] = exc
    return results
