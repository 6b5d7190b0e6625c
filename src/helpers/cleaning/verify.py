"""The verification view: per mapped question, the raw values seen, what each became and how
often — so that a reversed or shifted scale (「1 → 大変ゆとりがある (62)」 where the vendor's 1 is
大変苦しい) is visible before anything is published.

It reads the ``values`` the mapping recorded in the cleaning report ([file, column, raw value,
what it became, count]); ``lines`` is the compact console view (one line per question),
``rows`` the full table (``--verbose``, the cleaning report).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from helpers.cleaning.mapping import BLANK, MISSING
from helpers.escape import md_row

_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")


def rows(report: dict[str, Any]) -> Iterator[tuple[str, str, str, str, str, int]]:
    """(file, variable, column, raw value, became, count) for every value seen, by file."""
    files = [s["file"] for s in report["sources"]]
    entries = [(files.index(file) if file in files else 0, i, _sort_key((raw, became, n)),
                (file, var, column, raw, became, n))
               for i, (var, counts) in enumerate(report["variables"].items())
               for file, column, raw, became, n in counts.get("values", [])]
    for *_, entry in sorted(entries, key=lambda e: e[:3]):
        yield entry


def _sort_key(entry: tuple[str, str, int]) -> tuple[int, float, str]:
    raw, _, n = entry
    if raw == "":
        return (2, 0, "")
    if _NUMBER.match(raw):
        return (0, float(raw), raw)
    return (1, -n, raw)


def _plain(raw: str, became: str) -> bool:
    return raw == became or (_NUMBER.match(raw) is not None and _NUMBER.match(became) is not None
                             and float(raw) == float(became))


def _entries(values: list[tuple[str, str, int]]) -> str:
    """One question's values in one line: plain values with their counts, mappings as
    「raw → became (n)」, plain numbers as their range."""
    numbers = [(float(raw), n) for raw, became, n in values
               if _NUMBER.match(raw) and _plain(raw, became)]
    parts = []
    if len(numbers) > 6:
        low, high = min(v for v, _ in numbers), max(v for v, _ in numbers)
        parts.append(f"numbers {low:g}–{high:g} ({sum(n for _, n in numbers)})")
        values = [v for v in values if not (_NUMBER.match(v[0]) and _plain(v[0], v[1]))]
    for raw, became, n in sorted(values, key=_sort_key):
        if became == "not chosen":
            continue
        if raw == "":
            parts.append(f"{BLANK} {n}")
        elif _plain(raw, became):
            parts.append(f"{raw} ({n})")
        else:
            parts.append(f"{raw} → {became} ({n})")
    return " · ".join(parts)


def lines(report: dict[str, Any]) -> list[str]:
    """The compact view: a heading per file, then one line per question."""
    grouped: dict[str, dict[tuple[str, str], list[tuple[str, str, int]]]] = {}
    for file, var, column, raw, became, n in rows(report):
        grouped.setdefault(file, {}).setdefault((var, column), []).append((raw, became, n))
    out = []
    for file, questions in grouped.items():
        out.append(f"{file}: values seen → what they became (count)")
        merged: dict[str, tuple[list[str], list[tuple[str, str, int]]]] = {}
        for (var, column), values in questions.items():
            cols, vals = merged.setdefault(var, ([], []))
            cols.append(column)
            vals.extend(values)
        for var, (cols, values) in merged.items():
            if len(cols) == 1:
                out.append(f"  {var} ← 「{cols[0]}」: {_entries(values)}")
            else:
                chosen = [f"{became.removesuffix(': chosen')} ({n})" for _, became, n in values
                          if became.endswith(": chosen")]
                out.append(f"  {var} ← 「{cols[0]}」 … 「{cols[-1]}」: 1 → "
                           + " · ".join(chosen))
    return out


def markdown(report: dict[str, Any]) -> list[str]:
    """The full table for the cleaning report."""
    out = ["## Values seen and what they became (verification)", "",
           "Check every line where a code or a word became an answer: a reversed or shifted "
           f"scale shows here. {MISSING}: set to missing; {BLANK}: empty cells.", "",
           "| file | variable | column | value in the file | became | count |",
           "|---|---|---|---|---|---:|"]
    for file, var, column, raw, became, n in rows(report):
        out.append(md_row([file, var, column, raw or BLANK, became, n]))
    return [*out, ""]
