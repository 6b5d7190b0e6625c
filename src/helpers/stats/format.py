"""Japanese display formats for report text and tables.

Every published number is rounded by one function, :func:`round_half_up`: half up (四捨五入, as
official statistics round) on the number's decimal representation, as a person rounds the printed
value (13/80 = 0.1625 → 16.25% → 16.3%), never with Python's round-half-even or binary float
artefacts. Shares are published as percentages with one decimal (:func:`percent`).
Missing values (None, NaN, pd.NA) are shown as "—".
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

import pandas as pd

DASH = "—"


def _missing(x: object) -> bool:
    return x is None or (pd.api.types.is_scalar(x) and bool(pd.isna(x)))


def round_half_up(x: float, digits: int = 0, shift: int = 0) -> float:
    """``x × 10**shift`` rounded half up to ``digits`` decimals, on the decimal representation.

    ``shift=2`` turns a proportion into a percentage exactly (no float multiplication).

    >>> round_half_up(2.5), round_half_up(0.125, 2), round_half_up(-2.5)
    (3.0, 0.13, -3.0)
    >>> round_half_up(13 / 80, 1, shift=2)
    16.3
    """
    value = Decimal(repr(float(x))).scaleb(shift)
    return float(value.quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP))


def percent(p: float, digits: int = 1) -> float:
    """A proportion (0–1) as the published percentage (0.42105 → 42.1).

    >>> percent(8 / 19), percent(0.1625)
    (42.1, 16.3)
    """
    return round_half_up(p, digits, shift=2)


def fmt_percent(v: object, digits: int = 1) -> str:
    """A published percentage (0–100) as text.

    >>> fmt_percent(42.1), fmt_percent(None)
    ('42.1%', '—')
    """
    if _missing(v):
        return DASH
    return f"{round_half_up(float(v), digits):.{digits}f}%"


def fmt_pct(p: object, digits: int = 1) -> str:
    """A proportion (0–1) as a percentage.

    >>> fmt_pct(0.5), fmt_pct(8 / 19), fmt_pct(float("nan"))
    ('50.0%', '42.1%', '—')
    """
    return DASH if _missing(p) else fmt_percent(percent(float(p), digits), digits)


def fmt_ci(lo: object, hi: object, digits: int = 1, level: float = 0.95) -> str:
    """A confidence interval of published percentages; empty when a bound is missing.

    >>> fmt_ci(41.2, 58.8)
    '（95%信頼区間 41.2～58.8%）'
    """
    if _missing(lo) or _missing(hi):
        return ""
    lv = f"{percent(level, 0):.0f}"
    a, b = round_half_up(float(lo), digits), round_half_up(float(hi), digits)
    return f"（{lv}%信頼区間 {a:.{digits}f}～{b:.{digits}f}%）"


def fmt_date(day: dt.date) -> str:
    """A date as Japanese text, without leading zeros.

    >>> fmt_date(dt.date(2023, 12, 7))
    '2023年12月7日'
    """
    return f"{day.year}年{day.month}月{day.day}日"


def fmt_period(start: dt.date, end: dt.date) -> str:
    """A fieldwork period; the year of the end is left out when it is the start's.

    >>> fmt_period(dt.date(2023, 12, 7), dt.date(2023, 12, 29))
    '2023年12月7日～12月29日'
    >>> fmt_period(dt.date(2022, 12, 20), dt.date(2023, 1, 18))
    '2022年12月20日～2023年1月18日'
    """
    tail = fmt_date(end) if end.year != start.year else f"{end.month}月{end.day}日"
    return f"{fmt_date(start)}～{tail}"


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


def points(a: float, b: float, digits: int = 1) -> float:
    """Difference ``a − b`` of two published percentages, in points.

    The text never contradicts the numbers next to it: 42.1% and 32.8% differ by 9.3 points.

    >>> points(42.1, 32.8)
    9.3
    """
    return round_half_up(float(Decimal(repr(float(a))) - Decimal(repr(float(b)))), digits)


def fmt_points(a: object, b: object, digits: int = 1) -> str:
    """Difference of two published percentages in points.

    >>> fmt_points(42.1, 32.8), fmt_points(30.0, 35.0)
    ('9.3ポイント', '-5.0ポイント')
    """
    if _missing(a) or _missing(b):
        return DASH
    return f"{points(float(a), float(b), digits):.{digits}f}ポイント"
