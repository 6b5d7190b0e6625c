"""Report sections (helpers.analysis) on a small seeded synthetic survey (合成データ) that follows
the standard-dataset contract; then on the sample towns, which the tests clean themselves."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from helpers import paths
from helpers.ages import national_bands
from helpers.analysis import (
    DisclosureError,
    Options,
    analyse_town,
    build_results,
    write_outputs,
)
from helpers.build.attack import attack_results, attack_workbook
from helpers.codebook import VarType
from helpers.stats import fmt_ci, fmt_pct, fmt_percent, percent, points
from helpers.towns import Town

DISTRICTS = ["北地区", "南地区", "東地区", "山間地区"]
OWN = [
    {"name": "salon", "question": "地域のサロンを知っていますか。", "type": "single",
     "answers": {1: "知っていて行く", 2: "知っているが行かない", 3: "知らない"}},
    {"name": "reasons", "question": "サロンに行かない理由（いくつでも）", "type": "multi",
     "answers": {1: "時間がない", 2: "知り合いがいない", 3: "その他"},
     "asked_if": {"salon": [2]}},
    {"name": "visits", "question": "この1か月に公民館を訪れた回数", "type": "number",
     "range": [0, 31]},
]


def _categorical(codes: np.ndarray, var: str) -> pd.Series:
    v = synthetic_town().codebook[var]
    labels = v.labels()
    values = [labels.get(int(c)) if c > 0 else None for c in codes]
    return pd.Series(
        pd.Categorical(values, categories=list(labels.values()),
                       ordered=v.type is VarType.ORDINAL),
        name=var,
    )


def synthetic_survey(n: int = 600, seed: int = 7, smalltown: bool = True,
                     season: bool = True) -> pd.DataFrame:
    """A survey frame where disliking the small-town items and older age go with loneliness."""
    rng = np.random.default_rng(seed)
    sex = rng.choice([1, 2, 3], n, p=[0.47, 0.5, 0.03])
    age = rng.choice(np.arange(1, 9), n, p=[0.01, 0.08, 0.1, 0.13, 0.15, 0.18, 0.2, 0.15])
    district = rng.choice([1, 2, 3, 4], n, p=[0.45, 0.3, 0.2, 0.05])
    household = rng.choice([1, 2, 3, 4, 5], n, p=[0.15, 0.3, 0.35, 0.15, 0.05])
    faces = rng.choice([1, 2, 3], n, p=[0.6, 0.12, 0.28])
    logit = -0.9 + 0.9 * (faces != 1) + 0.5 * (household == 1) + 0.25 * (age == 2)
    lonely = rng.random(n) < 1 / (1 + np.exp(-logit))
    direct = np.where(lonely, rng.choice([3, 4, 5], n, p=[0.55, 0.35, 0.1]),
                      rng.choice([1, 2], n, p=[0.4, 0.6]))
    ucla = [np.clip(rng.integers(1, 3, n) + lonely * rng.integers(0, 3, n), 1, 4) for _ in "abc"]
    summer = rng.choice([1, 2, 3, 4, 5, 6], n, p=[0.4, 0.2, 0.2, 0.1, 0.07, 0.03])
    winter = np.clip(summer + rng.choice([0, 0, 1, 2], n) + (age >= 7), 1, 6)
    df = pd.DataFrame({
        "mode": _categorical(rng.choice([1, 2], n, p=[0.8, 0.2]), "mode"),
        "sex": _categorical(sex, "sex"),
        "age_band": _categorical(age, "age_band"),
        "district": _categorical(district, "district"),
        "household": _categorical(household, "household"),
        "lonely_direct": _categorical(direct, "lonely_direct"),
        "rely_on": _categorical(rng.choice([1, 2], n, p=[0.85, 0.15]), "rely_on"),
        "consult": _categorical(np.where(lonely, rng.choice([1, 2], n), 1), "consult"),
        "contact_inperson": _categorical(rng.integers(1, 8, n), "contact_inperson"),
    })
    for i, values in enumerate(ucla, start=1):
        df[f"ucla_{i}"] = _categorical(values, f"ucla_{i}")
    for code in range(1, 6):
        df[f"participation__{code}"] = pd.array(rng.random(n) < 0.3, dtype="Int8")
    df["ucla_total"] = pd.array(sum(ucla), dtype="Float64")
    band = np.digitize(sum(ucla), [4, 7, 10]) + 1
    df["ucla_band"] = _categorical(band, "ucla_band")
    df["lonely"] = pd.array(lonely, dtype="boolean")
    if smalltown:
        df["town_faces"] = _categorical(faces, "town_faces")
        df["town_ties"] = _categorical(np.where(rng.random(n) < 0.7, faces, 1), "town_ties")
        df["town_selfcontained"] = _categorical(rng.choice([1, 2, 3], n), "town_selfcontained")
    if season:
        df["outing_summer"] = _categorical(summer, "outing_summer")
        df["outing_winter"] = _categorical(winter, "outing_winter")
        df["outing_change"] = pd.array(winter - summer, dtype="Float64")
        df["outing_less_in_winter"] = pd.array(winter > summer, dtype="boolean")
    # a few missing answers, as in real data
    df.loc[rng.random(n) < 0.02, "lonely_direct"] = None
    df.loc[df["lonely_direct"].isna(), "lonely"] = pd.NA
    return _own_questions(df, np.random.default_rng(seed + 1))


def _own_questions(df: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """The town's own questions (OWN): a salon the lonely know less, and a follow-up asked of
    those who know it but do not go (not applicable to the others)."""
    n = len(df)
    lonely = df["lonely"].fillna(False).to_numpy(dtype=bool)
    salon = np.where(lonely, rng.choice([1, 2, 3], n, p=[0.2, 0.4, 0.4]),
                     rng.choice([1, 2, 3], n, p=[0.4, 0.4, 0.2]))
    df["testtown_salon"] = _categorical(salon, "salon")
    for code, chance in ((1, 0.5), (2, 0.4), (3, 0.2)):
        ticks = pd.array(rng.random(n) < chance, dtype="Int8")
        ticks[salon != 2] = pd.NA  # asked only of those answering 2
        df[f"testtown_reasons__{code}"] = ticks
    visits = rng.poisson(np.where(lonely, 1.5, 3.0)).astype(float)
    visits[rng.random(n) < 0.05] = np.nan
    df["testtown_visits"] = pd.array(visits, dtype="Float64")
    return df


def synthetic_town(smalltown: bool = True, margins: bool = True) -> Town:
    """A town parameter set for :func:`synthetic_survey` (synthetic, with margins)."""
    columns = {v: v for v in ["sex", "age", "district", "lonely_direct", "household", "salon",
                              "visits"]}
    columns["reasons"] = {"joined": "理由"}
    if smalltown:
        columns.update(town_faces="town_faces", town_ties="town_ties")
    ages = national_bands(18, 110).labels
    raw: dict = {
        "id": "testtown",
        "name": {"ja": "試験市", "en": "Testtown"},
        "prefecture": "試験県",
        "synthetic": True,
        "survey": {
            "title": "試験市 孤独・孤立に関する調査", "population": 20000, "target": "18歳以上",
            "min_age": 18, "sampling": "無作為抽出", "distributed": 1500, "returned": 600,
            "start": "2023-12-01", "end": "2023-12-20", "modes": ["郵送", "Web"],
        },
        "districts": DISTRICTS,
        "questions": OWN,
        "sources": [{"file": "x.xlsx", "mode": "郵送", "columns": columns}],
    }
    if margins:
        raw["margins"] = {
            "source": "合成データ",
            "sex_age_band": {s: {a: 300 + 40 * i for i, a in enumerate(ages)}
                             for s in ["男性", "女性"]},
            "district": {"北地区": 2816, "南地区": 2112, "東地区": 1408, "山間地区": 704},
        }
    return Town.model_validate(raw)


# --- tests -------------------------------------------------------------------------------------

SEX_AGE_KEYS = {"sex", "age_band", "n", "x", "p", "lo", "hi"}


@pytest.fixture(scope="module")
def survey() -> pd.DataFrame:
    return synthetic_survey()


@pytest.fixture(scope="module")
def report(survey):
    return analyse_town(survey, synthetic_town())


@pytest.fixture(scope="module")
def results(report):
    return build_results(report)


def test_sections_and_headline(report, results, survey):
    assert all(results["sections"].values())
    lonely = results["headline"]["lonely"]
    assert lonely["n"] == int(survey["lonely"].notna().sum())
    assert lonely["x"] == int(survey["lonely"].sum())
    assert lonely["p"] == percent(survey["lonely"].astype(float).mean())  # published: % one decimal
    assert lonely["lo"] < lonely["p"] < lonely["hi"]
    assert {r["age_band"] for r in results["lonely_by_sex_age"]} >= {"全体", "20～29歳", "80歳以上"}
    assert all(r.keys() >= SEX_AGE_KEYS for r in results["lonely_by_sex_age"])
    json.dumps(results, allow_nan=False)  # strictly valid JSON


def test_smalltown_groups_above_overall_with_tests(results):
    faces = results["smalltown"]["items"]["town_faces"]
    assert set(faces["above_overall"]) == {"良くないと思う", "どちらともいえない"}
    assert faces["chi_square"]["p_value"] < 0.001 and faces["chi_square"]["cramers_v"] > 0.1
    ors = {r["level"]: r for r in faces["odds_ratios"]}
    assert ors["良いと思う"]["odds_ratio"] is None or ors["良いと思う"]["odds_ratio"] == 1.0
    assert ors["良くないと思う"]["odds_ratio"] > 1 and ors["良くないと思う"]["or_lo"] > 1
    assert faces["adjusted_for"] == ["sex", "age_band", "household"]


def test_season_winter_lower(results, report):
    season = results["season"]
    assert season["winter_lower"] is True
    w = season["wilcoxon"]
    assert w["p_value"] < 0.001 and w["effect_r"] > 0
    change = {r["outing_change"]: r for r in season["tables"]["outing_change"]["rows"]}
    assert change["冬に減る"]["share"] > change["冬に増える"]["share"]
    assert change["全体"]["count"] == w["n"]
    assert "冬の外出頻度は春～秋より少なく" in report.sections["season"].text()


def test_weighting_applied_with_efficiency(results, report, survey):
    design = report.ctx.design
    w, weights = results["weighting"], pd.Series(design.weights, index=design.index)
    assert w["applied"] and w["margins"] == ["sex_age", "district"]
    kish = weights.sum() ** 2 / (weights**2).sum()  # Kish's effective n, its share of n
    assert (w["n"], w["n_eff"], w["efficiency"]) == (
        len(weights), round(kish), percent(kish / len(weights)))
    row = next(r for r in results["lonely_by_sex_age"] if r["sex"] == "女性" and r["p"])
    women = survey.loc[weights.index][survey.loc[weights.index, "sex"] == "女性"]
    flag = women["lonely"].dropna().astype(float)
    assert row["p_weighted"] == percent(np.average(flag, weights=weights[flag.index]))


def test_the_number_weighted_is_published_only_when_it_gives_nobody_away(survey):
    # 3 respondents of 「その他・答えたくない」 and nobody else left out of the weighting: the
    # number weighted, with the number of respondents, would give the 3 away
    df = survey.copy()
    df["sex"] = df["sex"].cat.set_categories(["男性", "女性", "その他・答えたくない"])
    df.loc[df["sex"] == "その他・答えたくない", "sex"] = "女性"
    df.loc[df.index[:3], "sex"] = "その他・答えたくない"
    df = df[df["sex"].notna() & df["age_band"].notna() & df["district"].notna()]
    report = analyse_town(df, synthetic_town())
    w = build_results(report)["weighting"]
    assert w["applied"] and w["n"] is None and w["n_eff"] is None and w["efficiency"] > 0
    assert "対象" not in report.ctx.weighting.text()
    df.loc[df.index[3:30], "sex"] = "その他・答えたくない"  # 30: nobody to give away
    w = build_results(analyse_town(df, synthetic_town()))["weighting"]
    assert w["n"] == len(df) - 30 and w["n_eff"] > 0


def test_weighting_off_and_min_cell_override(survey):
    report = analyse_town(survey, synthetic_town(), min_cell=40, weighting=False)
    results = build_results(report)
    assert results["min_cell"] == 40 and not results["weighting"]["applied"]
    assert "p_weighted" not in results["lonely_by_sex_age"][0]
    assert attack_results(results) == []
    small = [r for r in results["lonely_by_sex_age"] if r["p"] is None]
    assert len(small) > len([r for r in build_results(analyse_town(
        survey, synthetic_town(), weighting=False))["lonely_by_sex_age"] if r["p"] is None])


def test_options_for_town():
    town = synthetic_town()
    assert Options.for_town(town) == Options(10, True, 2022)
    assert Options.for_town(town, min_cell=5, weighting=False).min_cell == 5


def test_missing_sections_say_so():
    report = analyse_town(synthetic_survey(smalltown=False, season=False), synthetic_town())
    results = build_results(report)
    assert results["sections"]["smalltown"] is False and results["smalltown"] is None
    assert results["sections"]["season"] is False and results["season"] is None
    from helpers.analysis.document import Document

    doc = Document(report)
    assert [p.heading for p in doc.parts] == ["1. 回答の状況", "2. 孤独感", "3. 孤立", "4. 地区別",
                                             "5. 市独自の設問"]
    assert "この調査で尋ねていない項目：" in doc.about() and "外出頻度" in doc.about()
    assert list(report.sheets()) == [p.heading for p in doc.parts]


def test_no_margins_no_weighting(survey):
    report = analyse_town(survey, synthetic_town(margins=False))
    assert not report.ctx.weighting.applied
    assert "重み付けは行っていません" in report.ctx.weighting.text()


def test_write_outputs_pass_the_audit(report, tmp_path):
    json_path, xlsx_path = write_outputs(report, tmp_path)
    results = json.loads(json_path.read_text(encoding="utf-8"))
    assert results["town"] == "testtown" and results["synthetic"] is True
    assert attack_results(results) == []
    assert attack_workbook(xlsx_path, 10) == []
    assert xlsx_path.name == "testtown_集計表.xlsx"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([json_path.name, xlsx_path.name])


def test_results_json_is_readable_utf8_written_beside_its_target(tmp_path, monkeypatch):
    import os

    from helpers.analysis import write_json

    renames = []
    real_replace = os.replace
    monkeypatch.setattr(os, "replace", lambda s, d: (renames.append(Path(s)), real_replace(s, d)))
    path = write_json({"name_ja": "飯山市", "p": 42.1}, tmp_path / "out" / "results.json")
    assert path.read_bytes() == '{\n "name_ja": "飯山市",\n "p": 42.1\n}'.encode()
    assert [p.parent for p in renames] == [path.parent]  # an atomic rename, nothing left over
    assert [p.name for p in path.parent.iterdir()] == ["results.json"]
    with pytest.raises(ValueError):  # NaN is not JSON: the file stays as it was
        write_json({"p": float("nan")}, path)
    assert json.loads(path.read_text(encoding="utf-8"))["p"] == 42.1
    assert [p.name for p in path.parent.iterdir()] == ["results.json"]


def test_write_outputs_refuses_a_breach(report, tmp_path, monkeypatch):
    from helpers.analysis import results as results_module

    def leaky(rep):
        out = build_results(rep)
        out["lonely_by_sex_age"].append({"sex": "男性", "age_band": "x", "n": 3, "p": 33.3})
        return out

    monkeypatch.setattr(results_module, "build_results", leaky)
    with pytest.raises(DisclosureError, match=r"^results\.json would break the disclosure rule: "
                                              r".*a count of 3"):
        write_outputs(report, tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_results_hold_each_section_as_published(report, results):
    town, lonely = report.town, report.sections["loneliness"]
    assert (results["town"], results["name_ja"], results["prefecture"]) == (
        town.id, town.name.ja, town.prefecture)
    assert results["n"] == report.sections["response"].n == 600
    survey = town.survey
    assert results["survey"] == {"title": survey.title, "start": survey.start.isoformat(),
                                 "end": survey.end.isoformat(), "min_age": survey.min_age,
                                 "modes": list(survey.modes)}
    assert results["national"] == lonely.national and results["national"] is not None
    assert results["headline"] == lonely.headline
    for key, section in report.sections.items():
        assert results[key] == section.to_json(), key


def test_a_survey_without_the_loneliness_questions_publishes_an_empty_headline(survey):
    report = analyse_town(survey.drop(columns=["lonely_direct"]), synthetic_town())
    results = build_results(report)
    empty = {"p": None, "lo": None, "hi": None, "n": None, "x": None}
    assert results["headline"] == {"lonely": empty, "often_always": empty}
    assert results["national"] is None and results["lonely_by_sex_age"] == []
    assert results["sections"]["loneliness"] is False and results["loneliness"] is None


@pytest.mark.parametrize("synthetic", [True, False])
def test_the_workbook_notes_say_the_rule_for_the_towns_min_cell(survey, synthetic):
    from helpers.analysis.results import notes
    from helpers.stats import rule_text

    town = synthetic_town().model_copy(update={"synthetic": synthetic})
    report = analyse_town(survey, town, min_cell=12)
    lines = notes(report)
    notice = "この表は合成データ（実在の回答ではない、サンプル用に生成したデータ）の集計です。"
    assert (notice in lines) is synthetic
    rule = rule_text(12)
    assert rule[0] == "回答者保護のため、1～11人の人数は表示せず「—」としています。"
    assert lines[1 + synthetic:1 + synthetic + len(rule)] == rule
    assert lines[-1] == report.ctx.weighting.text()


def test_write_outputs_removes_a_workbook_that_breaks_the_rule(report, tmp_path, monkeypatch):
    bad = pd.DataFrame({"年代": ["20代", "30代"], "回答者数": [14, 30], "該当者数": [11, 12],
                        "割合（%）": [78.6, 40.0]})  # 14 − 11 = 3 not lonely
    monkeypatch.setattr(report, "sheets", lambda: {"表": [("悪い表", bad)]})
    with pytest.raises(DisclosureError, match=r"^testtown_集計表\.xlsx would break the disclosure "
                                              r"rule: .*悪い表.*14 − 該当者数 11 = 3"):
        write_outputs(report, tmp_path)
    assert list(tmp_path.iterdir()) == []


# --- the sample towns, cleaned by the tests (conftest.cleaned) ---------------------------------

@pytest.fixture(scope="session")
def sample(cleaned):
    """``sample(town)``: the town's cleaned sample data and its parameters."""
    from helpers.dataset import load_survey
    from helpers.towns import load_town

    def load(town: str):
        return load_survey(town, processed_dir=cleaned(town)), load_town(town)

    return load


def test_iiyama_reproduces_brief_figures(sample):
    df, params = sample("iiyama")
    results = build_results(analyse_town(df, params))
    highlights = {h["sex"]: h for h in results["loneliness"]["highlights"]}
    assert (highlights["男性"]["top_age_band"], fmt_percent(highlights["男性"]["top_p"])) == (
        "20～29歳", "50.0%")
    women = highlights["女性"]
    assert (women["top_age_band"], fmt_percent(women["top_p"])) == ("40～49歳", "42.1%")
    assert points(women["top_p"], women["total_p"]) == 9.3 == women["points_above_total"]
    rows = {(r["sex"], r["age_band"]): r for r in results["lonely_by_sex_age"]}
    for cell in (("男性", "20～29歳"), ("女性", "40～49歳"), ("女性", "全体")):  # 10+ on both sides
        row = rows[cell]
        assert row["x"] >= 10 and row["n"] - row["x"] >= 10, cell
    for item in ("town_ties", "town_faces", "town_selfcontained"):
        entry = results["smalltown"]["items"][item]
        assert set(entry["above_overall"]) >= {"良くないと思う", "どちらともいえない"}
    assert results["season"]["winter_lower"]


def test_iiyama_weighted_numbers_agree_with_r_survey(sample):
    # tests/fixtures/r_survey_iiyama holds R survey's numbers for the respondents the Iiyama
    # raking uses: the report's weighted headline, rates, test and odds ratios are R's, and what
    # it publishes is them rounded half up.
    from helpers.stats import proportion

    df, params = sample("iiyama")
    reference = json.loads((paths.ROOT / "tests" / "fixtures" / "r_survey_iiyama"
                            / "r_survey_reference.json").read_text(encoding="utf-8"))
    report = analyse_town(df, params)
    results = build_results(report)
    raw, r = proportion(df["lonely"], report.ctx.design), reference["overall"]
    assert (raw.n, raw.method) == (r["n"], "logit")
    assert (raw.p, raw.se) == pytest.approx((r["p"], r["se"]), abs=1e-6)
    assert (raw.lo, raw.hi) == pytest.approx(r["ci_logit"], abs=1e-6)
    lonely = results["headline_weighted"]["lonely"]
    assert (lonely["p"], lonely["lo"], lonely["hi"]) == (
        percent(r["p"]), *(percent(v) for v in r["ci_logit"]))
    assert lonely["method"] == "logit"
    shown = fmt_ci(lonely["lo"], lonely["hi"])
    assert shown == "（95%信頼区間 31.4～38.8%）"
    assert f"重み付けすると、孤独感がある人は{fmt_pct(r['p'])}{shown}" in (
        report.sections["loneliness"].text())
    item = next(it for it in report.sections["smalltown"].items if it.item == "town_faces")
    rates = item.groups.frame.set_index("town_faces")
    faces = results["smalltown"]["items"]["town_faces"]
    published = {g["town_faces"]: g for g in faces["groups"]}
    for answer, expected in reference["town_faces"]["rates"].items():
        assert rates.loc[answer, "p_weighted"] == pytest.approx(expected["p"], abs=1e-6)
        assert published[answer]["p_weighted"] == percent(expected["p"])
    assert item.rao_scott["f"] == pytest.approx(
        reference["town_faces"]["rao_scott_F"]["F"], abs=1e-6)
    assert item.fits["weighted"].attrs["n"] == reference["logit_town_faces"]["n"]
    # published only when it gives nobody away: here the weighting leaves out the model's 3
    # 「その他・答えたくない」 alone, whom the unweighted model's n minus this one would count
    assert faces["models"]["weighted"]["n"] is None
    odds = item.odds.frame.set_index("level")
    for level, expected in reference["logit_town_faces"]["terms"].items():
        assert odds.loc[level, "odds_ratio_weighted"] == pytest.approx(expected["or"], abs=1e-6)
        assert odds.loc[level, "or_lo_weighted"] == pytest.approx(expected["or_lo"], abs=1e-6)


@pytest.mark.parametrize("interactive", [False, True])
def test_every_section_chart_has_a_caption_with_n(report, interactive):
    import matplotlib.pyplot as plt

    charts = [c for s in report.sections.values() for c in s.charts(interactive=interactive)]
    assert len(charts) >= 7
    for chart in charts:
        assert chart.title and "回答者 n = " in chart.caption
        if not interactive:
            assert "で最も高く" in chart.alt or "回答者保護のため" in chart.alt
            assert chart.data is not None and len(chart.data) > 0
            plt.close(chart.figure)


def test_weighted_rates_need_their_own_weighted_base():
    # 24 respondents answered 「A」 but only 8 of them are in the weighting: the unweighted rate is
    # published, the weighted one is not (it would rest on 8 respondents).
    from helpers.analysis.common import RATES, Table, rates
    from helpers.analysis.publish import Publication
    from helpers.stats import Design

    df = pd.DataFrame({
        "g": pd.Categorical(["A"] * 24 + ["B"] * 60, categories=["A", "B"]),
        "lonely": pd.array([True, False] * 42, dtype="boolean"),
    })
    design = Design.from_weights(pd.Series(1.5, index=df.index[16:]))
    table = Table("g", "t", rates(df, "lonely", ["g"], design), RATES)
    pub = Publication()
    pub.add(table)
    pub.publish(10)
    out = table.published.set_index("g")
    assert out.loc["A", "n"] == 24 and out.loc["A", "p"] == 50.0
    assert np.isnan(out.loc["A", ["p_weighted", "lo_weighted", "hi_weighted"]].astype(float)).all()
    assert out.loc["B", "p_weighted"] == 50.0


def test_report_text_shows_user_strings_as_typed(survey):
    """Town and district names (user strings) in the report's Markdown render as typed: no
    element, link or emphasis comes from them (CommonMark, as JupyterLab renders)."""
    from html.parser import HTMLParser

    from markdown_it import MarkdownIt

    from helpers.towns import Names

    districts = ["<img src=x onerror=alert(1)>", "A*B地区", "_下_地区", "[東](javascript:x)"]
    name = "<script>alert(1)</script>市"
    town = synthetic_town(margins=False).model_copy(
        update={"name": Names(ja=name, en="x"), "prefecture": "*県*", "districts": districts})
    df = survey.copy()
    df["district"] = df["district"].cat.rename_categories(districts)
    rep = analyse_town(df, town)
    from helpers.analysis.document import Document

    doc = Document(rep)
    text = "\n\n".join([doc.main_points(), doc.about(),
                        *(t for p in doc.parts for t in (p.text, p.details))])

    class Page(HTMLParser):
        def __init__(self) -> None:
            super().__init__(convert_charrefs=True)
            self.tags: set[str] = set()
            self.shown = ""

        def handle_starttag(self, tag, attrs):
            self.tags.add(tag)

        def handle_data(self, data):
            self.shown += data

    page = Page()
    page.feed(MarkdownIt("commonmark").render(text))
    assert page.tags <= {"p", "strong", "ul", "li", "a"}  # the report's own markup only
    assert f"*県*{name}「" in page.shown
    assert sum(f"「{d}」" in page.shown for d in districts) >= 2  # highest and lowest district


def _margin_without(district: str, allow: bool) -> Town:
    town = synthetic_town()
    assert town.margins is not None and town.margins.district is not None
    counts = dict(town.margins.district)
    counts["北地区"] += counts[district]  # the totals of the margins still agree
    margins = town.margins.model_copy(update={"district": {**counts, district: 0}})
    report = town.report.model_copy(update={"allow_unweighted": allow})
    return town.model_copy(update={"margins": margins, "report": report})


def test_weighting_that_fails_stops_the_town_unless_unweighted_output_is_allowed(survey):
    from helpers.analysis.context import prepare
    from helpers.errors import UserError

    with pytest.raises(UserError, match=r"weighting failed: .*「山間地区」") as info:
        prepare(survey, _margin_without("山間地区", allow=False))
    assert "allow_unweighted: true" in (info.value.hint or "")
    assert str(info.value.file).endswith("testtown.yml")
    ctx = prepare(survey, _margin_without("山間地区", allow=True))
    assert not ctx.weighting.applied and "山間地区" in ctx.weighting.text()


# --- the town's own questions (section 7) --------------------------------------------------------


def test_own_single_question_rates_and_test_match_an_independent_computation(report, survey):
    from scipy.stats import chi2_contingency

    q = next(q for q in report.sections["own"].items if q.var.key == "salon")
    assert q.asked_of is None
    answered = survey[survey["testtown_salon"].notna() & survey["lonely"].notna()]
    rows = {r["answer"]: r for r in q.lonely.records()}
    for label, group in answered.groupby("testtown_salon", observed=True)["lonely"]:
        assert rows[label]["n"] == len(group)
        assert rows[label]["p"] == percent(group.astype(float).mean())
    table = pd.crosstab(answered["testtown_salon"], answered["lonely"])
    chi2, p, dof, _ = chi2_contingency(table, correction=False)
    test = q.test("chi_square")
    assert (test["chi2"], test["dof"]) == (round(chi2, 3), dof)
    assert test["p_value"] == pytest.approx(p, abs=1e-4)
    assert test["cramers_v"] == pytest.approx((chi2 / table.to_numpy().sum()) ** 0.5, abs=1e-3)


def test_a_follow_up_counts_only_those_it_was_asked_of(report, survey):
    q = next(q for q in report.sections["own"].items if q.var.key == "reasons")
    assert "「知っているが行かない」と答えた人" in q.asked_of
    asked = survey[survey["testtown_salon"] == "知っているが行かない"]
    answered = asked[asked["testtown_reasons__1"].notna()]
    rows = q.answers.records()
    assert {r["n"] for r in rows} == {len(answered)}  # not those not asked (非該当)
    assert rows[0]["x"] == int(answered["testtown_reasons__1"].sum())
    assert rows[0]["p"] == percent(answered["testtown_reasons__1"].astype(float).mean())
    lonely = {(r["answer"], r["choice"]): r for r in q.lonely.records()}
    chose = answered[(answered["testtown_reasons__1"] == 1) & answered["lonely"].notna()]
    assert lonely[("時間がない", "選んだ")]["n"] == len(chose)
    assert "非該当" in report.sections["own"].text()


def test_own_number_question_compares_the_lonely_with_kruskal_wallis(report, survey):
    from scipy.stats import kruskal

    q = next(q for q in report.sections["own"].items if q.var.key == "visits")
    data = survey[survey["testtown_visits"].notna() & survey["lonely"].notna()]
    groups = [data.loc[data["lonely"] == flag, "testtown_visits"].astype(float)
              for flag in (True, False)]
    test = q.test("kruskal_wallis")
    assert test["p_value"] == pytest.approx(kruskal(*groups).pvalue, abs=1e-4)
    rows = {r["answer"]: r for r in q.answers.records()}
    assert rows["孤独感あり"]["mean"] == round(groups[0].mean(), 2)


def test_the_own_section_is_named_for_the_kind_of_municipality(survey):
    town = synthetic_town()
    cho = town.model_copy(update={"name": town.name.model_copy(update={"ja": "見本町"})})
    report = analyse_town(survey, cho)
    assert report.heading("own") == "7. 町独自の設問"
    assert analyse_town(survey, town).heading("own") == "7. 市独自の設問"


def test_the_report_names_what_it_leaves_out(report):
    text = report.unused_text()
    assert "すべての質問を集計したものではありません" in text
    assert "公民館" not in text  # an own question is reported in section 7


def test_the_comparison_orders_every_towns_bands_by_age():
    from helpers.analysis.compare import sex_age_table, wide_table

    def town(tid: str, bands: list[str]) -> dict:
        rows = [{"sex": "男性", "age_band": b, "n": 20, "p": 40.0, "lo": 30.0, "hi": 50.0}
                for b in ["全体", *bands]]
        return {"town": tid, "name_ja": tid, "prefecture": "県", "lonely_by_sex_age": rows}

    long = sex_age_table([town("a", ["18～19歳", "20～29歳", "80歳以上"]),
                          town("b", ["18～29歳", "80歳以上"]), town("c", ["16～19歳", "20代"])])
    assert list(wide_table(long, "男性")["年代"]) == [
        "全体", "16～19歳", "18～19歳", "18～29歳", "20代", "20～29歳", "80歳以上"]
