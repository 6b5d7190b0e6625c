"""Generate the synthetic raw files of a sample town: data files, code sheet and README."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from helpers import escape, paths
from helpers.ages import national_bands
from helpers.cleaning.normalize import key
from helpers.errors import UserError
from helpers.sample.layouts import Renderer, csv_bytes, write_atomic, xlsx_bytes
from helpers.sample.profiles import PROFILES, Profile
from helpers.sample.respondents import largest_remainder, national_counts, simulate
from helpers.towns import Joined, Options, PopulationFile, Source, Town, load_town

# chance of answering on the web by age band (young residents use the web form more)
WEB_PROPENSITY = np.array([0.45, 0.45, 0.40, 0.30, 0.25, 0.12, 0.05, 0.01])
ID_START = {"郵送": 1, "Web": 5001, None: 100001}


def sample_towns() -> list[str]:
    """Towns the generator knows how to simulate."""
    return sorted(PROFILES)


def _profile(town: str) -> Profile:
    try:
        return PROFILES[town]
    except KeyError:
        raise UserError(
            f"no synthetic sample is defined for the town 「{town}」",
            hint=f"sample towns: {', '.join(sample_towns())}",
        ) from None


def _assign_modes(frame: pd.DataFrame, town: Town, profile: Profile,
                  rng: np.random.Generator) -> pd.Series:
    """Answer mode per respondent: 1 郵送, 2 Web (exact web count where the profile has one)."""
    weight = WEB_PROPENSITY[frame["age_band"].to_numpy().astype(int) - 1]
    mode = np.ones(len(frame))
    if profile.web:
        web = rng.choice(len(frame), size=profile.web, replace=False, p=weight / weight.sum())
        mode[web] = 2
    elif "Web" in town.survey.modes:
        mode[rng.random(len(frame)) < weight * 0.7] = 2
    return pd.Series(mode, index=frame.index)


def _rows_of(source: Source, frame: pd.DataFrame) -> pd.DataFrame:
    if source.mode is None:
        return frame
    return frame[frame["mode"] == (2 if source.mode == "Web" else 1)]


def _anomalies(table: pd.DataFrame, renderer: Renderer, profile: Profile,
               rng: np.random.Generator) -> tuple[pd.DataFrame, list[str]]:
    """Add the profile's anomalies as extra rows; return the table and a note per anomaly."""
    cols = renderer.source.columns
    id_col = str(cols["resp_id"])
    rows = table.to_dict("records")
    notes: list[str] = []
    for kind in profile.anomalies:
        if kind == "duplicate_rows":
            picked = sorted(rng.choice(len(rows), size=2, replace=False), reverse=True)
            for i in picked:
                rows.insert(i + 1, dict(rows[i]))
            ids = sorted(rows[i][id_col] for i in picked)
            notes.append(f"two respondents keyed twice: {id_col} {' and '.join(ids)} appear on "
                         "two identical rows each (exact duplicates; the cleaner keeps one)")
            continue
        if kind == "totals_row":
            totals = dict.fromkeys(table.columns, "") | {id_col: "合計"}
            ticked = [c for spec in cols.values() if isinstance(spec, Options)
                      for c in spec.options.values()]
            totals |= {c: str(sum(r[c] == "1" for r in rows)) for c in ticked}
            rows += [dict.fromkeys(table.columns, ""), totals]
            notes.append("a blank row and a 合計 (totals) row below the last respondent, as in the "
                         "vendor's tally sheet (not respondents; the cleaner skips them)")
            continue
        if kind == "follow_up_not_asked":
            notes.append(_answer_not_asked(rows, renderer, rng))
            continue
        row = rows[int(rng.integers(len(rows)))]
        if kind == "impossible_age":
            row[str(cols["age"])] = "142"
            what = "age 142 (impossible; the cleaner sets it to missing and keeps the respondent)"
        elif kind == "satisfaction_out_of_range":
            row[str(cols["life_satisfaction"])] = "12"
            what = ("life satisfaction 12 on the 0–10 scale (keying error; the cleaner sets it to "
                    "missing)")
        else:
            row[str(cols["household"])] = renderer.single("household", 1)
            row[str(cols["household_size"])] = "3"
            what = ("単身世帯 with 3 household members (contradiction; the cleaner sets both "
                    "answers to missing)")
        notes.append(f"{id_col} {row[id_col]}: {what}")
    return pd.DataFrame(rows, columns=table.columns, dtype=object), notes


def _answer_not_asked(rows: list[dict], renderer: Renderer, rng: np.random.Generator) -> str:
    """An answer to the town's first follow-up question from a respondent it was not asked of
    (the cleaner sets it to missing and lists it)."""
    book, cols = renderer.book, renderer.source.columns
    var = next(v for v in book.section("own") if v.asked_if is not None)
    cond = var.asked_if
    assert cond is not None
    parent = book[cond.variable]
    other = next(c for c in parent.labels() if c not in cond.codes)
    column = str(cols[var.key].joined if isinstance(cols[var.key], Joined) else cols[var.key])
    parent_column = str(cols[parent.key])
    row = next(r for r in rows[int(rng.integers(len(rows) // 2)):]
               if key(r[parent_column]) == key(renderer.label(parent.key, other)))
    row[column] = renderer.label(var.key, next(iter(var.labels())))
    id_col = str(cols["resp_id"])
    return (f"{id_col} {row[id_col]}: {column} answered although {parent_column} is "
            f"「{row[parent_column]}」, who were not asked it (the cleaner sets it to missing "
            "and keeps the respondent)")


def population_table(town: Town, profile: Profile) -> pd.DataFrame:
    """The town's population file as a 住民基本台帳 export: a 総数 row, then one row per age
    0–99 and 100歳以上, a column per sex: the profile's counts by national band spread over
    the band's ages; the younger residents make up the town's population."""
    spec = town.margins.sex_age_band if town.margins else None
    assert isinstance(spec, PopulationFile) and isinstance(spec.count, dict)
    bands = national_bands(town.survey.min_age, 110).bands
    counts = national_counts(town, profile)
    young = largest_remainder(town.survey.population - sum(map(sum, counts.values())),
                              [0.51, 0.49])
    table = {spec.age: ["総数", *[f"{a}歳" for a in range(100)], "100歳以上"]}
    for (sex, column), below in zip(spec.count.items(), young, strict=True):
        ages = np.zeros(101, dtype=int)
        for band, count in zip(bands, counts[sex], strict=True):
            last = band.last if band.last is not None else 100
            span = np.arange(band.first, last + 1)
            ages[span] = largest_remainder(count, 1.0 + 0.04 * ((span * 7) % 5) - 0.2 * (
                span >= 80) * (span - 80) / 20)
        ages[:town.survey.min_age] = largest_remainder(int(below), [1.0] * town.survey.min_age)
        table[column] = [int(ages.sum()), *ages.tolist()]
    return pd.DataFrame(table)


def generate(town: str, out_dir: Path) -> list[Path]:
    """Write the synthetic raw files of ``town`` into ``out_dir``; return the paths written.

    The same seed gives byte-identical files. Raises ``UserError`` for a town without a sample
    profile (see ``sample_towns()``).
    """
    profile = _profile(town)
    spec = load_town(town)
    book = spec.codebook
    out_dir = Path(out_dir)
    frame = simulate(spec, profile)
    rng = np.random.default_rng(profile.seed + 1)
    frame["mode"] = _assign_modes(frame, spec, profile, rng)
    written: list[Path] = []
    notes: list[str] = []
    for i, source in enumerate(spec.sources):
        style = profile.styles[i]
        renderer = Renderer(spec, source, style, book, np.random.default_rng(profile.seed + 10 + i))
        rows = _rows_of(source, frame).copy()
        rows["resp_id"] = ID_START[source.mode] + np.arange(len(rows))
        table = renderer.render(rows)
        if i == 0 and profile.anomalies:
            table, notes = _anomalies(table, renderer, profile, rng)
        path = out_dir / source.file
        if path.suffix == ".xlsx":
            data = xlsx_bytes(source.sheet or "Sheet1", table, spec.survey.title,
                              source.header_rows[-1])
        elif path.suffix == ".sav":
            data = renderer.spss(table)
        else:
            data = csv_bytes(table, source)
        written.append(write_atomic(path, data))
        if source.code_sheet is not None:
            sheet = source.code_sheet
            data = xlsx_bytes(sheet.sheet or "Sheet1", renderer.code_sheet(),
                              f"{spec.survey.title} コード表")
            written.append(write_atomic(out_dir / sheet.file, data))
    if profile.population is not None and spec.margins is not None:
        pop = spec.margins.sex_age_band
        assert isinstance(pop, PopulationFile)
        data = population_table(spec, profile).to_csv(index=False, lineterminator="\r\n")
        written.append(write_atomic(out_dir / pop.file, data.encode(
            "utf-8" if pop.encoding == "auto" else pop.encoding)))
    text = readme(spec, profile, written, notes, _district_table(spec, frame))
    written.append(write_atomic(out_dir / "README.md", text.encode("utf-8")))
    return written


def generate_all(out_root: Path = paths.DATA_RAW, towns: list[str] | None = None) -> list[Path]:
    """Generate every sample town (or ``towns``) into ``out_root/<town>/``."""
    chosen = towns or sample_towns()
    for town in chosen:
        _profile(town)
    paths_written: list[Path] = []
    for town in chosen:
        paths_written += generate(town, Path(out_root) / town)
    return paths_written


def _district_table(town: Town, frame: pd.DataFrame) -> str:
    """Markdown table: synthetic district populations (all ages, margins) and respondents."""
    if not (town.margins and town.margins.district):
        return ""
    adults = list(town.margins.district.values())
    everyone = largest_remainder(town.survey.population, adults)
    counts = frame["district"].value_counts()
    lines = ["| district | population, all ages | residents in margins | respondents |",
             "|---|---:|---:|---:|"]
    for i, name in enumerate(town.districts):
        lines.append(f"| {escape.md(name)} | {everyone[i]:,} | {adults[i]:,} | "
                     f"{counts.get(i + 1, 0)} |")
    return (
        "\n## Districts (synthetic populations)\n"
        "The district populations are invented (合成データ), not official statistics; all ages "
        f"sum to the town's population of {town.survey.population:,}. Respondents are allocated "
        "in proportion to them.\n\n" + "\n".join(lines) + "\n"
    )


def readme(town: Town, profile: Profile, files: list[Path], anomalies: list[str],
           districts: str = "") -> str:
    """The README of a sample town's raw folder: synthetic notice, seed, layout, anomalies."""
    listing = "\n".join(f"- {escape.md_code(p.name)}" for p in files)
    extra = any(kind in profile.anomalies for kind in ("duplicate_rows", "totals_row"))
    anomaly_text = (
        "\n".join(f"- {a}" for a in anomalies)
        + (f"\n\nThe duplicate and totals rows are EXTRA: the valid respondents number "
           f"{town.survey.returned}." if extra else
           f"\n\nThese answers belong to valid respondents, who number "
           f"{town.survey.returned}.")
        if anomalies else "None: every row is a valid respondent."
    )
    name_ja, name_en, title = map(escape.md, (town.name.ja, town.name.en, town.survey.title))
    return f"""# {name_ja} ({name_en}): 合成データ (synthetic sample)

**These files are synthetic (合成データ), not real survey responses.** They were generated by
`tsunagari sample {town.id}` (package `helpers.sample`, seed {profile.seed}) to imitate the shape of
the town's published survey ({title}, {town.survey.returned:,} valid respondents).
No real resident's answers are in them; the free-text answers are invented sentences.
Regenerate them with `tsunagari sample {town.id}`: the same seed gives byte-identical files.

Parameter file: `config/towns/{town.id}.yml`.

## Files
{listing}

## Layout
{profile.notes}

## Anomalies for the cleaner
{anomaly_text}
{districts}{IIYAMA_TARGETS if town.id == "iiyama" else ""}"""


IIYAMA_TARGETS = """
## Published figures built in (BRIEF §5), and their definitions
Computed from the two raw files together (郵送 xlsx + Web CSV), after mapping labels:
- Lonely (孤独感あり) = the direct item 問28 / q28_lonely is たまにある, 時々ある or
  しばしばある・常にある (codes 3, 4, 5). Base = respondents who answered the direct item.
- Age band from the age in years: 18～19歳, 20～29歳, … 80歳以上 (the national bands).
- Men in their 20s: 10 of 20 = **50.0 %**, the highest among men.
- Women in their 40s: 16 of 38 = **42.1 %**, the highest among women; all women 109 of 332 =
  32.8 %, a difference of **9.3 points**; women in their 30s 13 of 32 = 40.6 % (+7.8 points).
- しばしばある・常にある: 28 of 637 answering = **4.4 %** (national 2022: 4.9 %).
- Every respondent in these cells has a valid sex, age and direct-item answer (the few without
  sex or age are not in any sex × age cell).
- Small-town items (問27): those answering 良くないと思う or どちらともいえない feel lonely more
  often than respondents overall.
- Outings: fewer in winter (問16) than in spring–autumn (問15), more so at 70+ and outside 飯山.
- 643 respondents, 116 of them on the web; districts allocated in proportion to the (synthetic)
  district populations of residents 18+ in the parameter file's margins.
"""
