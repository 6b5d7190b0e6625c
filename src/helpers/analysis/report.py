"""A town's whole report: every section of BRIEF §6 that its data allow, and how to show it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import pandas as pd

from helpers import escape
from helpers.analysis import district, isolation, loneliness, own, response, season, smalltown
from helpers.analysis.common import Table
from helpers.analysis.context import Context, prepare
from helpers.analysis.publish import Publication
from helpers.figures import Chart
from helpers.towns import Town


class Section(Protocol):
    """What every section result offers (see the section modules): its tables, the sums that
    link them (publication), its record, its plain sentences (``text``), its statistics in
    words (``details``) and its charts."""

    def tables(self) -> list[Table]: ...
    def links(self, pub: Publication) -> None: ...
    def to_json(self) -> dict[str, Any]: ...
    def text(self) -> str: ...
    def details(self) -> str: ...
    def charts(self, interactive: bool = False) -> list[Chart]: ...


@dataclass(frozen=True)
class SectionSpec:
    """A report section: title, analysis function, and what it needs (said when not asked)."""

    title: str
    analyse: Callable[[Context], Section | None]
    needs: str


#: The report's sections, in the order of the report; sections are numbered among those a
#: town's data allow (a section not asked is no section).
SECTIONS: dict[str, SectionSpec] = {
    "response": SectionSpec(response.TITLE, response.analyse_response, "回答者の属性"),
    "loneliness": SectionSpec(loneliness.TITLE, loneliness.analyse_loneliness, "孤独感の直接質問"),
    "smalltown": SectionSpec(
        smalltown.TITLE, smalltown.analyse_smalltown,
        "市での生活についての考え方（地域・社会とのつながり、近所の人との顔の見える関係性、"
        "市内での生活の完結）",
    ),
    "season": SectionSpec(season.TITLE, season.analyse_season, "季節別（春～秋と冬）の外出頻度"),
    "isolation": SectionSpec(isolation.TITLE, isolation.analyse_isolation,
                             "頼れる人・相談相手・活動への参加・交流の頻度"),
    "district": SectionSpec(district.TITLE, district.analyse_district, "居住地区"),
    "own": SectionSpec(own.TITLE, own.analyse_own, "{kind}独自の設問"),
}


#: The standard variables the sections above tabulate (the others are named by
#: :meth:`Report.unused_text`).
REPORTED = {
    "mode", "sex", "age", "age_band", "district", "lonely_direct", "ucla_1", "ucla_2", "ucla_3",
    *loneliness.STANDOUT_VARS, *smalltown.ITEMS, *smalltown.ADJUST, season.SUMMER,
    season.WINTER, *isolation.ITEMS,
}


@dataclass
class Report:
    """The analysed sections of one town (None for a section whose items were not asked)."""

    ctx: Context
    sections: dict[str, Any]

    @property
    def town(self) -> Town:
        return self.ctx.town

    def words(self, text: str) -> str:
        """A section's words for this town (「{kind}独自の設問」 → 市独自の設問, 町独自の設問)."""
        return text.replace("{kind}", own.kind_of(self.town.name.ja))

    def heading(self, key: str) -> str:
        """「2. 孤独感」: the section's title, numbered among the sections present."""
        present = [k for k, s in self.sections.items() if s is not None]
        return f"{present.index(key) + 1}. {self.words(SECTIONS[key].title)}"

    def show(self, key: str) -> None:
        """Display a section in a notebook (for exploring; the report page is
        :class:`helpers.analysis.document.Document`): sentences, figures, statistics, tables."""
        from IPython.display import Markdown, display

        section = self.sections[key]
        if section is None:
            display(Markdown(f"（この調査では{self.words(SECTIONS[key].needs)}を尋ねていません）"))
            return
        display(Markdown(section.text()))
        for chart in section.charts():
            chart.show()
        display(Markdown(section.details()))
        for table in section.tables():
            display(Markdown(f"**表：{escape.md(table.title)}**"))
            display(escape.html_table(table.display()))

    def unused_text(self) -> str:
        """What the report leaves out of the questionnaire: the questions of the raw files it
        does not use (``not_used:``), the free-text answers, and the questions asked but shown
        in no table of this report."""
        town = self.town
        book = town.codebook
        lines = ["この報告は、調査票のすべての質問を集計したものではありません。"]
        unused = [q for s in town.sources for q in s.unused_questions.values()]
        if unused:
            lines.append("次の質問は、この報告では集計していません："
                         + "、".join(f"「{escape.md(q)}」" for q in dict.fromkeys(unused)) + "。")
        if "free_text" in town.variables():
            lines.append("自由記述の回答は、回答者保護のため公開していません。")
        asked = [v for v in book.variables if v.name in town.variables() and not v.restricted
                 and v.section != "own" and v.name not in REPORTED]
        if asked:
            lines.append("次の質問の回答は集計データには含まれていますが、この報告の表には"
                         "含めていません：" + "、".join(
                             f"「{escape.md(v.question)}」" for v in asked) + "。")
        return "\n\n".join(lines)

    def publish(self) -> None:
        """Pass every table through the publication boundary (``helpers.analysis.publish``):
        from here on, text, charts, records and sheets show only what may be published."""
        pub = Publication()
        present = [s for s in self.sections.values() if s is not None]
        for section in present:
            for table in section.tables():
                pub.add(table)
        for section in present:
            section.links(pub)
        pub.publish(self.ctx.min_cell)

    def sheets(self) -> dict[str, list[tuple[str, pd.DataFrame]]]:
        """Every published table for the Excel workbook: one sheet per present section."""
        return {
            self.heading(key): [(t.title, t.display(text=False)) for t in section.tables()]
            for key, section in self.sections.items()
            if section is not None
        }


def analyse_town(
    df: pd.DataFrame, town: Town, min_cell: int | None = None, weighting: bool | None = None
) -> Report:
    """Run every section for a town; ``min_cell``/``weighting`` override its ``report:``."""
    ctx = prepare(df, town, min_cell=min_cell, weighting=weighting)
    report = Report(ctx, {key: spec.analyse(ctx) for key, spec in SECTIONS.items()})
    report.publish()
    return report
