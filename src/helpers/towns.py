"""Town parameter files (``config/towns/<id>.yml``): one per municipality, typed and validated.

The format is documented in ``config/towns/README.md``; copy an example to add a town.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Mapping
from functools import cached_property, lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    field_validator,
    model_validator,
)

from helpers import paths
from helpers.ages import AgeBands, town_bands
from helpers.codebook import Codebook, Condition, Variable, VarType, load_codebook
from helpers.config import load_model, parse_yaml
from helpers.errors import ConfigError

if TYPE_CHECKING:
    from helpers.population import Population


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


class _File(_Strict):
    """A file of the town's raw-data folder and how to read it (the keys a file type uses)."""

    file: str
    sheet: str | None = None
    header_row: int | list[int] = Field(default=1)
    encoding: Literal["auto", "utf-8", "utf-8-sig", "cp932"] = "auto"
    delimiter: str = Field(default=",", min_length=1, max_length=1)

    @model_validator(mode="after")
    def _check_file(self) -> _File:
        rows = self.header_rows
        if rows[0] < 1 or list(rows) != list(range(rows[0], rows[0] + len(rows))):
            raise ValueError("header_row: give one row number (1 = the first row) or a list "
                             "of consecutive rows, e.g. [1, 2]")
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


class Source(_File):
    """One raw file and how its columns and answers map onto the standard variables (and the
    town's own questions)."""

    mode: Literal["郵送", "Web"] | None = None
    mode_column: str | None = None
    answers: Literal["labels", "codes"] = "labels"
    code_sheet: CodeSheet | None = None
    no_answer: list[str] = Field(default_factory=list)
    columns: dict[str, str | Joined | Options]
    labels: dict[str, dict[str, str | int | float]] = Field(default_factory=dict)
    ignore: list[str] = Field(default_factory=list)
    not_used: list[str] | dict[str, str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _check(self) -> Source:
        if (self.mode is None) == (self.mode_column is None):
            raise ValueError("give exactly one of 'mode' (郵送 or Web) and 'mode_column'")
        if self.code_sheet is not None and self.answers != "codes":
            raise ValueError("a code_sheet needs 'answers: codes'")
        if self.file.lower().endswith(SPSS_SUFFIXES) and self.answers != "codes":
            raise ValueError("an SPSS file holds numeric codes with value labels: set "
                             "'answers: codes'")
        return self

    @property
    def unused_questions(self) -> dict[str, str]:
        """``not_used:`` as column → the question as the report names it (its wording when
        given, else the column's header)."""
        if isinstance(self.not_used, dict):
            return dict(self.not_used)
        return {column: column for column in self.not_used}


class Report(_Strict):
    """Options of the town's report."""

    min_cell: int = Field(default=10, ge=1)
    weighting: bool = True
    allow_unweighted: bool = False
    national_round: Literal[2021, 2022, 2023, 2024] = 2022
    published: dt.date | None = None  # publication date shown on the report (else: built on)
    contact: str | None = None  # where readers can ask about the survey, as shown on the report


class PopulationFile(_File):
    """Population counts in a CSV or Excel file, as a statistics division or a 住民基本台帳
    export gives them: ``age`` (ages or age bands), the sex (``count: {男性: column, 女性:
    column}``, or ``sex:`` and one ``count:`` column), or ``district`` and ``count``. Read by
    ``helpers.population``."""

    age: str | None = None
    sex: str | None = None
    district: str | None = None
    count: str | dict[str, str]


def _file_or_counts(value: Any) -> str:
    return "file" if isinstance(value, PopulationFile) or (
        isinstance(value, dict) and "file" in value) else "counts"


SexAgeCounts = Annotated[
    Annotated[dict[str, dict[str, int]], Tag("counts")] | Annotated[PopulationFile, Tag("file")],
    Discriminator(_file_or_counts),
]
DistrictCounts = Annotated[
    Annotated[dict[str, int], Tag("counts")] | Annotated[PopulationFile, Tag("file")],
    Discriminator(_file_or_counts),
]


class Margins(_Strict):
    """Population counts for weighting: sex × age band (and district, where known), typed
    here or read from a population file."""

    source: str
    sex_age_band: SexAgeCounts
    district: DistrictCounts | None = None

    @model_validator(mode="after")
    def _check(self) -> Margins:
        table = self.sex_age_band
        if isinstance(table, PopulationFile):
            if table.age is None:
                raise ValueError("sex_age_band → age: name the column of the ages or age bands")
            if table.district is not None:
                raise ValueError("sex_age_band → district: a sex × age table takes no district "
                                 "column (give district counts under margins → district)")
            if isinstance(table.count, dict) == (table.sex is not None):
                raise ValueError("sex_age_band: give either 'count: {男性: <column>, 女性: "
                                 "<column>}' (a column per sex) or 'sex: <column>' with "
                                 "'count: <column>'")
        district = self.district
        if isinstance(district, PopulationFile):
            if district.district is None or not isinstance(district.count, str):
                raise ValueError("district: give 'district: <column of the district names>' "
                                 "and 'count: <column of the counts>'")
            if district.sex is not None:
                raise ValueError("district → sex: not used (the counts of every sex are added "
                                 "up); remove the key")
        return self

    @property
    def files(self) -> list[tuple[str, PopulationFile]]:
        """(key, population file) of the margins read from files."""
        return [(k, t) for k, t in (("sex_age_band", self.sex_age_band),
                                    ("district", self.district)) if isinstance(t, PopulationFile)]


class Question(_Strict):
    """A town's own question (not in the codebook), worded and numbered as its questionnaire
    printed it. ``asked_if``: a follow-up asked only of some respondents, e.g. ``{activity:
    [参加していない]}``; the others are not applicable (非該当), which is not a missing answer."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    question: str
    type: Literal["single", "multi", "ordinal", "number"]
    answers: dict[int, str] | None = None
    no_answer: list[int] = Field(default_factory=list)
    range: tuple[float, float] | None = None
    asked_if: dict[str, list[str | int]] | None = None

    @model_validator(mode="after")
    def _check(self) -> Question:
        if self.type == "number":
            if self.answers is not None:
                raise ValueError(f"{self.name}: a number question takes no answers (give its "
                                 "range, e.g. range: [0, 100])")
        elif not self.answers or len(self.answers) < 2:
            raise ValueError(f"{self.name}: give its answers as printed, e.g. answers: {{1: "
                             "はい, 2: いいえ}}")
        if self.range is not None and self.type != "number":
            raise ValueError(f"{self.name}: range is for number questions only")
        if self.asked_if is not None and len(self.asked_if) != 1:
            raise ValueError(f"{self.name} → asked_if: name one question and the answers that "
                             "lead to this one, e.g. asked_if: {activity: [参加していない]}")
        return self


#: What a town resolves once from its fields (cached properties of ``Town``).
RESOLVED = ("bands", "codebook", "population")


class Town(_Strict):
    """A municipality's parameter set."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_-]*$")
    name: Names
    prefecture: str
    synthetic: bool = False
    survey: Survey
    districts: list[str] = Field(default_factory=list)
    age_bands: list[str | int] | None = None
    questions: list[Question] = Field(default_factory=list)
    wording: dict[str, dict[str | int, str]] = Field(default_factory=dict)
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
        book = self.codebook
        for i, src in enumerate(self.sources):
            for var, spec in src.columns.items():
                if var not in book or (book[var].is_derived and var != "age_band"):
                    raise ValueError(
                        f"sources[{i}] → columns: 「{var}」 is neither a standard variable "
                        "of the codebook (config/codebook.yml) nor a question under "
                        "'questions:'"
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
        asked = {book[v].name for src in self.sources for v in src.columns}
        unasked = [q.name for q in self.questions if book[q.name].name not in asked]
        if unasked:
            raise ValueError(f"questions: {unasked} not mapped under any source's columns: "
                             "(map each to its column, or remove it)")
        for q in self.questions:
            parent = book[q.name].asked_if
            if parent is not None and parent.variable not in asked:
                raise ValueError(f"questions → {q.name} → asked_if: 「{book[parent.variable].key}」"
                                 " is not mapped under any source's columns:, so who was asked "
                                 "cannot be known")
        if self.margins:
            self._check_margins()
        return self

    def _check_margins(self) -> None:
        """Districts of the margins are the town's; counts typed here are read at once (a
        population file is read when the data are checked or cleaned)."""
        assert self.margins is not None
        district = self.margins.district
        if district is not None and "district" not in self.variables():
            raise ValueError("margins → district: no source maps a district column, so "
                             "these counts would never be used")
        if isinstance(district, dict):
            from helpers.cleaning.normalize import key

            given = {key(d) for d in district}
            extra = sorted(d for d in district if key(d) not in {key(x) for x in self.districts})
            if extra:
                raise ValueError(f"margins → district: not in districts: {extra}")
            absent = [d for d in self.districts if key(d) not in given]
            if absent:
                raise ValueError(f"margins → district: no count for {absent} (every district "
                                 "of districts: needs its count)")
        if isinstance(self.margins.sex_age_band, dict):
            from helpers.population import sex_age_counts

            sex_age_counts(self, self.margins.sex_age_band)

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Town:
        """A copy with ``update``; what is resolved from the fields (bands, codebook,
        population) is resolved again for it."""
        copied = super().model_copy(update=update, deep=deep)
        for name in RESOLVED:
            copied.__dict__.pop(name, None)
        return copied

    @cached_property
    def bands(self) -> AgeBands:
        """The survey's age bands: ``age_bands:``, or the national ones from ``min_age``."""
        return town_bands(self.age_bands, self.survey.min_age, self.survey.max_age)

    @cached_property
    def codebook(self) -> Codebook:
        """The town's view of the codebook, resolved once: the standard variables with its
        districts, its age bands and its wording of answers, and its own questions (named
        ``<town>_<name>`` in the dataset; the town file's names are ``aliases``). Cleaning,
        schema, analysis, tables and the site ask this, never the town file and the codebook
        separately."""
        return _resolve_codebook(self)

    @cached_property
    def population(self) -> Population | None:
        """The population margins in the town's sexes and age bands (read from the population
        files where the town names them), or None without margins."""
        from helpers.population import resolve

        return resolve(self) if self.margins is not None else None

    def variables(self) -> set[str]:
        """Variables this town asked (before derivation), as named in the dataset."""
        book = self.codebook
        return {book[var].name for src in self.sources for var in src.columns}

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


def _match(value: str | int, labels: dict[int, str], where: str) -> int:
    """The code of an answer named by its code or its label (compared as answers are)."""
    from helpers.cleaning.normalize import key

    if isinstance(value, int) and value in labels:
        return value
    found = [c for c, label in labels.items() if key(label) == key(value)]
    if not found:
        shown = "、".join(f"{c} {label}" for c, label in labels.items())
        raise ValueError(f"{where}: 「{value}」 is not one of its answers ({shown})")
    return found[0]


def _wording(town: Town, book: Codebook) -> dict[str, dict[int, str]]:
    """``wording:`` as variable → its answers with the town's wording."""
    out = {}
    for name, changes in town.wording.items():
        if name not in book or not isinstance(book[name].codes, dict) or book[name].is_derived:
            raise ValueError(f"wording: 「{name}」 is not a standard question with fixed "
                             "answers (a town's own questions are worded under 'questions:')")
        labels = book[name].labels()
        kept = book[name].keep_wording
        for old, text in changes.items():
            code = _match(old, book[name].labels(), f"wording → {name}")
            if kept is True or (isinstance(kept, list) and code in kept):
                raise ValueError(f"wording → {name}: 「{labels[code]}」 is compared with the "
                                 "national survey or across towns by its words and keeps them; "
                                 f"map your file's wording under labels: {name}: instead")
            labels[code] = text
        twice = sorted({x for x in labels.values() if list(labels.values()).count(x) > 1})
        if twice:
            raise ValueError(f"wording → {name}: two answers would read {twice}")
        out[name] = labels
    return out


def _own_variables(town: Town, book: Codebook) -> tuple[list[Variable], dict[str, str]]:
    """The town's own questions as variables named ``<town>_<name>``, and the aliases."""
    prefix = town.id.replace("-", "_")
    aliases = {q.name: f"{prefix}_{q.name}" for q in town.questions}
    variables: list[Variable] = []
    for i, q in enumerate(town.questions):
        if q.name in book:
            raise ValueError(f"questions[{i}]: 「{q.name}」 is a standard variable: map its "
                             "column under columns: instead of declaring it")
        if aliases[q.name] in book:
            raise ValueError(f"questions[{i}] ({q.name}): its dataset name 「{aliases[q.name]}」 "
                             "is a standard variable's: choose another name")
        try:
            variables.append(Variable(
                name=aliases[q.name], section="own", question=q.question,
                type=VarType(q.type), codes=q.answers, no_answer=q.no_answer, range=q.range,
                origin="municipal", alias=q.name,
            ))
        except ValueError as exc:
            raise ValueError(f"questions[{i}] ({q.name}): {exc}") from None
    names = [q.name for q in town.questions]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise ValueError(f"questions: names used twice: {twice}")
    return variables, aliases


def _condition(q: Question, i: int, book: Codebook) -> Condition | None:
    """A follow-up's ``asked_if`` as the parent variable's name and answer codes."""
    if q.asked_if is None:
        return None
    (parent, answers), = q.asked_if.items()
    where = f"questions[{i}] ({q.name}) → asked_if → {parent}"
    if parent not in book or not book[parent].is_categorical or parent == q.name:
        raise ValueError(f"{where}: name another question with answers (a standard variable "
                         "or one of questions:)")
    labels = book[parent].labels()
    return Condition(variable=book[parent].name,
                     codes=sorted({_match(a, labels, where) for a in answers}))


def _resolve_codebook(town: Town) -> Codebook:
    """See ``Town.codebook``."""
    book = load_codebook()
    wording = _wording(town, book)
    variables = []
    for var in book.variables:
        if var.name == "district":
            var = var.model_copy(update={"codes": dict(enumerate(town.districts, start=1))})
        elif var.name in wording:
            var = var.model_copy(update={"codes": wording[var.name]})
        variables.append(var)
    own, aliases = _own_variables(town, book)
    partial = Codebook(variables=[*variables, *own], derived=book.derived, aliases=aliases)
    own = [var.model_copy(update={"asked_if": _condition(q, i, partial)})
           for i, (q, var) in enumerate(zip(town.questions, own, strict=True))]
    bands = town.bands
    derived = []
    for var in book.derived:
        if var.name == "age_band" and var.derive is not None:
            var = var.model_copy(update={
                "codes": dict(enumerate(bands.labels, start=1)),
                "derive": var.derive.model_copy(update={"edges": bands.edges}),
            })
        derived.append(var)
    return Codebook(variables=[*variables, *own], derived=derived, aliases=aliases)


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
    stat = path.stat()  # the cache follows the file: an edited town file is read again
    return _load_town(path.resolve(), (stat.st_mtime_ns, stat.st_size))


def open_decisions(raw: Any, path: tuple = ()) -> list[str]:
    """What a drafted town file (``tsunagari init``) still leaves to decide: every value
    written TODO, and every item of a ``todo:`` list."""
    if isinstance(raw, dict):
        return [x for k, v in raw.items() for x in open_decisions(v, (*path, k))]
    if isinstance(raw, list):
        if path and path[-1] == "todo":
            return [f"{_where(path)}: {item}" for item in raw]
        return [x for i, v in enumerate(raw) for x in open_decisions(v, (*path, i))]
    return [_where(path)] if raw == "TODO" else []


def _where(path: tuple) -> str:
    out = ""
    for p in path:
        out += f"[{p}]" if isinstance(p, int) else (" → " if out else "") + str(p)
    return out


@lru_cache(maxsize=64)
def _load_town(path: Path, stamp: tuple[int, int]) -> Town:
    left = open_decisions(parse_yaml(path))
    if left:
        shown = "\n  - ".join(left[:25]) + (f"\n  … and {len(left) - 25} more"
                                            if len(left) > 25 else "")
        raise ConfigError(
            f"this draft still has {len(left)} decision(s) to make:\n  - {shown}",
            file=path,
            hint="fill in each TODO; for each todo: item, map the column under columns:, "
            "declare it under questions:, or list it under not_used: (a question the report "
            "leaves out) or ignore: (not a question), or add labels: for the answers; then "
            "delete the todo: lists (config/towns/README.md explains every key)",
        )
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
