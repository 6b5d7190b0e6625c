"""Row checks on the mapped data: duplicated respondents, ranges and consistency.

All checks are vectorised over the whole frame of numeric codes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from helpers.codebook import Codebook, VarType
from helpers.errors import UserError
from helpers.towns import Town

# household code → (min, max) household size consistent with it
HOUSEHOLD_SIZE = {1: (1, 1), 2: (2, 2), 3: (2, 15), 4: (3, 15)}
MAX_REJECTED_SHARE = 0.05


@dataclass
class Rejection:
    """Rows failing a check: a boolean mask, the variable and the reason per row."""

    variable: str
    mask: np.ndarray
    reason: pd.Series


def duplicates(
    ids: pd.Series, codes: pd.DataFrame, origin: pd.DataFrame, columns: dict[str, str]
) -> np.ndarray:
    """Mask of exact duplicate respondents to drop (keeping the first).

    The same ID with different answers raises ``UserError`` naming the files, rows and the ID
    column (``columns``: file name → raw column of the ID).
    """
    known = ids.notna().to_numpy()
    same_id = ids.duplicated(keep=False).to_numpy() & known
    if not same_id.any():
        return np.zeros(len(ids), dtype=bool)
    subset = codes[same_id].assign(_id=ids[same_id].to_numpy())
    same_all = subset.duplicated(keep=False).to_numpy()
    if not same_all.all():
        conflict = subset.loc[~same_all, "_id"].iloc[0]
        conflicts = ids.isin(subset.loc[~same_all, "_id"]).to_numpy()
        file, rows = locate(origin, conflicts)
        raise UserError(
            f"{conflicts.sum()} rows share a respondent ID but have different answers"
            + _per_file(origin, conflicts, file),
            file=file,
            rows=rows,
            column=_column(columns, file, "resp_id"),
            value=conflict,
            hint="the ID was probably typed twice for different forms: correct the ID of one "
            "form in the export (IDs must be unique)",
        )
    drop = np.zeros(len(ids), dtype=bool)
    drop[np.flatnonzero(same_id)] = subset.duplicated(keep="first").to_numpy()
    return drop


def row_checks(codes: pd.DataFrame, town: Town, book: Codebook) -> list[Rejection]:
    """Rows outside the survey's age range, numbers out of range, inconsistent households."""
    found: list[Rejection] = []

    def _add(variable: str, mask: pd.Series, why: Callable[[pd.DataFrame], pd.Series]) -> None:
        picked = mask.fillna(False).to_numpy(dtype=bool)
        if picked.any():
            reason = pd.Series("", index=codes.index, dtype="str")
            reason[picked] = why(codes[picked])
            found.append(Rejection(variable, picked, reason))

    def _whole(x: pd.Series) -> pd.Series:
        return x.astype("Int64").astype("str")

    if "age" in codes:
        age = codes["age"]
        lo, hi = town.survey.min_age, town.survey.max_age
        _add("age", (age < lo) | (age > hi),
             lambda c: "age " + _whole(c["age"]) + f" outside the survey's range {lo}–{hi}")
    for var in book.variables:
        if var.type is VarType.NUMBER and var.range and var.name in codes and var.name != "age":
            x, (lo, hi), name = codes[var.name], var.range, var.name
            _add(name, (x < lo) | (x > hi), lambda c, name=name, lo=lo, hi=hi: (
                f"{name} " + c[name].astype("str") + f" outside {lo:g}–{hi:g}"))
    if {"household", "household_size"} <= set(codes):
        labels = book["household"].labels()
        kind, size = codes["household"], codes["household_size"]
        low = kind.map({k: v[0] for k, v in HOUSEHOLD_SIZE.items()})
        high = kind.map({k: v[1] for k, v in HOUSEHOLD_SIZE.items()})
        _add("household_size", (size < low) | (size > high), lambda c: (
            c["household"].map(labels).astype("str") + " but household size "
            + _whole(c["household_size"])))
    return found


def _column(columns: dict[str, str], files: str, default: str) -> str:
    names = [columns[f] for f in files.split(", ") if f in columns]
    return " / ".join(dict.fromkeys(names)) or default


def _per_file(origin: pd.DataFrame, mask: np.ndarray, files: str) -> str:
    """' (a.xlsx row 2, b.csv row 4)' when the rows come from more than one file."""
    if ", " not in files:
        return ""
    picked = origin[mask].head(10)
    return " (" + ", ".join(f"{f} row {r}" for f, r in zip(picked["file"], picked["row"],
                                                             strict=True)) + ")"


def locate(origin: pd.DataFrame, mask: np.ndarray) -> tuple[str, list[int]]:
    """File name(s) and Excel rows of the masked rows (``origin`` has columns file, row)."""
    picked = origin[mask]
    return ", ".join(dict.fromkeys(picked["file"])), picked["row"].astype(int).tolist()


def too_many(
    rejections: list[Rejection],
    origin: pd.DataFrame,
    columns: dict[str, dict[str, str]],
    n: int,
) -> None:
    """Raise when a check rejects more than 5 % of rows: probably a wrong mapping.

    ``columns``: variable → {file name: raw column}, for the message; ``n``: rows checked.
    """
    for rej in rejections:
        count = int(rej.mask.sum())
        if n and count / n > MAX_REJECTED_SHARE:
            file, rows = locate(origin, rej.mask)
            raise UserError(
                f"{count} of {n} rows fail the check on {rej.variable} "
                f"(more than {MAX_REJECTED_SHARE:.0%}): {rej.reason[rej.mask].iloc[0]}"
                + _per_file(origin, rej.mask, file),
                file=file,
                column=_column(columns.get(rej.variable, {}), file, rej.variable),
                rows=rows,
                hint="the column is probably mapped to the wrong variable, or the survey's "
                "age range (min_age/max_age) in the parameter file is wrong",
            )
