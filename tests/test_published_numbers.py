"""Every published derived number, read where a reader reads it (results.json, the Excel cell,
the report's text), equals an independent computation from the town's cleaned data
(tests/independent.py): counts, rates, points above a total, the ranks named in the text."""

from __future__ import annotations

import json
from pathlib import Path
from types import ModuleType

import openpyxl
import pytest
from statsmodels.stats.proportion import proportion_confint

from helpers.analysis import analyse_town, write_outputs
from helpers.analysis.document import Document
from helpers.build.attack import attack_results, attack_workbook
from helpers.dataset import load_survey
from helpers.towns import list_towns, load_town

DASH = "—"


class Published:
    """One town's report as published: results.json, the workbook's rows, the text."""

    def __init__(self, town: str, folder: Path, out: Path) -> None:
        self.town = load_town(town)
        self.df = load_survey(town, processed_dir=folder)
        report = analyse_town(self.df, self.town)
        self.json_path, self.xlsx_path = write_outputs(report, out)
        self.results = json.loads(self.json_path.read_text(encoding="utf-8"))
        book = openpyxl.load_workbook(self.xlsx_path, read_only=True)
        self.sheets = {ws.title: [tuple(r) for r in ws.iter_rows(values_only=True)]
                       for ws in book.worksheets}
        book.close()
        doc = Document(report)
        self.text = "\n\n".join([doc.main_points(), doc.about(),
                                  *(t for part in doc.parts for t in (part.text, part.details))])

    def xlsx_row(self, sheet: str, title: str, labels: tuple[str, ...]) -> dict[str, object]:
        """The row of the table ``title`` whose first cells are ``labels``, by header."""
        rows = self.sheets[sheet]
        start = next(i for i, r in enumerate(rows) if r[0] == title)
        header = rows[start + 1]
        for row in rows[start + 2:]:
            if row[0] is None:
                break
            if tuple(row[:len(labels)]) == labels:
                return dict(zip(header, row, strict=True))
        raise KeyError(labels)


@pytest.fixture(scope="module", params=list_towns())
def published(request, cleaned, tmp_path_factory) -> Published:
    town = request.param
    return Published(town, cleaned(town), tmp_path_factory.mktemp(town))


def test_nothing_published_gives_a_small_count_away(published: Published) -> None:
    results = published.results
    assert results["sections"]["response"] and results["sections"]["loneliness"]
    assert attack_results(results) == []
    assert attack_workbook(published.xlsx_path, results["min_cell"]) == []


def test_rates_by_sex_and_age_are_the_cleaned_data_counted_again(
    published: Published, independent: ModuleType
) -> None:
    """Every shown count, rate and Wilson bound of the sex × age table, in results.json and in
    the workbook, from the answers themselves; the BRIEF's cells are shown."""
    rates = independent.by_sex_age(published.df)
    rows = published.results["lonely_by_sex_age"]
    shown = [r for r in rows if r["p"] is not None]
    assert len(shown) >= 5
    for row in rows:
        key = (row["sex"], row["age_band"])
        cells = published.xlsx_row("2. 孤独感", "性別・年代別 孤独感がある人の割合", key)
        if row["n"] is None:
            assert cells["回答者数"] == DASH
            continue
        mine = rates[key]
        assert (row["n"], cells["回答者数"]) == (mine.n, mine.n), key
        if row["p"] is None:
            assert (row["x"], cells["割合（%）"]) == (None, DASH), key
            continue
        lo, hi = proportion_confint(mine.x, mine.n, method="wilson")
        assert (row["x"], cells["該当者数"]) == (mine.x, mine.x), key
        assert independent.shown(row["p"]) == independent.shown(cells["割合（%）"]) == mine.p
        assert row["lo"] == pytest.approx(100 * lo, abs=0.05 + 1e-9)
        assert row["hi"] == pytest.approx(100 * hi, abs=0.05 + 1e-9)
        assert (cells["95%信頼区間 下限（%）"], cells["95%信頼区間 上限（%）"]) == (
            row["lo"], row["hi"])


def test_the_highest_age_band_and_its_points_above_the_total(
    published: Published, independent: ModuleType
) -> None:
    """results.json's highlights and the sentence beside the chart: the top age band of each sex
    and how many points it lies above that sex as a whole (positive: above)."""
    rates = independent.by_sex_age(published.df)
    highlights = {h["sex"]: h for h in published.results["loneliness"]["highlights"]}
    assert highlights, "no sex has a published rate"
    for sex, h in highlights.items():
        bands = {r["age_band"] for r in published.results["lonely_by_sex_age"]
                 if r["sex"] == sex and r["p"] is not None
                 and r["age_band"] not in ("全体", "無回答")}
        top = max(bands, key=lambda b: rates[(sex, b)].share)
        total = rates[(sex, "全体")].p
        assert (h["top_age_band"], independent.shown(h["top_p"]),
                independent.shown(h["total_p"])) == (top, rates[(sex, top)].p, total)
        points = independent.diff(rates[(sex, top)].p, total)
        assert independent.shown(h["points_above_total"]) == points and float(points) >= 0
        assert independent.sex_sentence(sex, rates, bands) in published.text


def test_the_headline_sentences(published: Published, independent: ModuleType) -> None:
    head = published.results["headline"]["lonely"]
    mine = independent.rate(independent.lonely(published.df))
    assert (head["n"], head["x"], independent.shown(head["p"])) == (mine.n, mine.x, mine.p)
    lo, hi = proportion_confint(mine.x, mine.n, method="wilson")
    assert (head["lo"], head["hi"]) == pytest.approx((100 * lo, 100 * hi), abs=0.05 + 1e-9)
    assert independent.headline_sentence(published.df, head["lo"], head["hi"]) in published.text
    national = independent.shown(published.results["national"]["often_always"])
    assert independent.often_sentence(published.df, national) in published.text


def test_the_response_counts_and_rate(published: Published, independent: ModuleType) -> None:
    survey = published.town.survey
    response = published.results["response"]
    assert (response["distributed"], response["returned"], response["n"]) == (
        survey.distributed, survey.returned, len(published.df))
    assert independent.shown(published.results["response_rate"]) == independent.Rate(
        survey.distributed, survey.returned).p
    modes = {r["mode"]: r["count"] for r in response["tables"]["mode"]["rows"]}
    counts = published.df["mode"].value_counts().astype(int)  # a mode not offered, unused: no row
    assert modes == {"全体": len(published.df), **{
        m: n for m, n in counts.items() if n or m in survey.modes}}
    for sentence in independent.response_sentences(published.df, survey):
        assert sentence in published.text


def test_no_age_band_gives_its_few_respondents_of_other_sexes_away(published: Published) -> None:
    """An age band's count (回答の状況) minus its 男性 and 女性 (性別×年代) is the band's
    respondents of the other sexes or of no answer, counted here from the cleaned data: where
    1 … min_cell−1, one of the three is not published (Iiyama: 20～29歳 43 − 20 − 22 = 1)."""
    tables, k = published.results["response"]["tables"], published.results["min_cell"]
    ages = {r["age_band"]: r["count"] for r in tables["age_band"]["rows"]}
    cells = {r["sex_age"]: r["count"] for r in tables["sex_age"]["rows"]}
    df = published.df.dropna(subset=["age_band"])
    sexes = [s for s in ("男性", "女性") if any(c.startswith(f"{s}×") for c in cells)]
    others = df[~df["sex"].isin(sexes)].groupby("age_band", observed=False).size()
    small = {str(band): int(n) for band, n in others.items() if 0 < n < k}
    assert published.town.id != "iiyama" or small["20～29歳"] == 1
    for band in small:
        shown = [ages.get(band), *(cells.get(f"{s}×{band}") for s in sexes)]
        assert None in shown, (band, shown)


def test_the_districts_named_highest_and_lowest(
    published: Published, independent: ModuleType
) -> None:
    district = published.results["district"]
    assert (district is None) == (not published.town.districts)
    if district is None:
        return
    rows = district["lonely"]["rows"]
    mine = independent.by(published.df, "district")
    shown = {r["district"] for r in rows if r["p"] is not None and r["district"] != "全体"}
    for r in rows:
        if r["district"] in shown:
            assert (r["n"], r["x"], independent.shown(r["p"])) == (
                mine[r["district"]].n, mine[r["district"]].x, mine[r["district"]].p)
    assert independent.district_sentence(published.df, shown) in published.text


def test_every_sentence_of_the_report_text(published: Published, independent: ModuleType
                                           ) -> None:
    """The sentences above together (the end-to-end build test looks for them in the HTML)."""
    survey = published.town.survey
    for sentence in independent.sentences(published.df, survey, published.results):
        assert sentence in published.text


def test_small_town_rates_and_the_groups_above_overall(
    published: Published, independent: ModuleType
) -> None:
    smalltown = published.results["smalltown"]
    asked = [c for c in ("town_ties", "town_faces", "town_selfcontained") if c in published.df]
    assert (smalltown is None) == (not asked)
    if smalltown is None:
        return  # the "not asked" sentence: test_notebooks
    overall = independent.rate(independent.lonely(published.df))
    for item, entry in smalltown["items"].items():
        mine = independent.by(published.df, item)
        above = set()
        for g in entry["groups"]:
            if g["p"] is None:
                continue
            r = overall if g[item] == "全体" else mine[g[item]]
            assert (g["n"], g["x"], independent.shown(g["p"])) == (r.n, r.x, r.p)
            if float(r.p) > float(overall.p):
                above.add(g[item])
        assert set(entry["above_overall"]) == above, item
