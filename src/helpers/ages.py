"""Age bands as a survey prints them: the town's own (``age_bands:`` of its parameter file) or,
by default, the national survey's 10-year bands starting at the survey's youngest age.

A band is written as the questionnaire printed it (「18～29歳」, 「30代」, 「19歳以下」,
「80歳以上」) and read into its ages (``parse_band``). Exact ages fall into a band by its edges;
a vendor's or a population table's band maps onto the one town band that holds it
(``AgeBands.code_of``).

>>> bands = town_bands(["18～29歳", "30代", "40歳以上"], min_age=18, max_age=110)
>>> bands.labels, bands.edges
(['18～29歳', '30代', '40歳以上'], [18.0, 30.0, 40.0, 200.0])
>>> bands.code_of(*parse_band("20～24歳", 18, 110)), bands.code_of(*parse_band("25～34歳", 18, 110))
(1, None)
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

#: Lower edges of the national survey's bands above its youngest band (16～19歳, 20～29歳 …).
NATIONAL_EDGES = (20, 30, 40, 50, 60, 70, 80)
_DASH = "~～〜－―ー‐-"
_RANGE = re.compile(rf"^(\d+)歳?[{_DASH}](\d+)歳?$")
_DECADE = re.compile(r"^(\d+)歳?代$")
_FROM = re.compile(rf"^(\d+)歳?(以上|超|[{_DASH}]|\+)$")
_UP_TO = re.compile(rf"^(?:(\d+)歳?(以下|未満|まで)|[{_DASH}](\d+)歳?)$")
_ONE = re.compile(r"^(\d+)歳?$")


def _text(value: object) -> str:
    text = unicodedata.normalize("NFKC", str(value))
    return re.sub(r"\s+", "", text)


def parse_band(text: object, min_age: int, max_age: int) -> tuple[int, int] | None:
    """The ages (first, last) a band label covers, or None if it is not an age band.

    A band open below (「19歳以下」) starts at ``min_age``, one open above (「80歳以上」) ends at
    ``max_age``; a single number is one age.

    >>> [parse_band(t, 18, 110) for t in ("18～29歳", "２０代", "19歳以下", "80歳以上", "35")]
    [(18, 29), (20, 29), (18, 19), (80, 110), (35, 35)]
    >>> parse_band("男性", 18, 110) is None
    True
    """
    s = _text(text)
    if m := _RANGE.match(s):
        return int(m[1]), int(m[2])
    if m := _DECADE.match(s):
        return int(m[1]), int(m[1]) + 9
    if m := _FROM.match(s):
        return int(m[1]) + (m[2] == "超"), max_age
    if m := _UP_TO.match(s):
        last = int(m[1] or m[3])
        return min_age, last - 1 if m[2] == "未満" else last
    if m := _ONE.match(s):
        return int(m[1]), int(m[1])
    return None


def band_label(first: int, last: int | None) -> str:
    """「18～29歳」, or 「80歳以上」 for a band open above (``last`` None)."""
    return f"{first}歳以上" if last is None else f"{first}～{last}歳"


@dataclass(frozen=True)
class AgeBand:
    """One band: its first age, its last age (None: open above) and its label as printed."""

    first: int
    last: int | None
    label: str

    def holds(self, first: int, last: int) -> bool:
        return self.first <= first and (self.last is None or last <= self.last)


@dataclass(frozen=True)
class AgeBands:
    """A survey's age bands in order (codes 1, 2, … in the standard dataset)."""

    bands: tuple[AgeBand, ...]

    @property
    def labels(self) -> list[str]:
        return [b.label for b in self.bands]

    @property
    def edges(self) -> list[float]:
        """Bin edges for exact ages: each band's first age, then one past the last band."""
        end = self.bands[-1].last
        return [float(b.first) for b in self.bands] + [float(end + 1 if end is not None else
                                                              200)]

    def code_of(self, first: int, last: int) -> int | None:
        """Code (1-based) of the band holding ages ``first``–``last``; None when no band holds
        them all (they straddle two bands or lie outside)."""
        for code, band in enumerate(self.bands, start=1):
            if band.holds(first, last):
                return code
        return None

    def codes(self, ages: np.ndarray) -> np.ndarray:
        """Band code of each exact age (NaN outside every band or missing)."""
        ages = np.asarray(ages, dtype=float)
        edges = np.asarray(self.edges)
        code = np.searchsorted(edges, ages, side="right").astype(float)
        code[(ages < edges[0]) | (ages >= edges[-1]) | np.isnan(ages)] = np.nan
        return code

    def to_json(self) -> list[dict[str, object]]:
        return [{"label": b.label, "first": b.first, "last": b.last} for b in self.bands]


def national_bands(min_age: int, max_age: int) -> AgeBands:
    """The national survey's bands for a survey of ``min_age``–``max_age``: 10-year bands
    (20～29歳 …) and 80歳以上, the first from ``min_age`` (「18～19歳」 in an 18+ survey)."""
    firsts = [min_age, *(e for e in NATIONAL_EDGES if min_age < e <= max_age)]
    bands = []
    for i, first in enumerate(firsts):
        last = firsts[i + 1] - 1 if i + 1 < len(firsts) else (
            None if first == NATIONAL_EDGES[-1] else max_age)
        bands.append(AgeBand(first, last, band_label(first, last)))
    return AgeBands(tuple(bands))


def town_bands(spec: Sequence[str | int] | None, min_age: int, max_age: int) -> AgeBands:
    """The bands of a town's ``age_bands:`` (labels as printed, or first ages), or the national
    ones when None. ``ValueError`` (a message for the town file) when they leave an age of the
    survey without a band, overlap, or hold a band the survey cannot contain."""
    if spec is None:
        return national_bands(min_age, max_age)
    if not spec:
        raise ValueError("age_bands: give the bands, e.g. [18～29歳, 30～39歳, …, 80歳以上]")
    ints = all(isinstance(s, int) for s in spec)
    parsed: list[tuple[int, int | None, str]] = []
    for i, item in enumerate(spec):
        if ints:
            first = int(item)
            nxt = int(spec[i + 1]) if i + 1 < len(spec) else None
            last = None if nxt is None else nxt - 1
            parsed.append((first, last, band_label(first, last)))
            continue
        ages = parse_band(item, min_age, max_age)
        if ages is None or isinstance(item, int):
            raise ValueError(f"age_bands: 「{item}」 is not an age band (write the bands as the "
                             "questionnaire printed them, e.g. 18～29歳, 30代, 80歳以上)")
        open_above = _FROM.match(_text(item)) is not None
        parsed.append((ages[0], None if open_above else ages[1], _text_label(item)))
    for (_, last, label), (nxt, _, nlabel) in itertools.pairwise(parsed):
        if last is None or nxt != last + 1:
            raise ValueError(f"age_bands: 「{label}」 and 「{nlabel}」 do not meet (a band must "
                             "start the year after the previous one ends)")
    first, _, label = parsed[0]
    if first > min_age:
        raise ValueError(f"age_bands: the first band 「{label}」 starts above the survey's "
                         f"min_age {min_age}: respondents aged {min_age}–{first - 1} would have "
                         "no band")
    for first, last, label in parsed:
        if (last is not None and last < min_age) or first > max_age:
            raise ValueError(f"age_bands: 「{label}」 cannot hold any respondent of a survey of "
                             f"ages {min_age}–{max_age}: remove it")
    last, label = parsed[-1][1], parsed[-1][2]
    if last is not None and last < max_age:
        raise ValueError(f"age_bands: the last band 「{label}」 ends below the survey's max_age "
                         f"{max_age}: end with an open band such as 「80歳以上」, or set "
                         "survey: max_age")
    return AgeBands(tuple(AgeBand(f, la, lab) for f, la, lab in parsed))


def _text_label(item: object) -> str:
    """A band label as the town wrote it, without surrounding spaces."""
    return str(item).strip()
