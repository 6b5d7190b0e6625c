"""Comparison of towns (compare.ipynb): the lonely rate of every town (unweighted and, where the
town is weighted, weighted) and by sex × age band from every results.json, side by side with the
figures of one national survey round (the one most towns compare with, stated on the page), and
what differs between the surveys (year, minimum age, mode).

Towns are keyed by their id (two municipalities may share a name: 府中市 is in 東京都 and 広島県);
they are labelled by name, with the prefecture where names clash (:func:`town_labels`). All
figures are the published ones from results.json (percentages with one decimal, hidden = null).
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from helpers.ages import band_label, parse_band
from helpers.analysis.common import NO_ANSWER, TOTAL
from helpers.analysis.results import RESULTS_FILE
from helpers.figures import Chart, dot_chart
from helpers.stats import (
    fmt_ci,
    fmt_percent,
    fmt_period,
    national_reference,
    percent,
    round_half_up,
)
from helpers.towns import town_labels as labels_of_towns

NATIONAL = "全国"
NATIONAL_MIN_AGE = 16  # the national survey asks residents of 16 and over
SUPPRESSED = "—"
SEXES = ("男性", "女性")


def load_results(results_dir: Path) -> list[dict[str, Any]]:
    """Every ``<town>/results.json`` under ``results_dir``, sorted by town id."""
    files = sorted(Path(results_dir).glob(f"*/{RESULTS_FILE}"))
    return [json.loads(f.read_text(encoding="utf-8")) for f in files]


def town_labels(results: Iterable[Mapping[str, Any]]) -> dict[str, str]:
    """Town id → its label on the page (``helpers.towns.town_labels``) for results.json files."""
    return labels_of_towns((r["town"], r["name_ja"], r["prefecture"]) for r in results)


def page_round(results: list[dict[str, Any]], requested: int | None = None) -> int:
    """The national round of the comparison page: ``requested``, else the round most towns
    compare with (the latest of those tied), else the latest published."""
    if requested is not None:
        return int(requested)
    rounds = Counter(r["national"]["round"] for r in results if r.get("national"))
    if not rounds:
        return national_reference().latest
    most = max(rounds.values())
    return max(y for y, k in rounds.items() if k == most)


def headline_table(results: list[dict[str, Any]], national_round: int) -> pd.DataFrame:
    """One row per town (and the national survey): label, n, lonely rate unweighted (``p``,
    ``lo``, ``hi``) and weighted (``p_w``, ``lo_w``, ``hi_w``; missing when not weighted),
    しばしば・常に (``often``)."""
    labels = town_labels(results)
    rows = []
    for r in results:
        lonely, often = r["headline"]["lonely"], r["headline"]["often_always"]
        weighted = (r.get("headline_weighted") or {}).get("lonely") or {}
        rows.append({
            "town": r["town"], "label": labels[r["town"]], "synthetic": r["synthetic"],
            "n": lonely["n"], "p": lonely["p"], "lo": lonely["lo"], "hi": lonely["hi"],
            "p_w": weighted.get("p"), "lo_w": weighted.get("lo"), "hi_w": weighted.get("hi"),
            "often": often["p"],
        })
    ref = national_reference()
    rows.append({
        "town": NATIONAL, "label": f"{NATIONAL}（{ref.round(national_round).name}）",
        "synthetic": False, "n": ref.round(national_round).responses,
        "p": percent(ref.lonely_rate(national_round)), "lo": None, "hi": None,
        "p_w": None, "lo_w": None, "hi_w": None,
        "often": percent(ref.often_always(national_round)),
    })
    return pd.DataFrame(rows)


def _rate(p: Any, lo: Any, hi: Any) -> str:
    return SUPPRESSED if p is None or pd.isna(p) else fmt_percent(p) + (
        fmt_ci(lo, hi).replace("95%信頼区間 ", "") if lo is not None and pd.notna(lo) else "")


def headline_display(heads: pd.DataFrame) -> pd.DataFrame:
    """The headline table as shown: every rate with its interval, weighted ones labelled."""
    return pd.DataFrame({
        "市町村": heads["label"],
        "回答者数": [SUPPRESSED if pd.isna(n) else f"{int(n):,}" for n in heads["n"]],
        "孤独感がある（重み付けなし）": [_rate(*v) for v in zip(heads["p"], heads["lo"],
                                                       heads["hi"], strict=True)],
        "孤独感がある（重み付け）": [
            "重み付けなし" if t != NATIONAL and (p is None or pd.isna(p)) else
            "—" if t == NATIONAL else _rate(p, lo, hi)
            for t, p, lo, hi in zip(heads["town"], heads["p_w"], heads["lo_w"], heads["hi_w"],
                                    strict=True)],
        "しばしばある・常にある（重み付けなし）": [_rate(p, None, None) for p in heads["often"]],
    })


def headline_chart(heads: pd.DataFrame, min_cell: int, synthetic: bool) -> Chart:
    """The towns' lonely rates as dots with intervals (unweighted, and weighted where the
    town is), with the national rate as a line."""
    towns = heads[heads["town"] != NATIONAL]
    national = heads[heads["town"] == NATIONAL].iloc[0]
    long = pd.concat([
        pd.DataFrame({"label": towns["label"], "kind": "重み付けなし", "p": towns["p"],
                      "lo": towns["lo"], "hi": towns["hi"]}),
        pd.DataFrame({"label": towns["label"], "kind": "重み付け", "p": towns["p_w"],
                      "lo": towns["lo_w"], "hi": towns["hi_w"]}),
    ], ignore_index=True)
    if long.loc[long["kind"] == "重み付け", "p"].isna().all():
        long = long[long["kind"] == "重み付けなし"]
    note = "（合成データ）" if synthetic else ""
    return dot_chart(
        long, "label", hue="kind", title="市町村別 孤独感がある人の割合",
        what=f"市町村別の孤独感がある人の割合{note}",
        n=int(pd.to_numeric(towns["n"], errors="coerce").fillna(0).sum()), min_cell=min_cell,
        reference=national["p"], reference_label=national["label"],
    )


def surveys_table(results: list[dict[str, Any]], national_round: int) -> pd.DataFrame:
    """What differs between the surveys compared: fieldwork, minimum age, mode, response rate,
    weighting; the national survey's row last."""
    labels = town_labels(results)
    rows = []
    for r in results:
        s = r["survey"]
        w = r.get("weighting") or {}
        rows.append({
            "調査": labels[r["town"]],
            "調査期間": fmt_period(dt.date.fromisoformat(s["start"]),
                                  dt.date.fromisoformat(s["end"])),
            "対象の年齢": f"{s['min_age']}歳以上",
            "回答方法": "・".join(s["modes"]),
            "回収率": fmt_percent(r["response_rate"]),
            "重み付け": "あり（" + "・".join(w["margin_names"]) + "）" if w.get("applied")
            else "なし",
        })
    ref = national_reference()
    nat = ref.round(national_round)
    rows.append({"調査": f"{NATIONAL}（{ref.data.survey}、{nat.name}）",
                 "調査期間": nat.fieldwork.replace("-", "/"),
                 "対象の年齢": f"{NATIONAL_MIN_AGE}歳以上",
                 "回答方法": "郵送・オンライン", "回収率": fmt_percent(nat.response_rate),
                 "重み付け": "公表値（国の集計による）"})
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


#: Names of the national survey's measures.
MEASURES = {"lonely": "孤独感がある", "often_always": "しばしばある・常にある",
            "ucla_high": "UCLA孤独感尺度 10～12点"}


def national_groups(national_round: int) -> pd.DataFrame:
    """The published national figures by group, one row per entry of
    ``config/national_reference.yml`` (same order), as percentages with one decimal."""
    g = national_reference().groups(national_round)
    return pd.DataFrame({
        "指標": g["measure"].map(MEASURES),
        "性別": g["sex"],
        "年代": g["age_band"].map(_printed),
        "区分": g["group"].fillna("—"),
        "全国（%）": [f"{round_half_up(v, 1):.1f}" for v in g["pct"]],
        "注": [n if isinstance(n, str) else ("" if o else "本プロジェクトによる対応づけ")
               for n, o in zip(g["note"], g["official"], strict=True)],
    })


def national_source(national_round: int) -> str:
    """Where the national figures come from (the round's official summary)."""
    return national_reference().source(national_round)


def sex_charts(long: pd.DataFrame, min_cell: int, synthetic: bool,
               national_round: int) -> list[Chart]:
    """One dot plot per sex: the lonely rate (unweighted) by age band, one colour per town,
    with intervals and the national rate as a line."""
    charts = []
    ref = national_reference()
    national = percent(ref.lonely_rate(national_round))
    note = "（合成データ）" if synthetic else ""
    for sex in SEXES:
        part = long[(long["sex"] == sex) & (long["age_band"] != TOTAL)]
        if part.empty:
            continue
        part = part.sort_values("age_band", kind="stable")  # bands in the order of their ages
        totals = long.loc[(long["sex"] == sex) & (long["age_band"] == TOTAL), "n"]
        charts.append(dot_chart(
            part, "age_band", hue="label",
            title=f"{sex}：年代別 孤独感がある人の割合（市町村別、重み付けなし）",
            what=f"{sex}の年代別・市町村別の孤独感がある人の割合{note}",
            n=int(pd.to_numeric(totals, errors="coerce").fillna(0).sum()),
            min_cell=min_cell, reference=national,
            reference_label=f"全国（{ref.round(national_round).name}、全年代）",
        ))
    return charts
