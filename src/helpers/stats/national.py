"""National reference figures (国の基礎調査) from ``config/national_reference.yml``."""

from __future__ import annotations

from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, model_validator

from helpers import paths
from helpers.codebook import load_codebook
from helpers.config import load_model

NO_ANSWER = "無回答"


def _share(pct: float | None) -> float:
    """Published percentage → proportion without binary noise (40.3 → 0.403); None → NaN."""
    return float("nan") if pct is None else float(Decimal(repr(pct)) / 100)


NATIONAL_REFERENCE = paths.CONFIG / "national_reference.yml"


class GroupFigure(BaseModel):
    """One published figure for a group (sex, age band or another attribute)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    measure: Literal["often_always", "lonely", "ucla_high"]
    sex: str
    age_band: str
    group: str | None = None
    pct: float = Field(ge=0, le=100)
    official: bool = True
    note: str | None = None


class Round(BaseModel):
    """Figures of one survey round (percent, as published)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    responses: int
    response_rate: float
    fieldwork: str
    source: str
    direct: dict[str, float | None]
    lonely: float
    ucla_high: float | None = None
    groups: list[GroupFigure] = Field(default_factory=list)


class OtherSurvey(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    period: str
    design: str | None = None
    direct: dict[str, float] | None = None
    lonely: float | None = None


class NationalReferenceFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    survey: str
    population: str
    rounds: dict[int, Round]
    other_surveys: list[OtherSurvey] = Field(default_factory=list)

    @model_validator(mode="after")
    def _labels(self) -> NationalReferenceFile:
        wanted = [*load_codebook()["lonely_direct"].labels().values(), NO_ANSWER]
        for year, r in self.rounds.items():
            if sorted(r.direct) != sorted(wanted):
                raise ValueError(f"round {year}: direct labels must be {wanted}")
        return self


class NationalReference:
    """Published national figures by survey round (the year of fieldwork start, e.g. 2022).

    Shares are returned as proportions 0–1 (``p``), like every estimate of ``helpers.stats``;
    the DataFrames also carry the published percentage (``pct``).
    """

    def __init__(self, data: NationalReferenceFile) -> None:
        self.data = data

    @property
    def rounds(self) -> list[int]:
        """Available rounds, oldest first."""
        return sorted(self.data.rounds)

    @property
    def latest(self) -> int:
        """The most recent round."""
        return self.rounds[-1]

    def round(self, year: int) -> Round:
        """All figures of one round; ``ValueError`` for a round not in the file."""
        try:
            return self.data.rounds[year]
        except KeyError:
            raise ValueError(
                f"no national figures for round {year}; available: {self.rounds}"
            ) from None

    def direct_item(self, year: int, include_no_answer: bool = False) -> pd.DataFrame:
        """Distribution of the direct loneliness item: ``label`` (codebook order), ``pct``, ``p``.

        Categories not published for that round are NaN. Percentages are of all respondents,
        so they include 無回答 (add it with ``include_no_answer``).
        """
        labels = list(load_codebook()["lonely_direct"].labels().values())
        shown = [*labels, NO_ANSWER] if include_no_answer else labels
        pct = [self.round(year).direct[k] for k in shown]
        out = pd.DataFrame({"label": pd.Categorical(shown, categories=shown, ordered=True)})
        out["pct"] = pd.array(pct, dtype="Float64").astype(float)
        out["p"] = [_share(v) for v in pct]
        return out

    def lonely_rate(self, year: int) -> float:
        """Share feeling lonely (たまに・時々・しばしば/常に), proportion of all respondents."""
        return _share(self.round(year).lonely)

    def often_always(self, year: int) -> float:
        """Share answering しばしばある・常にある."""
        return _share(self.round(year).direct["しばしばある・常にある"])

    def ucla_high(self, year: int) -> float:
        """Share with a UCLA 3-item score of 10–12; ``ValueError`` when not published."""
        value = self.round(year).ucla_high
        if value is None:
            have = [y for y in self.rounds if self.data.rounds[y].ucla_high is not None]
            raise ValueError(f"no national UCLA figure for round {year}; available: {have}")
        return _share(value)

    def groups(self, year: int) -> pd.DataFrame:
        """Published group figures: ``measure``, ``sex``, ``age_band``, ``group``, ``pct``,
        ``p``, ``official``, ``note`` ("全体" = all of that dimension); empty if none."""
        cols = ["measure", "sex", "age_band", "group", "pct", "official", "note"]
        rows = [g.model_dump() for g in self.round(year).groups]
        out = pd.DataFrame(rows, columns=cols)
        out["pct"] = out["pct"].astype(float)
        out.insert(5, "p", [_share(v) for v in out["pct"]])
        return out

    def source(self, year: int) -> str:
        """Citation of the round's official summary."""
        r = self.round(year)
        return f"{r.source}（{self.data.survey}、{r.name}、回答{r.responses:,}人）"


def national_reference(path: Path | str | None = None) -> NationalReference:
    """Load the national reference figures (default ``config/national_reference.yml``)."""
    return _load(Path(path or NATIONAL_REFERENCE).resolve())


@lru_cache(maxsize=2)
def _load(path: Path) -> NationalReference:
    return NationalReference(
        load_model(
            path,
            NationalReferenceFile,
            what="national reference",
            hint="compare with the sources cited at the top of the file",
        )
    )
