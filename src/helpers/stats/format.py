"""Japanese display formats for report text and tables.

Numbers are rounded half-up on their decimal representation (as a person rounds the printed
value: 0.42105 → 42.1%, 0.12345 → 12.35% at two digits), never with Python's round-half-even.
Missing values (None, NaN, pd.NA) are shown as "—".
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import pandas as pd

DASH = "—"


def _missing(x: object) -> bool:
    return x is None or (pd.api.types.is_scalar(x) and bool(pd.isna(x)))


def round_half_up(x: float, digits: int = 0) -> float:
    """Round half-up on the shortest decimal representation of ``x``.

    >>> round_half_up(2.5), round_half_up(0.125, 2), round_half_up(-2.5)
    (3.0, 0.13, -3.0)
    """
    q = Decimal(1).scaleb(-digits)
    return float(Decimal(repr(float(x))).quantize(q, rounding=ROUND_HALF_UP))


def shown_pct(p: float, digits: int = 1) -> float:
    """The percentage of proportion ``p`` as :func:`fmt_pct` shows it (0.42105 → 42.1)."""
    q = Decimal(1).scaleb(-digits)
    return float((Decimal(repr(float(p))) * 100).quantize(q, rounding=ROUND_HALF_UP))


def fmt_pct(p: object, digits: int = 1) -> str:
    """A proportion (0–1) as a percentage.

    >>> fmt_pct(0.5), fmt_pct(8 / 19), fmt_pct(float("nan"))
    ('50.0%', '42.1%', '—')
    """
    if _missing(p):
        return DASH
    return f"{shown_pct(float(p), digits):.{digits}f}%"


def fmt_ci(lo: object, hi: object, digits: int = 1, level: float = 0.95) -> str:
    """A confidence interval of proportions; empty when a bound is missing (suppressed).

    >>> fmt_ci(0.4123, 0.5876)
    '（95%信頼区間 41.2～58.8%）'
    """
    if _missing(lo) or _missing(hi):
        return ""
    lv = f"{shown_pct(level, 0):.0f}"
    a, b = shown_pct(float(lo), digits), shown_pct(float(hi), digits)
    return f"（{lv}%信頼区間 {a:.{digits}f}～{b:.{digits}f}%）"


def fmt_n(n: object) -> str:
    """A number of respondents.

    >>> fmt_n(1234), fmt_n(None)
    ('1,234人', '—')
    """
    if _missing(n):
        return DASH
    return f"{round_half_up(float(n)):,.0f}人"


def fmt_p(p: object) -> str:
    """A p-value: "p<0.001" below 0.001, else three decimals.

    >>> fmt_p(0.0004), fmt_p(0.0345), fmt_p(0.0012)
    ('p<0.001', 'p=0.035', 'p=0.001')
    """
    if _missing(p):
        return DASH
    if float(p) < 0.001:
        return "p<0.001"
    return f"p={round_half_up(float(p), 3):.3f}"


def points(p1: float, p2: float, digits: int = 1) -> float:
    """Difference ``p1 − p2`` in percentage points as the shown percentages give it.

    Each proportion is first rounded as :func:`fmt_pct` shows it, so the text never contradicts
    the numbers next to it: 0.42105 and 0.32795 are shown as 42.1% and 32.8%, difference 9.3.
    """
    q = Decimal(1).scaleb(-digits)
    a = Decimal(repr(shown_pct(p1, digits))).quantize(q)
    b = Decimal(repr(shown_pct(p2, digits))).quantize(q)
    return float(a - b)


def fmt_points(p1: object, p2: object, digits: int = 1) -> str:
    """Difference of two unrounded proportions in points, from the shown percentages.

    >>> fmt_points(8 / 19, 0.32795), fmt_points(0.3, 0.35)
    ('9.3ポイント', '-5.0ポイント')
    """
    if _missing(p1) or _missing(p2):
        return DASH
    return f"{points(float(p1), float(p2), digits):.{digits}f}ポイント"
