"""An independent recomputation of small counts from published tables (issue 11, "done when"),
written apart from the audit (``helpers.build.attack``, which solves linear programs): the
plain arithmetic a reader does with a calculator, by brute force, with its own HTML reading and
its own rounding (``decimal``), so that a mistake in one is not repeated in the other.

``recover(tables, k)`` lists every count of 1 … k−1 it can work out:
- a count shown as it is (回答者数, 該当者数, 人数), and the complement 回答者数 − 該当者数;
- 割合 × 回答者数 (and 構成比 × 全体): every x with x/n rounding half up to the shown percentage;
- a percentage with its interval and no base: every (x, n) with that Wilson interval;
- 全体 minus the shown rows, when exactly one row of a count column is hidden;
- numbers shown in a row whose base is hidden (0 vs —);
- shares with more than one decimal.
"""

from __future__ import annotations

import math
import re
import unicodedata
from decimal import ROUND_HALF_UP, Decimal
from html.parser import HTMLParser
from typing import Any

DASH = "—"
Z = 1.959963984540054
COUNTS = {"回答者数": "n", "n": "n", "該当者数": "x", "x": "x", "人数": "count", "count": "count"}
SHARES = {"割合（%）": "p", "p": "p", "構成比（%）": "share", "share": "share"}
BOUNDS = {"95%信頼区間 下限（%）": "lo", "lo": "lo", "95%信頼区間 上限（%）": "hi", "hi": "hi"}
Table = tuple[list[str], list[list[Any]]]


class _Tables(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tables: list[list[list[str]]] = []
        self._rows: list[list[str]] | None = None
        self._cell: list[str] | None = None
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in ("script", "style"):
            self._skip += 1
        elif tag == "table":
            self._rows = []
        elif tag == "tr" and self._rows is not None:
            self._rows.append([])
        elif tag in ("td", "th") and self._rows:
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._skip -= 1
        elif tag in ("td", "th") and self._cell is not None and self._rows:
            self._rows[-1].append("".join(self._cell).strip())
            self._cell = None
        elif tag == "table" and self._rows is not None:
            self.tables.append(self._rows)
            self._rows = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None and not self._skip:
            self._cell.append(data)


def tables_of_html(text: str) -> list[Table]:
    parser = _Tables()
    parser.feed(text)
    return [(rows[0], rows[1:]) for rows in parser.tables if len(rows) > 1]


def tables_of_results(node: Any) -> list[Table]:
    """Every list of records in a results.json (their keys as the header)."""
    out: list[Table] = []
    if isinstance(node, dict):
        for value in node.values():
            out += tables_of_results(value)
    elif isinstance(node, list) and node and all(isinstance(r, dict) for r in node):
        header = list(dict.fromkeys(k for r in node for k in r))
        out.append((header, [[r.get(k) for k in header] for r in node]))
        for r in node:
            out += tables_of_results(r)
    return out


def _number(cell: Any) -> float | None:
    if cell is None or isinstance(cell, bool):
        return None
    if isinstance(cell, (int, float)):
        return None if isinstance(cell, float) and math.isnan(cell) else float(cell)
    text = str(cell).strip().rstrip("%").replace(",", "")
    return float(text) if re.fullmatch(r"-?\d+(\.\d+)?", text) else None


def _hidden(cell: Any) -> bool:
    return cell is None or str(cell).strip() in (DASH, "") or (isinstance(cell, float)
                                                                and math.isnan(cell))


def _half_up(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def _shown(x: int, n: int) -> Decimal:
    return _half_up(Decimal(100 * x) / Decimal(n))


def _wilson(x: int, n: int) -> tuple[float, float]:
    p = x / n
    d = 1 + Z * Z / n
    c = (p + Z * Z / (2 * n)) / d
    h = Z * math.sqrt(p * (1 - p) / n + Z * Z / (4 * n * n)) / d
    return 100 * max(0.0, c - h), 100 * min(1.0, c + h)


def _decimals(cell: Any) -> int:
    text = repr(cell) if isinstance(cell, float) else str(cell).strip().rstrip("%")
    return len(text.split(".")[1].rstrip("0")) if "." in text else 0


def recover(tables: list[Table], k: int) -> list[str]:
    """Every count of 1 … k−1 a reader can work out from these tables (see the module doc)."""
    return [f for header, rows in tables for f in _recover(header, rows, k)]


def _recover(header: list[str], rows: list[list[Any]], k: int) -> list[str]:
    names = [unicodedata.normalize("NFKC", str(h)) for h in header]
    role = {i: COUNTS.get(h) or SHARES.get(h) or BOUNDS.get(h) for i, h in enumerate(header)}
    col = {r: i for i, r in role.items() if r}
    labels = [i for i, h in enumerate(header) if not role[i]
              and all(_number(r[i]) is None and not _hidden(r[i]) for r in rows)]
    found = []
    for row in rows:
        name = " / ".join(str(row[i]) for i in labels)
        found += [f"{name}: {what}" for what in _row(row, names, labels, col, k)]
    if len(labels) == 1:
        found += _total_minus_parts(rows, labels[0], col, k)
    return found


def _row(row: list[Any], names: list[str], labels: list[int], col: dict[str, int],
         k: int) -> list[str]:
    def small(v: float) -> bool:
        return 0 < v < k

    out = []
    value = {r: _number(row[i]) for r, i in col.items()}
    out += [f"{r} = {value[r]:g} shown" for r in ("n", "x", "count")
            if value.get(r) is not None and small(value[r])]
    n, x, p = value.get("n"), value.get("x"), value.get("p")
    if n is not None and x is not None and small(n - x):
        out.append(f"{n:g} − {x:g} = {n - x:g}")
    if n is not None and p is not None and x is None and n > 0:
        xs = [c for c in range(int(n) + 1) if _shown(c, int(n)) == _half_up(Decimal(repr(p)))]
        if len(xs) == 1 and (small(xs[0]) or small(n - xs[0])):
            out.append(f"{p}% × {n:g} = {xs[0]}")
    lo, hi = value.get("lo"), value.get("hi")
    if p is not None and lo is not None and hi is not None and n is None:
        fits = {(c, m) for m in range(1, 3001)
                for c in range(max(0, math.floor((p - 0.05) * m / 100)),
                               min(m, math.ceil((p + 0.05) * m / 100)) + 1)
                if abs(100 * c / m - p) <= 0.05 and all(
                    abs(a - b) <= 0.05 for a, b in zip(_wilson(c, m), (lo, hi), strict=True))}
        if len(fits) == 1 and any(small(v) for v in fits.pop()):
            out.append(f"{p}% ({lo}–{hi}%) pins the base")
    base = "n" if "n" in col else "count" if "count" in col else None
    if base and _hidden(row[col[base]]):
        shown = [names[i] for i in range(len(row)) if i not in labels
                 and _number(row[i]) is not None
                 and not names[i].startswith(("人口", "全国", "pop_share", "national"))]
        if shown:
            out.append(f"{shown} shown on a hidden base")
    out += [f"{row[col[r]]} is a raw fraction" for r in ("p", "share", "lo", "hi")
            if r in col and _number(row[col[r]]) is not None and _decimals(row[col[r]]) > 1]
    return out


def _total_minus_parts(
    rows: list[list[Any]], label: int, col: dict[str, int], k: int
) -> list[str]:
    """全体 minus the shown rows when one row of a count column is hidden."""
    found = []
    total = next((r for r in rows if str(r[label]) == "全体"), None)
    if total is None:
        return found
    parts = [r for r in rows if r is not total]
    for r in ("n", "x", "count"):
        if r not in col or _number(total[col[r]]) is None:
            continue
        hidden = [p for p in parts if _hidden(p[col[r]])]
        if len(hidden) == 1:
            rest = _number(total[col[r]]) - sum(_number(p[col[r]]) or 0 for p in parts)
            if 0 < rest < k and hidden[0][label] != "無回答":
                found.append(f"{hidden[0][label]}: 全体 − the other rows = {rest:g} ({r})")
    return found
