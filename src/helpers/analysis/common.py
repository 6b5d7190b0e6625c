"""Shared pieces of the report sections: options, published tables, suppression, labels."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from helpers.codebook import load_codebook
from helpers.stats import (
    Design,
    chi_square,
    crosstab,
    fmt_p,
    rao_scott,
    rate_table,
    suppress_counts,
)
from helpers.towns import Town

SUPPRESSED = "—"
TOTAL = "全体"
NO_ANSWER = "無回答"

#: Column names of published tables → Japanese headers (tables, xlsx).
HEADERS: dict[str, str] = {
    "n": "回答者数",
    "x": "該当者数",
    "count": "人数",
    "p": "割合（%）",
    "lo": "95%信頼区間 下限（%）",
    "hi": "95%信頼区間 上限（%）",
    "share": "構成比（%）",
    "pop_share": "人口構成比（%）",
    "p_weighted": "重み付け割合（%）",
    "lo_weighted": "重み付け 下限（%）",
    "hi_weighted": "重み付け 上限（%）",
    "national": "全国（%）",
    "share_weighted": "重み付け構成比（%）",
    "odds_ratio": "調整オッズ比",
    "or_lo": "オッズ比 95%信頼区間 下限",
    "or_hi": "オッズ比 95%信頼区間 上限",
    "p_value": "p値",
    "odds_ratio_weighted": "重み付け 調整オッズ比",
    "or_lo_weighted": "重み付け オッズ比 下限",
    "or_hi_weighted": "重み付け オッズ比 上限",
    "p_value_weighted": "重み付け p値",
    "mean": "平均",
    "variable": "項目",
    "level": "回答",
    "answer": "回答",
    "group": "回答",
    "median": "中央値",
}
#: Columns holding shares 0–1 (shown in %); the others are counts or labels.
PERCENT_COLUMNS = {"p", "lo", "hi", "share", "pop_share", "p_weighted", "lo_weighted",
                   "hi_weighted", "national", "share_weighted"}
#: Columns holding ratios or scores (shown with two decimals) and p-values.
DECIMAL_COLUMNS = {"odds_ratio", "or_lo", "or_hi", "odds_ratio_weighted", "or_lo_weighted",
                   "or_hi_weighted", "mean", "median"}
P_COLUMNS = {"p_value", "p_value_weighted"}
#: Columns holding counts of respondents (0 or ≥ min_cell when published).
COUNT_COLUMNS = {"n", "x", "count"}

#: Short Japanese names of the standard variables used as table columns.
VARIABLE_NAMES: dict[str, str] = {
    "mode": "回答方法",
    "sex": "性別",
    "age_band": "年代",
    "district": "地区",
    "household": "世帯の状況",
    "marital": "婚姻状況",
    "employment": "就業状態",
    "living_standard": "暮らし向き",
    "health": "健康状態",
    "lonely_direct": "孤独感（直接質問）",
    "ucla_band": "UCLA孤独感尺度",
    "town_ties": "地域・社会とのつながりが深いこと",
    "town_faces": "近所の人と顔の見える関係性が築きやすいこと",
    "town_selfcontained": "市内で生活が完結できること",
    "outing_summer": "春～秋の外出頻度",
    "outing_winter": "冬の外出頻度",
    "outing_less_in_winter": "冬に外出が減る",
    "rely_on": "頼れる人",
    "consult": "相談相手",
    "participation": "活動への参加",
    "contact_inperson": "直接会って話す頻度",
    "contact_remote": "電話・SNSで連絡する頻度",
    "lonely": "孤独感",
    "season": "季節",
    "sex_age": "性別×年代",
}


@dataclass(frozen=True)
class Options:
    """Report options: minimum cell size, weighting on/off, national comparison round."""

    min_cell: int = 10
    weighting: bool = True
    national_round: int = 2022

    @classmethod
    def for_town(
        cls, town: Town, min_cell: int | None = None, weighting: bool | None = None
    ) -> Options:
        """The town's ``report:`` settings, overridden by any argument that is not None."""
        return cls(
            min_cell=town.report.min_cell if min_cell is None else int(min_cell),
            weighting=town.report.weighting if weighting is None else bool(weighting),
            national_round=town.report.national_round,
        )


def name_of(var: str) -> str:
    """Japanese short name of a standard variable (its question text if none is set)."""
    if var in VARIABLE_NAMES:
        return VARIABLE_NAMES[var]
    book = load_codebook()
    return book[var].question if var in book else var


def has(df: pd.DataFrame, var: str) -> bool:
    """True when the standard dataset holds ``var`` with at least one answer."""
    return var in df.columns and bool(df[var].notna().any())


def _json_value(v: Any) -> Any:
    if v is None or v is pd.NA:
        return None
    if isinstance(v, (np.bool_, bool)):
        return bool(v)
    if isinstance(v, (np.integer, int)):
        return int(v)
    if isinstance(v, (np.floating, float)):
        return None if math.isnan(float(v)) else float(v)
    return str(v)


def _two_decimals(v: float) -> str:
    return SUPPRESSED if pd.isna(v) else f"{v:.2f}"


@dataclass
class Table:
    """A published table: suppressed cells are missing; column names as in :data:`HEADERS`.

    ``percent`` names further columns holding shares 0–1 (e.g. one per answer of a cross
    table); they are shown in % under their own name.
    """

    key: str
    title: str
    frame: pd.DataFrame
    percent: tuple[str, ...] = ()

    def records(self) -> list[dict[str, Any]]:
        """Rows as JSON-ready dicts; suppressed cells become None, counts are integers."""
        cols = list(self.frame.columns)
        out = []
        for row in self.frame.itertuples(index=False):
            rec = {str(c): _json_value(v) for c, v in zip(cols, row, strict=True)}
            for c in COUNT_COLUMNS & rec.keys():
                rec[c] = None if rec[c] is None else int(rec[c])
            out.append(rec)
        return out

    def to_json(self) -> dict[str, Any]:
        return {"title": self.title, "rows": self.records()}

    def display(self, text: bool = True) -> pd.DataFrame:
        """Japanese headers, shares in %; ``text=True`` formats every cell and shows "—"."""
        out = pd.DataFrame(index=range(len(self.frame)))
        for col in self.frame.columns:
            if col in ("suppressed", "base_hidden"):
                continue
            values = self.frame[col].reset_index(drop=True)
            if col in PERCENT_COLUMNS or col in self.percent:
                values = pd.to_numeric(values, errors="coerce").astype(float) * 100
                values = values.round(1)
                if text:
                    values = values.map(lambda v: SUPPRESSED if pd.isna(v) else f"{v:.1f}")
            elif col in DECIMAL_COLUMNS | P_COLUMNS:
                values = pd.to_numeric(values, errors="coerce").astype(float)
                if text:
                    values = values.map(fmt_p if col in P_COLUMNS else _two_decimals)
            elif col in COUNT_COLUMNS:
                values = pd.to_numeric(values, errors="coerce").astype("Float64")
                values = values.map(lambda v: SUPPRESSED if pd.isna(v) else int(v)).astype(object)
                if col == "n" and "base_hidden" in self.frame.columns:
                    at_least = f"{self.frame.attrs.get('min_cell', '')}人以上"
                    hidden = self.frame["base_hidden"].to_numpy(dtype=bool)
                    values[hidden] = at_least
            else:
                values = values.astype(object).where(values.notna(), SUPPRESSED)
            header = f"{col}（%）" if col in self.percent else HEADERS.get(col, name_of(col))
            out[header] = values
        return out


def hide_small_counts(
    frame: pd.DataFrame,
    by: Sequence[str],
    min_cell: int,
    rates: Sequence[str] = ("p", "lo", "hi"),
) -> pd.DataFrame:
    """Apply the disclosure rule to a table of rates (columns ``by…, n, [x], rates…``).

    A row whose base ``n`` is 1 … min_cell−1 is hidden entirely; rates need a base of at least
    ``min_cell``; counts ``x`` of 1 … min_cell−1 are hidden. So that a hidden base cannot be
    worked out from the visible total (the "全体" row or the section's total), one more base in
    the same group of the first ``by`` column is hidden (secondary suppression); that row keeps
    its rate (its base is at least ``min_cell``), is marked ``base_hidden`` and its base is shown
    as "<min_cell>人以上" (``min_cell`` is kept in ``attrs``).
    """
    out = frame.copy()
    out.attrs["min_cell"] = min_cell
    rates = [c for c in rates if c in out.columns]
    counts = [c for c in ("n", "x") if c in out.columns]
    values = {c: np.array(pd.to_numeric(out[c], errors="coerce"), dtype=float)
              for c in [*counts, *rates]}
    n = np.nan_to_num(values["n"])
    is_total = np.zeros(len(out), dtype=bool)
    for col in by:
        is_total |= out[col].astype(str).eq(TOTAL).to_numpy()
    first = out[by[0]].astype(str).to_numpy() if len(by) > 1 else np.full(len(out), "")
    secondary = np.zeros(len(out), dtype=bool)
    for value in pd.unique(first):
        rows = np.flatnonzero((first == value) & ~is_total)
        base = pd.DataFrame({"n": n[rows]})
        secondary[rows] = suppress_counts(base, min_cell)["n"].to_numpy()
    small = n < min_cell
    primary = small & (n > 0)
    secondary &= ~primary
    for col in rates:
        values[col][small] = np.nan
    for col in counts:
        values[col][primary | secondary] = np.nan
    if "x" in values:
        x = values["x"]
        x[(x > 0) & (x < min_cell)] = np.nan
    for col, arr in values.items():
        out[col] = arr
    out["base_hidden"] = secondary
    out["suppressed"] = small
    return out


def rates(
    df: pd.DataFrame,
    flag: str,
    by: list[str],
    min_cell: int,
    design: Design | None = None,
) -> pd.DataFrame:
    """Rate of ``flag`` per group (``rate_table``) with the disclosure rule applied.

    ``design`` (the raked respondents) adds weighted rates with design-based intervals
    ``p_weighted``, ``lo_weighted``, ``hi_weighted`` among the rows of ``df`` in the design;
    they are suppressed on the unweighted bases and on the design's own bases.
    """
    table = rate_table(df, flag, by, min_cell=min_cell)
    cols = [*by, "n", "x", "p", "lo", "hi"]
    rate_cols = ["p", "lo", "hi"]
    if design is not None:
        w = rate_table(df, flag, by, design=design, min_cell=min_cell)
        for col in ("p", "lo", "hi"):
            table[f"{col}_weighted"] = w[col].to_numpy()
            rate_cols.append(f"{col}_weighted")
        cols += rate_cols[3:]
    return hide_small_counts(table[cols], by, min_cell, rates=rate_cols)


def distribution(
    df: pd.DataFrame,
    var: str,
    min_cell: int,
    design: Design | None = None,
    *,
    no_answer: bool = False,
) -> pd.DataFrame:
    """Answers of ``var`` in category order: ``count`` and ``share`` (0–1) of those answering.

    Counts follow the count rule (1 … min_cell−1 hidden, with secondary suppression against
    the total) and the share of a hidden count is hidden too (it would give the count away);
    shares need a total base of at least ``min_cell``. ``design`` (the raked respondents) adds
    the weighted share ``share_weighted`` among the rows of ``df`` in the design.
    ``no_answer`` adds a 「無回答」 row and takes shares of all respondents, as the national
    tables do: then a small category and a small no-answer count hide each other instead of a
    large category.
    """
    s = df[var]
    cats = list(s.cat.categories) if isinstance(s.dtype, pd.CategoricalDtype) else sorted(
        s.dropna().unique()
    )
    counts = s.value_counts().reindex(cats, fill_value=0).astype(float)
    if no_answer and s.isna().any():
        cats = [*map(str, cats), NO_ANSWER]
        counts = pd.concat([counts, pd.Series({NO_ANSWER: float(s.isna().sum())})])
    total = counts.sum()
    hidden = suppress_counts(counts.to_frame("count"), min_cell)["count"].to_numpy()
    out = pd.DataFrame({var: cats, "count": counts.to_numpy()})
    out["share"] = counts.to_numpy() / total if total >= min_cell else np.nan
    if design is not None:
        pos = design.positions(df.index)
        ws = s[pos >= 0]
        w = pd.Series(design.weights[pos[pos >= 0]], index=ws.index).where(ws.notna(), 0.0)
        wsum = w.groupby(ws, observed=False).sum().reindex(cats, fill_value=0.0)
        out["share_weighted"] = wsum.to_numpy() / wsum.sum() if total >= min_cell else np.nan
    out.loc[hidden, [c for c in ("count", "share", "share_weighted") if c in out]] = np.nan
    return out


def shares_by(
    df: pd.DataFrame, row: str, col: str, min_cell: int
) -> tuple[pd.DataFrame, tuple[str, ...]]:
    """Row shares of ``col`` per answer of ``row`` (``crosstab``), disclosure rule applied.

    Returns the frame (``row``, ``n``, one share column per answer of ``col``) and the names of
    the share columns.
    """
    tab = crosstab(df, row, col, min_cell=min_cell)
    labels = tuple(str(c) for c in tab.row_pct.columns)
    frame = tab.row_pct.set_axis(labels, axis=1).reset_index()
    frame.insert(1, "n", tab.base.to_numpy())
    frame[row] = frame[row].astype(str)
    return hide_small_counts(frame, [row], min_cell, rates=labels), labels


def chi_square_test(df: pd.DataFrame, row: str, col: str) -> dict[str, Any] | None:
    """``chi_square`` as a results record (chi2, dof, p_value, cramers_v, n); None if undefined."""
    try:
        c = chi_square(df, row, col)
    except ValueError:
        return None
    return {"chi2": c.chi2, "dof": c.dof, "p_value": c.p, "cramers_v": c.cramers_v, "n": c.n}


def rao_scott_test(
    df: pd.DataFrame, row: str, col: str, design: Design | None, min_cell: int
) -> dict[str, Any] | None:
    """``rao_scott`` (weighted) as a results record; None without a design, when undefined, or
    when fewer than ``min_cell`` weighted respondents have both answers.

    Keys: ``f``, ``ndf``, ``ddf``, ``p_value`` (second order, the one reported), ``chi2``,
    ``dof``, ``p_value_chi2`` (first order), ``cramers_v`` (from the adjusted statistic),
    ``mean_deff``, ``n``.
    """
    if design is None:
        return None
    try:
        r = rao_scott(df, row, col, design)
    except ValueError:
        return None
    if r.n < min_cell:
        return None
    return {"f": r.f, "ndf": r.ndf, "ddf": r.ddf, "p_value": r.p, "chi2": r.chi2, "dof": r.dof,
            "p_value_chi2": r.p_chi2, "cramers_v": r.cramers_v, "mean_deff": r.mean_deff,
            "n": r.n}


def tests_note(chi2: dict[str, Any] | None, rao: dict[str, Any] | None) -> str:
    """「（カイ二乗検定 p=…、重み付けのRao–Scott検定 p=…）」 for the tests that were computed."""
    parts = []
    if chi2 is not None:
        parts.append(f"カイ二乗検定 {fmt_p(chi2['p_value'])}")
    if rao is not None:
        parts.append(f"重み付けのRao–Scott検定 {fmt_p(rao['p_value'])}")
    return f"（{'、'.join(parts)}）" if parts else ""


def stack_by_item(tables: dict[str, Table]) -> pd.DataFrame:
    """Rate tables of several items (variable → table) as one frame with ``item`` (its Japanese
    name) and ``answer`` columns, for a grouped chart."""
    frames = [t.frame.rename(columns={var: "answer"}).assign(item=name_of(var))
              for var, t in tables.items()]
    return pd.concat(frames, ignore_index=True)
