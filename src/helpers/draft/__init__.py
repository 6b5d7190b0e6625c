"""``tsunagari init``: draft a town's parameter file from its raw files.

Each file is read as it is laid out (``layout``): a survey export, a vendor's code sheet or a
population table. A survey export's columns are matched to the codebook (``profile``,
``match``): by header and by answers, each match saying how sure it is; answers written another
way become ``labels:``, answers that fit nothing and columns that match nothing are listed as
TODO with their values. Facts no file holds (the town's name, the survey's dates and counts)
are TODO too. ``tsunagari check`` on the draft lists every TODO left; nothing is guessed
silently, and an existing file is never overwritten.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from helpers import paths
from helpers.ages import national_bands, parse_band
from helpers.cleaning.mapping import drop_non_respondents, question_keys
from helpers.cleaning.normalize import NO_ANSWER_WORDS, key
from helpers.cleaning.read import RawTable
from helpers.codebook import Codebook, VarType, load_codebook
from helpers.draft.layout import Layout, detect
from helpers.draft.match import Match, match, place
from helpers.draft.profile import Column, is_number, profile, sentinel
from helpers.draft.render import render
from helpers.errors import UserError
from helpers.towns import open_decisions

TODO = "TODO"
_MODES = {"Web": ("web", "ウェブ", "ネット", "オンライン", "online"),
          "郵送": ("郵送", "mail", "紙", "調査票")}
_AT_LEAST = re.compile(r"^(\d+)(人|歳|点|回)?以上$")
_SEXES = {"男": "男性", "男性": "男性", "女": "女性", "女性": "女性"}
NO_ANSWER = {key(w) for w in NO_ANSWER_WORDS}


@dataclass
class _File:
    """One raw file: its layout and table."""

    layout: Layout
    table: RawTable

    @property
    def name(self) -> str:
        return self.layout.path.name

    def keys(self, column: str) -> list[str]:
        """The distinct values of a column, as compared (see ``normalize.key``)."""
        return list(dict.fromkeys(key(v) for v in pd.unique(self.table.data[column])))


@dataclass
class Draft:
    """A drafted town file: its content (with comments), what was found, what is left."""

    town: str
    data: dict[str, Any]
    comments: dict[tuple, str] = field(default_factory=dict)
    found: list[str] = field(default_factory=list)
    todo: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return render(self.data, self.comments, self.header())

    def header(self) -> list[str]:
        return [
            f"Draft written by `tsunagari init {self.town}` from the raw files in "
            f"data/raw/{self.town}/.",
            "Each drafted line says how it was found: sure (heading and answers agree), likely",
            "or guess. Review them, fill in every TODO, decide every item under todo: (map a",
            "column under columns:, declare it under questions:, or list it under not_used: or",
            "ignore:; add labels: for answers), then delete the todo: lists and run",
            f"  tsunagari check data/raw/{self.town}/<file> --town {self.town}",
            "config/towns/README.md explains every key.",
        ]


# --- the kinds of file -----------------------------------------------------------------------


def _code_sheet(f: _File) -> dict[str, str] | None:
    """(question, code, label) columns of a vendor's code sheet, or None: a short table whose
    columns hold question codes repeated in runs, numbers, and words."""
    data = f.table.data
    if not 3 <= data.shape[1] <= 5 or len(data) < 5:
        return None
    numbers, words = [], []
    for col in data.columns:
        values = [k for k in f.keys(col) if k]
        if values:
            (numbers if all(is_number(v) for v in values) else words).append(
                (len(set(values)), str(col)))
    if len(numbers) != 1 or len(words) != 2:
        return None
    (_, question), (_, label) = sorted(words)
    return {"question": question, "code": numbers[0][1], "label": label}


def _population(f: _File) -> dict[str, Any] | None:
    """The settings of a population table (ages or bands down a column, a count column per
    sex), or None."""
    data = f.table.data
    counts = {_SEXES[key(c)]: str(c) for c in data.columns
              if key(c) in _SEXES and all(is_number(k.replace(",", "")) or k in ("", "-")
                                          for k in f.keys(c))}
    if set(counts) != {"男性", "女性"}:
        return None
    for col in data.columns:
        values = [k for k in f.keys(col) if k]
        ages = [v for v in values if parse_band(v, 0, 120) is not None]
        if len(values) >= 5 and len(ages) >= 0.8 * len(values):
            return {"age": str(col), "count": counts}
    return None


# --- a survey export ---------------------------------------------------------------------------


def _numbering(f: _File, sheets: list[tuple[_File, dict[str, str]]]
               ) -> tuple[dict[str, dict[str, str]], dict[str, Any] | None]:
    """Each column's vendor numbering (SPSS value labels, or a code sheet that names the
    file's columns), and the code_sheet: settings of the sheet used."""
    numbering = {c: labels for c, labels in f.table.value_labels.items() if labels}
    for sheet, cols in sheets:
        codes: dict[str, dict[str, str]] = {}
        frame = sheet.table.data[[cols["question"], cols["code"], cols["label"]]].ffill()
        for question, code, label in frame.itertuples(index=False):
            if key(code) and key(label):
                codes.setdefault(key(question), {})[key(code)] = str(label)
        linked = {}
        for col in f.table.data.columns:
            hit = next((q for q in question_keys(f.table, col) if q in codes), None)
            if hit:
                linked[col] = codes[hit]
        if len(linked) >= 3:
            settings = {"file": sheet.name, "question": cols["question"], "code": cols["code"],
                        "label": cols["label"]}
            if sheet.layout.sheet:
                settings = {"file": sheet.name, "sheet": sheet.layout.sheet, **{
                    k: v for k, v in settings.items() if k != "file"}}
            return {**linked, **numbering}, settings
    return numbering, None


def _mode(f: _File) -> tuple[str, str]:
    name = f.name.lower()
    for mode, words in _MODES.items():
        if any(w in name for w in words):
            return mode, f"check: from the file name 「{f.name}」"
    return "郵送", "check: no column or file name says how people answered; 郵送 assumed"


def _shown(col: Column, n: int = 6) -> str:
    """A column's answers for a TODO: 「a」 (12), 「b」 (3) … (distinct count)."""
    answers = [k for k, _ in col.counts.most_common()]
    shown = ", ".join(f"{col.raw.get(k, k)} ({col.counts[k]})" for k in answers[:n])
    return shown + (f" … ({len(answers)} different)" if len(answers) > n else "")


@dataclass
class _Source:
    """A survey export's drafted settings."""

    data: dict[str, Any]
    comments: dict[tuple, str]
    todo: list[str]
    matches: list[Match]
    columns: int


def _labels(m: Match, source: dict[str, Any], todo: list[str]) -> None:
    """``labels:`` for the answers written otherwise than the codebook; TODO for those that
    fit no answer."""
    col, var = m.column, m.var
    if var.name == "district" or col.kind not in ("words", "codes", "joined"):
        return
    labels = var.labels()
    exact = {key(label) for label in labels.values()}
    answers = col.tokens() if col.kind == "joined" else col.answers
    entries, unknown = {}, []
    for k in answers:
        raw = col.numbering.get(k, k) if col.numbering else str(col.raw.get(k, k))
        if key(raw) in exact or key(raw) in NO_ANSWER or (col.numbering and k not in
                                                          col.numbering):
            continue
        code = place(key(raw), labels)
        if code is None:
            unknown.append(raw)
        else:
            entries[raw] = labels[code]
    if col.numbering:
        unknown += [k for k in col.answers if k not in col.numbering]
    if entries:
        source.setdefault("labels", {})[var.key] = entries
    if unknown:
        todo.append(f"{col.name}: 「{'」「'.join(map(str, unknown[:5]))}」 is not an answer of "
                    f"{var.key} ({'、'.join(labels.values())}): map it under labels: "
                    f"{var.key}: (or, for your questionnaire's own wording, under wording:)")


def _number_labels(m: Match, source: dict[str, Any], todo: list[str]) -> None:
    """A number column's no-answer codes (99, 999) and wordings such as 「6人以上」."""
    entries: dict[str, Any] = {}
    for k in m.column.answers:
        if sentinel(k):
            entries[k] = "無回答"
        elif not is_number(k):
            found = _AT_LEAST.match(k)
            if found:
                entries[str(m.column.raw.get(k, k))] = int(found[1])
            else:
                todo.append(f"{m.column.name}: 「{m.column.raw.get(k, k)}」 is not a number: map "
                            f"it under labels: {m.var.key}: to a number or to 無回答")
    if entries:
        source.setdefault("labels", {})[m.var.key] = entries


def _options(m: Match, todo: list[str]) -> dict[str, Any]:
    """{options: {code: column}} of a group of tick columns."""
    labels = m.var.labels()
    options = m.column.options
    if all(is_number(key(o)) for o in options.values()):
        return {"options": dict(zip(labels, options, strict=False))}
    out, unknown = {}, []
    for column, text in options.items():
        code = place(key(text), labels)
        if code is None:
            unknown.append(column)
        else:
            out[code] = column
    if unknown:
        todo.append(f"{', '.join(unknown)}: no option of {m.var.key} "
                    f"({'、'.join(labels.values())}) fits: add it under options:")
    return {"options": dict(sorted(out.items()))}


def _draft_source(f: _File, matches: list[Match], columns: list[Column], book: Codebook,
                  code_sheet: dict[str, Any] | None) -> _Source:
    layout = f.layout
    data: dict[str, Any] = {"file": f.name}
    comments: dict[tuple, str] = {}
    todo: list[str] = []
    by_var = {m.var.name: m for m in matches}
    if "mode" in by_var:
        data["mode_column"] = by_var["mode"].column.name
        comments[("mode_column",)] = f"{by_var['mode'].confidence}: " + ", ".join(
            by_var["mode"].why)
    else:
        data["mode"], comments[("mode",)] = _mode(f)
    if layout.sheet:
        data["sheet"] = layout.sheet
    if layout.header_rows not in ((1,), (0,)):
        data["header_row"] = (layout.header_rows[0] if len(layout.header_rows) == 1
                              else list(layout.header_rows))
    if layout.encoding and layout.encoding != "utf-8":
        data["encoding"] = layout.encoding
    if layout.delimiter != ",":
        data["delimiter"] = layout.delimiter
    numbered = any(c.numbering for c in columns)
    coded = sum(c.kind in ("codes", "numbers") for c in columns if c.kind != "ticks")
    worded = sum(c.kind in ("words", "joined") for c in columns)
    data["answers"] = "codes" if numbered or coded > worded else "labels"
    if code_sheet:
        data["code_sheet"] = code_sheet
        comments[("code_sheet",)] = "check: the vendor's code sheet found among the files"
    cols: dict[str, Any] = {}
    for m in sorted(matches, key=lambda m: m.column.position):
        var = m.var
        if var.name == "mode":
            continue
        if var.type is VarType.MULTI:
            cols[var.key] = (_options(m, todo) if m.column.kind == "ticks" else
                             {"joined": m.column.name, "sep": m.column.separator()})
        else:
            cols[var.key] = m.column.name
        comments[("columns", var.key)] = f"{m.confidence}: {', '.join(m.why)}"
        if var.type is VarType.NUMBER:
            _number_labels(m, data, todo)
        else:
            _labels(m, data, todo)
    data["columns"] = cols
    matched = {m.column.name for m in matches}
    ignore, unmatched = [], []
    for col in columns:
        if col.name in matched or col.kind == "empty":
            continue
        if col.kind == "times":
            ignore.append(col.name)
            continue
        names = list(col.options) if col.options else [col.name]
        unmatched.append(f"{' / '.join(names)}: {_shown(col) if col.counts else 'ticks'}")
    if ignore:
        data["ignore"] = ignore
        comments[("ignore",)] = "check: dates and times, not a question"
    if unmatched or todo:
        data["todo"] = [*todo, *unmatched]
        comments[("todo",)] = ("TODO: answers that fit no answer of their question, and "
                               "columns that match no question of the codebook")
    return _Source(data, comments, data.get("todo", []), matches, len(columns))


def _hints(sources: dict[str, _Source], but: str) -> dict:
    """Question numbers matched in the other files (sure or likely) → their variable."""
    hints: dict[Any, str] = {}
    for name, src in sources.items():
        if name == but:
            continue
        for m in src.matches:
            if m.column.number and m.confidence != "guess":
                hints[m.column.number] = m.var.name
                hints[(*m.column.number[:2], None)] = m.var.name
                hints["file"] = f"「{name}」"
    return hints


# --- the town ---------------------------------------------------------------------------------


def _districts(sources: dict[str, _Source]) -> tuple[list[str] | str, str]:
    """The district names: the district column's words or its vendor labels (in code order)."""
    names: list[str] = []
    for src in sources.values():
        m = next((m for m in src.matches if m.var.name == "district"), None)
        if m is None:
            continue
        col = m.column
        if col.numbering:
            names += [col.numbering[k] for k in sorted(col.numbering, key=float)
                      if key(col.numbering[k]) not in ("無回答", "不明")]
        elif col.kind == "words":
            names += [str(col.raw[k]).strip() for k in col.answers]
        else:
            codes = sorted(col.answers, key=lambda k: float(k) if is_number(k) else 0)
            return TODO, (f"TODO: the names of the codes {', '.join(codes)} of 「{col.name}」, "
                          "code 1 first, e.g. [北地区, 南地区]")
    if not names:
        return [], ""
    names = list(dict.fromkeys(names))
    return names, "check: as found in the files; write them in your questionnaire's order"


def _ages(sources: dict[str, _Source]) -> tuple[int | str, list[str] | None, str]:
    """(min_age, the data's own age bands when the national ones do not hold them, note)."""
    for src in sources.values():
        for m in src.matches:
            col = m.column
            if m.var.name == "age":
                young = [x for x in col.numbers() if 10 <= x <= 30]
                if young:
                    return int(min(young)), None, "check: the youngest age in the data"
            if m.var.name == "age_band":
                bands = sorted((b, k) for k in col.answers
                               if (b := parse_band(k, 0, 120)) is not None)
                first = bands[0][0][0]
                default = national_bands(first, 110)
                if all(default.code_of(b[0], min(b[1], 110)) for b, _ in bands):
                    return first, None, "check: the first age band in the data"
                return first, [str(col.raw.get(k, k)) for _, k in bands], (
                    "check: the first age band in the data")
    return TODO, None, "TODO: the youngest age surveyed"


def draft_town(town: str, files: list[Path], book: Codebook | None = None) -> Draft:
    """The draft of ``config/towns/<town>.yml`` from the raw ``files``."""
    book = book or load_codebook()
    read = {}
    for path in files:
        layout = detect(Path(path))
        table = layout.read()
        drop_non_respondents(table)
        read[Path(path).name] = _File(layout, table)
    sheets = [(f, cols) for f in read.values() if (cols := _code_sheet(f))]
    populations = {name: p for name, f in read.items() if (p := _population(f))}
    surveys = {name: f for name, f in read.items()
               if name not in populations and all(f is not s for s, _ in sheets)}
    if not surveys:
        raise UserError("none of the files holds survey answers",
                        hint="give the survey's exports (and its code sheet or population "
                        "table beside them)")
    profiles, settings = {}, {}
    for name, f in surveys.items():
        numbering, settings[name] = _numbering(f, sheets)
        profiles[name] = profile(f.table, numbering)
    sources: dict[str, _Source] = {}
    for round_ in range(2):
        for name, f in surveys.items():
            hints = _hints(sources, name) if round_ else {}
            numbered = any(c.numbering for c in profiles[name])
            matches = match(profiles[name], book, numbered, hints)
            sources[name] = _draft_source(f, matches, profiles[name], book, settings[name])
    used_sheets = {s["file"] for s in settings.values() if s}
    unused = [f.name for f, _ in sheets if f.name not in used_sheets]
    return _town(town, read, surveys, sources, populations, unused)


def _town(town: str, read: dict[str, _File], surveys: dict[str, _File],
          sources: dict[str, _Source], populations: dict[str, dict[str, Any]],
          unused_sheets: list[str]) -> Draft:
    todo: list[str] = []
    data: dict[str, Any] = {"id": town, "name": {"ja": TODO, "en": TODO}, "prefecture": TODO,
                            "synthetic": False}
    comments: dict[tuple, str] = {
        ("name",): "TODO: the town's name in Japanese and in roman letters",
        ("prefecture",): "TODO",
        ("synthetic",): "true only for invented sample data (合成データ)",
    }
    min_age, bands, age_note = _ages(sources)
    modes = sorted({s.data.get("mode") for s in sources.values()} - {None}
                   | ({"郵送", "Web"} if any("mode_column" in s.data for s in sources.values())
                      else set()), key=["郵送", "Web"].index)
    rows = sum(len(f.table.data) for f in surveys.values())
    data["survey"] = {"title": TODO, "population": TODO, "target": TODO, "min_age": min_age,
                      "sampling": TODO, "distributed": TODO, "returned": TODO, "start": TODO,
                      "end": TODO, "modes": modes}
    comments |= {
        ("survey", "title"): "TODO: the survey's title as printed",
        ("survey", "population"): "TODO: residents of the town",
        ("survey", "target"): "TODO: who was surveyed, in words (e.g. 満18歳以上の市民)",
        ("survey", "min_age"): age_note,
        ("survey", "sampling"): "TODO: how people were chosen (e.g. 住民基本台帳から無作為抽出)",
        ("survey", "distributed"): "TODO: forms sent out",
        ("survey", "returned"): f"TODO: valid forms returned (the files hold {rows:,} rows)",
        ("survey", "start"): "TODO: first day of fieldwork (YYYY-MM-DD)",
        ("survey", "end"): "TODO: last day of fieldwork",
        ("survey", "modes"): "check: how people could answer",
    }
    districts, note = _districts(sources)
    if districts:
        data["districts"] = districts
        comments[("districts",)] = note
    if bands:
        data["age_bands"] = bands
        comments[("age_bands",)] = "check: the age bands of the data, as written there"
    data["sources"] = []
    for i, src in enumerate(sources.values()):
        data["sources"].append(src.data)
        comments |= {("sources", i, *k): v for k, v in src.comments.items()}
    if populations:
        (name, pop), *more = populations.items()
        layout = read[name].layout
        table: dict[str, Any] = {"file": name}
        if layout.sheet:
            table["sheet"] = layout.sheet
        if layout.encoding and layout.encoding != "utf-8":
            table["encoding"] = layout.encoding
        data["margins"] = {"source": TODO, "sex_age_band": {**table, **pop}}
        comments[("margins", "source")] = "TODO: where the counts come from, and their date"
        comments[("margins", "sex_age_band")] = "check: the population table found among the files"
        todo += [f"{n}: a second population table; give district counts under margins → "
                 "district, or leave it out" for n, _ in more]
    found = [f"{f.name}: {'; '.join(f.layout.notes) or 'read as it is'}" for f in read.values()]
    found += [f"{name}: a population table by age and sex, drafted under margins:"
              for name in populations]
    found += [f"{s['file']}: the vendor's code sheet of {name}, drafted under its code_sheet:"
              for name, src in sources.items() if (s := src.data.get("code_sheet"))]
    found += [f"{name}: {len(s.matches)} of {s.columns} columns matched "
              f"({_confidences(s.matches)})" for name, s in sources.items()]
    found += [f"{n}: looks like a code sheet but names no column of the exports"
              for n in unused_sheets]
    if todo:
        data["todo"] = todo
        comments[("todo",)] = "TODO: decisions about the whole town"
    return Draft(town, data, comments, found, open_decisions(data))


def _confidences(matches: list[Match]) -> str:
    counts = Counter(m.confidence for m in matches)
    return ", ".join(f"{counts[c]} {c}" for c in ("sure", "likely", "guess") if counts[c])


def write_draft(draft: Draft, path: Path | None = None) -> Path:
    """Write the draft to ``config/towns/<town>.yml`` (or ``path``); an existing file is never
    overwritten."""
    path = Path(path) if path is not None else paths.TOWNS / f"{draft.town}.yml"
    if path.exists():
        raise UserError("a parameter file for this town exists already: it is never "
                        "overwritten", file=path,
                        hint="edit it, or move it away to draft a new one")
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("x", encoding="utf-8") as fh:
        fh.write(draft.text)
    return path

