"""The publication boundary: every number a town's report publishes passes here once.

Tables, sentences, charts, the Excel workbook and results.json all read the *published* values
this module makes from the sections' raw tables:

1. Every count of every table goes into one :class:`~helpers.stats.disclosure.Ledger`, with the
   sums a reader can form from the published tables: a row's base is its count with the flag
   plus the count without (n = x + (n − x)); the rows under a 全体 row add up to it; a cross
   table's rows and columns add up to its margins; tables of the same respondents share their
   全体 cells (``Table.universe``), and sections link the cells they show twice (:meth:`same`)
   or as parts of another (:meth:`sum`).
2. :meth:`Ledger.protect` applies the disclosure rule (``helpers.stats.disclosure``).
3. Each table gets its published frame: hidden counts and everything computed from them
   (shares, intervals, weighted figures, means, odds ratios) are missing, a rate needs its count
   with the flag shown; shares become percentages with one decimal, ratios and scores two
   decimals, p-values four, all rounded half up by ``helpers.stats.round_half_up``. The rows of a
   group hidden as a whole are not broken down further.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from helpers.analysis.common import (
    CROSSTAB,
    DECIMAL_COLUMNS,
    DESIGN_BASES,
    DISTRIBUTION,
    EXTERNAL_COLUMNS,
    GROUPS,
    NO_ANSWER,
    P_COLUMNS,
    PERCENT_COLUMNS,
    RATES,
    TOTAL,
    Table,
)
from helpers.stats import Ledger, percent, round_half_up

#: Decimals of published ratios, scores and p-values (shares: one decimal in %).
DECIMALS = 2
P_DECIMALS = 4


def universe_key(universe: str, *what: str) -> tuple[str, ...]:
    """Key of a count shared by every table of ``universe`` (its 全体 row)."""
    return ("universe", universe, *what)


class Publication:
    """The ledger of a report's counts, filled table by table, then :meth:`publish`."""

    def __init__(self) -> None:
        self.ledger = Ledger()
        self.tables: list[Table] = []
        self._hidden_with: list[tuple[Hashable, list[Hashable]]] = []
        self._after: list[Callable[[Callable[[Hashable], int | None]], None]] = []
        self.hidden: set[Hashable] = set()

    @staticmethod
    def key(table: Table, labels: Sequence[str], column: str) -> tuple:
        """Key of one count of a table: (table key, row labels, column)."""
        return (table.key, tuple(labels), column)

    def same(self, a: Hashable, b: Hashable) -> None:
        """Cells ``a`` and ``b`` are the same count shown in two places."""
        self.ledger.same(a, b)

    def sum(self, total: Hashable, parts: Iterable[Hashable]) -> None:
        """A reader can add ``parts`` up to ``total``."""
        self.ledger.sum(total, list(parts))

    def within(self, outer: Hashable, *inner: Hashable, merge: bool = True) -> None:
        """The ``inner`` counts (groups of different respondents) count some of the
        respondents of ``outer`` (e.g. a group among those in a model; an age band's people of
        each sex in a loneliness table): outer = the inner counts + a rest, never shown. When
        the rest is 0 and ``merge``, a reader may know it (nobody left the question blank), so
        outer is their sum (one inner: the same count); else the rest stays a count ≥ 0 a
        reader does not know, and only bounds the inner counts."""
        rest = self.ledger.value(outer) - sum(map(self.ledger.value, inner))
        if rest < 0:
            raise ValueError(f"{' + '.join(map(repr, inner))} counts more respondents than "
                             f"{outer!r}")
        if rest == 0 and merge and len(inner) == 1:
            self.ledger.same(outer, inner[0])
        else:
            rests = [self.latent(("rest", outer, *inner), rest)] if rest or not merge else []
            self.sum(outer, [*inner, *rests])

    def hide_with(self, member: Hashable, cells: Iterable[Hashable]) -> None:
        """Hide ``member`` whenever one of ``cells`` is hidden (a figure that would give them
        away, outside any sum)."""
        self._hidden_with.append((member, list(cells)))

    def after(self, use: Callable[[Callable[[Hashable], int | None]], None]) -> None:
        """Call ``use(shown)`` once published; ``shown(key)`` is the count as published (None
        when hidden), for a count shown outside any table."""
        self._after.append(use)

    def shown(self, key: Hashable) -> int | None:
        """A count as published: None when hidden."""
        return None if key in self.hidden else self.ledger.value(key)

    def latent(self, key: Hashable, value: float, protected: bool = False) -> Hashable:
        """A count that is never shown (e.g. respondents who skipped a question); one
        ``protected`` may not be worked out either (e.g. the respondents of some sexes)."""
        return self.ledger.cell(key, value, latent=True, protected=protected)

    def add(self, table: Table) -> None:
        """Register every count of ``table`` and the sums inside it."""
        if any(t.key == table.key for t in self.tables):
            raise ValueError(f"two tables of one report share the key {table.key!r}")
        self.tables.append(table)
        {RATES: self._add_rates, DISTRIBUTION: self._add_distribution,
         CROSSTAB: self._add_crosstab, GROUPS: self._add_groups}[table.kind](table)

    def _cell(self, table: Table, labels: tuple[str, ...], column: str, value: float) -> tuple:
        """A count of a table; those of a 無回答 group are not protected (see the rule)."""
        protected = NO_ANSWER not in labels
        return self.ledger.cell(self.key(table, labels, column), value, protected=protected)

    def _share_universe(self, table: Table, labels: tuple[str, ...], *columns: str) -> None:
        """Make a 全体 row's counts the universe's (counts of the same respondents)."""
        if table.universe is None:
            return
        for column in columns:
            what = ("n",) if column in ("n", "count") else (table.flag or "", column)
            own = self.key(table, labels, column)
            shared = universe_key(table.universe, *what)
            self.ledger.cell(shared, self.ledger.value(own))
            self.ledger.same(shared, own)

    def _add_rates(self, table: Table) -> None:
        rows = table.rows()
        for labels, n, x in zip(rows, table.frame["n"], table.frame["x"], strict=True):
            cells = [self._cell(table, labels, c, v) for c, v in (("n", n), ("x", x),
                                                                   ("y", n - x))]
            self.ledger.sum(cells[0], cells[1:])
            self.ledger.group(cells[0], cells[1:])
        for total, parts in _blocks(rows):
            for column in ("n", "x", "y"):
                self.sum(self.key(table, total, column),
                         [self.key(table, p, column) for p in parts])
        if (TOTAL,) * len(table.label_columns) in rows:
            self._share_universe(table, (TOTAL,) * len(table.label_columns), "n", "x", "y")

    def _add_distribution(self, table: Table) -> None:
        rows = table.rows()
        for labels, count in zip(rows, table.frame["count"], strict=True):
            self._cell(table, labels, "count", count)
        for total, parts in _blocks(rows):
            cells = [self.key(table, p, "count") for p in parts]
            self.sum(self.key(table, total, "count"), cells)
            self.ledger.group(self.key(table, total, "count"), cells, whole=False)
            self._share_universe(table, total, "count")  # each block: the same respondents

    def _add_crosstab(self, table: Table) -> None:
        rows = table.rows()
        answers = list(table.answers)
        frame = table.frame
        for labels, (_, row) in zip(rows, frame.iterrows(), strict=True):
            n = self._cell(table, labels, "n", row["n"])
            cells = [self._cell(table, labels, a, row[a]) for a in answers]
            self.sum(n, cells)
            self.ledger.group(n, cells)
        total, body = (TOTAL,), [r for r in rows if r != (TOTAL,)]
        if total in rows:
            for column in ["n", *answers]:
                self.sum(self.key(table, total, column), [self.key(table, r, column) for r in body])
            self._share_universe(table, total, "n")

    def _add_groups(self, table: Table) -> None:
        for labels, n in zip(table.rows(), table.frame["n"], strict=True):
            self.ledger.group(self._cell(table, labels, "n", n), [])

    def publish(self, min_cell: int) -> None:
        """Apply the disclosure rule and set every table's ``published`` frame."""
        hidden = self.ledger.protect(min_cell)
        hidden |= {m for m, cells in self._hidden_with if any(c in hidden for c in cells)}
        self.hidden = hidden
        for table in self.tables:
            table.published = _published(table, hidden, min_cell)
        for use in self._after:
            use(self.shown)


def published_record(record: dict[str, Any] | None) -> dict[str, Any] | None:
    """A record of test statistics as published: numbers rounded half up (p-values to
    ``P_DECIMALS``, others to ``DECIMALS`` + 1), whole numbers and text kept."""
    if record is None:
        return None
    out: dict[str, Any] = {}
    for key, value in record.items():
        value = value.item() if isinstance(value, np.generic) else value
        if isinstance(value, float) and not np.isnan(value):
            digits = P_DECIMALS if key in P_COLUMNS else DECIMALS + 1
            value = round_half_up(value, digits)
        elif isinstance(value, float):
            value = None
        out[key] = value
    return out


def _blocks(rows: list[tuple[str, ...]]) -> list[tuple[tuple[str, ...], list[tuple[str, ...]]]]:
    """Each 全体 row with the rows that add up to it.

    One label column: (全体) over every other row. Two: (全体, 全体) over each group's
    (group, 全体) row, and each (group, 全体) over the group's other rows.
    """
    if not rows:
        return []
    if len(rows[0]) == 1:
        return [((TOTAL,), [r for r in rows if r != (TOTAL,)])] if (TOTAL,) in rows else []
    firsts = [r for r in rows if r[1] == TOTAL and r[0] != TOTAL]
    out = []
    if (TOTAL, TOTAL) in rows and firsts:
        out.append(((TOTAL, TOTAL), firsts))
    for f in firsts:
        parts = [r for r in rows if r[0] == f[0] and r[1] != TOTAL]
        if parts:
            out.append((f, parts))
    return out


def _percent(values: Iterable[float]) -> list[float]:
    return [np.nan if pd.isna(v) else percent(float(v)) for v in values]


def _rounded(values: Iterable[float], digits: int) -> list[float]:
    return [np.nan if pd.isna(v) else round_half_up(float(v), digits) for v in values]


def _published(table: Table, hidden: set, min_cell: int) -> pd.DataFrame:
    """The published frame of one table (see the module docstring)."""
    frame = table.frame.reset_index(drop=True)
    rows = table.rows()

    def shown(column: str) -> np.ndarray:
        return np.array([Publication.key(table, r, column) not in hidden for r in rows],
                        dtype=bool)

    out = frame[list(table.label_columns)].astype(str)
    base = "count" if table.kind == DISTRIBUTION else "n"
    visible = shown(base)
    out[base] = pd.array(np.where(visible, frame[base], np.nan), dtype="Float64").astype("Int64")
    weighted = visible
    if table.kind == RATES:
        visible = visible & shown("x")
        out["x"] = pd.array(np.where(visible, frame["x"], np.nan), dtype="Float64").astype("Int64")
        weighted = visible & _design_bases_fine(frame, min_cell)
    for col in frame.columns:
        if col in out.columns or col in DESIGN_BASES:
            continue
        values = frame[col].astype(float)
        if col in table.answers:
            cells = shown(col) & visible & (frame["n"] > 0).to_numpy()
            share = np.where(cells, values / frame["n"].replace(0, np.nan), np.nan)
            out[col] = _percent(share)
        elif col in EXTERNAL_COLUMNS:
            out[col] = _percent(values)
        elif col in PERCENT_COLUMNS:
            out[col] = _percent(values.where(weighted if col.endswith("_weighted") else visible))
        elif col in DECIMAL_COLUMNS:
            out[col] = _rounded(values.where(visible), DECIMALS)
        elif col in P_COLUMNS:
            out[col] = _rounded(values.where(visible), P_DECIMALS)
        else:
            raise ValueError(f"table {table.key!r}: column {col!r} has no publication rule")
    return out[_broken_down(table, rows, min_cell)].reset_index(drop=True)


def _design_bases_fine(frame: pd.DataFrame, min_cell: int) -> np.ndarray:
    """Rows whose weighted rate rests on enough respondents of the design: its own base at
    least ``min_cell``, with and without the flag 0 or at least ``min_cell`` (as unweighted)."""
    if "n_weighted" not in frame.columns:
        return np.ones(len(frame), bool)
    n = frame["n_weighted"].to_numpy(dtype=float)
    x = frame["x_weighted"].to_numpy(dtype=float)

    def fine(v: np.ndarray) -> np.ndarray:
        return (v == 0) | (v >= min_cell)

    return (n >= min_cell) & fine(x) & fine(n - x)


def _broken_down(table: Table, rows: list[tuple[str, ...]], min_cell: int) -> np.ndarray:
    """Rows to show: not the sub-rows of a group whose base is under ``min_cell``."""
    if len(table.label_columns) < 2 or table.kind != RATES:
        return np.ones(len(rows), bool)
    base = dict(zip(rows, table.frame["n"], strict=True))
    return np.array([r[1] == TOTAL or base.get((r[0], TOTAL), min_cell) >= min_cell
                     for r in rows])
