"""Checks on the mapped data: duplicated respondents, impossible values and consistency.

An impossible answer (age 3, age 130, 単身世帯 with 3 people) is set to missing and reported;
the respondent stays. Only when a column has many of them is the file refused (the column is
probably mapped wrongly). All checks are vectorised over the whole frame of numeric codes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from helpers.codebook import Codebook, VarType
from helpers.derive import applicable
from helpers.errors import UserError
from helpers.towns import Town

if TYPE_CHECKING:
    from helpers.population import Population

# household code → (min, max) household size consistent with it
HOUSEHOLD_SIZE = {1: (1, 1), 2: (2, 2), 3: (2, 15), 4: (3, 15)}
MAX_REJECTED_SHARE = 0.05


@dataclass
class Invalid:
    """Answers failing a check: a boolean mask of rows, the variables whose answers are set to
    missing (the first is the one checked) and the reason per row."""

    variables: tuple[str, ...]
    mask: np.ndarray
    reason: pd.Series

    @property
    def variable(self) -> str:
        return self.variables[0]


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


def value_checks(codes: pd.DataFrame, town: Town, book: Codebook) -> list[Invalid]:
    """Ages outside the survey's range, numbers out of range, inconsistent households, answers
    to a follow-up question from respondents it was not asked of (``book``: the town's
    codebook)."""
    found: list[Invalid] = []

    def _add(variable: str | tuple[str, ...], mask: pd.Series,
             why: Callable[[pd.DataFrame], pd.Series]) -> None:
        picked = mask.fillna(False).to_numpy(dtype=bool)
        if picked.any():
            reason = pd.Series("", index=codes.index, dtype="str")
            reason[picked] = why(codes[picked])
            names = (variable,) if isinstance(variable, str) else variable
            found.append(Invalid(names, picked, reason))

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
                f"{name} " + c[name].map("{:g}".format) + f" outside {lo:g}–{hi:g}"))
    if {"household", "household_size"} <= set(codes):
        labels = book["household"].labels()
        kind, size = codes["household"], codes["household_size"]
        low = kind.map({k: v[0] for k, v in HOUSEHOLD_SIZE.items()})
        high = kind.map({k: v[1] for k, v in HOUSEHOLD_SIZE.items()})
        _add(("household_size", "household"), (size < low) | (size > high), lambda c: (
            c["household"].map(labels).astype("str") + " but household size "
            + _whole(c["household_size"])))
    for var in book.variables:
        columns = [c for c in var.columns() if c in codes]
        if var.asked_if is None or not columns:
            continue
        parent = book[var.asked_if.variable]
        answers = "」「".join(parent.labels()[c] for c in var.asked_if.codes)
        answered = codes[columns].notna().any(axis=1) if var.type is not VarType.MULTI else (
            codes[columns].eq(1).any(axis=1))
        _add(var.name, answered & ~applicable(codes, var, book),
             lambda c, q=var.key, p=parent.key, a=answers: pd.Series(
                 f"{q} answered, but it is asked only of those answering {p} 「{a}」 "
                 "(not applicable, 非該当)", index=c.index))
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
    invalid: list[Invalid],
    origin: pd.DataFrame,
    columns: dict[str, dict[str, str]],
    codes: pd.DataFrame,
    book: Codebook,
) -> None:
    """Raise when a check fails more than 5 % of a file's answers to a question (and more than
    two): the column is probably mapped wrongly, so no answer of it can be trusted.

    ``columns``: variable → {file name: raw column}, for the message; ``codes``: the mapped
    codes; ``book``: the town's codebook.
    """
    for inv in invalid:
        for file in dict.fromkeys(origin.loc[inv.mask, "file"]):
            in_file = (origin["file"] == file).to_numpy()
            mask = inv.mask & in_file
            count = int(mask.sum())
            answers = codes[[c for c in book[inv.variable].columns() if c in codes]]
            n = int((answers.notna().any(axis=1).to_numpy() & in_file).sum())
            if count > 2 and count / n > MAX_REJECTED_SHARE:
                raise UserError(
                    f"{count} of {n} answers to {inv.variable} fail the check (more than "
                    f"{MAX_REJECTED_SHARE:.0%}): {inv.reason[mask].iloc[0]}",
                    file=file,
                    column=_column(columns.get(inv.variable, {}), file, inv.variable),
                    rows=origin.loc[mask, "row"].astype(int).tolist(),
                    hint="the column is probably mapped to the wrong variable, or the survey's "
                    "age range (min_age/max_age) in the parameter file is wrong",
                )


def margin_problems(margins: Population | None, survey: pd.DataFrame) -> list[str]:
    """Where the population margins and the data do not fit: a category of the data without a
    count, a count without a respondent. Empty without margins."""
    if margins is None:
        return []
    if "age_band" not in survey or "sex" not in survey:
        return ["margins → sex_age_band: the data have no sex or no age (band), so the "
                "counts cannot be used"]
    problems = []
    known = survey[survey["sex"].isin(list(margins.sex_age_band)) & survey["age_band"].notna()]
    cells = known.groupby(["sex", "age_band"], observed=True).size()
    for (sex, band), n in cells.items():
        if not margins.sex_age_band.get(str(sex), {}).get(str(band)):
            problems.append(f"margins → sex_age_band → {sex}: no count for 「{band}」, but {n} "
                            "respondent(s) are in that cell")
    for sex, bands in margins.sex_age_band.items():
        for band, count in bands.items():
            if count and not cells.get((sex, band), 0):
                problems.append(f"margins → sex_age_band → {sex} → {band} ({count:,} residents):"
                                " no respondent is in this cell")
    if margins.district and "district" in survey:
        seen = survey["district"].value_counts()
        for district, count in margins.district.items():
            if count and not seen.get(district, 0):
                problems.append(f"margins → district → {district} ({count:,} residents): no "
                                "respondent lives there")
            if seen.get(district, 0) and not count:
                problems.append(f"margins → district → {district}: count 0, but "
                                f"{seen[district]} respondent(s) live there")
    return problems
