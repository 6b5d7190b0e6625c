"""Comparison of towns (compare.ipynb): lonely rates by sex × age band from every results.json,
side by side with the national figures."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from helpers.analysis.common import TOTAL
from helpers.analysis.results import RESULTS_FILE
from helpers.figures import Chart, bar_chart
from helpers.stats import fmt_pct, national_reference

NATIONAL = "全国"


def load_results(results_dir: Path) -> list[dict[str, Any]]:
    """Every ``<town>/results.json`` under ``results_dir``, sorted by town id."""
    files = sorted(Path(results_dir).glob(f"*/{RESULTS_FILE}"))
    return [json.loads(f.read_text(encoding="utf-8")) for f in files]


def headline_table(results: list[dict[str, Any]], national_round: int = 2022) -> pd.DataFrame:
    """One row per town (and the national survey): n, lonely rate, しばしば・常に, with CIs."""
    rows = []
    for r in results:
        lonely, often = r["headline"]["lonely"], r["headline"]["often_always"]
        rows.append({
            "town": r["name_ja"], "synthetic": r["synthetic"], "n": lonely["n"],
            "p": lonely["p"], "lo": lonely["lo"], "hi": lonely["hi"], "often": often["p"],
        })
    ref = national_reference()
    rows.append({
        "town": f"{NATIONAL}（{ref.round(national_round).name}）", "synthetic": False,
        "n": ref.round(national_round).responses, "p": ref.lonely_rate(national_round),
        "lo": None, "hi": None, "often": ref.often_always(national_round),
    })
    return pd.DataFrame(rows)


def sex_age_table(results: list[dict[str, Any]]) -> pd.DataFrame:
    """Lonely rate by sex × age band of every town (long: town, sex, age_band, n, p, lo, hi).

    Suppressed cells stay missing; the "全体" rows of each sex are kept.
    """
    frames = []
    for r in results:
        rows = pd.DataFrame(r["lonely_by_sex_age"])
        if rows.empty:
            continue
        rows.insert(0, "town", r["name_ja"])
        frames.append(rows[["town", "sex", "age_band", "n", "p", "lo", "hi"]])
    if not frames:
        return pd.DataFrame(columns=["town", "sex", "age_band", "n", "p", "lo", "hi"])
    out = pd.concat(frames, ignore_index=True)
    for col in ("p", "lo", "hi"):
        out[col] = pd.to_numeric(out[col], errors="coerce").astype(float)
    return out


def wide_table(long: pd.DataFrame, sex: str) -> pd.DataFrame:
    """Age bands × towns of one sex, percentages as text ("—" where suppressed)."""
    part = long[long["sex"] == sex]
    bands = list(dict.fromkeys(part["age_band"]))
    wide = part.pivot(index="age_band", columns="town", values="p").reindex(bands)
    wide = wide[list(dict.fromkeys(part["town"]))]
    return wide.map(fmt_pct).rename_axis(index="年代", columns=None).reset_index()


def national_groups(national_round: int = 2022) -> pd.DataFrame:
    """The published national figures by group (as percentages), for the side-by-side view."""
    g = national_reference().groups(national_round)
    names = {"lonely": "孤独感がある", "often_always": "しばしばある・常にある",
             "ucla_high": "UCLA 10～12点"}
    out = pd.DataFrame({
        "指標": g["measure"].map(names), "性別": g["sex"], "年代": g["age_band"],
        "全国（%）": g["pct"], "注": g["note"].fillna(""),
    })
    return out


def sex_charts(long: pd.DataFrame, min_cell: int, synthetic: bool, national_round: int = 2022,
               interactive: bool = True) -> list[Chart]:
    """One chart per sex: lonely rate by age band, one bar colour per town, national line."""
    charts = []
    national = national_reference().lonely_rate(national_round)
    note = "（合成データ）" if synthetic else ""
    for sex in ("男性", "女性"):
        part = long[(long["sex"] == sex) & (long["age_band"] != TOTAL)]
        if part.empty:
            continue
        charts.append(bar_chart(
            part, "age_band", hue="town", title=f"{sex}：年代別 孤独感がある人の割合（市町村別）",
            what=f"{sex}の年代別・市町村別の孤独感がある人の割合{note}",
            n=int(long.loc[(long["sex"] == sex) & (long["age_band"] == TOTAL), "n"].sum()),
            min_cell=min_cell, reference=national, reference_label="全国（全年代）",
            interactive=interactive,
        ))
    return charts
