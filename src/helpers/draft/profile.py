"""What each column of a raw table holds, for matching it to a question: its header (question
number and heading), its distinct answers (through the vendor's numbering when there is one)
and what kind of answers they are. Columns of 0/1 ticks that share a heading stem become one
multi-answer group (「q17_1」…「q17_7」, 「外出目的_買い物」…)."""

from __future__ import annotations

import os
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from functools import cached_property

from helpers.ages import parse_band
from helpers.cleaning.normalize import NO_ANSWER_WORDS, key, unique_keys
from helpers.cleaning.read import RawTable

#: Separators of several answers written in one cell.
SEPARATORS = ("、", ",", "，", ";", "；", "/", "／", "|")
_NUMBER = re.compile(r"^(問|Q|SQ|F|設問)?(\d+)(?:[-_‐－(（\s]*(\d+)[)）]?)?(?=$|[^\d])",
                     re.IGNORECASE)
_PUNCT = re.compile(r"[\s()（）「」『』\[\]【】・:：、。,._\-‐－/／~～〜]+")
_TICKS = {"0", "1"}
_TIME = re.compile(r"^\d{4}[-/]\d{1,2}[-/]\d{1,2}([ T]\d{1,2}:\d{2}(:\d{2})?)?$")
_NO_ANSWER = {key(w) for w in NO_ANSWER_WORDS} | {""}


def plain(text: object) -> str:
    """A heading as compared: NFKC, lower case, without spaces and punctuation."""
    return _PUNCT.sub("", unicodedata.normalize("NFKC", str(text)).lower())


def question_number(text: str) -> tuple[str, int, int | None] | None:
    """(series, number, sub-number) a heading starts with: 問17 → ("Q", 17, None), q29_1 →
    ("Q", 29, 1), 問27(1) → ("Q", 27, 1), F2_年代 → ("F", 2, None)."""
    m = _NUMBER.match(unicodedata.normalize("NFKC", text).strip())
    if not m:
        return None
    series = "F" if (m[1] or "").upper() == "F" else "Q"
    return series, int(m[2]), int(m[3]) if m[3] else None


def _stem(text: str) -> str:
    """The heading without its question number: 「問27(1) 地域・社会とのつながり」 → 地域・社会との
    つながり, q01_sex → sex."""
    s = unicodedata.normalize("NFKC", text).strip()
    m = _NUMBER.match(s)
    return plain(s[m.end():] if m else s)


def is_number(k: str) -> bool:
    return bool(k) and k.lstrip("-").replace(".", "", 1).isdigit()


def sentinel(k: str) -> bool:
    """9, 99, 999 …: how vendors write 'no answer' in a number column."""
    return len(k) >= 2 and set(k) == {"9"}


@dataclass
class Column:
    """One column (or a group of tick columns) of a raw table, as matching sees it."""

    name: str
    position: int
    texts: list[str]
    number: tuple[str, int, int | None] | None
    counts: Counter = field(default_factory=Counter)  # answer key → rows
    raw: dict[str, object] = field(default_factory=dict)  # answer key → as written
    numbering: dict[str, str] | None = None  # code key → the vendor's label
    options: dict[str, str] = field(default_factory=dict)  # tick column → its option's text
    rows: int = 0
    missing: set[str] = field(default_factory=set)  # codes the file declares missing (SPSS)

    @property
    def stems(self) -> list[str]:
        return [s for s in dict.fromkeys(_stem(t) for t in self.texts) if s]

    @cached_property
    def answers(self) -> list[str]:
        """The distinct answers (keys), no-answer words left out, most frequent first."""
        return [k for k, _ in self.counts.most_common()
                if k not in _NO_ANSWER and k not in self.missing]

    @property
    def labels(self) -> list[str]:
        """The answers as words: through the vendor's numbering for codes that have one
        (labels meaning no answer left out)."""
        if self.numbering:
            words = [key(self.numbering[k]) for k in self.answers if k in self.numbering]
            return [w for w in words if w not in _NO_ANSWER]
        return self.answers

    @cached_property
    def kind(self) -> str:
        """ticks, empty, times, text, id, codes, numbers, bands, joined or words."""
        if self.options:
            return "ticks"
        answers = self.answers
        if not answers:
            return "empty"
        if all(_TIME.match(str(self.raw.get(k, k)).strip()) for k in answers[:50]):
            return "times"
        values = [k for k in answers if not sentinel(k)]
        numeric = sum(is_number(k) for k in values) >= 0.95 * len(values)
        unique = len(answers) >= 0.95 * sum(self.counts[k] for k in answers)
        long = sum(map(len, answers)) / len(answers)
        sentences = sum(k.endswith(("。", "!", "?", "です")) for k in answers)
        if not numeric and ((unique and long > 8) or (long > 12 and sentences > len(answers) / 2)):
            return "text"
        if unique and len(answers) > 20:
            return "id"
        if numeric:
            return "codes" if self.numbering else "numbers"
        if sum(parse_band(k, 0, 120) is not None for k in answers) >= 0.8 * len(answers):
            return "bands"
        if self.separator():
            return "joined"
        return "words"

    def separator(self) -> str | None:
        """The separator of several answers in one cell, when the cells hold several."""
        answers = self.answers
        for sep in SEPARATORS:
            joined = [k for k in answers if sep in k]
            if len(joined) >= 0.1 * len(answers) and len(joined) >= 2:
                tokens = Counter(t for k in answers for t in k.split(sep) if t)
                if sum(n > 1 for n in tokens.values()) >= 2:
                    return sep
        return None

    def tokens(self) -> list[str]:
        """The single answers of a column of joined answers."""
        sep = self.separator()
        found: Counter = Counter()
        for k in self.answers:
            for token in k.split(sep) if sep else [k]:
                if token:
                    found[token] += self.counts[k]
        return [t for t, _ in found.most_common()]

    def numbers(self) -> list[float]:
        return [float(k) for k in self.answers if is_number(k) and not sentinel(k)]


def _is_tick(col: Column) -> bool:
    return bool(col.answers) and set(col.answers) <= _TICKS and len(col.answers) <= 2


_OPTION = re.compile(r"^(.*?)[_\-‐－(（\s]+([^_\-‐－(（\s]+?)[)）]?$")


def profile(table: RawTable, numbering: dict[str, dict[str, str]]) -> list[Column]:
    """The table's columns as matching sees them; tick columns sharing a heading stem become
    one group (its ``options``: column → the option's text, from the heading or the SPSS
    label)."""
    out: list[Column] = []
    for position, (name, parts) in enumerate(zip(table.data.columns, table.headers,
                                                 strict=True)):
        codes, raw, keys = unique_keys(table.data[name])
        counts = Counter()
        first: dict[str, object] = {}
        for i, n in Counter(codes[codes >= 0].tolist()).items():
            counts[keys[i]] += n
            first.setdefault(keys[i], raw[i])
        texts = list(dict.fromkeys([str(name), *parts]))
        out.append(Column(str(name), position, texts, question_number(str(parts[0] if parts
                                                                         else name)),
                          counts, first, numbering.get(name), rows=len(table.data),
                          missing=table.missing_codes.get(name, set())))
    return _groups(out)


def _groups(columns: list[Column]) -> list[Column]:
    """Tick columns with the same stem (and two or more of them) as one group column."""
    stems: dict[str, list[tuple[Column, str]]] = {}
    for col in columns:
        if not _is_tick(col):
            continue
        m = _OPTION.match(unicodedata.normalize("NFKC", col.name).strip())
        if m:
            option = col.texts[-1] if len(col.texts) > 1 else m[2]
            stems.setdefault(m[1], []).append((col, option))
    grouped = {id(c) for members in stems.values() if len(members) > 1 for c, _ in members}
    out = [c for c in columns if id(c) not in grouped]
    for stem, members in stems.items():
        if len(members) < 2:
            continue
        first = members[0][0]
        texts = [option for _, option in members]
        common = 0 if any(t.isdigit() for t in texts) else len(
            os.path.commonprefix(texts))  # noqa: RUF071 (texts, not paths)
        group = Column(stem, first.position, [stem, *first.texts[1:2]],
                       question_number(stem), rows=first.rows,
                       options={c.name: option[common:].strip() or option
                                for c, option in members})
        out.append(group)
    return sorted(out, key=lambda c: c.position)
