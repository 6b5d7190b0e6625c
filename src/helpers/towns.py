"""Town parameter files (``config/towns/<id>.yml``): one per municipality, typed and validated.

The format is documented in ``config/towns/README.md``; copy an example to add a town.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from helpers import paths
from helpers.codebook import Codebook, VarType, load_codebook
from helpers.config import load_model
from helpers.errors import ConfigError


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Names(_Strict):
    ja: str
    en: str


class Survey(_Strict):
    """What was asked of whom, when and how."""

    title: str
    population: int = Field(gt=0)
    population_basis: str | None = None
    target: str
    min_age: int = Field(ge=0, le=120)
    max_age: int = Field(default=110, ge=0, le=130)
    sampling: str
    distributed: int = Field(gt=0)
    returned: int = Field(ge=0)
    start: dt.date
    end: dt.date
    modes: list[Literal["郵送", "Web"]] = Field(min_length=1)

    @model_validator(mode="after")
    def _check(self) -> Survey:
        if self.returned > self.distributed:
            raise ValueError("returned is larger than distributed")
        if self.end < self.start:
            raise ValueError("end is before start")
        return self

    @property
    def response_rate(self) -> float:
        return self.returned / self.distributed


class Joined(_Strict):
    """A multi-answer item written as one cell of joined labels, e.g. 「買い物、通院」."""

    joined: str
    sep: str = "、"


class Options(_Strict):
    """A multi-answer item written as one 0/1 column per option: code → raw column."""

    options: dict[int, str]


class CodeSheet(_Strict):
    """A vendor's code sheet: question code, numeric answer code, answer label."""

    file: str
    sheet: str | None = None
    question: str
    code: str
    label: str


SPSS_SUFFIXES = (".sav", ".zsav")
EXCEL_SUFFIXES = (".xlsx", ".xlsm", ".xls")
CSV_SUFFIXES = (".csv", ".txt", ".tsv")


class Source(_Strict):
    """One raw file and how its columns and answers map onto the standard variables."""

    file: str
    mode: Literal["郵送", "Web"] | None = None
    mode_column: str | None = None
    sheet: str | None = None
    header_row: int | list[int] = Field(default=1)
    encoding: Literal["auto", "utf-8", "utf-8-sig", "cp932"] = "auto"
    delimiter: str = Field(default=",", min_length=1, max_length=1)
    answers: Literal["labels", "codes"] = "labels"
    code_sheet: CodeSheet | None = None
    no_answer: list[str] = Field(default_factory=list)
    columns: dict[str, str | Joined | Options]
    labels: dict[str, dict[str, str | int | float]] = Field(default_factory=dict)
    ignore: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _check(self) -> Source:
        if (self.mode is None) == (self.mode_column is None):
            raise ValueError("give exactly one of 'mode' (郵送 or Web) and 'mode_column'")
        if self.code_sheet is not None and self.answers != "codes":
            raise ValueError("a code_sheet needs 'answers: codes'")
        rows = self.header_rows
        if rows[0] < 1 or list(rows) != list(range(rows[0], rows[0] + len(rows))):
            raise ValueError("header_row: give one row number (1 = the first row) or a list "
                             "of consecutive rows, e.g. [1, 2]")
        if self.file.lower().endswith(SPSS_SUFFIXES) and self.answers != "codes":
            raise ValueError("an SPSS file holds numeric codes with value labels: set "
                             "'answers: codes'")
        self._check_format_keys()
        return self

    def _check_format_keys(self) -> None:
        """Keys that only some file types use must not be set for another (they would be
        silently ignored)."""
        suffix = Path(self.file).suffix.lower()
        unused = []
        if self.sheet is not None and suffix not in EXCEL_SUFFIXES:
            unused.append("sheet")
        if suffix not in CSV_SUFFIXES:
            unused += [k for k in ("encoding", "delimiter") if k in self.model_fields_set]
        if suffix in SPSS_SUFFIXES and "header_row" in self.model_fields_set:
            unused.append("header_row")
        if unused:
            kind = suffix or "type-less"
            raise ValueError(f"{', '.join(unused)}: not used for a {kind} file ({self.file}); "
                             "remove the key")

    @property
    def header_rows(self) -> tuple[int, ...]:
        """The header's rows as counted in Excel (answers start on the row after the last)."""
        rows = self.header_row if isinstance(self.header_row, list) else [self.header_row]
        return tuple(rows) if rows else (0,)


class Report(_Strict):
    """Options of the town's report."""

    min_cell: int = Field(default=10, ge=1)
    weighting: bool = True
    allow_unweighted: bool = False
    national_round: Literal[2021, 2022, 2023, 2024] = 2022


class Margins(_Strict):
    """Population counts for weighting: sex × age band (and district, where known)."""

    source: str
    sex_age_band: dict[str, dict[str, int]]
    district: dict[str, int] | None = None


class Town(_Strict):
    """A municipality's parameter set."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_-]*$")
    name: Names
    prefecture: str
    synthetic: bool = False
    survey: Survey
    districts: list[str] = Field(default_factory=list)
    sources: list[Source] = Field(min_length=1)
    margins: Margins | None = None
    report: Report = Report()

    @field_validator("districts")
    @classmethod
    def _unique(cls, v: list[str]) -> list[str]:
        dup = sorted({d for d in v if v.count(d) > 1})
        if dup:
            raise ValueError(f"districts listed twice: {dup}")
        return v

    @model_validator(mode="after")
    def _check(self) -> Town:
        book = load_codebook()
        for i, src in enumerate(self.sources):
            for var, spec in src.columns.items():
                if var not in book or (book[var].is_derived and var != "age_band"):
                    raise ValueError(
                        f"sources[{i}] → columns: 「{var}」 is not a standard variable "
                        "of the codebook (config/codebook.yml)"
                    )
                is_multi = book[var].type is VarType.MULTI
                if is_multi != isinstance(spec, (Joined, Options)):
                    kind = "a multi-answer item" if is_multi else "not a multi-answer item"
                    raise ValueError(f"sources[{i}] → columns → {var}: {kind}")
            unknown = [v for v in src.labels if v not in book]
            if unknown:
                raise ValueError(f"sources[{i}] → labels: unknown variables {unknown}")
            mapped = set(src.columns) | ({"mode"} if src.mode_column else set())
            unused = [v for v in src.labels if v not in mapped]
            if unused:
                raise ValueError(f"sources[{i}] → labels: {unused} not mapped under this "
                                 "source's columns: (the labels would never be used)")
            if "district" in src.columns and not self.districts:
                raise ValueError("a district column is mapped but 'districts:' is empty")
        if self.margins:
            self._check_margins(book)
        return self

    def _check_margins(self, book: Codebook) -> None:
        """Every margin category names a known category, and every known category has one."""
        assert self.margins is not None
        district = self.margins.district
        if district is not None:
            if "district" not in self.variables():
                raise ValueError("margins → district: no source maps a district column, so "
                                 "these counts would never be used")
            extra = sorted(set(district) - set(self.districts))
            if extra:
                raise ValueError(f"margins → district: not in districts: {extra}")
            absent = [d for d in self.districts if d not in district]
            if absent:
                raise ValueError(f"margins → district: no count for {absent} (every district "
                                 "of districts: needs its count)")
        book_ages = set(book["age_band"].labels().values())
        for sex, bands in self.margins.sex_age_band.items():
            if sex not in ("男性", "女性"):
                raise ValueError(f"margins → sex_age_band: 「{sex}」 is not 男性 or 女性")
            bad = sorted(set(bands) - book_ages)
            if bad:
                raise ValueError(f"margins → sex_age_band → {sex}: unknown age bands {bad}")
        absent = [s for s in ("男性", "女性") if s not in self.margins.sex_age_band]
        if absent:
            raise ValueError(f"margins → sex_age_band: no counts for {absent}")

    def variables(self) -> set[str]:
        """Standard variables this town asked (before derivation)."""
        return {var for src in self.sources for var in src.columns}

    @property
    def raw_dir(self) -> Path:
        return paths.raw_dir(self.id)

    def raw_file(self, name: str, key: str, raw_dir: Path | None = None) -> Path:
        """The raw file ``name`` given under ``key`` (a ``file:`` of this town file), checked to
        lie inside the town's raw-data folder (``raw_dir``, by default ``data/raw/<id>/``).

        Links and ``..`` are resolved first: an absolute path, a ``..`` that climbs out or a link
        pointing elsewhere is a ``ConfigError`` naming the key and the path. Every ``file:`` key
        is read through here.
        """
        folder = Path(raw_dir) if raw_dir is not None else self.raw_dir
        path = folder / name
        target = path.resolve()
        if not target.is_relative_to(folder.resolve()):
            shown = folder.relative_to(paths.ROOT) if folder.is_relative_to(paths.ROOT) else folder
            raise ConfigError(
                f"{key}: 「{name}」 is outside the town's raw-data folder {shown}/ "
                f"(it leads to {target})",
                file=town_file(self.id),
                hint=f"copy the file into {shown}/ and write its name relative to that folder, "
                "e.g. 'file: export.csv' (links and '..' may not lead out of it)",
            )
        return path


def town_file(town_id: str) -> Path:
    return paths.TOWNS / f"{town_id}.yml"


def list_towns() -> list[str]:
    """Ids of every town with a parameter file, sorted."""
    return sorted(p.stem for p in paths.TOWNS.glob("*.yml"))


def load_town(town: str | Path) -> Town:
    """Load a town by id or parameter-file path; mistakes raise ``ConfigError`` naming the key."""
    path = Path(town) if str(town).endswith((".yml", ".yaml")) else town_file(str(town))
    if not path.exists():
        known = ", ".join(list_towns()) or "none"
        raise ConfigError(
            "no parameter file for this town",
            file=path,
            hint=f"towns with a parameter file: {known}; copy one in config/towns/ to add a town",
        )
    return _load_town(path.resolve())


@lru_cache(maxsize=64)
def _load_town(path: Path) -> Town:
    town = load_model(
        path,
        Town,
        what="parameter file",
        hint="compare with config/towns/README.md or an example town file",
    )
    if town.id != path.stem:
        raise ConfigError(
            f"id 「{town.id}」 does not match the file name",
            file=path,
            hint=f"rename the file to {town.id}.yml or set id: {path.stem}",
        )
    return town


def town_labels(towns: Iterable[tuple[str, str, str]]) -> dict[str, str]:
    """Town id → how pages name it: its name, with the prefecture when another town has the
    same name (府中市 is in 東京都 and in 広島県). ``towns`` are (id, name, prefecture).

    >>> town_labels([("fuchu-tokyo", "府中市", "東京都"), ("fuchu-hiroshima", "府中市", "広島県"),
    ...              ("iiyama", "飯山市", "長野県")])
    {'fuchu-tokyo': '府中市（東京都）', 'fuchu-hiroshima': '府中市（広島県）', 'iiyama': '飯山市'}
    """
    towns = list(towns)
    clash = Counter(name for _, name, _ in towns)
    return {i: f"{name}（{pref}）" if clash[name] > 1 else name for i, name, pref in towns}
