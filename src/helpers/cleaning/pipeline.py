"""The cleaning pipeline: read → map → check → derive → validate → write, per town."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from helpers import paths
from helpers.cleaning.checks import duplicates, row_checks, too_many
from helpers.cleaning.mapping import Mapped, VarCounts, map_source
from helpers.cleaning.read import RawTable, read_table
from helpers.cleaning.schema import standard_frame, validate
from helpers.cleaning.write import write_outputs
from helpers.codebook import Codebook, VarType, load_codebook
from helpers.derive import derive_all
from helpers.errors import UserError
from helpers.towns import Source, Town, list_towns, load_town, town_file

RESTRICTED_COLUMNS = ("resp_id", "age", "free_text")


@dataclass
class CleanResult:
    """A town's cleaned data and what happened on the way (``out_dir`` None: nothing written)."""

    town: str
    survey: pd.DataFrame
    restricted: pd.DataFrame
    rejected: pd.DataFrame
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


def _read(source: Source, path: Path, town: Town, book: Codebook, raw_dir: Path) -> _Part:
    plain = [spec for var, spec in source.columns.items()
             if isinstance(spec, str) and book[var].type in (VarType.ID, VarType.TEXT)]
    table = read_table(path, sheet=source.sheet, header_row=source.header_row,
                       encoding=source.encoding, delimiter=source.delimiter,
                       plain=[*plain, *source.ignore])
    return _Part(source, table, map_source(table, source, town, book, raw_dir))


def _rejected_rows(parts: list[_Part], origin: pd.DataFrame, mask: np.ndarray,
                   reasons: pd.Series) -> pd.DataFrame:
    """file, row, reason and the raw cells (free text left out) of each rejected row."""
    frames = []
    for i, part in enumerate(parts):
        picked = mask & (origin["source"] == i).to_numpy()
        if not picked.any():
            continue
        raw = part.table.data.iloc[origin.loc[picked, "pos"].to_numpy()].reset_index(drop=True)
        text_col = part.source.columns.get("free_text")
        if isinstance(text_col, str) and text_col in raw:
            raw = raw.drop(columns=text_col)
        head = pd.DataFrame({"file": origin.loc[picked, "file"].to_numpy(),
                             "row": origin.loc[picked, "row"].to_numpy(),
                             "reason": reasons[picked].to_numpy()})
        frames.append(pd.concat([head, raw.astype("str").where(raw.notna(), "")], axis=1))
    if not frames:
        return pd.DataFrame(columns=["file", "row", "reason"])
    return pd.concat(frames, ignore_index=True)


def _stack(frames: list[pd.DataFrame]) -> pd.DataFrame:
    return frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)


def _raw_names(parts: list[_Part]) -> dict[str, dict[str, str]]:
    """Standard variable → {file name: raw column}, for messages."""
    names: dict[str, dict[str, str]] = {}
    for part in parts:
        for var, spec in part.source.columns.items():
            if isinstance(spec, str):
                names.setdefault(var, {})[part.table.file.name] = spec
    return names


def _run(town: Town, sources: list[tuple[Source, Path]], raw_dir: Path) -> CleanResult:
    book = load_codebook()
    parts = [_read(source, path, town, book, raw_dir) for source, path in sources]
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
    dropped = np.zeros(rows_in, dtype=bool)
    if "resp_id" in text:
        dropped = duplicates(text["resp_id"], codes, origin, raw_names.get("resp_id", {}))
    rejections = row_checks(codes, town, book)
    for rej in rejections:
        rej.mask = rej.mask & ~dropped
    too_many(rejections, origin, raw_names, n=int((~dropped).sum()))
    reasons = pd.Series("", index=codes.index)
    rejected = np.zeros(rows_in, dtype=bool)
    for rej in rejections:
        mask = rej.mask
        counts.setdefault(rej.variable, VarCounts()).rejected += int((mask & ~rejected).sum())
        reasons[mask] = (reasons[mask] + "; ").str.lstrip("; ") + rej.reason[mask]
        rejected |= mask
    keep = ~(dropped | rejected)

    if not keep.all():
        codes, text = codes[keep].reset_index(drop=True), text[keep].reset_index(drop=True)
    derived = derive_all(codes, book)
    survey = validate(standard_frame(derived, book, town), book, town)
    restricted = pd.concat([text, derived.filter(["age"])], axis=1).filter(RESTRICTED_COLUMNS)
    restricted.index.name = "row_key"
    report = _report(town, parts, counts, rows_in, int(dropped.sum()), int(rejected.sum()),
                     survey, book)
    rejected_frame = _rejected_rows(parts, origin, rejected, reasons)
    return CleanResult(town.id, survey, restricted, rejected_frame, report)


def _report(town: Town, parts: list[_Part], counts: dict[str, VarCounts], rows_in: int,
            duplicates_removed: int, rejected: int, survey: pd.DataFrame,
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
        "rows_rejected": rejected,
        "rows_out": len(survey),
        "variables": {name: asdict(c) for name, c in counts.items()},
        "not_asked": [v.name for v in book.variables
                      if not v.restricted and v.name not in asked and v.name != "mode"],
        "derived": [v.name for v in book.derived if v.name in survey],
        "warnings": warnings,
    }


def report_markdown(report: dict[str, Any]) -> str:
    """The cleaning report as a readable Markdown page."""
    lines = [
        f"# Cleaning report: {report['town']}" + (" (synthetic data)" if report["synthetic"]
                                                   else ""),
        "",
        f"- rows read: {report['rows_in']}",
        f"- exact duplicates removed: {report['duplicates_removed']}",
        f"- rows rejected (see rejected.csv): {report['rows_rejected']}",
        f"- rows in the standard dataset: {report['rows_out']}",
        "",
        "## Files",
        "",
    ]
    for src in report["sources"]:
        lines.append(f"- {src['file']} ({src['mode']}, {src['rows']} rows"
                     + (f", encoding {src['encoding']}" if src["encoding"] else "")
                     + (f", sheet {src['sheet']}" if src["sheet"] else "") + ")")
        lines += [f"  - {note}" for note in src["notes"]]
    lines += ["", "## Variables", "",
              "| variable | recoded | no answer | blank | rejected | most frequent changes |",
              "|---|---:|---:|---:|---:|---|"]
    for name, c in report["variables"].items():
        top = sorted(c["examples"].items(), key=lambda kv: -kv[1])[:4]
        changes = "; ".join(f"{what} ×{n}" for what, n in top).replace("|", "/")
        lines.append(f"| {name} | {c['recoded']} | {c['no_answer']} | {c['blank']} | "
                     f"{c['rejected']} | {changes} |")
    lines += ["", "recoded: written differently from the codebook (variant spelling, code, "
              "full-width digits) and mapped to the codebook answer.", ""]
    if report["warnings"]:
        lines += ["## Warnings", "", *[f"- {w}" for w in report["warnings"]], ""]
    lines += ["## Not asked by this town", "", ", ".join(report["not_asked"]) or "(none)", ""]
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
                  rejected=result.rejected, report=result.report,
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
    code_dir = path.parent if matching[0].code_sheet is None or (
        path.parent / matching[0].code_sheet.file).exists() else paths.raw_dir(town.id)
    return _run(town, [(matching[0], path)], code_dir)


def clean_towns(towns: list[str] | None = None) -> dict[str, CleanResult | UserError]:
    """Clean the named towns (all when None); one town's failure does not stop the others."""
    results: dict[str, CleanResult | UserError] = {}
    for town in towns or list_towns():
        try:
            results[town] = clean_town(town)
        except UserError as exc:
            results[town] = exc
    return results
