"""The reader's report (helpers.analysis.document) of every sample town: 主な結果 cite the published
numbers of results.json, the words agree with the tables beside them (every group named meets
the stated rule, every group meeting it is named), sections not asked are not sections, and tables
and figures are numbered and accessible on the page and in the printed source."""

from __future__ import annotations

import base64
import csv
import io
import re
from collections.abc import Callable
from functools import cache
from pathlib import Path

import pandas as pd
import pytest
import yaml
from statsmodels.stats.proportion import proportion_confint

from helpers.analysis import analyse_town
from helpers.analysis.common import name_of
from helpers.analysis.document import Document, table_html
from helpers.analysis.findings import MOST
from helpers.analysis.loneliness import STANDOUT_POINTS, STANDOUT_VARS
from helpers.analysis.wording import say
from helpers.dataset import load_survey
from helpers.stats import fmt_percent, percent
from helpers.towns import list_towns, load_town

TOWNS = list_towns()
Make = Callable[[str], Document]


@pytest.fixture(scope="session")
def document(cleaned) -> Make:
    """``document(town)``: the reader's report of a sample town, cleaned by the tests."""

    @cache
    def make(town: str) -> Document:
        df = load_survey(town, processed_dir=cleaned(town))
        return Document(analyse_town(df, load_town(town)))

    return make


def _at(results: dict, path: tuple) -> object:
    for key in path:
        results = results[key]
    return results


@pytest.mark.parametrize("town", TOWNS)
def test_main_points_cite_the_published_numbers(town: str, document: Make) -> None:
    doc = document(town)
    assert 3 <= len(doc.findings) <= MOST
    assert doc.findings[0].kind == "lonely"
    for finding in doc.findings:
        assert finding.numbers, finding
        for path, value in finding.numbers.values():
            assert _at(doc.results, path) == value  # the number is the published one
            assert fmt_percent(value) in finding.text or f"{value:.1f}" in finding.text
    listed = doc.main_points().splitlines()
    assert len(listed) == len(doc.findings) and all(line.startswith("- ") for line in listed)


def _standout_expected(town: str) -> set[tuple[str, str]]:
    """The groups meeting the stated rule, recomputed from the standard data with statsmodels'
    Wilson interval (independently of helpers.stats): at least min_cell respondents with and
    without the feeling, a rate at least STANDOUT_POINTS above the overall rate and a lower
    bound above it."""
    df = load_survey(town)
    k = load_town(town).report.min_cell
    lonely = df["lonely"].dropna().astype(bool)
    overall = lonely.mean()
    found = set()
    for var in STANDOUT_VARS:
        if var not in df.columns:
            continue
        answered = df.loc[lonely.index, var]
        for group, flags in lonely.groupby(answered.astype(object), observed=True):
            n, x = len(flags), int(flags.sum())
            lo, _ = proportion_confint(x, n, method="wilson")
            if min(x, n - x) >= k and percent(x / n) - percent(overall) >= STANDOUT_POINTS - 1e-9 \
                    and lo > overall:
                found.add((name_of(var), str(group)))
    return found


@pytest.mark.parametrize("town", TOWNS)
def test_every_standout_group_meeting_the_rule_is_named_and_no_other(
    town: str, document: Make
) -> None:
    doc = document(town)
    text = next(p.text for p in doc.parts if p.key == "loneliness")
    sentence = next(line for line in text.split("\n\n") if "孤独層" in line)
    listed = sentence.split("（孤独層）は、")[1]
    named = set(re.findall(r"([^、，は]+?)が「([^」]+)」の人（", listed))
    rows = doc.results["loneliness"]["tables"]["standout"]["rows"]
    hidden = {(r["variable"], r["group"]) for r in rows if r["p"] is None}
    expected = _standout_expected(town)
    assert named == expected - hidden
    assert {(r["variable"], r["group"]) for r in rows} == expected  # the table beside it
    if hidden:
        assert f"{len(hidden)}つの層は、回答者保護のため" in text
    if not expected:
        assert "見られませんでした" in sentence


@pytest.mark.parametrize("town", TOWNS)
def test_sections_not_asked_are_not_sections(town: str, document: Make) -> None:
    doc = document(town)
    present = [k for k, s in doc.report.sections.items() if s is not None]
    assert [p.key for p in doc.parts] == present
    assert [p.heading.split(".")[0] for p in doc.parts] == [str(i) for i in
                                                            range(1, len(present) + 1)]
    about = doc.about()
    for needs in doc.not_asked():
        assert needs in about
    assert ("この調査で尋ねていない項目" in about) == bool(doc.not_asked())
    numbers = [n for p in doc.parts for n, _ in p.tables]
    assert numbers == list(range(1, len(numbers) + 1))


@pytest.mark.parametrize("town", TOWNS)
def test_words_have_no_stray_spaces_or_empty_modes(town: str, document: Make) -> None:
    doc = document(town)
    text = "\n".join([doc.main_points(), doc.about(),
                      *(t for p in doc.parts for t in (p.text, p.details))])
    text = text.replace(doc.report.town.survey.title, "")  # the town's own wording may have them
    japanese = "ぁ-んァ-ヶ一-龥、。「」（）"
    assert not re.search(f"[{japanese}] [{japanese}]", text)
    modes = doc.report.town.survey.modes
    if modes == ["郵送"]:
        assert "Web" not in text


def test_tsukumi_says_what_it_asked(document: Make) -> None:
    doc = document("tsukumi")
    text = "\n".join(p.text for p in doc.parts)
    assert "UCLA" not in text  # the scale was not asked
    assert "（直接質問）で尋ねています" in text


def test_tables_on_the_page_are_numbered_with_caption_scope_and_aligned_numbers(
    document: Make,
) -> None:
    doc = document("iiyama")
    number, table = doc.parts[1].tables[0]
    html = table_html(table, number)
    assert f'<caption id="tbl-{number}">表{number}　' in html
    assert 'role="region" tabindex="0"' in html and f'aria-labelledby="tbl-{number}"' in html
    shown = table.display()
    assert html.count('<th scope="col"') == len(shown.columns)
    assert html.count('<th scope="row">') == len(shown) * len(table.label_columns)
    assert html.count('<td class="num">') == len(shown) * (len(shown.columns)
                                                          - len(table.label_columns))


def test_figures_state_their_finding_and_link_their_data(document: Make) -> None:
    doc = document("iiyama")
    number, chart = doc.parts[1].figures[0]
    html = chart.html(number)
    alt = re.search(r'<img [^>]*alt="([^"]*)"', html)[1]
    assert "男性では「20～29歳」が50.0%で最も高く" in alt
    assert "<source media=" in html and f"図{number}　" in html
    href = re.search(r'href="data:text/csv;charset=utf-8;base64,([^"]+)"', html)[1]
    rows = list(csv.reader(io.StringIO(base64.b64decode(href).decode("utf-8-sig"))))
    assert rows[0][:3] == ["区分", "系列", "割合（%）"]
    shown = {(r["age_band"], r["sex"]): r["p"] for r in doc.results["lonely_by_sex_age"]}
    for band, sex, p, *_ in rows[1:]:
        assert p == ("—" if shown[band, sex] is None else f"{shown[band, sex]:.1f}")


def test_chart_data_is_formula_safe() -> None:
    from helpers.figures import bar_chart, set_theme

    set_theme()
    table = pd.DataFrame({"g": ["=1+1", "@SUM(A1)"], "p": [10.0, 20.0]})
    chart = bar_chart(table, "g", ci=None, title="t", what="w", n=100, min_cell=10)
    rows = list(csv.reader(io.StringIO(chart.csv().lstrip("\ufeff"))))
    assert [r[0] for r in rows[1:]] == ["'=1+1", "'@SUM(A1)"]


def test_print_source_holds_the_same_numbered_tables_and_figures(
    tmp_path: Path, document: Make
) -> None:
    doc = document("tsukumi")
    source = doc.print_source(tmp_path)
    text = source.read_text(encoding="utf-8")
    front = yaml.safe_load(text.split("---")[1])
    assert front["title"] == "津久見市（大分県）" and front["format"]["typst"]["papersize"] == "a4"
    tables = [n for p in doc.parts for n, _ in p.tables]
    figures = [n for p in doc.parts for n, _ in p.figures]
    assert re.findall(r"\{#tbl-(\d+)\}", text) == [str(n) for n in tables]
    assert re.findall(r"\{#fig-(\d+)\}", text) == [str(n) for n in figures]
    for n in figures:
        assert (tmp_path / "tsukumi_figures" / f"fig-{n}.svg").stat().st_size > 1000
    assert doc.main_points() in text and "## この報告について" in text



def test_svg_cache_changes_no_byte_and_a_rebuild_draws_nothing(
    tmp_path: Path, document: Make, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The page's figures and the printed report made with the chart cache are byte-identical to
    those drawn afresh; a second build of the same town reads every chart back, drawing none."""
    from helpers import figures

    def made(doc: Document, folder: Path) -> tuple[list[str], list[tuple[str, bytes]]]:
        page = [chart.html(n) for p in doc.parts for n, chart in p.figures]
        doc.print_source(folder)
        return page, sorted((f.relative_to(folder).as_posix(), f.read_bytes())
                            for f in folder.rglob("*") if f.is_file())

    fresh = document("tsukumi")
    expected = made(fresh, tmp_path / "fresh")
    cache = tmp_path / "cache"
    assert made(Document(fresh.report, svg_cache=cache), tmp_path / "first") == expected
    assert len(list(cache.rglob("*.svg"))) == 2 * len(expected[0])  # wide and narrow

    def no_drawing(*args: object) -> None:
        raise AssertionError("a chart was drawn again")

    monkeypatch.setattr(figures, "_plot_area", no_drawing)
    assert made(Document(fresh.report, svg_cache=cache), tmp_path / "second") == expected


def test_templates_escape_values_and_refuse_unformatted_ones() -> None:
    text = say("district", "summary", top={"district": "*A*", "p": 40.0},
               low={"district": "<b>", "p": 20.0}, overall=30.0, hidden=[], min_cell=10)
    assert "「\\*A\\*」が40.0%" in text and "「\\<b\\>」が20.0%" in text
    with pytest.raises(TypeError, match="format it"):
        say("district", "summary", top=None, low=None, overall=None, hidden=["x"], min_cell=None)


def test_about_says_when_who_and_how_to_cite(document: Make) -> None:
    import dataclasses
    import datetime as dt

    from helpers.analysis.results import notes

    doc = document("iiyama")
    about = doc.about()
    assert "- 調査期間：2023年12月7日～12月29日" in about
    assert "- 問い合わせ先：合成データによる例示のため、問い合わせ先はありません" in about
    assert f"- 作成日：{doc.today.year}年" in about  # no publication date in the town file
    assert "- 引用するとき：長野県飯山市（" in about
    assert "回答方法：郵送・Web" in about and "重み付け：あり（性別×年代・地区" in about
    town = doc.report.town
    published = town.model_copy(update={"report": town.report.model_copy(
        update={"published": dt.date(2024, 3, 29), "contact": None})})
    ctx = dataclasses.replace(doc.report.ctx, town=published)
    other = Document(dataclasses.replace(doc.report, ctx=ctx))
    assert "- 公表日：2024年3月29日" in other.about() and "問い合わせ先" not in other.about()
    title = "飯山市 孤独・孤立に関する調査（合成データ）"
    assert notes(doc.report)[0] == f"{title}　集計表"  # the name once
