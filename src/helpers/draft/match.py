"""Match the columns of a raw table to the codebook's variables: by the header (question number,
short heading or full question text, compared after normalisation) and by the answers the
column holds; each column to one variable at most, with a word on how sure the match is.

The score of a (column, variable) pair is half header, half answers; the pairs are chosen
together (an optimal assignment, scipy's ``linear_sum_assignment``), so two columns with the
same answers (UCLA 1–3, 春～秋 and 冬) go to the variables their headings name, and in their
order when nothing else tells them apart.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy.optimize import linear_sum_assignment

from helpers.cleaning.normalize import key
from helpers.codebook import Codebook, Variable, VarType
from helpers.draft.profile import Column, is_number, plain, sentinel

#: Words vendors write for the codebook's answers (あり for ある).
SYNONYMS = {"あり": "ある", "有り": "ある", "有": "ある",
            "なし": "ない", "無し": "ない", "無": "ない"}
#: Below this score a column is left for the user to decide (TODO).
THRESHOLD = 0.45
_ORDER = 0.02  # weight of keeping the questionnaire's order, to break ties
_NATIONAL = 0.03  # the national items are asked by nearly every town: first when tied


def place(value: str, labels: dict[int, str]) -> int | None:
    """The code of the answer ``value`` (a key) means: the label itself, a usual synonym
    (あり → ある), the label without punctuation (仕事通学 → 仕事・通学), or the one label it
    shortens (男 → 男性, 答えたくない → その他・答えたくない) or adds a note in brackets to
    (いる（ある） → いる). A label merely inside another word (ない in ほとんどない) is not
    taken."""
    forms = _forms(tuple(labels.items()))
    value = SYNONYMS.get(value, value)
    for i, form in enumerate((value, plain(value))):
        found = {code for code, *both in forms if both[i] == form}
        if found:
            return found.pop() if len(found) == 1 else None
    hits = {code for code, k, b in forms if b.startswith(plain(value))
            or value in k.split("・") or value.startswith((f"{k}(", f"{k}（"))}
    if not hits and len(value) >= 2:  # 地域活動 → 地域の活動
        hits = {code for code, k, _ in forms if set(value) <= set(k)}
    return hits.pop() if len(hits) == 1 else None


@lru_cache(maxsize=256)
def _forms(labels: tuple[tuple[int, str], ...]) -> list[tuple[int, str, str]]:
    """A variable's labels as compared: (code, key, key without punctuation)."""
    return [(code, key(label), plain(key(label))) for code, label in labels]


def similarity(text: str, alias: str) -> float:
    """How alike a heading and a name of a variable are (both ``plain``): 1 when equal, high
    when one holds the other, else the share of characters they have in common."""
    if not text or not alias:
        return 0.0
    if text == alias:
        return 1.0
    short, long = sorted((text, alias), key=len)
    if short in long:
        return 0.6 + 0.4 * len(short) / len(long)
    a, b = set(short), set(long)
    return max(0.8 * len(a & b) / len(a | b), 0.75 * len(a & b) / len(a))


def aliases(var: Variable) -> list[str]:
    return [plain(a) for a in dict.fromkeys([var.name, var.question, *var.headings])]


@dataclass
class Match:
    """A column matched to a variable: the scores and why."""

    column: Column
    var: Variable
    header: float
    values: float
    why: list[str]

    @property
    def score(self) -> float:
        return 0.5 * self.header + 0.5 * self.values

    @property
    def kept(self) -> bool:
        """Good enough to draft: a fair score, or — for a column with no heading but a
        question number (「F1」, 「Q4_2」) — answers that fit."""
        return self.score >= THRESHOLD or (not self.column.stems and self.values >= 0.6)

    @property
    def confidence(self) -> str:
        """sure (heading and answers agree), likely, or guess (check it first)."""
        if self.header >= 0.8 and self.values >= 0.75:
            return "sure"
        if self.score >= 0.6 or (self.values >= 0.95 and not self.column.stems):
            return "likely"
        return "guess"


def _header(col: Column, var: Variable, hints: dict[tuple, str]) -> tuple[float, str | None]:
    best, said = 0.0, None
    for stem in col.stems:
        for alias in aliases(var):
            s = similarity(stem, alias)
            if s > best:
                best, said = s, f"heading 「{stem}」"
    if col.number and hints.get(col.number) == var.name:
        best, said = max(best, 0.9), f"question number as in {hints['file']}"
    return best, said


def _placed(answers: list[str], labels: dict[int, str]) -> tuple[float, float]:
    """(share of the answers placed, share of the labels hit)."""
    if not answers or not labels:
        return 0.0, 0.0
    codes = [place(a, labels) for a in answers]
    hit = {c for c in codes if c is not None}
    return sum(c is not None for c in codes) / len(answers), len(hit) / len(labels)


def _number_fit(col: Column, var: Variable) -> float:
    """How well the numbers fit a number variable's range and spread."""
    numbers = col.numbers()
    if not numbers or var.range is None:
        return 0.0
    lo, hi = var.range
    inside = sum(lo <= x <= hi for x in numbers) / len(numbers)
    spread = len({x for x in numbers if lo <= x <= hi})
    if var.name == "age":
        return inside * (spread >= 10) * (min(numbers) >= 10)
    return inside * (spread <= hi - lo + 1) * 0.9


def _values(col: Column, var: Variable, numbered: bool, book: Codebook
            ) -> tuple[float, str] | None:
    """Score of the column's answers for the variable, and what it rests on; None when the
    column cannot hold that variable."""
    kind, t = col.kind, var.type
    if t is VarType.ID:
        return (1.0, "one value per row") if kind == "id" else None
    if t is VarType.TEXT:
        return (1.0, "free text") if kind == "text" else None
    if var.name == "age_band":
        return (1.0, "age bands") if kind == "bands" else None
    if t is VarType.NUMBER:
        fit = _number_fit(col, var) if kind in ("numbers", "id") else 0.0
        return (fit, "numbers in its range") if fit > 0.5 else None
    if t is VarType.MULTI:
        labels = var.labels()
        if kind == "ticks":
            options = [key(o) for o in col.options.values()]
            if all(is_number(o) for o in options):
                if len(options) != len(labels):
                    return None
                alone = sum(len(v.labels()) == len(labels) for v in book.variables
                            if v.type is VarType.MULTI) == 1
                return (0.95 if alone else 0.6), f"{len(options)} tick columns, as its options"
            share, _ = _placed(options, labels)
            return (share, "options named in the headings") if share >= 0.5 else None
        if kind == "joined":
            share, cover = _placed(col.tokens(), labels)
            return (0.5 * (share + cover), "answers joined in one cell") if (
                share >= 0.5) else None
        return None
    if var.name == "district":
        if kind in ("words", "codes") or (kind == "numbers" and not numbered
                                          and len(col.answers) <= 30):
            return 0.5, "names of places" if kind == "words" else "codes"
        return None
    if kind in ("words", "codes"):
        share, cover = _placed(col.labels, var.labels())
        shown = "/".join(list(var.labels().values())[:3])
        return (0.5 * (share + cover), f"answers {shown} …") if share >= 0.5 else None
    if kind == "numbers" and not numbered:
        codes = {str(c) for c in var.labels()} | {str(c) for c in var.no_answer} | {"9", "99"}
        answers = [a for a in col.answers if not sentinel(a)]
        if answers and set(answers) <= codes:
            cover = len(set(answers) & {str(c) for c in var.labels()}) / len(var.labels())
            return 0.4 * (0.5 + 0.5 * cover), "codes in its range"
    return None


def candidates(book: Codebook) -> list[Variable]:
    """The variables a raw column may hold: every raw one, and age bands."""
    return [*book.variables, book["age_band"]]


def match(columns: list[Column], book: Codebook, numbered: bool,
          hints: dict | None = None) -> list[Match]:
    """The best one-to-one matches of ``columns`` to the codebook (``numbered``: the file has
    a vendor numbering, so a number column outside it is a number, not codes); ``hints``:
    question number → variable matched in another file of the survey (and ``file``)."""
    hints = hints or {}
    variables = candidates(book)
    found: dict[tuple[int, int], Match] = {}
    score = np.zeros((len(columns), len(variables)))
    for i, col in enumerate(columns):
        for j, var in enumerate(variables):
            values = _values(col, var, numbered, book)
            if values is None:
                continue
            header, said = _header(col, var, hints)
            if var.name == "district" and header < 0.8:
                continue  # any words may be names of places: the heading must say so
            if header < 0.5 and values[0] < (0.8 if col.stems else 0.6):
                continue
            m = Match(col, var, header, values[0], [w for w in (said, values[1]) if w])
            found[(i, j)] = m
            order = 1 - (i / max(len(columns) - 1, 1) - j / max(len(variables) - 1, 1)) ** 2
            score[i, j] = m.score + _ORDER * order + _NATIONAL * (var.origin == "national")
    rows, cols = linear_sum_assignment(-score)
    chosen = [found[(i, j)] for i, j in zip(rows, cols, strict=True) if (i, j) in found]
    return [m for m in chosen if m.kept]
