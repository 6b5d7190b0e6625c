"""The report notebooks run through papermill: BRIEF §5 figures for Iiyama in results.json and in
the text, the one-line "not asked" sentences for a town without the small-town and season items,
no published value on fewer respondents than the minimum cell size, and the comparison page."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import nbformat
import papermill as pm
import pytest

from helpers import paths
from helpers.build.attack import attack_results, attack_workbook
from helpers.stats import fmt_percent, points

pytestmark = pytest.mark.slow
REPORT = paths.NOTEBOOKS / "municipal_report.ipynb"


def _run(town: str, out: Path) -> tuple[dict, str]:
    """Execute the report for a town into ``out``; its results and all its Markdown text."""
    out.mkdir(parents=True, exist_ok=True)
    executed = out / f"{town}.ipynb"
    pm.execute_notebook(REPORT, executed, parameters={"town": town, "out_dir": str(out)},
                        kernel_name="python3", progress_bar=False)
    return json.loads((out / "results.json").read_text(encoding="utf-8")), _shown(executed)


def _shown(executed: Path) -> str:
    """Every Markdown output, and the text of every HTML output (figures, 詳しい結果), of an
    executed notebook."""
    nb = nbformat.read(executed, as_version=4)
    parts = []
    for c in nb.cells:
        for o in c.get("outputs", []) if c.cell_type == "code" else []:
            data = o.get("data", {})
            if "text/markdown" in data:
                parts.append(data["text/markdown"])
            elif "text/html" in data:
                parts.append(html.unescape(re.sub(r"<[^>]+>", "", data["text/html"])))
    return "\n".join(parts)


def test_parameters_cell():
    params = pm.inspect_notebook(REPORT)
    assert {k: v["default"] for k, v in params.items()} == {
        "town": '"iiyama"', "out_dir": '""', "min_cell": "None", "weighting": "None",
        "svg_cache": '""'}


def test_iiyama_report(tmp_path, cleaned):
    """One run of the Iiyama report (papermill), then every check on its outputs."""
    cleaned("iiyama")  # the kernel reads it from this run's data/processed
    out = tmp_path / "towns" / "iiyama"
    results, text = _run("iiyama", out)
    _check_sex_age(results, text)
    _check_small_town_items(results, text)
    _check_winter_outings(results, text)
    assert attack_results(results) == []
    assert attack_workbook(out / "iiyama_集計表.xlsx", results["min_cell"]) == []
    _check_compare(out.parent, tmp_path / "compare.ipynb")


def _check_sex_age(results: dict, text: str) -> None:
    rows = {(r["sex"], r["age_band"]): r for r in results["lonely_by_sex_age"]}
    men20, women40, women = rows["男性", "20～29歳"], rows["女性", "40～49歳"], rows["女性", "全体"]
    assert fmt_percent(men20["p"]) == "50.0%" and men20["lo"] < men20["p"] < men20["hi"]
    assert fmt_percent(women40["p"]) == "42.1%" and points(women40["p"], women["p"]) == 9.3
    assert "男性では20～29歳が50.0%と最も高く" in text
    assert "女性では40～49歳が42.1%と最も高く" in text and "より9.3ポイント高く" in text
    assert results["headline"]["often_always"]["p"] < results["national"]["often_always"]
    assert results["synthetic"] is True and "合成データ" in text


def _check_small_town_items(results: dict, text: str) -> None:
    assert results["sections"]["smalltown"]
    for item in ("town_ties", "town_faces", "town_selfcontained"):
        entry = results["smalltown"]["items"][item]
        overall = entry["overall"]["p"]
        groups = {g[item]: g for g in entry["groups"]}
        for answer in ("良くないと思う", "どちらともいえない"):
            assert groups[answer]["p"] > overall
            odds = next(r for r in entry["odds_ratios"] if r["level"] == answer)
            assert odds["odds_ratio"] > 1
        assert entry["chi_square"]["p_value"] < 0.05 and entry["chi_square"]["cramers_v"] > 0
    assert text.count("「良くないと思う」「どちらともいえない」と答えた人は、全体より") == 3
    assert text.count("カイ二乗検定で χ²=") == 3 and "オッズ比が「良くないと思う」" in text


def _check_winter_outings(results: dict, text: str) -> None:
    season = results["season"]
    assert season["winter_lower"]
    assert season["wilcoxon"]["p_value"] < 0.05 and season["wilcoxon"]["effect_r"] > 0
    assert "冬の外出頻度は春～秋より少なくなっています" in text
    assert "ウィルコクソンの符号付順位検定で p" in text


def test_town_without_small_town_and_season_items(tmp_path, cleaned):
    cleaned("suzaka")
    results, text = _run("suzaka", tmp_path)
    assert results["sections"]["smalltown"] is False and results["sections"]["season"] is False
    not_asked = next(line for line in text.splitlines() if "この調査で尋ねていない項目" in line)
    assert "市での生活についての考え方" in not_asked
    assert "季節別（春～秋と冬）の外出頻度" in not_asked
    assert "小規模都市ならではの孤独" not in text and "冬と春～秋の外出頻度" not in text
    assert attack_results(results) == []
    assert attack_workbook(tmp_path / "suzaka_集計表.xlsx", results["min_cell"]) == []


def _check_compare(results_dir: Path, executed: Path) -> None:
    """compare.ipynb reads every results.json in the folder and shows the national figure."""
    pm.execute_notebook(paths.NOTEBOOKS / "compare.ipynb", executed,
                        parameters={"results_dir": str(results_dir)}, kernel_name="python3",
                        progress_bar=False)
    import yaml

    from helpers.analysis.compare import MEASURES
    from helpers.build.audit import _Page, normalize

    nb = nbformat.read(executed, as_version=4)
    page = _Page()
    page.feed("".join(o["data"].get("text/html", "") for c in nb.cells if c.cell_type == "code"
                      for o in c.get("outputs", []) if "data" in o))
    tables = dict(zip(page.titles, page.tables, strict=True))
    heads = tables[normalize("表1　市町村別 孤独感がある人の割合")]
    assert heads[1][0] == "飯山市" and heads[-1][:3] == ["全国(令和4年)", "11,218", "40.3%"]
    national = tables[normalize("表5　全国調査（令和4年）の区分別の公表値（%）")]
    raw = yaml.safe_load((paths.CONFIG / "national_reference.yml").read_text(encoding="utf-8"))
    from helpers.analysis.compare import _printed

    expected = [[normalize(v) for v in (MEASURES[g["measure"]], g["sex"], _printed(g["age_band"]),
                                        g.get("group", "—"), f"{g['pct']:.1f}")]
                for g in raw["rounds"][2022]["groups"]]
    assert [row[:5] for row in national[1:]] == expected  # row for row


def test_explore_notebook_runs(tmp_path, cleaned):
    """The researchers' starting notebook keeps working with the helpers it shows."""
    cleaned("iiyama")
    executed = tmp_path / "explore.ipynb"
    pm.execute_notebook(paths.NOTEBOOKS / "explore.ipynb", executed, kernel_name="python3",
                        progress_bar=False)
    nb = nbformat.read(executed, as_version=4)
    shown = next(c for c in nb.cells if 'report.show("smalltown")' in c.source)
    text = "".join(o["data"].get("text/markdown", "") for o in shown.outputs if "data" in o)
    assert "近所の人と顔の見える関係性が築きやすいこと" in text
    weighted = "".join(o["data"].get("text/plain", "") for o in nb.cells[-1].outputs
                       if "data" in o)
    assert "method='logit'" in weighted and "RaoScott(" in weighted  # the design-based cell


def test_a_town_with_its_own_bands_population_file_and_questions(tmp_path, cleaned):
    """Tsukumi (合成データ): bands 18～29歳 …, weights from its 住民基本台帳 file, two own questions
    (one a follow-up with several answers), and nothing resting on fewer than min_cell."""
    cleaned("tsukumi")  # (it passed only when another test of the run had cleaned Tsukumi)
    results, text = _run("tsukumi", tmp_path)
    bands = ["18～29歳", "30～39歳", "40～49歳", "50～59歳", "60～69歳", "70～79歳", "80歳以上"]
    shown = {r["age_band"] for r in results["lonely_by_sex_age"]} - {"全体", "無回答"}
    assert shown <= set(bands) and "18～29歳" in shown
    ages = [r["age_band"] for r in results["response"]["tables"]["age_band"]["rows"]]
    assert [a for a in ages if a not in ("全体", "無回答")] == bands
    sex_age = results["response"]["tables"]["sex_age"]["rows"]
    assert {r["sex_age"] for r in sex_age} >= {"男性×18～29歳", "女性×80歳以上"}
    assert results["weighting"]["applied"] and results["weighting"]["margin_names"] == ["性別×年代"]
    own = results["own"]["questions"]
    assert set(own) == {"tsukumi_activity", "tsukumi_activity_reasons"}
    assert own["tsukumi_activity_reasons"]["type"] == "multi"
    assert own["tsukumi_activity_reasons"]["asked_of"].startswith("「地域の活動")
    # Tsukumi asked neither the small-town nor the season items: its own questions follow 3.
    assert "## 4. 市独自の設問" in text and "非該当" in text
    assert "「広報つくみを読んでいるか」" in text  # a question the report does not use
    sexes = [r["sex"] for r in results["response"]["tables"]["sex"]["rows"]]
    assert "その他・回答しない" in sexes  # the town's own wording of a standard answer
    assert attack_results(results) == []
    assert attack_workbook(tmp_path / "tsukumi_集計表.xlsx", results["min_cell"]) == []
