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
    """What every section result offers (see the section modules)."""

    def tables(self) -> list[Table]: ...
    def links(self, pub: Publication) -> None: ...
    def to_json(self) -> dict[str, Any]: ...
    def text(self) -> str: ...
    def charts(self, interactive: bool = False) -> list[Chart]: ...


@dataclass(frozen=True)
class SectionSpec:
    """A report section: number, title, analysis function, the items it needs, its lead text."""

    number: int
    title: str
    analyse: Callable[[Context], Section | None]
    needs: str
    intro: str = ""


SECTIONS: dict[str, SectionSpec] = {
    "response": SectionSpec(1, response.TITLE, response.analyse_response, "回答者の属性"),
    "loneliness": SectionSpec(
        2, loneliness.TITLE, loneliness.analyse_loneliness, "孤独感の直接質問",
        "孤独感は、「あなたは、どの程度、孤独であると感じることがありますか」と直接尋ねる質問"
        "（直接質問）と、3つの質問の合計点で測るUCLA孤独感尺度で尋ねています。",
    ),
    "smalltown": SectionSpec(
        3, smalltown.TITLE, smalltown.analyse_smalltown,
        "市での生活についての考え方（地域・社会とのつながり、近所の人との顔の見える関係性、"
        "市内での生活の完結）",
        "市での生活の3つの特徴を「良いと思う」「良くないと思う」「どちらともいえない」の"
        "どれと考えるかと、孤独感との関係を見ます。",
    ),
    "season": SectionSpec(
        4, season.TITLE, season.analyse_season, "季節別（春～秋と冬）の外出頻度",
        "雪の多い地域では、冬に外出が減ることが孤立につながるおそれがあります。同じ人に"
        "春～秋と冬の外出頻度を尋ね、比べています。",
    ),
    "isolation": SectionSpec(
        5, isolation.TITLE, isolation.analyse_isolation,
        "頼れる人・相談相手・活動への参加・交流の頻度",
        "頼れる人や相談相手の有無、活動への参加、人との交流の頻度と孤独感の関係です。",
    ),
    "district": SectionSpec(6, district.TITLE, district.analyse_district, "居住地区"),
    "own": SectionSpec(
        7, own.TITLE, own.analyse_own, "{kind}独自の設問",
        "国の調査にない、{kind}が独自に尋ねた質問です。質問と選択肢は調査票のとおりです。"
        "孤独感との関係は、ほかの節と同じく孤独感の直接質問で見ています。",
    ),
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

    def _words(self, text: str) -> str:
        """A section's words for this town (「{kind}独自の設問」 → 市独自の設問, 町独自の設問)."""
        return text.replace("{kind}", own.kind_of(self.town.name.ja))

    def heading(self, key: str) -> str:
        spec = SECTIONS[key]
        return f"{spec.number}. {self._words(spec.title)}"

    def missing_text(self, key: str) -> str:
        """The one line shown instead of a section whose items the town did not ask."""
        return (
            f"{escape.md(self.town.name.ja)}の調査では{self._words(SECTIONS[key].needs)}を"
            "尋ねていないため、この節の集計はありません。"
        )

    def show(self, key: str, interactive: bool = False) -> None:
        """Display a section in a notebook: text, figures (with captions), then tables."""
        from IPython.display import Markdown, display

        section = self.sections[key]
        if section is None:
            display(Markdown(self.missing_text(key)))
            return
        intro = self._words(SECTIONS[key].intro)
        display(Markdown(f"{intro}\n\n{section.text()}" if intro else section.text()))
        for chart in section.charts(interactive=interactive):
            chart.show()
        for table in section.tables():
            display(Markdown(f"**表：{escape.md(table.title)}**"))
            display(escape.html_table(table.display()))

    def overview(self) -> str:
        """Markdown lead of the report: the survey in brief and, for samples, the notice."""
        t, s = self.town, self.town.survey
        lines = []
        if t.synthetic:
            lines.append(
                "> **合成データ**：この報告の数値は、実在の回答ではなくサンプル用に生成した"
                "合成データの集計です。"
            )
        md = escape.md
        lines.append(
            f"{md(t.prefecture)}{md(t.name.ja)}の「{md(s.title)}」の結果です。調査対象は{md(s.target)}"
            f"（{md(s.sampling)}）、調査期間は{s.start:%Y年%-m月%-d日}～{s.end:%Y年%-m月%-d日}、"
            f"回答方法は{'・'.join(s.modes)}です。"
        )
        lines.append(
            "割合は無回答を除いた回答者に対する割合で、かっこ内に95%信頼区間を示します。"
            f"回答者保護のため、{self.ctx.min_cell}人未満の人数と、それが計算で分かってしまう"
            "数値は「—」としています（調査と集計の方法を参照）。"
        )
        return "\n\n".join(lines)

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
