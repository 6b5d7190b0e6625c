"""The disclosure audit's attack: recompute every count a reader can from what is published.

It reads published tables as a reader does (:class:`Grid`: a title, the column headers, the rows
of cells as shown — from an HTML page, an Excel sheet or results.json), knowing only what the
headers mean and how figures are made (shares in % with one decimal, Wilson intervals), and
recovers counts in five ways; a breach names the table, the cell and the arithmetic:

1. **share × base**: a shown percentage next to its base gives the count (x = p × n, rounding
   allowing), and with it the complement n − x; a shown count of 1 … min_cell−1, or a shown
   complement of that size, is a breach as it stands.
2. **interval inversion**: a rate with its 95% interval but without its base: the Wilson
   interval pins n and x. Weighted figures shown where the unweighted count is hidden are a
   breach whatever the interval method (within a small group the weights are nearly equal, so
   the weighted share is about x/n and its interval gives about n).
3. **totals minus parts**: the rows under a 全体 row add up to it (every group is listed: where
   some answers are missing, a 無回答 row says so); a cross table's rows and columns add up to
   its margins; linked tables: a distribution whose answers and total are a cross table's
   margin, a rate row named like an answer of a distribution with the same base, and 孤独感がある
   as the sum of its answers. Linear programming gives every hidden count its smallest and
   largest possible value under all these sums and the rounding of the shown shares; a count
   left with one value is recovered.
4. **0 vs —**: a number (0 included) in a row whose base is hidden, or under a hidden 全体 row,
   tells where the few respondents of a small group are.
5. **raw fractions**: a share with more than one decimal (e.g. 0.009709 × 103 = 1).

Counts of a 無回答 row (respondents who left the grouping question blank) are hidden when small
but are not protected against recovery (the declared rule, ``helpers.analysis.results``).
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

TOTAL = "全体"
NO_ANSWER = "無回答"
#: Between a 性別 and a 年代 in one label (「男性×20～29歳」, a profile table's row).
SEX_AGE_SEP = "×"
Z95 = 1.959963984540054
#: Largest base tried when inverting an interval without any total to bound it.
N_MAX = 20_000
#: What each column header (as shown, or as a results.json key) means.
_ROLES: dict[str, str] = {
    **dict.fromkeys(("回答者数", "n"), "n"),
    **dict.fromkeys(("該当者数", "x"), "x"),
    **dict.fromkeys(("人数", "count"), "count"),
    **dict.fromkeys(("割合（%）", "p"), "p"),
    **dict.fromkeys(("95%信頼区間 下限（%）", "lo"), "lo"),
    **dict.fromkeys(("95%信頼区間 上限（%）", "hi"), "hi"),
    **dict.fromkeys(("重み付け割合（%）", "p_weighted"), "p_weighted"),
    **dict.fromkeys(("重み付け 下限（%）", "lo_weighted"), "lo_weighted"),
    **dict.fromkeys(("重み付け 上限（%）", "hi_weighted"), "hi_weighted"),
    **dict.fromkeys(("構成比（%）", "share"), "share"),
    **dict.fromkeys(("重み付け構成比（%）", "share_weighted"), "share_weighted"),
    **dict.fromkeys(("人口構成比（%）", "pop_share", "全国（%）", "national"), "external"),
    **dict.fromkeys(("調整オッズ比", "odds_ratio", "オッズ比 95%信頼区間 下限", "or_lo",
                     "オッズ比 95%信頼区間 上限", "or_hi", "p値", "p_value", "平均", "mean",
                     "中央値", "median", "重み付け 調整オッズ比", "odds_ratio_weighted",
                     "重み付け オッズ比 下限", "or_lo_weighted", "重み付け オッズ比 上限",
                     "or_hi_weighted", "重み付け p値", "p_value_weighted"), "stat"),
}
ROLES = {" ".join(unicodedata.normalize("NFKC", k).split()): v for k, v in _ROLES.items()}
#: Roles several columns of one table may have (their cells are kept per column).
_SHARED = {"external", "stat", "number"}
PERCENT_ROLES = {"p", "lo", "hi", "p_weighted", "lo_weighted", "hi_weighted", "share",
                 "share_weighted"}
WEIGHTED = ("p_weighted", "lo_weighted", "hi_weighted")
#: Definitions a reader finds on the methods page: a rate row that adds up answers.
DEFINITIONS: dict[str, tuple[str, ...]] = {}
_EMPTY = {"", "—", "-", "–", "nan", "none", "null", "*"}
_NUMBER = re.compile(r"^[+-]?\d[\d,]*(\.\d+)?\s*[%％]?$")
_AT_LEAST = re.compile(r"^(\d+)人以上$")
_TRIPLE = re.compile(r"^(\d+(?:\.\d+)?)%[（(](\d+(?:\.\d+)?)[～~-](\d+(?:\.\d+)?)%?[）)]$")


def _definitions() -> Mapping[str, tuple[str, ...]]:
    """孤独感がある = the answers the codebook counts as lonely (as the methods page says)."""
    if not DEFINITIONS:
        from helpers.codebook import load_codebook

        book = load_codebook()
        labels = book["lonely_direct"].labels()
        rule = book["lonely"].derive
        DEFINITIONS["孤独感がある"] = tuple(labels[c] for c in (rule.codes or []))
    return DEFINITIONS


@dataclass(frozen=True)
class Finding:
    """A count a reader can recover: where, which cell, and the arithmetic."""

    where: str
    cell: str
    how: str

    def __str__(self) -> str:
        return f"{self.where}: {self.cell}: {self.how}"


@dataclass
class Grid:
    """A published table as a reader sees it."""

    where: str
    header: list[str]
    rows: list[list[Any]]
    keyed: bool = False  # headers are results.json keys (a cross table's columns: answers)


@dataclass(frozen=True)
class _AtLeast:
    n: int


@dataclass(frozen=True)
class _Triple:
    p: float
    lo: float
    hi: float


class _Hidden:
    def __repr__(self) -> str:
        return "—"


HIDDEN = _Hidden()


def _norm(value: object) -> str:
    return " ".join(unicodedata.normalize("NFKC", str(value)).split())


def _cell(value: object) -> Any:
    """A shown cell: HIDDEN, a number (with its text), _AtLeast, _Triple or a label."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return HIDDEN
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, (int, float, np.integer, np.floating)):
        return float(value)
    text = str(value).strip()
    if _norm(text).lower() in _EMPTY or text == "—":
        return HIDDEN
    if m := _AT_LEAST.match(_norm(text)):
        return _AtLeast(int(m.group(1)))
    if m := _TRIPLE.match(text.replace(" ", "")):
        return _Triple(*(float(g) for g in m.groups()))
    if _NUMBER.match(_norm(text)):
        return float(_norm(text).rstrip("%％ ").replace(",", ""))
    return text


def _decimals(value: object) -> int:
    """Decimals of a shown number (as written, or the shortest repr of a float)."""
    text = repr(float(value)) if isinstance(value, (float, np.floating)) else _norm(value)
    text = text.rstrip("%％ ")
    if "e-" in text:
        return int(text.split("e-")[1]) + len(text.split("e")[0].split(".")[-1])
    return len(text.split(".")[1]) if "." in text and not text.endswith(".0") else 0


# --- reading tables ---


@dataclass
class _Row:
    labels: tuple[str, ...]
    cells: dict[str, Any]  # role → value; crosstab columns under "col:<answer>"
    raw: dict[str, Any]  # role → value as written (for the decimals)

    @property
    def no_answer(self) -> bool:
        return NO_ANSWER in self.labels

    @property
    def name(self) -> str:
        return "・".join(self.labels) or "?"


@dataclass
class _Table:
    where: str
    kind: str  # rates | distribution | crosstab | groups | other
    rows: list[_Row]
    answers: list[str] = field(default_factory=list)


#: The headers of an odds ratio and its interval (as shown, or as results.json keys).
ODDS_RATIO = ("調整オッズ比", "odds_ratio")
ODDS_LOW = ("オッズ比 95%信頼区間 下限", "or_lo")
ODDS_HIGH = ("オッズ比 95%信頼区間 上限", "or_hi")


def _stat(row: _Row, headers: tuple[str, ...]) -> Any:
    """A row's statistic under one of ``headers``."""
    return next((row.cells[k] for k in (f"stat:{_norm(h)}" for h in headers)
                 if k in row.cells), None)


def _role(header: str, values: list[Any], keyed: bool) -> str:
    key = _norm(header)
    if key in ROLES:
        return ROLES[key]
    if key.endswith("（%）") or key.endswith("(%)"):
        return "col:" + key[: -3]
    shown = [v for v in values if v is not HIDDEN]
    if shown and all(isinstance(v, (float, _Triple)) for v in shown):
        return "col:" + key if keyed else "number"
    return "label"


def read_grid(grid: Grid) -> _Table:
    """Column roles, row labels and cells of a published table."""
    values = [[_cell(v) for v in row] for row in grid.rows]
    columns = list(zip(*values, strict=False)) if values else [[] for _ in grid.header]
    roles = [_role(h, list(col), grid.keyed) for h, col in zip(grid.header, columns, strict=False)]
    if "p" in roles or "x" in roles:
        kind = "rates"
    elif "count" in roles:
        kind = "distribution"
    elif "n" in roles and any(r.startswith("col:") for r in roles):
        kind = "crosstab"
    elif "n" in roles:
        kind = "groups"
    else:
        kind = "other"
    keys = [r if r not in _SHARED else f"{r}:{_norm(h)}"
            for r, h in zip(roles, grid.header, strict=False)]
    rows = []
    for cells, raw in zip(values, grid.rows, strict=True):
        labels = tuple(str(v) for v, r in zip(cells, roles, strict=False) if r == "label")
        by_role = {k: v for v, k in zip(cells, keys, strict=False) if k != "label"}
        written = {k: w for w, k in zip(raw, keys, strict=False) if k != "label"}
        rows.append(_Row(labels, by_role, written))
    answers = [r[4:] for r in roles if r.startswith("col:")]
    return _Table(grid.where, kind, rows, answers)


def _blocks(rows: list[_Row]) -> list[tuple[_Row, list[_Row]]]:
    """Each 全体 row with the rows that add up to it (one or two label columns)."""
    if not rows or not rows[0].labels:
        return []
    depth = len(rows[0].labels)
    if depth == 1:
        total = next((r for r in rows if r.labels == (TOTAL,)), None)
        return [(total, [r for r in rows if r is not total])] if total else []
    firsts = [r for r in rows if r.labels[-1] == TOTAL and r.labels[0] != TOTAL]
    out = []
    grand = next((r for r in rows if all(lb == TOTAL for lb in r.labels)), None)
    if grand and firsts:
        out.append((grand, firsts))
    for f in firsts:
        parts = [r for r in rows if r.labels[0] == f.labels[0] and r.labels[-1] != TOTAL]
        if parts:
            out.append((f, parts))
    return out


# --- the reader's model: counts as unknowns, what is shown as constraints ---


class _Model:
    """Unknown counts (≥ 0) with equalities and inequalities, solved by linear programming."""

    def __init__(self, min_cell: int) -> None:
        self.k = min_cell
        self.names: list[str] = []
        self.where: list[str] = []
        self.known: dict[int, float] = {}
        self.protected: list[bool] = []
        self.in_hidden_row: list[bool] = []
        self.eq: list[tuple[dict[int, float], float]] = []
        self.ub: list[tuple[dict[int, float], float]] = []

    def var(self, where: str, name: str, value: Any, protected: bool, hidden_row: bool) -> int:
        i = len(self.names)
        self.names.append(name)
        self.where.append(where)
        self.protected.append(protected)
        self.in_hidden_row.append(hidden_row)
        if isinstance(value, float):
            self.known[i] = value
        elif isinstance(value, _AtLeast):
            self.ub.append(({i: -1.0}, -float(value.n)))
        return i

    def equal(self, coeffs: Mapping[int, float], rhs: float = 0.0) -> None:
        self.eq.append((dict(coeffs), rhs))

    def at_most(self, coeffs: Mapping[int, float], rhs: float = 0.0) -> None:
        self.ub.append((dict(coeffs), rhs))

    def share(self, count: int, base: int, shown: float) -> None:
        """A share shown with one decimal: (s − 0.05) base ≤ 100 count ≤ (s + 0.05) base."""
        self.at_most({count: 100.0, base: -(shown + 0.05)})
        self.at_most({count: -100.0, base: shown - 0.05})

    def explain(self, i: int, v: int) -> str:
        """The arithmetic that gives unknown ``i``: one sum of shown cells if there is one."""
        for coeffs, _ in self.eq:
            if i not in coeffs or any(j not in self.known for j in coeffs if j != i):
                continue
            terms = " ".join(
                f"{'+' if -c * coeffs[i] > 0 else '−'} {self.names[j]} {self.known[j]:g}"
                for j, c in coeffs.items() if j != i
            )
            return f"{terms.lstrip('+ ')} = {v}（合計と内訳の引き算）"
        return (f"the published totals, shares and intervals leave only one value: {v}"
                "（表の合計・行・列と連結した表から線形計画法で算出）")

    def pinned(self) -> Iterator[tuple[int, int]]:
        """Every unknown the constraints fix to one whole number, with that number."""
        from scipy.optimize import linprog

        unknown = [i for i in range(len(self.names)) if i not in self.known]
        for component in self._components(unknown):
            pos = {i: n for n, i in enumerate(component)}
            a_eq, b_eq = self._matrix(self.eq, pos)
            a_ub, b_ub = self._matrix(self.ub, pos)
            for i in component:
                if not self.protected[i]:
                    continue
                bounds = []
                for sign in (1.0, -1.0):
                    c = np.zeros(len(component))
                    c[pos[i]] = sign
                    res = linprog(c, A_ub=a_ub, b_ub=b_ub, A_eq=a_eq, b_eq=b_eq,
                                  bounds=(0, None), method="highs")
                    bounds.append(sign * res.fun if res.status == 0 else None)
                lo, hi = bounds
                if lo is None or hi is None:
                    continue
                low, high = math.ceil(lo - 1e-6), math.floor(hi + 1e-6)
                if low == high:
                    yield i, low

    def _components(self, unknown: list[int]) -> list[list[int]]:
        parent = {i: i for i in unknown}

        def find(i: int) -> int:
            while parent[i] != i:
                parent[i] = parent[parent[i]]
                i = parent[i]
            return i

        for coeffs, _ in self.eq + self.ub:
            free = [j for j in coeffs if j in parent]
            for j in free[1:]:
                parent[find(j)] = find(free[0])
        groups: dict[int, list[int]] = {}
        for i in unknown:
            groups.setdefault(find(i), []).append(i)
        return list(groups.values())

    def _matrix(
        self, rows: list[tuple[dict[int, float], float]], pos: dict[int, int]
    ) -> tuple[np.ndarray | None, np.ndarray | None]:
        a, b = [], []
        for coeffs, rhs in rows:
            if not any(j in pos for j in coeffs):
                continue
            line = np.zeros(len(pos))
            for j, c in coeffs.items():
                if j in pos:
                    line[pos[j]] += c
                else:
                    rhs -= c * self.known[j]
            a.append(line)
            b.append(rhs)
        return (np.array(a), np.array(b)) if a else (None, None)


# --- the attack ---


def wilson(x: np.ndarray, n: np.ndarray, z: float = Z95) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval of x out of n (arrays), as proportions."""
    p = x / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return np.maximum(0, centre - half), np.minimum(1, centre + half)


def invert_wilson(p: float, lo: float, hi: float, n_max: int = N_MAX) -> list[tuple[int, int]]:
    """Every (x, n), n ≤ ``n_max``, whose share and Wilson interval round to the shown ones.

    Both Wilson bounds rise with x, so a base n is tried count by count only if its bounds at
    the lowest and the highest count allowed by the share bracket the shown ones (a pass over
    every n with two counts each, then the few bases left).
    """
    n = np.arange(1, n_max + 1, dtype=float)
    x_lo = np.maximum(np.ceil((p - 0.05) / 100 * n - 1e-9), 0)
    x_hi = np.minimum(np.floor((p + 0.05) / 100 * n + 1e-9), n)
    tol = 0.05 + 1e-9
    (a_lo, b_lo), (a_hi, b_hi) = wilson(x_lo, n), wilson(x_hi, n)
    width = (x_hi - x_lo + 1).astype(int)
    ok = ((width > 0) & (100 * a_lo <= lo + tol) & (100 * a_hi >= lo - tol)
          & (100 * b_lo <= hi + tol) & (100 * b_hi >= hi - tol))
    ns = np.repeat(n[ok], width[ok])
    starts = np.repeat(x_lo[ok], width[ok])
    offsets = np.arange(len(ns)) - np.repeat(np.cumsum(width[ok]) - width[ok], width[ok])
    xs = starts + offsets
    a, b = wilson(xs, ns)
    match = (np.abs(100 * a - lo) <= tol) & (np.abs(100 * b - hi) <= tol)
    return [(int(x), int(m)) for x, m in zip(xs[match], ns[match], strict=True)]


def invert_odds_ratio(ratio: float, lo: float, hi: float, n1: int, n0: int,
                      z: float = Z95) -> list[tuple[int, int]]:
    """Every (x1, x0), 0 < x < n, whose 2 × 2 odds ratio (x1 of n1 against x0 of n0) and Woolf
    95% interval round to the shown ones (two decimals)."""
    x1, x0 = np.meshgrid(np.arange(1, n1, dtype=float), np.arange(1, n0, dtype=float),
                         indexing="ij")
    odds = x1 * (n0 - x0) / ((n1 - x1) * x0)
    spread = z * np.sqrt(1 / x1 + 1 / (n1 - x1) + 1 / x0 + 1 / (n0 - x0))
    tol = 0.005 + 1e-9
    match = ((np.abs(odds - ratio) <= tol) & (np.abs(odds * np.exp(-spread) - lo) <= tol)
             & (np.abs(odds * np.exp(spread) - hi) <= tol))
    return [(int(a), int(c)) for a, c in zip(x1[match], x0[match], strict=True)]


def effective_n(p: float, lo: float, hi: float) -> float | None:
    """The base an interval implies, whatever its method (normal approximation on the logit)."""
    p, lo, hi = p / 100, lo / 100, hi / 100
    if not 0 < lo < p < hi < 1:
        return None
    spread = math.log(hi / (1 - hi)) - math.log(lo / (1 - lo))
    return (2 * Z95 / spread) ** 2 / (p * (1 - p))


class Attack:
    """One reader's attack on a set of tables published together (a page, a workbook, a file)."""

    def __init__(self, grids: Iterable[Grid], min_cell: int) -> None:
        self.k = min_cell
        self.tables = [read_grid(g) for g in grids]
        self.model = _Model(min_cell)
        self.findings: list[Finding] = []
        self._vars: dict[tuple[int, int, str], int] = {}

    def run(self) -> list[Finding]:
        """Every breach found (direct arithmetic first, then the solved sums)."""
        for t, table in enumerate(self.tables):
            {"rates": self._rates, "distribution": self._distribution,
             "crosstab": self._crosstab, "groups": self._groups}.get(
                table.kind, lambda *_: None)(t, table)
            self._triples(table)
            self._fractions(table)
            self._odds_ratios(table)
        self._links()
        reported = {(f.where, f.cell) for f in self.findings}
        for i, v in self.model.pinned():
            m = self.model
            small = 0 < v < self.k or (v == 0 and m.in_hidden_row[i])
            if small and (m.where[i], m.names[i]) not in reported:
                self._found(m.where[i], m.names[i], m.explain(i, v))
                reported.add((m.where[i], m.names[i]))
        return self.findings

    def _found(self, where: str, cell: str, how: str) -> None:
        self.findings.append(Finding(where, cell, how))

    def _var(self, t: int, r: int, table: _Table, row: _Row, col: str, value: Any,
             hidden_row: bool) -> int:
        what = f"「{col[4:]}」の人数" if col.startswith("col:") else _HEADER.get(col, col)
        name = f"「{row.name}」の{what}"
        i = self.model.var(table.where, name, value, not row.no_answer, hidden_row)
        self._vars[(t, r, col)] = i
        return i

    def _small(self, v: float) -> bool:
        return 0 < v < self.k

    def _shown_counts(self, table: _Table, row: _Row, cols: Iterable[str]) -> None:
        for col in cols:
            v = row.cells.get(col)
            if isinstance(v, float) and self._small(v):
                self._found(table.where, f"「{row.name}」の{_HEADER.get(col, col)}",
                            f"a count of {v:g} is shown (under {self.k})")

    def _zero_vs_dash(self, table: _Table, base: str) -> None:
        """0 vs —: numbers in a row whose base is hidden, or under a hidden 全体 row whose
        shown parts do not show it is large (the few respondents of a small group)."""
        for row in table.rows:
            if row.cells.get(base) is not HIDDEN or row.no_answer:
                continue
            if shown := self._numbers(row):
                self._found(table.where, f"「{row.name}」",
                            f"{shown} shown although its base is hidden")
        for total, parts in _blocks(table.rows):
            if total.cells.get(base) is not HIDDEN or total.no_answer:
                continue
            bases = [p.cells.get(base) for p in parts]
            if sum(v for v in bases if isinstance(v, float)) >= self.k:
                continue  # the group is evidently large
            for p in parts:
                if shown := self._numbers(p):
                    self._found(table.where, f"「{p.name}」",
                                f"{shown} shown under the hidden 全体 row 「{total.name}」: 0 vs "
                                "— tells where the few respondents of a small group are")

    @staticmethod
    def _numbers(row: _Row) -> str:
        return ", ".join(f"{_HEADER.get(c, c.removeprefix('col:'))} = {v:g}"
                         for c, v in row.cells.items()
                         if isinstance(v, float) and c.split(":")[0] not in _SHARED)

    def _rates(self, t: int, table: _Table) -> None:
        m = self.model
        self._zero_vs_dash(table, "n")
        total_n = next((r.cells.get("n") for r in table.rows
                        if r.labels and all(lb == TOTAL for lb in r.labels)), None)
        for r, row in enumerate(table.rows):
            c = row.cells
            self._shown_counts(table, row, ("n", "x"))
            n_val, x_val, p = c.get("n"), c.get("x"), c.get("p")
            y_val = n_val - x_val if isinstance(n_val, float) and isinstance(x_val, float) else None
            if y_val is not None and self._small(y_val) and not row.no_answer:
                self._found(table.where, f"「{row.name}」の該当しない人数",
                            f"回答者数 {n_val:g} − 該当者数 {x_val:g} = {y_val:g}")
            hidden_row = n_val is HIDDEN
            n = self._var(t, r, table, row, "n", n_val, hidden_row)
            x = self._var(t, r, table, row, "x", x_val, hidden_row)
            y = self._var(t, r, table, row, "y", y_val if y_val is not None else None, hidden_row)
            m.equal({n: 1, x: -1, y: -1})
            if isinstance(p, float):
                m.share(x, n, p)
                if isinstance(n_val, float) and not isinstance(x_val, float):
                    self._from_share(table, row, p, n_val, "割合", "回答者数")
            if isinstance(p, float) and isinstance(c.get("lo"), float) and not isinstance(
                    n_val, float):
                self._invert(table, row, p, c["lo"], c["hi"], total_n)
            self._weighted(table, row, x_val, n_val)
        at = {id(row): r for r, row in enumerate(table.rows)}
        for total, parts in _blocks(table.rows):
            for col in ("n", "x", "y"):
                m.equal({self._vars[(t, at[id(total)], col)]: 1,
                         **{self._vars[(t, at[id(p)], col)]: -1 for p in parts}})

    def _from_share(self, table: _Table, row: _Row, share: float, base: float, what: str,
                    base_name: str) -> None:
        """share × base: the count (and its complement) when the rounding leaves one value."""
        low = math.ceil((share - 0.05) / 100 * base - 1e-9)
        high = math.floor((share + 0.05) / 100 * base + 1e-9)
        if low != high or row.no_answer:
            return
        for v, cell in ((low, "該当者数"), (base - low, "該当しない人数")):
            if self._small(v):
                self._found(table.where, f"「{row.name}」の{cell}",
                            f"{what} {share:g}% × {base_name} {base:g} = {low}"
                            + (f"; {base:g} − {low} = {base - low:g}" if v != low else ""))

    def _invert(self, table: _Table, row: _Row, p: float, lo: float, hi: Any,
                total: Any) -> None:
        """A rate with its interval and no base: the Wilson interval gives x and n."""
        if not isinstance(hi, float) or row.no_answer:
            return
        n_max = int(total) if isinstance(total, float) else N_MAX
        found = invert_wilson(p, lo, hi, n_max)
        if len({x for x, _ in found}) == 1 and len({n for _, n in found}) == 1:
            x, n = found[0]
            if self._small(x) or self._small(n - x) or self._small(n):
                self._found(table.where, f"「{row.name}」",
                            f"{p:g}%（{lo:g}～{hi:g}%）: only {x} of {n} gives this share and "
                            "Wilson interval")

    def _weighted(self, table: _Table, row: _Row, x: Any, n: Any) -> None:
        shown = {c: row.cells[c] for c in WEIGHTED if isinstance(row.cells.get(c), float)}
        if not shown or (isinstance(x, float) and isinstance(n, float)) or row.no_answer:
            return
        pw = shown.get("p_weighted")
        if isinstance(n, float) and pw is not None:
            how = f"重み付け割合 {pw:g}% × 回答者数 {n:g} ≈ {pw * n / 100:.1f}"
        elif len(shown) == 3 and (size := effective_n(*shown.values())):
            how = (f"重み付け {pw:g}%（{shown['lo_weighted']:g}～{shown['hi_weighted']:g}%）: "
                   f"the interval implies about {size:.0f} respondents, "
                   f"about {pw * size / 100:.0f} with the flag")
        else:
            how = f"{', '.join(f'{_HEADER[c]} = {v:g}' for c, v in shown.items())}"
        self._found(table.where, f"「{row.name}」の重み付け割合",
                    f"weighted figures shown for a hidden count: {how}")

    def _distribution(self, t: int, table: _Table) -> None:
        m = self.model
        blocks = _blocks(table.rows)
        if not blocks:  # shares add up to 100%: a reader knows the total is their sum
            blocks = [(None, table.rows)]
        self._zero_vs_dash(table, "count")
        for r, row in enumerate(table.rows):
            self._shown_counts(table, row, ("count",))
            self._var(t, r, table, row, "count", row.cells.get("count"), False)
            if row.cells.get("count") is HIDDEN and isinstance(row.cells.get("share_weighted"),
                                                                 float):
                self._found(table.where, f"「{row.name}」の重み付け構成比",
                            "a weighted share shown for a hidden count")
        at = {id(row): r for r, row in enumerate(table.rows)}
        for total, parts in blocks:
            if total is None:
                ti = m.var(table.where, "合計", None, True, False)
            else:
                ti = self._vars[(t, at[id(total)], "count")]
            m.equal({ti: 1, **{self._vars[(t, at[id(p)], "count")]: -1 for p in parts}})
            base = total.cells.get("count") if total else None
            for p in parts:
                share = p.cells.get("share")
                if not isinstance(share, float):
                    continue
                m.share(self._vars[(t, at[id(p)], "count")], ti, share)
                if isinstance(base, float) and not isinstance(p.cells.get("count"), float):
                    self._from_share(table, p, share, base, "構成比", "全体")

    def _crosstab(self, t: int, table: _Table) -> None:
        m = self.model
        total = next((r for r in table.rows if r.labels == (TOTAL,)), None)
        body = [r for r in table.rows if r is not total]
        self._zero_vs_dash(table, "n")
        for r, row in enumerate(table.rows):
            self._shown_counts(table, row, ("n",))
            n = self._var(t, r, table, row, "n", row.cells.get("n"), row.cells.get("n") is HIDDEN)
            cells = []
            for a in table.answers:
                share = row.cells.get("col:" + a)
                i = self._var(t, r, table, row, "col:" + a, None, row.cells.get("n") is HIDDEN)
                cells.append(i)
                if isinstance(share, float):
                    m.share(i, n, share)
                    if isinstance(row.cells.get("n"), float) and row is not total:
                        self._from_share(table, row, share, row.cells["n"], f"「{a}」の割合",
                                         "回答者数")
            m.equal({n: 1, **{i: -1 for i in cells}})
        if total is not None:
            at = {id(row): r for r, row in enumerate(table.rows)}
            for col in ["n", *("col:" + a for a in table.answers)]:
                m.equal({self._vars[(t, at[id(total)], col)]: 1,
                         **{self._vars[(t, at[id(r)], col)]: -1 for r in body}})

    def _groups(self, t: int, table: _Table) -> None:
        self._zero_vs_dash(table, "n")
        for r, row in enumerate(table.rows):
            self._shown_counts(table, row, ("n",))
            self._var(t, r, table, row, "n", row.cells.get("n"), row.cells.get("n") is HIDDEN)

    def _triples(self, table: _Table) -> None:
        """Rates shown with their interval in one cell (no base next to them): invert them."""
        for row in table.rows:
            for v in row.cells.values():
                if isinstance(v, _Triple):
                    self._invert(table, row, v.p, v.lo, v.hi, None)

    def _odds_ratios(self, table: _Table) -> None:
        """An odds ratio with its interval, read as if unadjusted (a reader's best case: the
        adjustment moves it away from the 2 × 2 table's): with the bases of its level and of
        the reference (odds ratio 1), the lonely of each may be pinned by Woolf's interval."""
        if table.kind != "groups":
            return
        references = [r for r in table.rows if _stat(r, ODDS_RATIO) == 1.0
                      and not isinstance(_stat(r, ODDS_LOW), float)]
        if len(references) != 1 or not isinstance(references[0].cells.get("n"), float):
            return
        ref = references[0]
        for row in table.rows:
            shown = [_stat(row, c) for c in (ODDS_RATIO, ODDS_LOW, ODDS_HIGH)]
            if row is ref or not all(isinstance(v, float) for v in shown) or not isinstance(
                    row.cells.get("n"), float):
                continue
            found = invert_odds_ratio(*shown, int(row.cells["n"]), int(ref.cells["n"]))
            if len(found) != 1:
                continue
            (a, c), = found
            b, d = int(row.cells["n"]) - a, int(ref.cells["n"]) - c
            if any(self._small(v) for v in (a, b, c, d)):
                self._found(table.where, f"「{row.name}」と「{ref.name}」",
                            f"オッズ比 {shown[0]:g}（{shown[1]:g}～{shown[2]:g}）, read as "
                            f"unadjusted: only {a} of {a + b} and {c} of {c + d} with the flag "
                            "give it (Woolf interval)")

    def _fractions(self, table: _Table) -> None:
        """Shares must be percentages with one decimal."""
        for row in table.rows:
            for col, written in row.raw.items():
                shown = row.cells.get(col)
                share = col in PERCENT_ROLES or col.startswith(("external", "col:")) or (
                    str(written).rstrip().endswith(("%", "％")))
                if share and isinstance(shown, float) and _decimals(written) > 1:
                    self._found(table.where, f"「{row.name}」の{_HEADER.get(col, col)}",
                                f"{written} is not a percentage with one decimal (raw fraction)")

    def _links(self) -> None:
        """Counts shown in two tables of the same respondents are the same count."""
        distributions = [(t, tb) for t, tb in enumerate(self.tables) if tb.kind == "distribution"]
        blocks = [(t, tb, total, parts) for t, tb in distributions
                  for total, parts in _blocks(tb.rows)]
        for t, tb in enumerate(self.tables):
            if tb.kind == "crosstab":
                self._link_margins(t, tb, blocks)
            if tb.kind == "rates":
                self._link_answers(t, tb, blocks)
                self._link_profiles(t, tb, distributions)
        self._link_sex_by_age(distributions)

    def _link_margins(self, t: int, tb: _Table, blocks: list) -> None:
        total = next((r for r in tb.rows if r.labels == (TOTAL,)), None)
        if total is None:
            return
        at = {id(row): r for r, row in enumerate(tb.rows)}
        body = {r.labels[-1]: at[id(r)] for r in tb.rows if r is not total}
        for bt, btb, btotal, parts in blocks:
            if btotal.cells.get("count") != total.cells.get("n"):
                continue
            bat = {id(row): r for r, row in enumerate(btb.rows)}
            labels = {p.labels[-1]: bat[id(p)] for p in parts}
            if set(labels) == set(body):
                pairs = [(labels[a], (t, body[a], "n")) for a in labels]
            elif set(labels) == set(tb.answers):
                pairs = [(labels[a], (t, at[id(total)], "col:" + a)) for a in labels]
            else:
                continue
            for r, key in pairs:
                self.model.equal({self._vars[(bt, r, "count")]: 1, self._vars[key]: -1})

    def _link_profiles(self, t: int, tb: _Table, distributions: list[tuple[int, _Table]]
                       ) -> None:
        """A rate table's groups are among the respondents a profile table counts (性別, 年代,
        性別×年代, 地区 of everyone): each row's 回答者数 is at most the group's 人数, and a
        two-level table's rows of one 年代 over every 性別 at most that 年代's 人数. Where no one
        of a group skipped the question (a total shows it), these differences pin counts."""
        rows = [(r, row) for r, row in enumerate(tb.rows) if row.labels]
        if not rows:
            return
        depth = len(rows[0][1].labels)
        named: dict[str, list[list[int]]] = {}  # a profile label → the rows (n) inside it
        for r, row in rows:
            first, last = row.labels[0], row.labels[-1]
            if depth == 1 and first != TOTAL:
                named.setdefault(first, []).append([r])
            elif depth == 2 and TOTAL not in (first, last):
                named.setdefault(f"{first}{SEX_AGE_SEP}{last}", []).append([r])
            elif depth == 2 and first != TOTAL:
                named.setdefault(first, []).append([r])
        if depth == 2:
            for last in {row.labels[-1] for _, row in rows} - {TOTAL}:
                named.setdefault(last, []).append(
                    [r for r, row in rows if row.labels[-1] == last and row.labels[0] != TOTAL])
        for dt, dtb in distributions:
            counts = {row.labels[-1]: r for r, row in enumerate(dtb.rows)
                      if len(row.labels) == 1}
            total = self._n_total(tb)
            shown_total = dtb.rows[counts[TOTAL]].cells.get("count") if TOTAL in counts else None
            if isinstance(total, float) and isinstance(shown_total, float) and (
                    shown_total < total):
                continue  # not everyone: some other respondents
            labels = [lb for lb in named if lb in counts]
            if len([lb for lb in labels if lb != NO_ANSWER]) < 2:
                continue  # not a profile of these groups
            for label in labels:
                for group in named[label]:
                    self.model.at_most({**{self._vars[(t, r, "n")]: 1.0 for r in group},
                                        self._vars[(dt, counts[label], "count")]: -1.0})

    def _link_sex_by_age(self, distributions: list[tuple[int, _Table]]) -> None:
        """A 性別×年代 profile (「男性×20代」) counts some sexes of each 年代 of a 年代 profile
        of everyone: the 年代's 人数 minus its rows is the number of that 年代's respondents
        of the other sexes (or of no answer to 性別), a count of its own to protect."""
        for st, stb in distributions:
            cells = [(r, row.labels[0].rpartition(SEX_AGE_SEP)) for r, row in enumerate(stb.rows)
                     if len(row.labels) == 1 and SEX_AGE_SEP in row.labels[0]]
            by_band: dict[str, list[int]] = {}
            for r, (_, _, band) in cells:
                by_band.setdefault(band, []).append(r)
            for at, atb in distributions:
                bands = {row.labels[0]: r for r, row in enumerate(atb.rows)
                         if len(row.labels) == 1 and row.labels[0] in by_band}
                if at == st or len(bands) < 2 or not _within(stb, atb, by_band, bands):
                    continue  # not a 年代 profile of these bands, or not of everyone
                sexes = "・".join(dict.fromkeys(sex for _, (sex, _, _) in cells))
                for band, r in bands.items():
                    rest = self.model.var(atb.where, f"「{band}」の{sexes}以外の回答者数",
                                          None, True, False)
                    self.model.equal({self._vars[(at, r, "count")]: 1.0, rest: -1.0,
                                      **{self._vars[(st, s, "count")]: -1.0
                                         for s in by_band[band]}})

    @staticmethod
    def _n_total(tb: _Table) -> Any:
        return next((r.cells.get("n") for r in tb.rows
                     if r.labels and all(lb == TOTAL for lb in r.labels)), None)

    def _link_answers(self, t: int, tb: _Table, blocks: list) -> None:
        definitions = _definitions()
        for r, row in enumerate(tb.rows):
            if len(row.labels) != 1:
                continue
            for bt, btb, btotal, parts in blocks:
                if btotal.cells.get("count") != row.cells.get("n") or not isinstance(
                        row.cells.get("n"), float):
                    continue
                bat = {id(row): i for i, row in enumerate(btb.rows)}
                answers = {p.labels[-1]: bat[id(p)] for p in parts}
                wanted = definitions.get(row.labels[0], (row.labels[0],))
                if all(a in answers for a in wanted):
                    self.model.equal({self._vars[(t, r, "x")]: 1,
                                      **{self._vars[(bt, answers[a], "count")]: -1
                                         for a in wanted}})


def _within(inner: _Table, outer: _Table, inner_rows: Mapping[str, list[int]],
            outer_rows: Mapping[str, int]) -> bool:
    """Whether no shown count of ``inner`` (its total, the rows of a label) exceeds the shown
    count of ``outer`` it would be part of."""
    def count(table: _Table, rows: Iterable[int]) -> float | None:
        values = [table.rows[r].cells.get("count") for r in rows]
        return sum(values) if all(isinstance(v, float) for v in values) else None

    def total(table: _Table) -> list[int]:
        return [r for r, row in enumerate(table.rows) if row.labels == (TOTAL,)]

    pairs = [(total(inner), total(outer))] + [(inner_rows[lb], [r]) for lb, r in outer_rows.items()]
    return all(a is None or b is None or a <= b
               for a, b in ((count(inner, i), count(outer, o)) for i, o in pairs if i and o))


_HEADER = {"n": "回答者数", "x": "該当者数", "y": "該当しない人数", "count": "人数",
           "p": "割合", "lo": "下限", "hi": "上限", "share": "構成比",
           "share_weighted": "重み付け構成比", "p_weighted": "重み付け割合",
           "lo_weighted": "重み付け 下限", "hi_weighted": "重み付け 上限", "external": "外部の数値"}


def attack(grids: Iterable[Grid], min_cell: int) -> list[Finding]:
    """Everything a reader can recover from tables published together."""
    return Attack(grids, min_cell).run()


# --- what is published, as grids ---


def grids_of_results(results: Mapping[str, Any]) -> list[Grid]:
    """Every table of a results.json: each list of records, and each record with a base."""
    out: list[Grid] = []

    def walk(node: Any, where: str) -> None:
        if isinstance(node, Mapping):
            if isinstance(node.get("rows"), list):
                out.append(_grid_of_records(f"{where} 「{node.get('title', '')}」", node["rows"]))
                return
            if {"n", "p"} <= node.keys() and not any(isinstance(v, (dict, list))
                                                     for v in node.values()):
                out.append(_grid_of_records(where, [node]))
                return
            for key, value in node.items():
                walk(value, f"{where}.{key}")
        elif isinstance(node, list) and node and all(isinstance(v, Mapping) for v in node):
            if any(k in node[0] for k in ("n", "count")):
                out.append(_grid_of_records(where, node))
            else:
                for i, value in enumerate(node):
                    walk(value, f"{where}[{i}]")

    headline = results.get("headline") or {}
    if headline:
        rows = [{"indicator": name, **est} for name, est in (
            ("孤独感がある", headline.get("lonely") or {}),
            ("しばしばある・常にある", headline.get("often_always") or {}))]
        out.append(_grid_of_records("results.headline", rows))
    for key, value in results.items():
        if key not in ("headline", "weighting", "national"):
            walk(value, f"results.{key}")
    return out


def _grid_of_records(where: str, records: list[Mapping[str, Any]]) -> Grid:
    header = list(dict.fromkeys(k for rec in records for k in rec))
    return Grid(where, header, [[rec.get(k) for k in header] for rec in records], keyed=True)


def attack_results(results: Mapping[str, Any], min_cell: int | None = None) -> list[Finding]:
    """Everything a reader can recover from one town's results.json."""
    k = int(results.get("min_cell") or 0) if min_cell is None else min_cell
    return attack(grids_of_results(results), max(k, int(results.get("min_cell") or 0)))


def grids_of_workbook(path: Path) -> list[Grid]:
    """Every table of a workbook written by ``helpers.excel.write_tables``."""
    from helpers.excel import read_tables

    return [Grid(f"{Path(path).name} [{sheet}] 「{title}」", [str(c) for c in frame.columns],
                 frame.astype(object).values.tolist())
            for sheet, tables in read_tables(path).items() for title, frame in tables]


def attack_workbook(path: Path, min_cell: int) -> list[Finding]:
    """Everything a reader can recover from one Excel workbook of a town."""
    return attack(grids_of_workbook(path), min_cell)

