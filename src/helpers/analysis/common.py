"""Shared pieces of the report sections: options, tables, labels.

A section computes its tables *raw* (counts and unrounded shares of every group, small ones too)
with :func:`rates`, :func:`distribution` and :func:`cross_counts`; the publication boundary
(:mod:`helpers.analysis.publish`) then decides what may be shown and rounds it, and the section's
text, charts and records read only the published values (:meth:`Table.records`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from helpers.codebook import load_codebook
from helpers.stats import (
    Design,
    chi_square,
    crosstab,
    fmt_p,
    proportion,
    rao_scott,
    rate_table,
)
from helpers.towns import Town

SUPPRESSED = "—"
TOTAL = "全体"
NO_ANSWER = "無回答"

#: Kinds of published table: rates of a flag by group (n, x, p, lo, hi); the distribution of one
#: answer (count, share); a cross table (n and row shares per answer); groups with statistics.
RATES, DISTRIBUTION, CROSSTAB, GROUPS = "rates", "distribution", "crosstab", "groups"

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
    "indicator": "指標",
    "choice": "選んだか",
    "median": "中央値",
}
#: Columns holding shares (raw 0–1, published in % with one decimal).
PERCENT_COLUMNS = {"p", "lo", "hi", "share", "pop_share", "p_weighted", "lo_weighted",
                   "hi_weighted", "national", "share_weighted"}
#: Shares from outside the survey (population, national survey): not respondent data.
EXTERNAL_COLUMNS = {"pop_share", "national"}
#: Columns holding ratios or scores (published with two decimals) and p-values.
DECIMAL_COLUMNS = {"odds_ratio", "or_lo", "or_hi", "odds_ratio_weighted", "or_lo_weighted",
                   "or_hi_weighted", "mean", "median"}
P_COLUMNS = {"p_value", "p_value_weighted"}
#: The weighted rates' own bases (respondents in the design): never published, they decide
#: whether the weighted figures of a row may be.
DESIGN_BASES = ("n_weighted", "x_weighted")
#: Columns holding counts of respondents.
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
    "outing_change": "冬の外出の変化",
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
    """A table of a report: computed ``frame`` (raw), and ``published`` once it has passed the
    publication boundary (:func:`helpers.analysis.publish.publish`).

    ``kind`` is one of :data:`RATES`, :data:`DISTRIBUTION`, :data:`CROSSTAB`, :data:`GROUPS`;
    ``labels`` names the label columns (default: the first column); rows labelled "全体" are
    totals of the rows below them. The 全体 row of a table with a ``universe`` counts the same
    respondents as every other table of that universe (e.g. "lonely": everyone who answered the
    loneliness question). ``answers`` are a cross table's answer columns (counts, published as
    row shares in %).
    """

    key: str
    title: str
    frame: pd.DataFrame
    kind: str = RATES
    labels: tuple[str, ...] = ()
    universe: str | None = None
    flag: str | None = None
    answers: tuple[str, ...] = ()
    published: pd.DataFrame | None = field(default=None, repr=False)

    @property
    def label_columns(self) -> tuple[str, ...]:
        return self.labels or (str(self.frame.columns[0]),)

    def rows(self) -> list[tuple[str, ...]]:
        """The labels of each raw row, as text."""
        cols = list(self.label_columns)
        return [tuple(str(v) for v in row) for row in self.frame[cols].itertuples(index=False)]

    def _shown(self) -> pd.DataFrame:
        if self.published is None:
            raise RuntimeError(f"table {self.key!r} has not passed the publication boundary")
        return self.published

    def records(self) -> list[dict[str, Any]]:
        """Published rows as JSON-ready dicts; hidden values are None, counts are integers."""
        frame = self._shown()
        cols = list(frame.columns)
        return [{str(c): _json_value(v) for c, v in zip(cols, row, strict=True)}
                for row in frame.itertuples(index=False)]

    def parts(self) -> pd.DataFrame:
        """Published rows without the 全体 and 無回答 rows (for charts and sentences)."""
        frame = self._shown()
        keep = np.ones(len(frame), bool)
        for col in self.label_columns:
            keep &= ~frame[col].astype(str).isin([TOTAL, NO_ANSWER]).to_numpy()
        return frame[keep].reset_index(drop=True)

    def total(self) -> dict[str, Any] | None:
        """The published 全体 row (all labels 全体), if the table has one."""
        for rec in self.records():
            if all(rec[c] == TOTAL for c in self.label_columns):
                return rec
        return None

    def to_json(self) -> dict[str, Any]:
        return {"title": self.title, "rows": self.records()}

    def display(self, text: bool = True) -> pd.DataFrame:
        """Japanese headers, shares in %; ``text=True`` formats every cell and shows "—"."""
        frame = self._shown()
        out = pd.DataFrame(index=range(len(frame)))
        for col in frame.columns:
            values = frame[col].reset_index(drop=True)
            if col in PERCENT_COLUMNS or col in self.answers:
                values = pd.to_numeric(values, errors="coerce").astype(float)
                if text:
                    values = values.map(lambda v: SUPPRESSED if pd.isna(v) else f"{v:.1f}")
            elif col in DECIMAL_COLUMNS | P_COLUMNS:
                values = pd.to_numeric(values, errors="coerce").astype(float)
                if text:
                    values = values.map(fmt_p if col in P_COLUMNS else _two_decimals)
            elif col in COUNT_COLUMNS:
                values = values.astype("Int64").astype(object).where(values.notna(), SUPPRESSED)
            else:
                values = values.astype(object).where(values.notna(), SUPPRESSED)
            header = f"{col}（%）" if col in self.answers else HEADERS.get(col, name_of(col))
            out[header] = values
        return out


class Items:
    """A section made of items (questions), each with its own tables and links."""

    items: Sequence[Any]

    def tables(self) -> list[Table]:
        return [t for it in self.items for t in it.tables()]

    def links(self, pub: Any) -> None:
        for it in self.items:
            it.links(pub)


def with_no_answer(s: pd.Series) -> pd.Series:
    """A categorical answer with 無回答 as its last category for the missing answers."""
    cats = list(s.cat.categories) if isinstance(s.dtype, pd.CategoricalDtype) else sorted(
        s.dropna().unique().tolist()
    )
    labels = [*map(str, cats), NO_ANSWER]
    values = s.astype(object).map(lambda v: NO_ANSWER if pd.isna(v) else str(v))
    return pd.Series(pd.Categorical(values, categories=labels), index=s.index, name=s.name)


def rates(
    df: pd.DataFrame, flag: str, by: Sequence[str], design: Design | None = None
) -> pd.DataFrame:
    """Raw rates of ``flag`` per group: a 全体 row, then every group of ``by`` (``rate_table``).

    Respondents who did not answer a ``by`` question form a 無回答 group, so the groups of
    each level add up to their 全体 row. When anyone left the question blank, every level
    lists its 無回答 group, empty or not (an empty one is shown as hidden like any small group:
    a reader cannot tell it is empty, so it protects a small group beside it); when nobody
    did, there is none. With two ``by`` columns, the 無回答 group of the first is not broken
    down. ``design`` (the raked respondents) adds weighted rates with design-based intervals
    ``p_weighted``, ``lo_weighted``, ``hi_weighted`` among the rows of ``df`` in the design, and
    their own bases ``n_weighted``, ``x_weighted``.
    """
    by = list(by)
    answered = df[df[flag].notna()]
    table = _rate_rows(answered, flag, by, None)
    if design is not None:
        w = _rate_rows(answered, flag, by, design)
        for col in ("p", "lo", "hi"):
            table[f"{col}_weighted"] = w[col].to_numpy()
        table["n_weighted"], table["x_weighted"] = w["n"].to_numpy(), w["x"].to_numpy()
    asked_all = [v for v in by if answered[v].notna().all()]  # nobody left these blank
    keep = ~table[asked_all].eq(NO_ANSWER).any(axis=1)
    if len(by) > 1:
        keep &= ~(table[by[0]].eq(NO_ANSWER) & table[by[-1]].ne(TOTAL))
    return table[keep].reset_index(drop=True)


def _rate_rows(df: pd.DataFrame, flag: str, by: list[str], design: Design | None) -> pd.DataFrame:
    """``rate_table`` on the groups with 無回答, under a first 全体 row; labels as text."""
    data = df.assign(**{v: with_no_answer(df[v]) for v in by})
    table = rate_table(data, flag, by, design=design, min_cell=0)
    whole = proportion(df[flag], design)
    top = {**dict.fromkeys(by, TOTAL), "n": whole.n, "x": whole.x, "p": whole.p,
           "lo": whole.lo, "hi": whole.hi}
    table = table[[*by, "n", "x", "p", "lo", "hi"]].astype({v: str for v in by})
    return pd.concat([pd.DataFrame([top]), table], ignore_index=True)


def distribution(
    df: pd.DataFrame,
    var: str,
    design: Design | None = None,
    *,
    no_answer: bool = False,
    label: str | None = None,
) -> pd.DataFrame:
    """Raw distribution of ``var``: a 全体 row, then ``count`` and ``share`` (0–1) per answer.

    Shares are of those answering, or with ``no_answer`` of all respondents with a 無回答 row
    (as the national tables do; left out when everyone answered). ``design`` (the raked
    respondents) adds the weighted share ``share_weighted`` among the rows of ``df`` in the
    design. ``label`` names the label column (default ``var``).
    """
    s = with_no_answer(df[var]) if no_answer else df[var]
    cats = list(s.cat.categories) if isinstance(s.dtype, pd.CategoricalDtype) else sorted(
        s.dropna().unique())
    counts = s.value_counts().reindex(cats, fill_value=0).astype(float)
    if no_answer and counts.get(NO_ANSWER, 0) == 0:
        counts = counts.drop(NO_ANSWER)
    total = counts.sum()
    out = pd.DataFrame({label or var: [TOTAL, *map(str, counts.index)],
                        "count": [total, *counts.to_numpy()]})
    out["share"] = out["count"] / total if total > 0 else np.nan
    if design is not None:
        pos = design.positions(df.index)
        ws = s[pos >= 0]  # with 無回答 as an answer when it is one
        w = pd.Series(design.weights[pos[pos >= 0]], index=ws.index).where(ws.notna(), 0.0)
        wsum = w.groupby(ws, observed=False).sum().reindex(counts.index, fill_value=0.0)
        out["share_weighted"] = [1.0, *(wsum / wsum.sum()).to_numpy()] if wsum.sum() > 0 else np.nan
    return out


def cross_counts(df: pd.DataFrame, row: str, col: str) -> tuple[pd.DataFrame, tuple[str, ...]]:
    """Raw cross table of ``row`` × ``col`` (respondents with both): a 全体 row, then per answer
    of ``row`` its base ``n`` and one count column per answer of ``col``.

    Returns the frame and the names of the count columns.
    """
    counts = crosstab(df, row, col, min_cell=0).counts
    answers = tuple(str(c) for c in counts.columns)
    body = counts.set_axis(answers, axis=1).reset_index()
    body[row] = body[row].astype(str)
    body.insert(1, "n", counts.sum(axis=1).to_numpy())
    top = {row: TOTAL, "n": int(counts.to_numpy().sum()),
           **dict(zip(answers, counts.sum(axis=0).to_numpy(), strict=True))}
    return pd.concat([pd.DataFrame([top]), body], ignore_index=True), answers


def chi_square_test(df: pd.DataFrame, row: str, col: str) -> dict[str, Any] | None:
    """``chi_square`` as a results record (chi2, dof, p_value, cramers_v); None if undefined."""
    try:
        c = chi_square(df, row, col)
    except ValueError:
        return None
    return {"chi2": c.chi2, "dof": c.dof, "p_value": c.p, "cramers_v": c.cramers_v}


def rao_scott_test(
    df: pd.DataFrame, row: str, col: str, design: Design | None, min_cell: int
) -> dict[str, Any] | None:
    """``rao_scott`` (weighted) as a results record; None without a design, when undefined, or
    when fewer than ``min_cell`` weighted respondents have both answers.

    Keys: ``f``, ``ndf``, ``ddf``, ``p_value`` (second order, the one reported), ``chi2``,
    ``dof``, ``p_value_chi2`` (first order), ``cramers_v`` (from the adjusted statistic),
    ``mean_deff``.
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
            "p_value_chi2": r.p_chi2, "cramers_v": r.cramers_v, "mean_deff": r.mean_deff}


def all_groups_shown(table: Table) -> bool:
    """True when every answer group of a published table with respondents shows its figures.

    A test or model statistic computed over the groups is published only then: from a
    statistic and the shown groups, a hidden group could be solved for.
    """
    col = "p" if table.kind == RATES else "n"
    shown = table._shown()
    figures = dict(zip(table.rows(), shown[col], strict=True)) if len(shown) == len(
        table.frame) else {}
    answered = [r for r, n in zip(table.rows(), table.frame["n"], strict=True)
                if n > 0 and not {TOTAL, NO_ANSWER} & set(r)]
    return bool(figures) and all(pd.notna(figures[r]) for r in answered)


def stack_by_item(tables: dict[str, Table]) -> pd.DataFrame:
    """Published rate tables of several items (variable → table) as one frame with ``item``
    (its Japanese name) and ``answer`` columns, for a grouped chart."""
    frames = [t.parts().rename(columns={var: "answer"}).assign(item=name_of(var))
              for var, t in tables.items()]
    return pd.concat(frames, ignore_index=True)
