"""A town's report as a document for readers: 「主な結果」 first, then 「この報告について」, then
one numbered section per analysis the town's data allow. Each section says its findings in plain
sentences with its figures; the statistics (tests, models) and the tables follow in a collapsible
「詳しい結果」 block. Sections whose questions the town did not ask are not sections: 「この報告に
ついて」 lists what was not asked.

The same document is rendered twice from the same published tables and sentences:

- for the web page (:meth:`Document.show_*` in the report notebook): Markdown for headings and
  sentences, HTML for figures (:meth:`helpers.figures.Chart.html`) and tables (:func:`table_html`:
  numbered ``<caption>``, ``scope`` on headers, numbers right-aligned, scrollable on a phone);
- for the printed report (:meth:`Document.print_source`): a Quarto Markdown file that the build
  renders to an A4 PDF with Typst (tables as pipe tables, figures as SVG files).

Tables and figures are numbered in the order they appear (表1, 図1 …), the same on both.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import yaml
from markdown_it import MarkdownIt

from helpers import escape
from helpers.analysis.common import TOTAL, Table
from helpers.analysis.context import MARGIN_NAMES
from helpers.analysis.findings import Finding, key_findings
from helpers.analysis.report import SECTIONS, Report
from helpers.analysis.results import build_results
from helpers.analysis.wording import say
from helpers.figures import Chart
from helpers.stats import fmt_date, fmt_period, percent
from helpers.towns import Town

#: The printed report's Typst settings: A4, Noto CJK (Debian's fonts-noto-cjk), Japanese rules.
PRINT_FORMAT = {
    "typst": {
        "papersize": "a4",
        "mainfont": "Noto Sans CJK JP",
        "fontsize": "10pt",
        "lang": "ja",
        "margin": {"x": "2cm", "y": "2cm"},
    }
}
#: Where the printed report's source and figures go, inside a town's output folder.
PRINT_DIR = "print"


@dataclass
class Part:
    """One section as shown: its heading, sentences, numbered figures, the statistics and the
    numbered tables of its 「詳しい結果」."""

    key: str
    heading: str
    text: str
    figures: list[tuple[int, Chart]]
    details: str
    tables: list[tuple[int, Table]]


def page_title(town: Town) -> str:
    """The title of a town's page and printed report: 「飯山市（長野県）」."""
    return f"{town.name.ja}（{town.prefecture}）"


def page_subtitle(town: Town) -> str:
    """The survey's title, said to be synthetic data where it is."""
    title = town.survey.title
    return title if not town.synthetic or "合成" in title else f"{title}（合成データ）"


def _numeric(table: Table) -> list[bool]:
    """For each column of the table as displayed: does it hold numbers (right-aligned)?"""
    return [c not in table.label_columns for c in table._shown().columns]


def frame_html(shown: pd.DataFrame, title: str, number: int, labels: int = 1,
               numeric: list[bool] | None = None) -> str:
    """A table of text cells as accessible HTML: numbered caption, column headers and the first
    ``labels`` columns as row headers with ``scope``, ``numeric`` columns right-aligned (default:
    all but the row headers); in a container that scrolls sideways on a narrow screen
    (keyboard-focusable, named by the caption). Rows labelled 全体 are totals."""
    numeric = numeric or [i >= labels for i in range(len(shown.columns))]
    head = "".join(
        f'<th scope="col"{" class=num" if num else ""}>{escape.html(h)}</th>'
        for h, num in zip(shown.columns, numeric, strict=True))
    rows = []
    for values in shown.itertuples(index=False):
        total = all(str(v) == TOTAL for v in values[:labels])
        cells = "".join(
            f'<th scope="row">{escape.html(v)}</th>' if i < labels
            else f'<td class="num">{escape.html(v)}</td>' if numeric[i]
            else f"<td>{escape.html(v)}</td>"
            for i, v in enumerate(values))
        rows.append(f'<tr{" class=total" if total else ""}>{cells}</tr>')
    cap = f"tbl-{number}"
    return (
        f'<div class="table-scroll" role="region" tabindex="0" aria-labelledby="{cap}">'
        f'<table class="table table-sm data-table"><caption id="{cap}">表{number}　'
        f"{escape.html(title)}</caption><thead><tr>{head}</tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table></div>"
    )


def table_html(table: Table, number: int) -> str:
    """A published table as accessible HTML (:func:`frame_html`)."""
    return frame_html(table.display(), table.title, number, len(table.label_columns),
                      _numeric(table))


def table_markdown(table: Table, number: int) -> str:
    """A published table as a Markdown pipe table with its numbered caption (for the PDF)."""
    shown = table.display()
    numeric = _numeric(table)
    line = lambda cells: "| " + " | ".join(cells) + " |"  # noqa: E731
    rows = [line([escape.md(h) for h in shown.columns]),
            line(["--:" if num else ":--" for num in numeric])]
    rows += [line([escape.md(v) for v in values]) for values in shown.itertuples(index=False)]
    return "\n".join(rows) + f"\n\n: {escape.md(table.title)} {{#tbl-{number}}}"


_MARKDOWN = MarkdownIt("commonmark")


@dataclass
class Document:
    """The reader's report of one town (see the module docstring). With ``svg_cache`` (a folder
    in the build's output), a chart drawn by an earlier build from the same data with the same
    code is read back, not drawn again (:meth:`helpers.figures.Chart.svg`)."""

    report: Report
    today: dt.date = field(default_factory=dt.date.today)
    svg_cache: Path | None = None

    def __post_init__(self) -> None:
        self.results = build_results(self.report)
        self.findings: list[Finding] = key_findings(self.results)
        self.parts: list[Part] = []
        tables = figures = 0
        present = [k for k, s in self.report.sections.items() if s is not None]
        for key in present:
            section = self.report.sections[key]
            charts = section.charts()
            for chart in charts:
                chart.cache = self.svg_cache
            numbered_figures = [(figures + j, c) for j, c in enumerate(charts, start=1)]
            figures += len(charts)
            numbered_tables = [(tables + j, t) for j, t in enumerate(section.tables(), start=1)]
            tables += len(numbered_tables)
            self.parts.append(Part(key, self.report.heading(key), section.text(),
                                   numbered_figures, section.details(), numbered_tables))

    # --- the words ---

    def main_points(self) -> str:
        """「主な結果」 as a Markdown list."""
        return "\n".join(f"- {f.text}" for f in self.findings)

    def not_asked(self) -> list[str]:
        """What the survey did not ask, one entry per missing section."""
        return [self.report.words(SECTIONS[k].needs) for k, s in self.report.sections.items()
                if s is None]

    def about(self) -> str:
        """「この報告について」: the survey in brief, how to read it, cite it, ask about it."""
        town, survey, ctx = self.report.town, self.report.town.survey, self.report.ctx
        w = ctx.weighting
        weighting = (f"あり（{'・'.join(MARGIN_NAMES[m] for m in w.margins)}の人口構成に"
                     "合わせたレイキング）"
                     if w.applied else f"なし（{w.reason}）")
        published = town.report.published
        day = published or self.today
        cite = (f"{town.prefecture}{town.name.ja}（{day.year}）「{survey.title}」結果報告、"
                "つながりレポート")
        return say(
            "about", "about",
            prefecture=town.prefecture, name=town.name.ja, title=survey.title,
            target=survey.target, sampling=survey.sampling,
            period=fmt_period(survey.start, survey.end), modes=survey.modes,
            distributed=survey.distributed, returned=survey.returned,
            rate=percent(survey.response_rate), n=self.results["n"], weighting=weighting,
            not_asked=self.not_asked(), date_label="公表日" if published else "作成日",
            date=fmt_date(day), cite=cite, contact=town.report.contact, min_cell=ctx.min_cell,
        ) + "\n\n" + self.report.unused_text()

    def notice(self) -> str:
        """The synthetic-data notice (empty for a real survey)."""
        return say("about", "synthetic") if self.report.town.synthetic else ""

    # --- the web page (report notebook) ---

    def show_main_points(self) -> None:
        """Display the notice, 「主な結果」 and 「この報告について」 in the notebook."""
        from IPython.display import Markdown, display

        if self.notice():
            display(Markdown(f"::: {{.synthetic-note}}\n{self.notice()}\n:::"))
        display(Markdown(f"## 主な結果\n\n{self.main_points()}"))
        display(Markdown(f"## この報告について\n\n{self.about()}"))

    def details_html(self, part: Part) -> str:
        """The collapsible 「詳しい結果」 block of a section: its statistics and tables."""
        body = _MARKDOWN.render(part.details) if part.details else ""
        tables = "".join(table_html(t, n) for n, t in part.tables)
        return (f'<details class="details"><summary>詳しい結果（{len(part.tables)}表）'
                f"</summary>{body}{tables}</details>")

    def show_sections(self) -> None:
        """Display every section: heading, sentences, figures, then 「詳しい結果」."""
        from IPython.display import HTML, Markdown, display

        for part in self.parts:
            display(Markdown(f"## {part.heading}\n\n{part.text}"))
            for number, chart in part.figures:
                display(HTML(chart.html(number)))
            display(HTML(self.details_html(part)))

    # --- the printed report ---

    def print_source(self, folder: Path) -> Path:
        """Write the PDF's Quarto source ``<town>.qmd`` and its figures into ``folder``; the
        build renders it (Typst, A4). Returns the source's path."""
        town = self.report.town
        figures = folder / f"{town.id}_figures"
        figures.mkdir(parents=True, exist_ok=True)
        front = {"title": escape.meta(page_title(town)),
                 "subtitle": escape.meta(page_subtitle(town)),
                 "format": PRINT_FORMAT}
        out = ["---\n" + yaml.safe_dump(front, allow_unicode=True, sort_keys=False) + "---"]
        if self.notice():
            out.append(self.notice())
        out += ["## 主な結果", self.main_points(), "## この報告について", self.about()]
        for part in self.parts:
            out += [f"## {part.heading}", part.text]
            for number, chart in part.figures:
                path = figures / f"fig-{number}.svg"
                path.write_text(chart.svg(), encoding="utf-8")
                caption = escape.md(f"{chart.title}。{chart.caption}")
                out.append(f"![{caption}]({figures.name}/{path.name}){{#fig-{number}}}")
            out.append("### 詳しい結果")
            if part.details:
                out.append(part.details)
            out += [table_markdown(t, n) for n, t in part.tables]
        source = folder / f"{town.id}.qmd"
        source.write_text("\n\n".join(out) + "\n", encoding="utf-8")
        return source
