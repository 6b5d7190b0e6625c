"""The survey standard: load ``config/codebook.yml`` into typed, validated objects."""

from __future__ import annotations

from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from helpers import paths
from helpers.config import load_model


class VarType(StrEnum):
    SINGLE = "single"
    MULTI = "multi"
    ORDINAL = "ordinal"
    NUMBER = "number"
    TEXT = "text"
    ID = "id"
    FLAG = "flag"


CATEGORICAL = {VarType.SINGLE, VarType.MULTI, VarType.ORDINAL, VarType.FLAG}


class Derivation(BaseModel):
    """How a derived variable is computed from others (see ``helpers.derive``)."""

    model_config = ConfigDict(extra="forbid")

    rule: Literal["codes_in", "sum", "bins", "difference", "greater_than"]
    inputs: list[str] = Field(alias="from", min_length=1)
    codes: list[int] | None = None
    edges: list[float] | None = None
    value: float | None = None


class Condition(BaseModel):
    """Who is asked a follow-up question: respondents whose answer to ``variable`` is one of
    ``codes`` (for a multi-answer item: who chose one of these options). The others are not
    applicable (非該当), which is not the same as not answering."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    variable: str
    codes: list[int] = Field(min_length=1)


class Variable(BaseModel):
    """One variable of the survey: a standard one, or a town's own question (``section: own``,
    resolved from its parameter file, see ``helpers.towns``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    section: Literal[
        "response", "attributes", "loneliness", "isolation", "wellbeing", "smalltown", "season",
        "own",
    ]
    question: str
    headings: list[str] = Field(default_factory=list)
    type: VarType
    codes: dict[int, str] | Literal["town"] | None = None
    no_answer: list[int] = Field(default_factory=list)
    range: tuple[float, float] | None = None
    restricted: bool = False
    origin: Literal["national", "municipal", "survey"] = "national"
    keep_wording: bool | list[int] = False
    derive: Derivation | None = None
    asked_if: Condition | None = None
    #: the name a town file uses for the variable, where it differs (a town's own question)
    alias: str | None = None

    @model_validator(mode="after")
    def _check(self) -> Variable:
        if self.type in CATEGORICAL and self.codes is None:
            raise ValueError(f"type {self.type.value} needs codes")
        if self.type not in CATEGORICAL and self.codes is not None:
            raise ValueError(f"type {self.type.value} takes no codes")
        if isinstance(self.codes, dict):
            labels = list(self.codes.values())
            dup = sorted({x for x in labels if labels.count(x) > 1})
            if dup:
                raise ValueError(f"labels used twice: {dup}")
            clash = set(self.no_answer) & set(self.codes)
            if clash:
                raise ValueError(f"codes {sorted(clash)} are both answers and no_answer")
        if self.range is not None and self.range[0] > self.range[1]:
            raise ValueError(f"range {list(self.range)} has min above max")
        if self.derive and self.derive.rule == "bins" and not self.derive.edges and (
                self.codes != "town"):
            raise ValueError("a 'bins' rule needs edges (or 'codes: town': the town's bands)")
        return self

    @property
    def is_categorical(self) -> bool:
        return self.type in CATEGORICAL

    @property
    def is_derived(self) -> bool:
        return self.derive is not None

    @property
    def key(self) -> str:
        """The variable's name in a town parameter file (``columns:``, ``labels:``)."""
        return self.alias or self.name

    def labels(self) -> dict[int, str]:
        """Codes and labels; empty for ``codes: town`` until resolved for a town (its districts,
        its age bands: see ``Town.codebook``)."""
        return dict(self.codes) if isinstance(self.codes, dict) else {}

    def columns(self) -> list[str]:
        """Columns in the standard dataset: one per option for a multi-answer item."""
        if self.type is VarType.MULTI:
            return [f"{self.name}__{code}" for code in self.labels()]
        return [self.name]


class Codebook(BaseModel):
    """All variables, raw and derived, in questionnaire order: the standard codebook, or a
    town's view of it (``Town.codebook``: its districts, age bands, own questions and answer
    wording, with ``aliases`` from the names its parameter file uses to the dataset's)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    variables: list[Variable]
    derived: list[Variable] = Field(default_factory=list)
    aliases: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _check(self) -> Codebook:
        names = [v.name for v in self.all]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"variable names used twice: {dup}")
        for v in self.variables:
            if v.derive is not None:
                raise ValueError(f"{v.name}: a 'derive' rule belongs under 'derived:'")
        known = set(names)
        for v in self.derived:
            if v.derive is None:
                raise ValueError(f"{v.name}: a derived variable needs a 'derive' rule")
            missing = [i for i in v.derive.inputs if i not in known]
            if missing:
                raise ValueError(f"{v.name}: derives from unknown variables {missing}")
        return self

    @property
    def all(self) -> list[Variable]:
        return [*self.variables, *self.derived]

    def __getitem__(self, name: str) -> Variable:
        name = self.aliases.get(name, name)
        for v in self.all:
            if v.name == name:
                return v
        raise KeyError(name)

    def __contains__(self, name: object) -> bool:
        name = self.aliases.get(name, name) if isinstance(name, str) else name
        return any(v.name == name for v in self.all)

    def section(self, section: str) -> list[Variable]:
        return [v for v in self.all if v.section == section]

    @property
    def public(self) -> list[Variable]:
        """Variables that may appear in the standard dataset and in reports."""
        return [v for v in self.all if not v.restricted]


def load_codebook(path: Path | str | None = None) -> Codebook:
    """Load and validate the codebook; a bad entry raises ``ConfigError`` naming it."""
    path = Path(path) if path is not None else paths.CODEBOOK
    return _load_codebook(path.resolve())


@lru_cache(maxsize=4)
def _load_codebook(path: Path) -> Codebook:
    return load_model(
        path,
        Codebook,
        what="codebook entry",
        hint="compare the entry with the field list at the top of the codebook",
    )
