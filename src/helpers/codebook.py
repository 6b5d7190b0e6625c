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


class Variable(BaseModel):
    """One standard variable of the survey."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    section: Literal[
        "response", "attributes", "loneliness", "isolation", "wellbeing", "smalltown", "season"
    ]
    question: str
    type: VarType
    codes: dict[int, str] | Literal["town"] | None = None
    no_answer: list[int] = Field(default_factory=list)
    range: tuple[float, float] | None = None
    restricted: bool = False
    origin: Literal["national", "municipal", "survey"] = "national"
    derive: Derivation | None = None

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
        return self

    @property
    def is_categorical(self) -> bool:
        return self.type in CATEGORICAL

    @property
    def is_derived(self) -> bool:
        return self.derive is not None

    def labels(self, districts: list[str] | None = None) -> dict[int, str]:
        """Codes and labels; for ``codes: town`` the town's districts numbered from 1."""
        if self.codes == "town":
            return {i: d for i, d in enumerate(districts or [], start=1)}
        return dict(self.codes or {})

    def columns(self) -> list[str]:
        """Columns in the standard dataset: one per option for a multi-answer item."""
        if self.type is VarType.MULTI:
            return [f"{self.name}__{code}" for code in self.labels()]
        return [self.name]


class Codebook(BaseModel):
    """All standard variables, raw and derived, in questionnaire order."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    variables: list[Variable]
    derived: list[Variable] = Field(default_factory=list)

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
        for v in self.all:
            if v.name == name:
                return v
        raise KeyError(name)

    def __contains__(self, name: object) -> bool:
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
