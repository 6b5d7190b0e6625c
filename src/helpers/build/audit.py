"""Disclosure audit (BRIEF §7): scan what the build publishes for anything that must not be there.

Checked in every HTML page and the search index of the site, every Excel file, every
``results.json`` and every printed report's source (``print/<town>.qmd``, the PDF's text):

- **free-text answers** and **respondent IDs** from the towns' ``restricted.parquet``: free texts
  (and their longer sentences) anywhere in a page's text, chart data included, and in any cell;
  IDs as whole tokens. Purely numeric IDs shorter than ``MIN_NUMERIC_ID`` digits cannot be told
  apart from counts and are not searched for (``Secrets.skipped_ids`` counts them), but a table
  column headed like an ID or an exact age (``ID_HEADERS``) is a breach whatever it holds;
- **small cells**: every count a reader can recover from the tables published together (a page,
  a workbook, a results.json) with their own arithmetic — share × base, interval inversion,
  totals minus parts across rows, columns and linked tables, 0 vs — (``helpers.build.attack``);
- **chart data** inside a page: every number of a chart's data (the CSV each chart links to, or
  a plotly chart's traces) is a percentage with one decimal that a table of the same page shows
  (a chart may not publish more than the tables).

``audit_text`` checks that text from users stayed text (``UserText``: the strings of the town
files): no user string shown as markup in a page (written there unescaped, its Markdown specials
consumed, or become a script or an event handler), and no formula in any Excel file.
"""

from __future__ import annotations

import base64
import json
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import cached_property
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, ClassVar

from helpers.build.attack import Grid, attack, attack_results, attack_workbook

MIN_FREE_TEXT = 8
MIN_SENTENCE = 12
MIN_NUMERIC_ID = 5
ID_HEADERS = {
    "resp_id",
    "id",
    "回答者番号",
    "回答者id",
    "整理番号",
    "age",
    "年齢（満年齢）",
    "満年齢",
}
PLOTLY_CALL = "Plotly.newPlot("
#: How a chart's data link starts (helpers.figures.Chart.html).
CSV_LINK = "data:text/csv;charset=utf-8;base64,"


@dataclass(frozen=True)
class Breach:
    """One thing that must not be published, where it was found and what it is."""

    file: Path
    kind: str
    detail: str

    def __str__(self) -> str:
        return f"{self.file}: {self.kind}: {self.detail}"


@dataclass(frozen=True)
class Secrets:
    """What must never appear: free-text answers (and sentences of them) and respondent IDs."""

    free_texts: tuple[str, ...]
    ids: tuple[str, ...]
    skipped_ids: int = 0

    @classmethod
    def from_values(cls, free_texts: Iterable[object], ids: Iterable[object]) -> Secrets:
        texts: set[str] = set()
        for t in free_texts:
            s = _compact(t)
            if len(s) >= MIN_FREE_TEXT:
                texts.add(s)
                texts.update(x for x in re.split(r"[。．！？!?、,\n]", s) if len(x) >= MIN_SENTENCE)
        checked, skipped = set(), 0
        for i in ids:
            s = normalize(i)
            if not s:
                continue
            if s.isdigit() and len(s) < MIN_NUMERIC_ID:
                skipped += 1
            else:
                checked.add(s)
        return cls(tuple(sorted(texts)), tuple(sorted(checked)), skipped)

    @cached_property
    def digest(self) -> str:
        """What the secrets are, as one key (for ``Passed``)."""
        return _digest("\0".join((*self.free_texts, "", *self.ids)).encode())

    @classmethod
    def from_processed(cls, processed: Path) -> Secrets:
        """Collect every town's ``restricted.parquet`` under ``processed`` (data/processed)."""
        import pandas as pd

        texts: list[object] = []
        ids: list[object] = []
        for f in sorted(Path(processed).glob("*/restricted.parquet")):
            df = pd.read_parquet(f)
            if "free_text" in df:
                texts += df["free_text"].dropna().tolist()
            if "resp_id" in df:
                ids += df["resp_id"].dropna().tolist()
        return cls.from_values(texts, ids)

    def find(self, text: str) -> Iterator[tuple[str, str]]:
        """(kind, value) for every secret in ``text`` (normalised first)."""
        compact = _compact(text)
        found: list[str] = []
        for t in sorted(self.free_texts, key=len, reverse=True):
            if t in compact and not any(t in f for f in found):  # a sentence of one already found
                found.append(t)
                yield "free-text answer", t
        if self.ids:
            for m in self._id_pattern.finditer(normalize(text)):
                yield "respondent ID", m.group(0)

    @cached_property
    def _id_pattern(self) -> re.Pattern[str]:
        alternatives = "|".join(re.escape(i) for i in sorted(self.ids, key=len, reverse=True))
        return re.compile(rf"(?<![0-9A-Za-z_-])(?:{alternatives})(?![0-9A-Za-z_-])")


def normalize(value: object) -> str:
    """NFKC (full-width digits and letters to ASCII) and whitespace collapsed."""
    if value is None:
        return ""
    return " ".join(unicodedata.normalize("NFKC", str(value)).split())


def _compact(value: object) -> str:
    """``normalize`` without any whitespace: free text is found across line and tag breaks."""
    return "".join(normalize(value).split())


# --- reading what is published ---


class _Page(HTMLParser):
    """Visible text, tables (rows of cell texts) and script text of an HTML page."""

    HIDDEN: ClassVar[set[str]] = {"script", "style", "noscript", "template"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.visible: list[str] = []
        self.scripts: list[str] = []
        self.tables: list[list[list[str]]] = []
        self.titles: list[str] = []
        self.chart_data: list[str] = []  # the CSV text of each chart's data link
        self._hidden = 0
        self._caption: list[str] | None = None
        self._stack: list[list[list[str]]] = []
        self._cell: list[str] | None = None
        self._strong: list[str] | None = None
        self._title = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.HIDDEN:
            self._hidden += 1
        elif tag == "table":
            self._stack.append([])
            self.titles.append(self._title)
        elif tag in ("strong", "b", "h1", "h2", "h3", "h4") and not self._stack:
            self._strong = []
        elif tag == "tr" and self._stack:
            self._stack[-1].append([])
        elif tag in ("td", "th") and self._stack and self._stack[-1]:
            self._cell = []
        elif tag == "caption" and self._stack:
            self._caption = []
        elif tag == "a":
            href = dict(attrs).get("href") or ""
            if href.startswith(CSV_LINK):
                self.chart_data.append(base64.b64decode(href[len(CSV_LINK):]).decode("utf-8"))
        if tag in ("br", "p", "div", "li", "tr", "td", "th"):
            self.visible.append("\n")  # text of neighbouring elements must not run together

    def handle_endtag(self, tag: str) -> None:
        if tag in self.HIDDEN:
            self._hidden = max(0, self._hidden - 1)
        elif tag in ("td", "th") and self._cell is not None and self._stack:
            self._stack[-1][-1].append(normalize("".join(self._cell)))
            self._cell = None
        elif tag == "caption" and self._caption is not None:
            self.titles[-1] = normalize("".join(self._caption))
            self._caption = None
        elif tag == "table" and self._stack:
            self.tables.append(self._stack.pop())
            self._title = ""
        elif tag in ("strong", "b", "h1", "h2", "h3", "h4") and self._strong is not None:
            self._title = normalize("".join(self._strong))
            self._strong = None

    def handle_data(self, data: str) -> None:
        if self._hidden:
            self.scripts.append(data)
            return
        self.visible.append(data)
        if self._cell is not None:
            self._cell.append(data)
        if self._strong is not None:
            self._strong.append(data)
        if self._caption is not None:
            self._caption.append(data)


def _unescape_js(text: str) -> str:
    return re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), text)


def _xlsx_tables(path: Path) -> Iterator[tuple[str, list[list[str]]]]:
    from openpyxl import load_workbook

    wb = load_workbook(path, read_only=True, data_only=True)
    try:
        for ws in wb.worksheets:
            rows = [
                ["" if v is None else normalize(_cell_text(v)) for v in row]
                for row in ws.iter_rows(values_only=True)
            ]
            yield ws.title, rows
    finally:
        wb.close()


def _cell_text(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


# --- the rules ---


def id_columns(header: Iterable[object]) -> list[str]:
    """Columns headed like a respondent ID or an exact age: never published, whatever they hold.

    (Short numeric IDs cannot be searched for as values, so their columns are looked for.)
    """
    return [f"a column 「{h}」" for h in header if normalize(h).lower() in ID_HEADERS]


def page_grids(page: _Page, name: str) -> list[Grid]:
    """The tables of a page as a reader sees them (first row: the headers)."""
    return [Grid(f"{name} 「{title or f'table {i + 1}'}」", table[0], table[1:])
            for i, (title, table) in enumerate(zip(page.titles, page.tables, strict=True))
            if len(table) > 1]


def plotly_data(scripts: str) -> Iterator[list[dict]]:
    """The data (traces) of every plotly chart in a page's scripts."""
    decoder = json.JSONDecoder()
    start = scripts.find(PLOTLY_CALL)
    while start >= 0:
        at = scripts.find("[", start)
        try:
            traces, _ = decoder.raw_decode(scripts, at)
        except (json.JSONDecodeError, ValueError):
            traces = None
        if isinstance(traces, list):
            yield [t for t in traces if isinstance(t, dict)]
        start = scripts.find(PLOTLY_CALL, start + len(PLOTLY_CALL))


def plotly_array(value: object) -> list:
    """A plotly data array as a list: plain JSON, or a typed array ({"dtype", "bdata"}, which
    plotly writes for numpy data); NaN becomes None."""
    if isinstance(value, dict) and "bdata" in value:
        import numpy as np

        data = np.frombuffer(base64.b64decode(value["bdata"]), dtype=value.get("dtype", "f8"))
        return [None if isinstance(v, float) and v != v else v for v in data.tolist()]
    return list(value) if isinstance(value, (list, tuple)) else []


def chart_breaches(traces: list[dict], shown: set[float]) -> list[str]:
    """Numbers of a chart that are not percentages with one decimal the page's tables show
    (bar heights, and the interval ends their error bars give)."""
    found = []
    for trace in traces:
        ys = plotly_array(trace.get("y"))
        err = trace.get("error_y") or {}
        xs = plotly_array(trace.get("x")) or [None] * len(ys)
        up = plotly_array(err.get("array")) or [None] * len(ys)
        down = plotly_array(err.get("arrayminus")) or [None] * len(ys)
        for x, y, plus, minus in zip(xs, ys, up, down, strict=False):
            if not isinstance(y, (int, float)):
                continue
            ends = [y + e * sign for e, sign in ((plus, 1), (minus, -1))
                    if isinstance(e, (int, float))]
            for v in (y, *ends):
                if abs(v - round(v, 1)) > 1e-6 or round(v, 1) not in shown:
                    found.append(f"chart 「{trace.get('name') or ''}」 at 「{x}」: {v:g} is not a "
                                 "percentage with one decimal shown in a table of the page")
    return found


def csv_breaches(text: str, shown: set[float]) -> list[str]:
    """Numbers of a chart's data (CSV) that are not percentages with one decimal shown in a table
    of the page (the CSV's label columns are text; 「—」 is a hidden value)."""
    import csv
    import io

    found = []
    for row in list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))[1:]:
        for cell in row:
            try:
                v = float(cell)
            except ValueError:
                continue
            if abs(v - round(v, 1)) > 1e-6 or round(v, 1) not in shown:
                found.append(f"chart data 「{'・'.join(row[:2])}」: {cell} is not a percentage "
                             "with one decimal shown in a table of the page")
    return found


def _shown_numbers(page: _Page) -> set[float]:
    """Every number the page's tables show (a cell like 34.9%（31.3～38.6%） gives three)."""
    out: set[float] = set()
    for table in page.tables:
        for row in table:
            for cell in row:
                out.update(round(float(v), 1) for v in re.findall(r"\d+(?:\.\d+)?", cell)
                           if len(v) < 12)
    return out


# --- the audit ---


def audit_html(path: Path, secrets: Secrets, min_cell: int) -> list[Breach]:
    """Secrets anywhere in the page (charts included) and small cells in its tables."""
    page = _Page()
    page.feed(path.read_text(encoding="utf-8", errors="replace"))
    text = "".join(page.visible) + "\n" + _unescape_js("\n".join(page.scripts))
    found = [Breach(path, kind, value) for kind, value in secrets.find(text)]
    for table in page.tables:
        found += [Breach(path, "respondent ID", d) for d in id_columns(table[0] if table else [])]
    found += [Breach(path, "small cell", str(f))
              for f in attack(page_grids(page, path.name), min_cell)]
    shown = _shown_numbers(page)
    for traces in plotly_data(_unescape_js("\n".join(page.scripts))):
        found += [Breach(path, "chart data", d) for d in chart_breaches(traces, shown)]
    for data in page.chart_data:
        found += [Breach(path, "chart data", d) for d in csv_breaches(data, shown)]
        found += [Breach(path, kind, value) for kind, value in secrets.find(data)]
    return found


def audit_xlsx(path: Path, secrets: Secrets, min_cell: int) -> list[Breach]:
    """Secrets in any cell of any sheet, and every count a reader can recover from its tables."""
    from helpers.excel import read_tables

    found = []
    for sheet, rows in _xlsx_tables(path):
        text = "\n".join("\t".join(r) for r in rows)
        where = Path(f"{path} [{sheet}]")
        found += [Breach(where, kind, value) for kind, value in secrets.find(text)]
    try:
        small = [str(f) for f in attack_workbook(path, min_cell)]
        for sheet, tables in read_tables(path).items():
            for _, frame in tables:
                where = Path(f"{path} [{sheet}]")
                found += [Breach(where, "respondent ID", d) for d in id_columns(frame.columns)]
    except Exception as exc:  # a workbook the audit cannot read cannot be published either
        small = [f"could not be checked ({type(exc).__name__}: {exc})"]
    return found + [Breach(path, "small cell", d) for d in small]


def audit_results(path: Path, secrets: Secrets, min_cell: int) -> list[Breach]:
    """Secrets in a ``results.json`` and every count a reader can recover from it."""
    text = path.read_text(encoding="utf-8")
    results = json.loads(text)
    found = [Breach(path, kind, value) for kind, value in secrets.find(_unescape_js(text))]
    small = attack_results(results, max(min_cell, int(results.get("min_cell") or 0)))
    return found + [Breach(path, "small cell", str(f)) for f in small]


_PIPE_CAPTION = re.compile(r"^: (.*?)(?: \{#tbl-\d+\})?$")
_BACKSLASHED = re.compile(r"\\([!-/:-@\[-`{-~])")


def print_grids(text: str, name: str) -> list[Grid]:
    """The pipe tables of a printed report's Markdown source, as a reader of the PDF sees them
    (their caption follows them)."""
    grids: list[Grid] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        if not lines[i].startswith("|"):
            i += 1
            continue
        block = []
        while i < len(lines) and lines[i].startswith("|"):
            cells = [_BACKSLASHED.sub(r"\1", c.strip()) for c in lines[i].strip("|").split(" | ")]
            block.append([normalize(c) for c in cells])
            i += 1
        caption = next((m[1] for line in lines[i:i + 3] if (m := _PIPE_CAPTION.match(line))), "")
        header, rows = block[0], block[2:]  # block[1]: the alignment row
        title = _BACKSLASHED.sub(r"\1", caption)
        grids.append(Grid(f"{name} 「{title}」", header, rows))
    return grids


def audit_print_source(path: Path, secrets: Secrets, min_cell: int) -> list[Breach]:
    """Secrets in a printed report's source (the PDF's text) and every count a reader can
    recover from its tables."""
    text = path.read_text(encoding="utf-8")
    found = [Breach(path, kind, value) for kind, value in secrets.find(text)]
    grids = print_grids(text, path.name)
    for grid in grids:
        found += [Breach(path, "respondent ID", d) for d in id_columns(grid.header)]
    return found + [Breach(path, "small cell", str(f)) for f in attack(grids, min_cell)]


class Passed:
    """Files that passed a check, by the check's inputs and the file's content (a JSON file of
    keys): a file that has not changed since it passed, checked with the same inputs and the same
    audit code, is not read again. Every check of the audit is of one file at a time."""

    #: The code a check runs (and the codebook it reads): a change of any checks every file.
    CODE = (Path(__file__), Path(__file__).with_name("attack.py"),
            Path(__file__).parents[1] / "excel.py", Path(__file__).parents[1] / "codebook.py")

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self._keys = set(json.loads(path.read_text(encoding="utf-8")))
        except (FileNotFoundError, json.JSONDecodeError):
            self._keys = set()
        self._seen: set[str] = set()
        from helpers import paths
        from helpers.build.manifest import versions

        code = b"".join(f.read_bytes() for f in (*self.CODE, paths.CODEBOOK))
        self._code = _digest(versions().encode() + code)

    def key(self, f: Path, check: str) -> str:
        """The key of checking ``f`` (its content) by ``check`` (the check and its inputs)."""
        key = _digest(f"{self._code} {check} {f.suffix}".encode() + f.read_bytes())
        self._seen.add(key)
        return key

    def __contains__(self, key: str) -> bool:
        return key in self._keys

    def add(self, key: str) -> None:
        self._keys.add(key)

    def save(self) -> None:
        """Write the keys of the files checked in this run that passed."""
        from helpers.build.manifest import write_atomic

        write_atomic(self.path, json.dumps(sorted(self._keys & self._seen)))


def _digest(data: bytes) -> str:
    import hashlib

    return hashlib.sha256(data).hexdigest()

def _files(roots: Iterable[Path]) -> Iterator[Path]:
    for root in roots:
        for f in sorted(Path(root).rglob("*")):
            if f.is_file() and "site_libs" not in f.parts:
                yield f


#: A parallel map (``Workers.map_cpu``): ``run(fn, items)`` → ``[fn(i) for i in items]``.
Run = Callable[[Callable[[Any], Any], list[Any]], list[Any]]
#: Files a worker checks in one task of an audit run in parallel (a town's files take about
#: 0.27 s); fewer files than this are checked here, in this process.
FILES_PER_TASK = 24


def _check_task(task: tuple[Callable[..., list[Breach]], list[tuple[Path, Any]]]
                ) -> list[list[Breach]]:
    check, files = task
    return [check(f, *args) for f, args in files]


def _checked(
    check: Callable[..., list[Breach]], todo: list[tuple[Path, tuple]], run: Run | None
) -> list[list[Breach]]:
    """``check(f, *args)`` of each (f, args) in ``todo``, in order: in tasks of about
    ``FILES_PER_TASK`` files on ``run`` (interleaved, so that each holds large and small
    files), or here when they are few or there is no ``run``."""
    n = -(-len(todo) // FILES_PER_TASK)
    if run is None or n <= 1:
        return _check_task((check, todo))
    found: list[list[Breach]] = [[] for _ in todo]
    for k, result in enumerate(run(_check_task, [(check, todo[k::n]) for k in range(n)])):
        found[k::n] = result
    return found


def _file_check(f: Path) -> Callable[[Path, Secrets, int], list[Breach]] | None:
    """The check of a published file by its kind (None: it holds nothing to check)."""
    if f.suffix == ".html" or f.name == "search.json":
        return audit_html
    if f.suffix == ".xlsx":
        return audit_xlsx
    if f.name == "results.json":
        return audit_results
    if f.suffix == ".qmd" and f.parent.name in ("print", "pdf"):
        return audit_print_source
    return None


def check_file(f: Path, secrets: Secrets, min_cell: int) -> list[Breach]:
    """The audit of one published file (by its kind)."""
    check = _file_check(f)
    return check(f, secrets, min_cell) if check else []


def _audited(
    todo: list[tuple[Path, tuple]], keys: list[str], check: Callable[..., list[Breach]],
    passed: Passed | None, run: Run | None,
) -> list[Breach]:
    found: list[Breach] = []
    for key, here in zip(keys, _checked(check, todo, run), strict=True):
        found += here
        if passed is not None and not here:
            passed.add(key)
    return found


def audit(
    roots: Iterable[Path],
    secrets: Secrets,
    min_cell: int,
    town_min_cell: Mapping[str, int] | None = None,
    passed: Passed | None = None,
    run: Run | None = None,
) -> list[Breach]:
    """Audit every HTML page, search index, Excel file and results.json under ``roots``.

    A file belongs to a town when its path contains the town's id as a folder or file stem
    (``towns/iiyama.html``, ``build/towns/iiyama/…``); it is then checked against the town's
    ``min_cell``, other files against ``min_cell``. Files in ``passed`` with the same secrets
    and ``min_cell`` are skipped; those that pass now are added to it. With ``run`` (a parallel
    map) the files are checked in tasks on it: the same findings, in the same order.
    """
    todo, keys = [], []
    for f in _files(roots):
        names = {f.stem, *f.parts, f.stem.split("_")[0]}
        mc = next((m for t, m in (town_min_cell or {}).items() if t in names), min_cell)
        key = passed.key(f, f"secrets {secrets.digest} min_cell {mc}") if passed else ""
        if _file_check(f) is None:  # nothing to check: passed
            if passed is not None:
                passed.add(key)
        elif passed is None or key not in passed:
            todo.append((f, (secrets, mc)))
            keys.append(key)
    return _audited(todo, keys, check_file, passed, run)


# --- user text shown as markup ---

#: Characters that Markdown or HTML can consume: a user string holding one can be mis-rendered.
MARKUP_CHARS = frozenset("\\`*_{}[]<>#|$~^&")
#: A user string whose other characters are fewer than this is too short to be traced.
MIN_TRACE = 3
#: A string that is one tag and nothing else cannot be told from the page's own markup (an event
#: handler in it is still found).
_ONE_TAG = re.compile(r"</?[A-Za-z][^<>]*>")
_TAG_OR_ENTITY = re.compile(r"<[A-Za-z/!?]|&(#\d+|#x[0-9A-Fa-f]+|[A-Za-z]+);")


_FORMULA_ELEMENT = re.compile(rb"<(?:\w+:)?f[\s>/]")


def _strip_markup(text: str) -> str:
    return "".join(c for c in text if c not in MARKUP_CHARS)


class _Markup(HTMLParser):
    """Visible text, scripts and event-handler or ``javascript:`` attributes of a page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.visible: list[str] = []
        self.scripts: list[list[str]] = []
        self.handlers: list[tuple[str, str]] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            code = (value or "").strip()
            if name.startswith("on") or code.lower().startswith("javascript:"):
                self.handlers.append((f"<{tag} {name}>", code))
        if tag in _Page.HIDDEN:
            self._hidden += 1
            if tag == "script":
                self.scripts.append([])

    def handle_endtag(self, tag: str) -> None:
        if tag in _Page.HIDDEN:
            self._hidden = max(0, self._hidden - 1)

    def handle_data(self, data: str) -> None:
        if self._hidden:
            if self.scripts:
                self.scripts[-1].append(data)
        else:
            self.visible.append(data)


@dataclass(frozen=True)
class UserText:
    """The strings users wrote (every text and key of the town files): the site must show each
    as the characters typed. Only those holding a ``MARKUP_CHARS`` character are checked."""

    strings: tuple[str, ...]

    @classmethod
    def from_town_files(cls, folder: Path) -> UserText:
        """Every string of every ``*.yml`` under ``folder`` (unreadable files are skipped: their
        town is not built)."""
        import yaml

        found: set[str] = set()

        def collect(node: object) -> None:
            if isinstance(node, str):
                found.add(normalize(node))
            elif isinstance(node, dict):
                for k, v in node.items():
                    collect(k)
                    collect(v)
            elif isinstance(node, list):
                for v in node:
                    collect(v)

        for f in sorted(Path(folder).glob("*.yml")):
            try:
                collect(yaml.safe_load(f.read_text(encoding="utf-8")))
            except (OSError, yaml.YAMLError):
                continue
        return cls(tuple(sorted(s for s in found if s)))

    @cached_property
    def risky(self) -> tuple[str, ...]:
        return tuple(s for s in self.strings if MARKUP_CHARS & set(s))

    def find(self, page: str) -> Iterator[str]:
        """Where a user string became markup in an HTML page, one line each."""
        flat = normalize(page)
        for s in self.risky:  # written into the page as it is: an element, a comment, an entity
            if _TAG_OR_ENTITY.search(s) and not _ONE_TAG.fullmatch(s) and s in flat:
                yield f"「{s}」 is written into the page unescaped"
        parsed = _Markup()
        parsed.feed(page)
        compact = [_compact(s) for s in self.risky]
        for name, code in parsed.handlers:
            if code and any(_compact(code) in c for c in compact):
                yield f"{name} runs 「{code}」 from a user string"
        for script in map(_compact, ("".join(s) for s in parsed.scripts)):
            source = next((s for s, c in zip(self.risky, compact, strict=True) if script in c),
                          None) if script else None
            if source:
                yield f"a <script> element runs 「{script}」 from 「{source}」"
        yield from self._consumed(_compact("".join(parsed.visible)))

    @cached_property
    def _compact(self) -> tuple[tuple[str, str], ...]:
        """(compact, compact without markup characters) of every string."""
        return tuple((c, _strip_markup(c)) for c in map(_compact, self.strings))

    def _consumed(self, visible: str) -> Iterator[str]:
        """User strings shown without some of their characters (taken as markup): the page shows
        the string's other characters more often than the string itself and other user strings
        explain."""
        bare = _strip_markup(visible)
        shown = [(b, n) for c, b in self._compact if (n := visible.count(c))]
        for s in self.risky:
            trace = _strip_markup(_compact(s))
            if len(trace) < MIN_TRACE:
                continue
            explained = sum(n * b.count(trace) for b, n in shown)
            if bare.count(trace) > explained:
                lost = "".join(sorted(MARKUP_CHARS & set(s)))
                yield f"「{s}」 is shown without its characters {lost} (read as markup)"


def formula_cells(path: Path) -> list[str]:
    """Cells of an Excel file that hold a formula: the project writes none, so each came from
    text (one line each). The sheets' XML is scanned for a formula element first (fast)."""
    import zipfile

    from openpyxl import load_workbook

    with zipfile.ZipFile(path) as z:
        sheets = [n for n in z.namelist() if n.startswith("xl/worksheets/")]
        if not any(_FORMULA_ELEMENT.search(z.read(n)) for n in sheets):
            return []
    wb = load_workbook(path, read_only=True)
    try:
        return [
            f"sheet 「{ws.title}」 cell {cell.coordinate}: 「{cell.value}」 is a formula"
            for ws in wb.worksheets
            for row in ws.iter_rows()
            for cell in row
            if cell.data_type == "f"
        ]
    finally:
        wb.close()


def check_text(f: Path, user: UserText) -> list[Breach]:
    """User text shown as markup in an HTML page, or formulas in an Excel file."""
    if f.suffix == ".html":
        page = f.read_text(encoding="utf-8", errors="replace")
        return [Breach(f, "user text as markup", d) for d in user.find(page)]
    return [Breach(f, "formula", d) for d in formula_cells(f)]


def audit_text(
    roots: Iterable[Path], user: UserText, passed: Passed | None = None, run: Run | None = None
) -> list[Breach]:
    """User text shown as markup in HTML pages, and formulas in Excel files, under ``roots``
    (files in ``passed`` for the same user text skipped, ``run`` used, as in ``audit``)."""
    check = "user text " + _digest("\0".join(user.strings).encode())
    todo, keys = [], []
    for f in _files(roots):
        if f.suffix not in (".html", ".xlsx"):
            continue
        key = passed.key(f, check) if passed else ""
        if passed is None or key not in passed:
            todo.append((f, (user,)))
            keys.append(key)
    return _audited(todo, keys, check_text, passed, run)
