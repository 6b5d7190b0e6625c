"""A town's whole report: every section of BRIEF §6 that its data allow, and how to show it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import pandas as pd

from helpers.analysis import district, isolation, loneliness, response, season, smalltown
from helpers.analysis.common import Table
from helpers.analysis.context import Context, prepare
from helpers.figures import Chart
from helpers.towns import Town


class Section(Protocol):
    """What every section result offers (see the section modules)."""

    def tables(self) -> list[Table]: ...
    def to_json(self) -> dict[str, Any]: ...
    def text(self) -> str: ...
    def charts(self, interactive: bool = False) -> list[Chart]: ...


@dataclass(frozen=True)
class SectionSpec:
    """A report section: number, title, analysis function and the items it needs."""

    number: int
    title: str
    analyse: Callable[[Context], Section | None]
    needs: str


SECTIONS: dict[str, SectionSpec] = {
    "response": SectionSpec(1, response.TITLE, response.analyse_response, "回答者の属性"),
    "loneliness": SectionSpec(2, loneliness.TITLE, loneliness.analyse_loneliness,
                              "孤独感の直接質問"),
    "smalltown": SectionSpec(
        3, smalltown.TITLE, smalltown.analyse_smalltown,
        "市での生活についての考え方（地域・社会とのつながり、近所の人との顔の見える関係性、"
        "市内での生活の完結）",
    ),
    "season": SectionSpec(4, season.TITLE, season.analyse_season,
                          "季節別（春～秋と冬）の外出頻度"),
    "isolation": SectionSpec(5, isolation.TITLE, isolation.analyse_isolation,
                             "頼れる人・相談相手・活動への参加・交流の頻度"),
    "district": SectionSpec(6, district.TITLE, district.analyse_district, "居住地区"),
}


@dataclass
class Report:
    """The analysed sections of one town (None for a section whose items were not asked)."""

    ctx: Context
    sections: dict[str, Any]

    @property
    def town(self) -> Town:
        return self.ctx.town

    def heading(self, key: str) -> str:
        spec = SECTIONS[key]
        return f"{spec.number}. {spec.title}"

    def missing_text(self, key: str) -> str:
        """The one line shown instead of a section whose items the town did not ask."""
        return (
            f"{self.town.name.ja}の調査では{SECTIONS[key].needs}を尋ねていないため、"
            "この節の集計はありません。"
        )

    def show(self, key: str, interactive: bool = False) -> None:
        """Display a section in a notebook: text, figures (with captions), then tables."""
        from IPython.display import Markdown, display

        section = self.sections[key]
        if section is None:
            display(Markdown(self.missing_text(key)))
            return
        display(Markdown(section.text()))
        for chart in section.charts(interactive=interactive):
            chart.show()
        for table in section.tables():
            display(Markdown(f"**表：{table.title}**"))
            display(table.display().style.hide(axis="index"))

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
    return Report(ctx, {key: spec.analyse(ctx) for key, spec in SECTIONS.items()})
