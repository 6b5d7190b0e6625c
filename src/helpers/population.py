"""Population margins for weighting, in the town's sexes and age bands: typed in the town file
or read from a population table (CSV or Excel, as a statistics division or the 住民基本台帳
export gives it: by single year of age or by age band, a column per sex or a sex column; and
counts by district).

Ages and bands map onto the town's bands (``helpers.ages``): single years and finer bands are
added up; a row that straddles two town bands, or the survey's youngest age, stops with a
message, and so does a town band whose ages the rows cover only in part. Nothing is guessed: a
sex, district or age that matches nothing is an error naming the file, column and row.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from helpers.ages import parse_band
from helpers.cleaning.normalize import TOTAL_WORDS, key
from helpers.cleaning.read import read_table
from helpers.errors import ConfigError, UserError
from helpers.towns import PopulationFile, Town, town_file

#: Short forms of the two sexes in population tables (男 for 男性), by sex code.
SHORT_SEX = {1: "男", 2: "女"}
#: Age cells of a population table meaning "age unknown": their count is left out (and said).
UNKNOWN_AGE = ("不詳", "不明", "年齢不詳")
#: Relative difference above which the sex × age and district totals do not agree.
TOTALS_TOLERANCE = 0.01


@dataclass(frozen=True)
class Population:
    """The margins as weighting uses them: ``sex_age_band`` (sex label → band label → count,
    bands whose ages are fully counted), ``district`` (district → count) and notes on what
    was read, left out or added up."""

    source: str
    sex_age_band: dict[str, dict[str, int]]
    district: dict[str, int] | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(sum(bands.values()) for bands in self.sex_age_band.values())


@dataclass(frozen=True)
class _Row:
    """One count of a population table: its group (sex or district), ages, count, the cell's
    label and where it is (for messages)."""

    group: str
    ages: tuple[int, int] | None
    count: int
    label: str
    row: int


def _sexes(town: Town) -> dict[str, str]:
    """Key of each way a sex may be written (the town's label, 男/女) → the town's label."""
    labels = town.codebook["sex"].labels()
    out = {}
    for code in (1, 2):
        out[key(labels[code])] = labels[code]
        out[key(SHORT_SEX[code])] = labels[code]
    return out


def _bands(rows: list[_Row], town: Town, fail: Callable[[str, list[_Row]], Exception],
           complete: bool) -> dict[str, dict[str, int]]:
    """Counts per group and town band, adding up the rows each band holds.

    A row below the survey's ages is left out (``complete``, a table of every age) or an error
    (counts typed for the survey). A row that straddles the youngest age or two bands, rows
    counting the same ages twice, and a band whose ages the rows cover in part are errors
    (``fail`` makes the exception); with ``complete`` every band must be counted.
    """
    bands, lo, hi = town.bands, town.survey.min_age, town.survey.max_age
    held: dict[tuple[str, int], list[_Row]] = {}
    for r in rows:
        assert r.ages is not None
        first, last = r.ages
        if last < lo or first > hi:
            if not complete:
                raise fail(f"「{r.label}」 (ages {first}–{last}) lies outside the survey's ages "
                           f"{lo}–{hi}: remove it", [r])
            continue
        if first < lo:
            raise fail(f"「{r.label}」 counts ages {first}–{last}, but the survey starts at "
                       f"{lo}: residents aged {first}–{lo - 1} would be counted as surveyed; "
                       f"give these ages one by one (or a band starting at {lo})", [r])
        code = bands.code_of(first, min(last, hi))
        if code is None or (last > hi and bands.bands[-1].last is not None):
            spanned = [b.label for b in bands.bands
                       if b.first <= last and (b.last is None or b.last >= first)]
            raise fail(f"「{r.label}」 (ages {first}–{last}) spans the town's bands "
                       f"{'、'.join(spanned)}: give finer ages, or set age_bands: to bands "
                       "these rows fit in", [r])
        held.setdefault((r.group, code), []).append(r)
    out: dict[str, dict[str, int]] = {}
    for group in dict.fromkeys(r.group for r in rows):
        counts: dict[str, int] = {}
        for code, band in enumerate(bands.bands, start=1):
            parts = sorted(held.get((group, code), []), key=lambda r: r.ages or (0, 0))
            first, last = max(band.first, lo), hi if band.last is None else band.last
            if not parts:
                if complete:
                    raise fail(f"{group}: no count for ages {first}–{last} (band "
                               f"「{band.label}」)", [])
                continue
            expect, gap = first, None
            for part in parts:
                assert part.ages is not None
                if part.ages[0] < expect:
                    raise fail(f"{group}: 「{part.label}」 counts ages already counted in "
                               "another row (a total or a 再掲 row?)", [part])
                if part.ages[0] > expect:
                    gap = (expect, part.ages[0] - 1)
                    break
                expect = part.ages[1] + 1
            else:
                gap = (expect, last) if expect <= last else None
            if gap:
                raise fail(f"{group}: the band 「{band.label}」 is counted only in part (no "
                           f"count for ages {gap[0]}–{gap[1]})", parts)
            counts[band.label] = sum(p.count for p in parts)
        out[group] = counts
    return out


def sex_age_counts(town: Town, typed: dict[str, dict[str, int]]) -> dict[str, dict[str, int]]:
    """Counts typed under ``margins: sex_age_band:`` in the town's sexes and bands;
    ``ValueError`` (a message for the town file) when a sex or band matches nothing."""
    sexes = _sexes(town)
    rows = []
    for sex, bands in typed.items():
        if key(sex) not in sexes:
            raise ValueError(f"margins → sex_age_band: 「{sex}」 is not "
                             f"{' or '.join(dict.fromkeys(sexes.values()))}")
        for band, count in bands.items():
            ages = parse_band(band, town.survey.min_age, town.survey.max_age)
            if ages is None:
                raise ValueError(f"margins → sex_age_band → {sex}: 「{band}」 is not an age "
                                 f"band (the town's bands: {'、'.join(town.bands.labels)})")
            rows.append(_Row(sexes[key(sex)], ages, count, band, 0))

    def fail(problem: str, _: list[_Row]) -> ValueError:
        return ValueError(f"margins → sex_age_band → {problem}")

    counts = _bands(rows, town, fail, complete=False)
    absent = [s for s in dict.fromkeys(sexes.values()) if s not in counts]
    if absent:
        raise ValueError(f"margins → sex_age_band: no counts for {absent}")
    return counts


# --- population files -------------------------------------------------------------------------


def _count(value: object) -> int | None:
    """A count cell: 1,234, full-width digits, 「-」 for zero as statistics tables write it."""
    text = key(value).replace(",", "")
    if text in ("-", "ー", "―", "－"):
        return 0
    try:
        number = float(text)
    except ValueError:
        return None
    return int(number) if number.is_integer() and number >= 0 else None


class _Table:
    """A population file read with its columns found by name (compared as answers are)."""

    def __init__(self, town: Town, what: str, spec: PopulationFile, raw_dir: Path | None
                 ) -> None:
        self.spec, self.what = spec, what
        path = town.raw_file(spec.file, f"margins → {what} → file", raw_dir)
        self.raw = read_table(path, sheet=spec.sheet, header_row=spec.header_row,
                              encoding=spec.encoding, delimiter=spec.delimiter)
        self.name = Path(spec.file).name
        self.columns = {key(c): c for c in self.raw.data.columns}
        self.notes: list[str] = []

    def column(self, wanted: str) -> str:
        found = self.columns.get(key(wanted))
        if found is None:
            shown = ", ".join(map(str, list(self.raw.data.columns)[:12]))
            raise UserError(f"column named under margins → {self.what} is missing",
                            file=self.name, column=wanted, rows=list(self.spec.header_rows),
                            hint=f"the file has: {shown}; fix the column name in the town "
                            "file (or its header_row:)")
        return found

    def error(self, problem: str, rows: Iterable[_Row] = (), column: str | None = None
              ) -> UserError:
        rows = list(rows)
        return UserError(problem, file=self.name, column=column or self.spec.age,
                         rows=[r.row for r in rows if r.row], hint="correct the population file "
                         f"or the margins → {self.what} settings of the town file")

    def counts(self, column: str, groups: list[str]) -> list[tuple[int, str, int]]:
        """(row, group, count) for every row; a cell that is not a count is an error."""
        out = []
        for group, col in zip(groups, [column] * len(groups), strict=True):
            for row, value in zip(self.raw.rows, self.raw.data[col], strict=True):
                n = _count(value)
                if n is None and key(value) != "":
                    raise UserError("the count is not a whole number", file=self.name,
                                    column=col, rows=[int(row)], value=value,
                                    hint="write the number of residents (or - for none)")
                out.append((int(row), group, n or 0))
        return out

    def ages(self, town: Town) -> list[tuple[int, str, tuple[int, int] | None]]:
        """(row, age cell, ages) per row; totals and unknown ages give None (and a note)."""
        column = self.column(self.spec.age or "")
        out, skipped = [], []
        for row, value in zip(self.raw.rows, self.raw.data[column], strict=True):
            text = str(value).strip() if key(value) else ""
            ages = parse_band(text, 0, max(town.survey.max_age, 120))
            if ages is None:
                if key(text) not in TOTAL_WORDS and not any(w in text for w in UNKNOWN_AGE) \
                        and key(text) != "":
                    raise UserError("the age is neither an age nor an age band", file=self.name,
                                    column=column, rows=[int(row)], value=text,
                                    hint="write ages (18, 18歳) or bands as printed (18～19歳, "
                                    "80歳以上); totals (総数, 計) and 不詳 rows are left out")
                if key(text):
                    skipped.append(f"{text} (row {int(row)})")
            out.append((int(row), text, ages))
        if skipped:
            self.notes.append(f"{self.name}: rows left out (totals or unknown age): "
                              + ", ".join(skipped[:6]) + (" …" if len(skipped) > 6 else ""))
        return out


def _sex_age_file(town: Town, spec: PopulationFile, raw_dir: Path | None
                  ) -> tuple[dict[str, dict[str, int]], list[str]]:
    table = _Table(town, "sex_age_band", spec, raw_dir)
    sexes = _sexes(town)
    ages = table.ages(town)
    rows: list[_Row] = []
    if isinstance(spec.count, dict):
        for sex, column in spec.count.items():
            if key(sex) not in sexes:
                raise ConfigError(f"margins → sex_age_band → count: 「{sex}」 is not "
                                  f"{' or '.join(dict.fromkeys(sexes.values()))}",
                                  file=town_file(town.id))
            counts = table.counts(table.column(column), [sexes[key(sex)]])
            rows += [_Row(group, a, n, text, row) for (row, text, a), (_, group, n)
                     in zip(ages, counts, strict=True) if a is not None]
    else:
        sex_column = table.column(spec.sex or "")
        counts = table.counts(table.column(spec.count), [""])
        for (row, text, a), (_, _, n), sex in zip(ages, counts, table.raw.data[sex_column],
                                                  strict=True):
            if a is None or key(sex) in TOTAL_WORDS:
                continue
            if key(sex) not in sexes:
                raise UserError(f"the sex is not {' or '.join(dict.fromkeys(sexes.values()))}",
                                file=table.name, column=sex_column, rows=[row], value=sex,
                                hint="write 男性/女性 (or 男/女); rows of totals (計, 総数) are "
                                "left out")
            rows.append(_Row(sexes[key(sex)], a, n, text, row))
    below = [r for r in rows if r.ages and r.ages[1] < town.survey.min_age]
    if below:
        table.notes.append(f"{table.name}: ages below the survey's min_age "
                           f"{town.survey.min_age} left out")

    def fail(problem: str, at: list[_Row]) -> UserError:
        return table.error(problem, at)

    counts_by = _bands(rows, town, fail, complete=True)
    absent = [s for s in dict.fromkeys(sexes.values()) if s not in counts_by]
    if absent:
        raise table.error(f"no counts for {absent}")
    return counts_by, table.notes


def _district_file(town: Town, spec: PopulationFile, raw_dir: Path | None
                   ) -> tuple[dict[str, int], list[str]]:
    table = _Table(town, "district", spec, raw_dir)
    column = table.column(spec.district or "")
    assert isinstance(spec.count, str)
    counts = table.counts(table.column(spec.count), [""])
    ages = table.ages(town) if spec.age else [(r, "", None) for r, _, _ in counts]
    names = {key(d): d for d in town.districts}
    rows: list[_Row] = []
    for (row, text, a), (_, _, n), name in zip(ages, counts, table.raw.data[column],
                                                strict=True):
        if key(name) in TOTAL_WORDS or key(name) == "" or (spec.age and a is None):
            continue
        if key(name) not in names:
            raise UserError("the district is not one of the town's districts", file=table.name,
                            column=column, rows=[row], value=name,
                            hint=f"districts: {'、'.join(town.districts)}; write the names as "
                            "there (spaces and full-width letters do not matter)")
        rows.append(_Row(names[key(name)], a, n, text, row))
    if spec.age:
        lo, hi = town.survey.min_age, town.survey.max_age
        for r in rows:
            assert r.ages is not None
            if r.ages[0] < lo <= r.ages[1]:
                raise table.error(f"「{r.label}」 counts ages {r.ages[0]}–{r.ages[1]}, but the "
                                  f"survey starts at {lo}: give these ages one by one", [r])
        rows = [r for r in rows if r.ages and lo <= r.ages[0] <= hi]
    out = dict.fromkeys(town.districts, 0)
    for r in rows:
        out[r.group] += r.count
    absent = [d for d in town.districts if d not in {r.group for r in rows}]
    if absent:
        raise table.error(f"no count for the districts {absent}", column=column)
    return out, table.notes


def resolve(town: Town, raw_dir: Path | None = None) -> Population:
    """The town's margins in its sexes and bands, population files read from ``raw_dir``
    (default: the town's raw-data folder). The totals of sex × age and of districts must agree
    (within 1 %; a note says when they differ at all)."""
    margins = town.margins
    assert margins is not None
    notes: list[str] = []
    if isinstance(margins.sex_age_band, dict):
        sex_age = sex_age_counts(town, margins.sex_age_band)
    else:
        sex_age, more = _sex_age_file(town, margins.sex_age_band, raw_dir)
        notes += more
    district: dict[str, int] | None = None
    if isinstance(margins.district, dict):
        names = {key(d): d for d in town.districts}  # spelled as the data's, once normalised
        district = {names[key(d)]: count for d, count in margins.district.items()}
    elif margins.district is not None:
        district, more = _district_file(town, margins.district, raw_dir)
        notes += more
    population = Population(margins.source, sex_age, district, notes)
    if district:
        a, b = population.total, sum(district.values())
        gap = abs(a - b) / max(a, b)
        if gap > TOTALS_TOLERANCE:
            raise ConfigError(
                f"margins: the sex × age counts total {a:,} residents but the district counts "
                f"{b:,} ({gap:.1%} apart): both must count the residents of the surveyed ages",
                file=town_file(town.id),
                hint="take both from the same source and date, for the ages the survey asked",
            )
        if a != b:
            notes.append(f"margins: the sex × age counts ({a:,}) and the district counts "
                         f"({b:,}) differ by {gap:.2%}; each margin is used as shares of its "
                         "own total")
    return population
