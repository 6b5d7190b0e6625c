"""Disclosure control (BRIEF §7): which counts of respondents a report may publish.

The rule, with k = ``min_cell``:

1. A count of 1 … k−1 respondents is not published (primary suppression).
2. A group whose base is under k (0 included) is hidden as a whole: its base, its counts and every
   figure computed from them.
3. No hidden count of 1 … k−1, and no count of a hidden group, may be worked out from what is
   published: every sum a reader can form from the published counts (rows, columns, nested
   groups, tables linked by a shared margin) must leave it undetermined, counts being never
   negative. Where a sum would give it away, the smallest published part of that sum is hidden
   too (secondary suppression), until none does.
4. Nor may the complement of a published count: where the total minus one published part (the
   other parts together) is 1 … k−1, that part is hidden too.

A :class:`Ledger` holds the counts as cells (a cell may appear in several tables under several
keys, see :meth:`Ledger.same`), the sums a reader can form and the groups; :meth:`Ledger.protect`
applies the rule. A hidden cell is *determined* when every solution of the published sums gives
it the same value (it lies in no direction of their null space).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Hashable, Iterable

import numpy as np
import pandas as pd

DEFAULT_MIN_CELL = 10
_TOL = 1e-9
_PAIRS = 15  # candidates tried in pairs when no single one protects a cell
_PAIRS_BOUNDED = 8  # the same with counts ≥ 0 (a linear program per try)


def suppress_rates(base: pd.Series, min_cell: int = DEFAULT_MIN_CELL) -> pd.Series:
    """True where a rate on this unweighted base may not be published (base < ``min_cell``).

    A base of 0 is suppressed too (there is no rate to show).
    """
    n = pd.to_numeric(base.astype("Float64")).fillna(0).to_numpy(dtype=float)
    return pd.Series(n < min_cell, index=base.index, name="suppressed", dtype=bool)


class Ledger:
    """Counts of respondents a report publishes, the sums a reader can form, and the groups.

    >>> book = Ledger()
    >>> for key, value in {"all": 40, "a": 22, "b": 15, "c": 3}.items():
    ...     _ = book.cell(key, value)
    >>> book.sum("all", ["a", "b", "c"])
    >>> sorted(book.protect(10))  # c is small; 40 − 22 − 15 would give it away: hide b too
    ['b', 'c']
    """

    def __init__(self) -> None:
        self._index: dict[Hashable, int] = {}
        self._keys: list[list[Hashable]] = []
        self._values: list[int] = []
        self._parent: list[int] = []
        self._latent: set[int] = set()
        self._unprotected: set[int] = set()
        self._sums: list[tuple[int, tuple[int, ...]]] = []
        self._groups: list[tuple[int, tuple[int, ...], bool]] = []
        self._expendable: set[int] = set()

    def __contains__(self, key: Hashable) -> bool:
        return key in self._index

    def cell(
        self, key: Hashable, value: float, *, latent: bool = False, protected: bool | None = None
    ) -> Hashable:
        """Register a count under ``key`` (again: the values must agree); returns the key.

        A cell that is not ``protected`` (respondents who left the grouping question blank:
        無回答 says nothing about anyone's answer) is hidden when small like any other, but may
        be worked out; it can still hide others. A ``latent`` cell is never published (e.g.
        such respondents inside a published total) and is not protected unless ``protected``
        (e.g. the respondents of some sexes inside a published total).
        """
        count = round(float(value))
        if count != float(value) or count < 0:
            raise ValueError(f"{key!r}: a count of respondents must be a whole number ≥ 0, "
                             f"got {value}")
        if key in self._index:
            i = self._find(self._index[key])
            if self._values[i] != count:
                raise ValueError(f"{key!r} registered twice: {self._values[i]} and {count}")
            return key
        i = len(self._values)
        self._index[key] = i
        self._keys.append([key])
        self._values.append(count)
        self._parent.append(i)
        if latent:
            self._latent.add(i)
        if not (protected if protected is not None else not latent):
            self._unprotected.add(i)
        return key

    def same(self, a: Hashable, b: Hashable) -> None:
        """Cells ``a`` and ``b`` are the same count (shown in two places)."""
        i, j = self._find(self._index[a]), self._find(self._index[b])
        if i == j:
            return
        if self._values[i] != self._values[j]:
            raise ValueError(f"{a!r} = {self._values[i]} cannot be the same count as "
                             f"{b!r} = {self._values[j]}")
        self._parent[j] = i
        self._keys[i] += self._keys[j]
        if not (i in self._latent and j in self._latent):  # shown somewhere: not latent
            self._latent -= {i, j}
        if not (i in self._unprotected and j in self._unprotected):
            self._unprotected -= {i, j}

    def sum(self, total: Hashable, parts: Iterable[Hashable]) -> None:
        """``total`` = the sum of ``parts`` (all registered cells)."""
        self._sums.append((self._index[total], tuple(self._index[p] for p in parts)))

    def group(self, base: Hashable, members: Iterable[Hashable], *, whole: bool = True) -> None:
        """A group: when ``base`` is under the minimum, its ``members`` are hidden with it; and
        when ``base`` is hidden for any reason too, unless not ``whole`` (a distribution's
        total, whose parts stay meaningful without it)."""
        self._groups.append((self._index[base], tuple(self._index[m] for m in members), whole))

    def expendable(self, key: Hashable) -> None:
        """Readers miss cell ``key`` least (e.g. a count of the respondent profile that
        another table breaks down): where a sum needs another hidden cell, it goes first."""
        self._expendable.add(self._index[key])

    def _find(self, i: int) -> int:
        while self._parent[i] != i:
            self._parent[i] = self._parent[self._parent[i]]
            i = self._parent[i]
        return i

    def protect(self, min_cell: int = DEFAULT_MIN_CELL) -> set[Hashable]:
        """The keys of every cell that may not be published under the rule (module docstring)."""
        return _Protection(self, min_cell).run()

    def value(self, key: Hashable) -> int:
        """The count registered under ``key``."""
        return self._values[self._find(self._index[key])]

    def values(self) -> dict[Hashable, int]:
        """Every key with its count."""
        return {k: self._values[self._find(i)] for k, i in self._index.items()}


class _Protection:
    """One run of the rule over a ledger (cells merged by :meth:`Ledger.same`)."""

    def __init__(self, ledger: Ledger, min_cell: int) -> None:
        roots = sorted({ledger._find(i) for i in range(len(ledger._values))})
        pos = {r: n for n, r in enumerate(roots)}

        def at(i: int) -> int:
            return pos[ledger._find(i)]

        self.ledger, self.roots, self.k = ledger, roots, min_cell
        self.value = np.array([ledger._values[r] for r in roots])
        self.sums = [(at(t), tuple(at(p) for p in parts)) for t, parts in ledger._sums]
        self.groups = [(at(b), tuple(at(m) for m in ms), whole) for b, ms, whole in ledger._groups]
        self.latent = np.zeros(len(roots), bool)
        self.latent[[at(i) for i in ledger._latent]] = True
        protected = np.ones(len(roots), bool)
        protected[[at(i) for i in ledger._unprotected]] = False
        # the equations a reader can form: total − Σ parts = 0
        self.equations = np.zeros((len(self.sums), len(roots)))
        self.sums_of: list[list[int]] = [[] for _ in roots]
        for row, (t, parts) in enumerate(self.sums):
            for c, sign in ((t, 1.0), *((p, -1.0) for p in parts)):
                self.equations[row, c] += sign
                self.sums_of[c].append(row)
        self.members = [np.flatnonzero(row) for row in self.equations]
        self.small_group = np.zeros(len(roots), bool)
        for base, members, _ in self.groups:
            if self.value[base] < min_cell:
                self.small_group[[base, *members]] = True
        self.protected = protected
        self.expendable = np.zeros(len(roots), bool)
        self.expendable[[at(i) for i in ledger._expendable]] = True
        self.is_base = np.zeros(len(roots), bool)
        self.is_base[[b for b, members, _ in self.groups if members]] = True
        v = self.value
        self.must_stay = protected & (v < min_cell) & ((v > 0) | self.small_group)
        # results by component (the hidden cells linked by sums): hiding only adds cells
        self._linear_cache: dict[tuple[int, ...], dict[int, bool]] = {}
        self._bounded_cache: dict[tuple[int, tuple[int, ...]], bool] = {}

    def run(self) -> set[Hashable]:
        hidden = ((self.value > 0) & (self.value < self.k)) | self.latent | self.small_group
        hidden = self._close(hidden)
        while True:
            # the sums alone, then with counts never negative (a hidden 0 protects nothing
            # when a reader can work out that it is 0)
            whole = self._complement(hidden)
            if whole is not None:
                hidden = self._close(hidden | (np.arange(len(hidden)) == whole))
                continue
            for fixed in (self._linear, self._bounded):
                risky = next((c for c in map(int, np.flatnonzero(hidden & self.must_stay))
                              if fixed(hidden, c)), None)
                if risky is not None:
                    hidden = self._hide_partner(risky, hidden, fixed)
                    break
            else:
                break
        return {key for n, r in enumerate(self.roots) if hidden[n] for key in self.ledger._keys[r]}

    def _complement(self, hidden: np.ndarray) -> int | None:
        """A published part whose complement in its sum (total − part: the other parts
        together, answers all) is 1 … min_cell−1 and not all published; it is hidden too.

        A complement that holds non-response (an unprotected count above 0) is no group of
        answers and is let be."""
        v = self.value
        for t, parts in self.sums:
            if hidden[t]:
                continue
            for c in parts:
                others = [p for p in parts if p != c]
                if (not hidden[c] and 0 < v[t] - v[c] < self.k
                        and any(hidden[p] for p in others)
                        and all(self.protected[p] or v[p] == 0 for p in others)):
                    return c
        return None

    def _linear(self, hidden: np.ndarray, cell: int) -> bool:
        """Whether the published sums fix ``cell`` (a hidden cell)."""
        return self._determined(hidden, cell)[cell]

    def _bounded(self, hidden: np.ndarray, cell: int) -> bool:
        """Whether the published sums and counts ≥ 0 leave ``cell`` one whole value."""
        cells, rows = self._component(hidden, cell)
        key = (cell, tuple(cells))
        if key not in self._bounded_cache:
            self._bounded_cache[key] = bool(rows) and self._one_value(hidden, cell, cells, rows)
        return self._bounded_cache[key]

    def _one_value(self, hidden: np.ndarray, cell: int, cells: list[int], rows: list[int]) -> bool:
        from scipy.optimize import linprog

        eq = self.equations[rows]
        shown = ~hidden
        a = eq[:, cells]
        b = -eq[:, shown] @ self.value[shown]
        target = np.zeros(len(cells))
        target[cells.index(cell)] = 1.0
        ends = []
        for sign in (1.0, -1.0):
            res = linprog(sign * target, A_eq=a, b_eq=b, bounds=(0, None), method="highs")
            if res.status != 0:
                return False
            ends.append(sign * res.fun)
        return int(np.ceil(ends[0] - 1e-6)) == int(np.floor(ends[1] + 1e-6))

    def _close(self, hidden: np.ndarray) -> np.ndarray:
        """Hide the members of every group whose base is hidden."""
        hidden = hidden.copy()
        for base, members, whole in self.groups:
            if hidden[base] and (whole or self.small_group[base]):
                hidden[list(members)] = True
        return hidden

    def _component(self, hidden: np.ndarray, cell: int) -> tuple[list[int], list[int]]:
        """The hidden cells linked to ``cell`` through sums, and those sums."""
        cells, rows, todo = {cell}, set(), [cell]
        while todo:
            for row in self.sums_of[todo.pop()]:
                if row in rows:
                    continue
                rows.add(row)
                for c in self.members[row]:
                    if hidden[c] and c not in cells:
                        cells.add(int(c))
                        todo.append(int(c))
        return sorted(cells), sorted(rows)

    def _determined(self, hidden: np.ndarray, cell: int) -> dict[int, bool]:
        """For the hidden cells linked to ``cell``: whether the published sums fix their value."""
        cells, rows = self._component(hidden, cell)
        key = tuple(cells)
        if key in self._linear_cache:
            return self._linear_cache[key]
        if not rows:
            return self._linear_cache.setdefault(key, dict.fromkeys(cells, False))
        a = self.equations[np.ix_(rows, cells)]
        _, s, vt = np.linalg.svd(a, full_matrices=False)
        rank = int((s > _TOL * max(1.0, s[0])).sum())
        # a cell is fixed when its unit vector lies in the row space of the sums
        fixed = (vt[:rank] ** 2).sum(axis=0) > 1 - 1e-7
        return self._linear_cache.setdefault(
            key, {c: bool(f) for c, f in zip(cells, fixed, strict=True)})

    def _hide_partner(
        self, cell: int, hidden: np.ndarray, fixed: Callable[[np.ndarray, int], bool]
    ) -> np.ndarray:
        """Hide the cheapest published cells that leave ``cell`` undetermined.

        Candidates are the published cells of the sums around ``cell``'s hidden neighbours
        (and of an expendable candidate's sums);
        the cost of hiding one is its count (zeros and totals last: a reader may know a zero,
        and totals matter most). One cell if one is enough (``fixed`` tells), else the cheapest
        pair; failing that, the cheapest published part of a sum of a determined cell, and the
        search goes on.
        """
        _, rows = self._component(hidden, cell)
        near = {int(c) for row in rows for c in np.flatnonzero(self.equations[row])
                if not hidden[c]}
        # an expendable cell is hidden with its own sums' cells if need be
        own = [row for c in near if self.expendable[c] for row in self.sums_of[c]]
        near |= {int(c) for row in own for c in np.flatnonzero(self.equations[row])
                 if not hidden[c]}
        candidates = sorted(near, key=self._cost)
        pairs = _PAIRS if fixed == self._linear else _PAIRS_BOUNDED
        tries = sorted([(c,) for c in candidates]
                       + list(itertools.combinations(candidates[:pairs], 2)),
                       key=lambda cells: sum(map(self._cost, cells)))
        for cells in tries:
            trial = hidden.copy()
            trial[list(cells)] = True
            trial = self._close(trial)
            if not fixed(trial, cell):
                return trial
        determined = [d for d, is_fixed in self._determined(hidden, cell).items() if is_fixed]
        weak = {int(c) for d in determined for row in self.sums_of[d]
                for c in np.flatnonzero(self.equations[row]) if not hidden[c]} or set(candidates)
        if not weak:
            raise RuntimeError(f"no published cell left to protect {self._name(cell)}")
        trial = hidden.copy()
        trial[min(weak, key=self._cost)] = True
        return self._close(trial)

    def _cost(self, c: int) -> float:
        """How much hiding cell ``c`` costs readers: its count, a little more for a group's
        base (it takes the group's figures with it), next to nothing for an expendable cell
        (:meth:`Ledger.expendable`); zeros, then totals, last."""
        if all(self.sums[row][0] == c for row in self.sums_of[c]) and self.sums_of[c]:
            return 1e12 + c
        if self.value[c] == 0:
            return 1e9 + c
        if self.expendable[c]:
            return float(self.value[c]) * 1e-6 + c * 1e-12
        return float(self.value[c]) * (1.01 if self.is_base[c] else 1.0) + c * 1e-6

    def _name(self, n: int) -> str:
        return repr(self.ledger._keys[self.roots[n]][0])


def rule_text(min_cell: int | None) -> list[str]:
    """The rule in plain Japanese, as the reports apply it (xlsx notes, methods page).

    ``min_cell`` None words it for towns with different thresholds (「基準の人数」).

    >>> rule_text(10)[0]
    '回答者保護のため、1～9人の人数は表示せず「—」としています。'
    """
    k = f"{min_cell}人" if min_cell else "基準の人数"
    small = f"1～{min_cell - 1}人" if min_cell else "基準の人数未満（1人以上）"
    return [
        f"回答者保護のため、{small}の人数は表示せず「—」としています。",
        f"回答者（集計の基数）が{k}未満の区分は、0人の場合も含めて、人数・割合・信頼区間を"
        "すべて「—」としています。",
        f"割合は、その区分で該当する人と該当しない人がどちらも0人または{k}以上のときだけ表示します"
        "（たとえば14人中11人が該当する場合、割合から該当しない3人が分かるため「—」）。",
        "「—」にした人数が、合計や他の行・列、他の表との足し算・引き算で分かってしまう場合は、"
        "ほかの数値も「—」にしています（二次秘匿）。",
        "検定の結果は、その集計のすべての区分を表示できるときだけ示しています。",
        f"「無回答」（その質問に答えなかった人）の行も{k}未満のときは「—」としますが、回答の内容を"
        "表すものではないため、他の数値から計算で分かる場合があります。",
    ]


def suppress_counts(counts: pd.DataFrame, min_cell: int = DEFAULT_MIN_CELL) -> pd.DataFrame:
    """Cells of a count table (shown with its row, column and grand totals) that must be hidden.

    Parameters
    ----------
    counts
        Unweighted counts without totals (the totals are assumed to be shown unless small).
    min_cell
        Smallest count that may be published (0 may always be published).

    Returns
    -------
    Boolean DataFrame like ``counts``: True for primary (1 … min_cell−1) and secondary
    suppressions.
    """
    value = counts.fillna(0).to_numpy(dtype=float)
    book = Ledger()
    rows, cols = range(value.shape[0]), range(value.shape[1])
    for i in rows:
        for j in cols:
            book.cell((i, j), value[i, j])
    for i in rows:
        book.sum(book.cell(("row", i), value[i].sum()), [(i, j) for j in cols])
    for j in cols:
        book.sum(book.cell(("col", j), value[:, j].sum()), [(i, j) for i in rows])
    book.cell("all", value.sum())
    book.sum("all", [("row", i) for i in rows])
    hidden = book.protect(min_cell)
    mask = [[(i, j) in hidden for j in cols] for i in rows]
    return pd.DataFrame(mask, index=counts.index, columns=counts.columns, dtype=bool)

