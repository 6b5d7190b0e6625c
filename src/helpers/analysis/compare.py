"""Comparison of towns (compare.ipynb): lonely rates by sex × age band from every results.json,
side by side with the national figures.

Towns are keyed by their id (two municipalities may share a name: 府中市 is in 東京都 and 広島県);
they are labelled by name, with the prefecture where names clash (:func:`town_labels`). All
figures are the published ones from results.json (percentages with one decimal, hidden = null).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from helpers.ages import band_label, parse_band
from helpers.analysis.common import NO_ANSWER, TOTAL
from helpers.analysis.results import RESULTS_FILE
from helpers.figures import Chart, bar_chart
from helpers.stats import fmt_ci, fmt_percent, national_reference, percent, round_half_up
from helpers.towns import town_labels as labels_of_towns

NATIONAL = "全国"
NATIONAL_MIN_AGE = 16  # the national survey asks residents of 16 and over
SEXES = ("男性", "女性")


def load_results(results_dir: Path) -> list[dict[str, Any]]:
    """Every ``<town>/results.json`` under ``results_dir``, sorted by town id."""
    files = sorted(Path(results_dir).glob(f"*/{RESULTS_FILE}"))
    return [json.loads(f.read_text(encoding="utf-8")) for f in files]


def town_labels(results: Iterable[Mapping[str, Any]]) -> dict[str, str]:
    """Town id → its label on the page (``helpers.towns.town_labels``) for results.json files."""
    return labels_of_towns((r["town"], r["name_ja"], r["prefecture"]) for r in results)


def headline_table(results: list[dict[str, Any]], national_round: int = 2022) -> pd.DataFrame:
    """One row per town (and the national survey): n, lonely rate, しばしば・常に, with CIs."""
    labels = town_labels(results)
    rows = []
    for r in results:
        lonely, often = r["headline"]["lonely"], r["headline"]["often_always"]
        rows.append({
            "town": r["town"], "label": labels[r["town"]], "synthetic": r["synthetic"],
            "n": lonely["n"], "p": lonely["p"], "lo": lonely["lo"], "hi": lonely["hi"],
            "often": often["p"],
        })
    ref = national_reference()
    rows.append({
        "town": NATIONAL, "label": f"{NATIONAL}（{ref.round(national_round).name}）",
        "synthetic": False, "n": ref.round(national_round).responses,
        "p": percent(ref.lonely_rate(national_round)), "lo": None, "hi": None,
        "often": percent(ref.often_always(national_round)),
    })
    return pd.DataFrame(rows)


def sex_age_table(results: list[dict[str, Any]]) -> pd.DataFrame:
    """Lonely rate by sex × age band of every town (long: town, label, sex, age_band, n, p, lo,
    hi), keyed by town id. Hidden cells stay missing; the 全体 row of each sex is kept."""
    labels = town_labels(results)
    columns = ["town", "label", "sex", "age_band", "n", "p", "lo", "hi"]
    frames = []
    for r in results:
        rows = pd.DataFrame(r["lonely_by_sex_age"])
        if rows.empty:
            continue
        rows = rows[rows["sex"].isin(SEXES) & (rows["age_band"] != NO_ANSWER)]
        frames.append(rows.assign(town=r["town"], label=labels[r["town"]])[columns])
    if not frames:
        return pd.DataFrame(columns=columns)
    out = pd.concat(frames, ignore_index=True)
    for col in ("p", "lo", "hi"):
        out[col] = pd.to_numeric(out[col], errors="coerce").astype(float)
    bands = sorted(set(out["age_band"]) - {TOTAL}, key=lambda b: (*_ages(b), b))
    out["age_band"] = pd.Categorical(out["age_band"], categories=[TOTAL, *bands])
    return out


def _printed(label: str) -> str:
    """A national band in the words the towns' bands use (20代 → 20～29歳; the national survey
    asks residents of 16 and over, so 19歳以下 is 16～19歳)."""
    ages = parse_band(label, NATIONAL_MIN_AGE, 200)
    if ages is None:
        return label
    return band_label(ages[0], None if ages[1] == 200 else ages[1])


def _ages(label: str) -> tuple[float, float]:
    """A band's first and last age, to order towns' bands (18～19歳, 18～29歳, 20～29歳 …)."""
    ages = parse_band(label, 0, 200)
    return (float(ages[0]), float(ages[1])) if ages else (float("inf"), float("inf"))


def wide_table(long: pd.DataFrame, sex: str) -> pd.DataFrame:
    """Age bands × towns of one sex: the rate with its interval, "—" where hidden."""
    part = long[long["sex"] == sex]
    bands = [b for b in part["age_band"].cat.categories if b in set(part["age_band"])] if (
        isinstance(part["age_band"].dtype, pd.CategoricalDtype)) else list(
        dict.fromkeys(part["age_band"]))
    towns = list(dict.fromkeys(part["town"]))
    labels = dict(zip(part["town"], part["label"], strict=False))
    text = part.assign(shown=[
        fmt_percent(p) + (fmt_ci(lo, hi).replace("95%信頼区間 ", "") if pd.notna(p) else "")
        for p, lo, hi in zip(part["p"], part["lo"], part["hi"], strict=True)])
    wide = text.pivot(index="age_band", columns="town", values="shown").reindex(bands)[towns]
    return wide.rename(columns=labels).rename_axis(index="年代", columns=None).reset_index()


def national_groups(national_round: int = 2022) -> pd.DataFrame:
    """The published national figures by group (as percentages), for the side-by-side view."""
    g = national_reference().groups(national_round)
    names = {"lonely": "孤独感がある", "often_always": "しばしばある・常にある",
             "ucla_high": "UCLA 10～12点"}
    return pd.DataFrame({
        "指標": g["measure"].map(names), "性別": g["sex"], "年代": g["age_band"].map(_printed),
        "全国（%）": [f"{round_half_up(v, 1):.1f}" for v in g["pct"]], "注": g["note"].fillna(""),
    })


def sex_charts(long: pd.DataFrame, min_cell: int, synthetic: bool, national_round: int = 2022,
               interactive: bool = True) -> list[Chart]:
    """One chart per sex: lonely rate by age band, one bar colour per town, national line."""
    charts = []
    national = percent(national_reference().lonely_rate(national_round))
    note = "（合成データ）" if synthetic else ""
    for sex in SEXES:
        part = long[(long["sex"] == sex) & (long["age_band"] != TOTAL)]
        if part.empty:
            continue
        totals = long.loc[(long["sex"] == sex) & (long["age_band"] == TOTAL), "n"]
        charts.append(bar_chart(
            part, "age_band", hue="label", title=f"{sex}：年代別 孤独感がある人の割合（市町村別）",
            what=f"{sex}の年代別・市町村別の孤独感がある人の割合{note}",
            n=int(pd.to_numeric(totals, errors="coerce").fillna(0).sum()),
            min_cell=min_cell, reference=national, reference_label="全国（全年代）",
            interactive=interactive,
        ))
    return charts
