"""The audit attacks: every kind of planted breach (issue 11) is recovered with its arithmetic,
and the clean counterpart of each passes. Pages are written as the site writes them."""

from __future__ import annotations

import json
import math
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.proportion import proportion_confint

from helpers.build.attack import (
    Z95,
    Grid,
    attack,
    attack_results,
    attack_workbook,
    effective_n,
    invert_odds_ratio,
    invert_wilson,
)
from helpers.build.audit import Secrets, audit_html
from helpers.excel import write_tables

RATES = ["地区", "回答者数", "該当者数", "割合（%）", "95%信頼区間 下限（%）",
         "95%信頼区間 上限（%）"]
NONE = Secrets.from_values([], [])


def page(*tables: tuple[str, list[str], list[list[object]]], script: str = "") -> str:
    """An HTML page with these tables, each under its bold title as the report shows them."""
    html = ['<html lang="ja"><body><h1>試験市</h1>']
    for title, header, rows in tables:
        html.append(f"<p><strong>表：{title}</strong></p><table><thead><tr>"
                    + "".join(f"<th>{h}</th>" for h in header) + "</tr></thead><tbody>")
        html += ["<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows]
        html.append("</tbody></table>")
    return "\n".join([*html, script, "</body></html>"])


def found(tmp_path: Path, html: str, min_cell: int = 10) -> list[str]:
    path = tmp_path / "town.html"
    path.write_text(html, encoding="utf-8")
    return [b.detail for b in audit_html(path, NONE, min_cell)]


def grid(header: list[str], rows: list[list[object]]) -> list[Grid]:
    return [Grid("表", header, rows)]


# --- share × base, and the complement ---


def test_share_times_base_recovers_the_count(tmp_path: Path) -> None:
    # 柳原: 35 respondents, 11.4 % → 4 people; 富倉: 10 respondents, 50.0 % → 5
    rows = [["飯山", 242, 90, 37.2, 31.3, 43.4], ["柳原", 35, "—", 11.4, 4.5, 26.0],
            ["富倉", 10, "—", 50.0, 23.7, 76.3]]
    details = found(tmp_path, page(("地区別", RATES, rows)))
    assert any("柳原" in d and "11.4% × 回答者数 35 = 4" in d for d in details)
    assert any("富倉" in d and "50% × 回答者数 10 = 5" in d for d in details)
    clean = [row if row[0] == "飯山" else [row[0], row[1], "—", "—", "—", "—"] for row in rows]
    assert found(tmp_path, page(("地区別", RATES, clean))) == []


def test_the_complement_is_a_count_too(tmp_path: Path) -> None:
    # 「全くない」 11 of 14 lonely → 3 not lonely
    rows = [["全くない", 14, 11, 78.6, 52.4, 92.4]]
    details = found(tmp_path, page(("交流の頻度別", RATES, rows)))
    assert any("回答者数 14 − 該当者数 11 = 3" in d for d in details)


@pytest.mark.parametrize(
    ("n", "x", "breach"),
    [(9, 0, True), (10, 0, False), (11, 0, False), (10, 1, True), (10, 9, True), (10, 10, False),
     (19, 10, True), (20, 10, False), (21, 11, False), (1, 1, True), (1, 0, True)],
)
def test_thresholds_on_both_sides(n: int, x: int, breach: bool) -> None:
    """min_cell − 1, min_cell, min_cell + 1; counts 0 and 1; a base of 1."""
    rows = [["区分", n, x, round(100 * x / n, 1), "—", "—"]]
    assert bool(attack(grid(RATES, rows), 10)) is breach


@pytest.mark.parametrize(
    ("x", "found"),
    [(0, None), (1, "「区分」の該当者数: a count of 1 is shown (under 10)"),
     (9, "「区分」の該当者数: a count of 9 is shown (under 10)"), (10, None), (90, None),
     (91, "「区分」の該当しない人数: 回答者数 100 − 該当者数 91 = 9"),
     (99, "「区分」の該当しない人数: 回答者数 100 − 該当者数 99 = 1"), (100, None)],
)
def test_a_count_of_1_to_min_cell_minus_1_is_found_and_nothing_else(x: int, found: str | None
                                                                    ) -> None:
    """Beside a base of 100 only the count itself (or its complement) can be small: 1 and 9 are
    breaches, 0 and 10 are not."""
    rows = [["区分", 100, x, float(x), "—", "—"]]
    assert [f"{f.cell}: {f.how}" for f in attack(grid(RATES, rows), 10)] == (
        [found] if found else [])


def test_min_cell_is_the_towns(tmp_path: Path) -> None:
    rows = [["区分", 40, 20, 50.0, 34.8, 65.2]]
    assert attack(grid(RATES, rows), 10) == []
    assert [f"{f.cell}: {f.how}" for f in attack(grid(RATES, rows), 25)] == [  # min_cell 25
        "「区分」の該当者数: a count of 20 is shown (under 25)",
        "「区分」の該当しない人数: 回答者数 40 − 該当者数 20 = 20"]


# --- interval inversion ---


def test_a_hidden_base_is_pinned_by_its_wilson_interval(tmp_path: Path) -> None:
    # 女性20代: 「10人以上」, 40.9 % with 23.3–61.3 % → exactly 9 of 22
    assert invert_wilson(40.9, 23.3, 61.3, 200) == [(9, 22)]
    rows = [["女性20代", "10人以上", "—", 40.9, 23.3, 61.3]]
    details = found(tmp_path, page(("性別・年代別", RATES, rows)))
    assert any("only 9 of 22" in d for d in details)


def test_a_rate_with_its_interval_in_one_cell_is_inverted(tmp_path: Path) -> None:
    header = ["市町村", "回答者数", "孤独感がある（95%信頼区間）"]
    rows = [["試験市", 643, "40.9 %（23.3 ～ 61.3 %）"], ["飯山市", 643, "34.9%（31.3～38.6%）"]]
    details = found(tmp_path, page(("市町村一覧", header, rows)))
    assert len(details) == 1 and "only 9 of 22" in details[0]


def test_a_rate_table_without_its_counts_is_read_as_rates(tmp_path: Path) -> None:
    header = ["地区", "回答者数", "割合（%）"]  # no 該当者数: 5.0 % of 20 is 1
    details = found(tmp_path, page(("地区別", header, [["A", 20, 5.0], ["B", 40, 50.0]])))
    assert len(details) == 1 and "「A」の該当者数" in details[0]


def test_a_table_of_groups_with_a_mean_shows_no_small_base(tmp_path: Path) -> None:
    header = ["回答", "回答者数", "平均"]
    details = found(tmp_path, page(("UCLA", header, [["A", 3, 5.2], ["B", 40, 6.1]])))
    assert len(details) == 1 and "「A」の回答者数" in details[0] and "count of 3" in details[0]


def test_shares_without_a_total_row_still_add_up_to_everyone(tmp_path: Path) -> None:
    # 45 is 90.0 %: 50 in all, so the hidden 10.0 % is 5
    header = ["回答", "人数", "構成比（%）"]
    details = found(tmp_path, page(("分布", header, [["A", 45, 90.0], ["B", "—", 10.0]])))
    assert any("「B」の人数" in d and d.rstrip("）").split(": ")[-1].startswith("5")
               for d in details)


def test_a_raw_fraction_written_in_scientific_notation_is_caught() -> None:
    results = {"min_cell": 10, "t": {"title": "表", "rows": [
        {"group": "全体", "n": 100000, "x": 1, "p": 1e-05}]}}
    assert any("raw fraction" in str(f) for f in attack_results(results))


def test_a_cross_table_in_results_json_is_read_by_its_answer_columns() -> None:
    rows = [{"outing_summer": "全体", "n": 100, "多い": 49.0, "少ない": 51.0},
            {"outing_summer": "A", "n": 50, "多い": 60.0, "少ない": 40.0},
            {"outing_summer": "B", "n": 30, "多い": 40.0, "少ない": 60.0},
            {"outing_summer": "C", "n": 20, "多い": None, "少ない": None}]
    found_ = attack_results({"min_cell": 10, "season": {"transition": {"title": "移動",
                                                                      "rows": rows}}})
    assert any("「C」の「多い」の人数" in str(f) and ": 7" in str(f) for f in found_)


def test_weighted_figures_on_a_hidden_count_are_caught(tmp_path: Path) -> None:
    header = [*RATES, "重み付け割合（%）", "重み付け 下限（%）", "重み付け 上限（%）"]
    rows = [["女性20代", 22, "—", "—", "—", "—", 40.9, 23.3, 61.3],
            ["女性30代", "—", "—", "—", "—", "—", 38.0, 20.1, 59.7]]
    details = found(tmp_path, page(("性別・年代別", header, rows)))
    assert any("女性20代" in d and "weighted figures" in d and "× 回答者数 22" in d
               for d in details)
    assert any("女性30代" in d and "the interval implies about" in d for d in details)


# --- totals minus parts: rows, columns, linked tables ---


def test_totals_minus_parts_across_rows(tmp_path: Path) -> None:
    header = ["性別", "人数", "構成比（%）"]
    rows = [["全体", 643, 100.0], ["男性", 300, 46.7], ["女性", 335, 52.1],
            ["その他・答えたくない", "—", "—"]]
    details = found(tmp_path, page(("性別", header, rows)))
    arithmetic = "「全体」の人数 643 − 「男性」の人数 300 − 「女性」の人数 335 = 8"
    assert any("その他・答えたくない" in d and arithmetic in d for d in details)
    protected = [*rows, ["無回答", "—", "—"]]  # a second hidden part: 8 = その他 + 無回答
    assert found(tmp_path, page(("性別", header, protected))) == []


def test_totals_minus_parts_across_columns(tmp_path: Path) -> None:
    # cells are shares of the row bases; the 全体 row gives the column totals
    header = ["春～秋", "回答者数", "多い（%）", "少ない（%）"]
    rows = [["全体", 100, 49.0, 51.0], ["A", 50, 60.0, 40.0], ["B", 30, 40.0, 60.0],
            ["C", 20, "—", "—"]]
    details = found(tmp_path, page(("移動", header, rows)))  # 49 − 30 − 12 = 7 in column 多い
    assert len(details) == 1 and "「C」の「多い」の人数" in details[0] and ": 7" in details[0]
    rows[2][2:] = ["—", "—"]  # with B hidden too, B + C = 19 in the column: neither is known
    assert found(tmp_path, page(("移動", header, rows))) == []


def test_totals_minus_parts_across_linked_tables(tmp_path: Path) -> None:
    # each table alone keeps its small cell: c + d = 23 in the distribution, b + c = 43 in the
    # cross table; the shown b = 40 and d = 20 of the other table give c = 3
    dist = ["季節", "回答", "人数", "構成比（%）"]
    dist_rows = [["春～秋", "全体", 100, 100.0], ["春～秋", "a", 37, 37.0],
                 ["春～秋", "b", 40, 40.0], ["春～秋", "c", "—", "—"], ["春～秋", "d", "—", "—"]]
    cross = ["春～秋の外出頻度", "回答者数", "a（%）", "b（%）", "c（%）", "d（%）"]
    cross_rows = [["全体", 100, "—", "—", "—", "—"], ["a", 37, "—", "—", "—", "—"],
                  ["b", "—", "—", "—", "—", "—"], ["c", "—", "—", "—", "—", "—"],
                  ["d", 20, "—", "—", "—", "—"]]
    alone = [*found(tmp_path, page(("分布", dist, dist_rows))),
             *found(tmp_path, page(("移り変わり", cross, cross_rows)))]
    assert alone == []
    details = found(tmp_path, page(("分布", dist, dist_rows), ("移り変わり", cross, cross_rows)))
    assert any("「c」" in d and ": 3" in d for d in details)


BY_SEX_AGE = ["性別", "年代", "回答者数", "該当者数", "割合（%）"]


def bases(*rows: tuple[str, str, object]) -> list[list[object]]:
    """Rows of a 性別・年代別 rate table showing only the bases (該当者数 and 割合 hidden)."""
    return [[sex, age, n, "—", "—"] for sex, age, n in rows]


#: 「その他」's 12 are 4 in 30代 and 8 in 40代: the table alone leaves 4 + 8 open.
SEX_AGE_ROWS = bases(("全体", "全体", 97), ("男性", "全体", 50), ("男性", "30代", 30),
                     ("男性", "40代", 20), ("女性", "全体", 35), ("女性", "30代", 20),
                     ("女性", "40代", 15), ("その他", "全体", 12), ("その他", "30代", "—"),
                     ("その他", "40代", "—"))
AGES = ["年代", "人数", "構成比（%）"]


def test_a_profile_table_and_a_rate_table_are_subtracted_across(tmp_path: Path) -> None:
    """The respondents of an age band (回答の状況) include those of every sex in the rate
    table: where nobody skipped the question, 54 − 30 − 20 leaves 「その他・30代」 4."""
    ages = [["全体", 97, 100.0], ["30代", 54, 55.7], ["40代", 43, 44.3]]
    assert found(tmp_path, page(("年代別の回答者数", AGES, ages))) == []
    assert found(tmp_path, page(("性別・年代別", BY_SEX_AGE, SEX_AGE_ROWS))) == []
    details = found(tmp_path, page(("年代別の回答者数", AGES, ages),
                                   ("性別・年代別", BY_SEX_AGE, SEX_AGE_ROWS)))
    assert any("「その他・30代」の回答者数" in d and ": 4" in d for d in details)
    assert any("「その他・40代」の回答者数" in d and ": 8" in d for d in details)
    # everyone of 30代 is a man or a woman: 「その他・30代」 is 0, a group hidden as a whole
    none = [["全体", 97, 100.0], ["30代", 50, 51.5], ["40代", 47, 48.5]]
    details = found(tmp_path, page(("年代別の回答者数", AGES, none),
                                   ("性別・年代別", BY_SEX_AGE, SEX_AGE_ROWS)))
    bases = [d for d in details if "の回答者数:" in d]
    assert len(bases) == 1 and "「その他・30代」の回答者数" in bases[0]
    assert bases[0].endswith(": 0（表の合計・行・列と連結した表から線形計画法で算出）")
    # three who skipped the question (in 30代 or 40代): 「その他・30代」 is 1 … 4
    skipped = [["全体", 100, 100.0], ["30代", 55, 55.0], ["40代", 45, 45.0]]
    assert found(tmp_path, page(("年代別の回答者数", AGES, skipped),
                                ("性別・年代別", BY_SEX_AGE, SEX_AGE_ROWS))) == []


def test_a_sex_by_age_profile_bounds_the_rate_tables_groups(tmp_path: Path) -> None:
    """「男性×30代」 and 「女性×30代」 hidden together (24) in the profile; the rate table
    shows 女性・30代 20 of them, so 男性×30代 ≤ 4, and 男性・40代 ≤ 46 of 50 gives 4."""
    profile = ["性別×年代", "人数", "構成比（%）"]
    cells = [["全体", 85, 100.0], ["男性×30代", "—", "—"], ["男性×40代", 46, 54.1],
             ["女性×30代", "—", "—"], ["女性×40代", 15, 17.6]]
    rates = bases(("全体", "全体", 85), ("男性", "全体", 50), ("男性", "30代", "—"),
                  ("男性", "40代", "—"), ("女性", "全体", 35), ("女性", "30代", 20),
                  ("女性", "40代", 15))
    assert found(tmp_path, page(("性別×年代", profile, cells))) == []
    assert found(tmp_path, page(("性別・年代別", BY_SEX_AGE, rates))) == []
    details = found(tmp_path, page(("性別×年代", profile, cells),
                                   ("性別・年代別", BY_SEX_AGE, rates)))
    assert any("「男性・30代」の回答者数" in d and ": 4" in d for d in details)


ODDS = ["回答", "回答者数", "調整オッズ比", "オッズ比 95%信頼区間 下限",
        "オッズ比 95%信頼区間 上限"]


def _odds_row(level: str, x1: int, n1: int, x0: int, n0: int) -> list[object]:
    """A level's odds ratio against the reference as an unadjusted model gives it (statsmodels:
    Woolf's interval), rounded as published."""
    from statsmodels.stats.contingency_tables import Table2x2

    table = Table2x2(np.array([[x1, n1 - x1], [x0, n0 - x0]]))
    lo, hi = table.oddsratio_confint()
    return [level, n1, *(round(v, 2) for v in (table.oddsratio, lo, hi))]


def test_an_odds_ratio_and_its_interval_give_the_reference_groups_few(tmp_path: Path) -> None:
    # 4 of the reference's 40 are lonely (hidden in its rate table); the other level's odds
    # ratio, read with both bases, leaves only 15 of 30 against 4 of 40
    rows = [["良いと思う", 40, 1.0, "—", "—"], _odds_row("良くないと思う", 15, 30, 4, 40)]
    details = found(tmp_path, page(("調整オッズ比", ODDS, rows)))
    assert len(details) == 1
    assert "「良くないと思う」と「良いと思う」" in details[0] and "4 of 40" in details[0]
    # with 24 of the reference's 40 no count is small, and an adjusted model's odds ratio (the
    # Iiyama sample's) matches no 2 × 2 table at all
    rows[1] = _odds_row("良くないと思う", 15, 30, 24, 40)
    assert found(tmp_path, page(("調整オッズ比", ODDS, rows))) == []
    adjusted = [["良いと思う", 354, 1.0, "—", "—"], ["良くないと思う", 59, 3.46, 1.93, 6.19]]
    assert found(tmp_path, page(("調整オッズ比", ODDS, adjusted))) == []


def test_invert_odds_ratio_finds_the_table_a_brute_force_finds() -> None:
    shown = _odds_row("a", 7, 25, 30, 60)[2:]
    brute = [(a, c) for a in range(1, 25) for c in range(1, 60)
             if all(abs(v - s) <= 0.005 + 1e-9 for v, s in zip(
                 _odds_row("a", a, 25, c, 60)[2:], shown, strict=True))]
    assert (7, 30) in brute
    assert invert_odds_ratio(*shown, 25, 60) == brute


def test_a_rate_row_named_like_an_answer_is_that_answers_count(tmp_path: Path) -> None:
    # the distribution alone keeps 時々ある (8) and しばしば (28) hidden together (36); the
    # headline row 「しばしばある・常にある」 on the same 637 respondents shows its 28
    head = ["指標", "回答者数", "該当者数", "割合（%）"]
    head_rows = [["しばしばある・常にある", 637, 28, 4.4]]
    dist = ["孤独感（直接質問）", "人数", "構成比（%）"]
    dist_rows = [["全体", 637, 100.0], ["決してない", 129, 20.3], ["ほとんどない", 286, 44.9],
                 ["たまにある", 186, 29.2], ["時々ある", "—", "—"],
                 ["しばしばある・常にある", "—", "—"]]
    assert found(tmp_path, page(("分布", dist, dist_rows))) == []
    assert found(tmp_path, page(("全体", head, head_rows))) == []
    details = found(tmp_path, page(("全体", head, head_rows), ("分布", dist, dist_rows)))
    assert any("時々ある" in d and ": 8" in d for d in details)


# --- 0 vs —, raw fractions, chart data ---


def test_zero_next_to_dash_in_a_small_group_is_caught(tmp_path: Path) -> None:
    header = ["性別", "年代", "回答者数", "該当者数", "割合（%）"]
    rows = [["その他・答えたくない", "全体", "—", "—", "—"],
            ["その他・答えたくない", "20代", 0, 0, "—"],
            ["その他・答えたくない", "30代", "—", "—", "—"],
            ["その他・答えたくない", "40代", 0, 0, "—"]]
    details = found(tmp_path, page(("性別・年代別", header, rows)))
    assert sum("0 vs —" in d for d in details) == 2
    hidden = [[*r[:2], "—", "—", "—"] for r in rows]
    assert found(tmp_path, page(("性別・年代別", header, hidden))) == []


def test_raw_fractions_are_caught(tmp_path: Path) -> None:
    # the season transition table once printed 0.009709 (× 103 = 1)
    header = ["春～秋の外出頻度", "回答者数", "週に2～3日（%）", "週に1日程度（%）"]
    rows = [["週に1日程度", 103, "0.009709", "0.990291"]]
    details = found(tmp_path, page(("移り変わり", header, rows)))
    assert any("raw fraction" in d for d in details)
    assert any("= 1" in d for d in details)  # and the count it gives


def test_chart_data_shows_nothing_the_tables_do_not(tmp_path: Path) -> None:
    rows = [["飯山", 242, 90, 37.2, 31.3, 43.4]]
    trace = {"type": "bar", "x": ["飯山", "富倉"], "y": [37.2, None], "name": "割合",
             "error_y": {"array": [6.2, None], "arrayminus": [5.9, None]}}
    script = f'<script>Plotly.newPlot("fig", {json.dumps([trace])}, {{}}, {{}})</script>'
    assert found(tmp_path, page(("地区別", RATES, rows), script=script)) == []
    trace["y"] = [37.2, 50.0]  # a hidden district's bar
    leaky = f'<script>Plotly.newPlot("fig", {json.dumps([trace])}, {{}}, {{}})</script>'
    assert any("富倉" in d for d in found(tmp_path, page(("地区別", RATES, rows), script=leaky)))
    trace["y"] = [37.1900001, None]  # unrounded
    raw = f'<script>Plotly.newPlot("fig", {json.dumps([trace])}, {{}}, {{}})</script>'
    assert any("one decimal" in d for d in found(tmp_path, page(("地区別", RATES, rows),
                                                              script=raw)))


def test_typed_chart_arrays_are_read_too(tmp_path: Path) -> None:
    """plotly writes numpy data as base64 typed arrays; the audit decodes them."""
    import plotly.graph_objects as go
    import plotly.io as pio

    rows = [["飯山", 242, 90, 37.2, 31.3, 43.4]]
    fig = go.Figure(go.Bar(x=["飯山", "富倉"], y=pd.Series([37.2, 50.0]).to_numpy()))
    html = pio.to_html(fig, include_plotlyjs=False, full_html=False)
    assert '"bdata"' in html
    assert any("50" in d for d in found(tmp_path, page(("地区別", RATES, rows), script=html)))


# --- the other published files ---


def test_results_json_is_attacked_like_a_page() -> None:
    ok = {"p": 50.0, "lo": 34.8, "hi": 65.2, "n": 40, "x": 20}
    results = {"town": "t", "min_cell": 10, "headline": {"lonely": ok, "often_always": ok},
               "district": {"lonely": {"title": "地区別", "rows": [
                   {"district": "全体", "n": 100, "x": 40, "p": 40.0},
                   {"district": "A", "n": 60, "x": 25, "p": 41.7},
                   {"district": "B", "n": 40, "x": 15, "p": 37.5}]}}}
    assert attack_results(results) == []
    rows = results["district"]["lonely"]["rows"]
    rows[0].update(x=30, p=30.0)
    rows[2].update(x=None, p=12.5)  # share × base
    assert any("12.5% × 回答者数 40 = 5" in str(f) for f in attack_results(results))
    rows[0].update(x=40, p=40.0)
    rows[2].update(x=None, p=None)
    rows[1].update(n=None, x=None, p=None)  # totals minus parts: 100 − 40 = 60 (fine, ≥ 10)
    assert attack_results(results) == []
    rows[2].update(n=4, x=None, p=None)
    assert any("a count of 4" in str(f) for f in attack_results(results))
    rows[2].update(n=40, x=15, p=0.375)  # a raw fraction
    assert any("raw fraction" in str(f) for f in attack_results(results))


def test_workbooks_are_attacked_like_a_page(tmp_path: Path) -> None:
    good = pd.DataFrame({"年代": ["20代", "30代"], "回答者数": [20, 30], "該当者数": [10, 12],
                         "割合（%）": [50.0, 40.0]})
    bad = pd.DataFrame({"年代": ["20代", "30代"], "回答者数": [14, "—"], "該当者数": [11, "—"],
                        "割合（%）": [78.6, 20.0]})
    path = write_tables({"表": [("良い表", good), ("悪い表", bad)]}, tmp_path / "x.xlsx", ["注記"])
    details = [str(f) for f in attack_workbook(path, 10)]
    assert len(details) == 2 and all("悪い表" in d for d in details)
    assert any("14 − 該当者数 11 = 3" in d for d in details)  # the complement
    assert any("30代" in d and "base is hidden" in d for d in details)  # a rate on a hidden base


# --- the arithmetic of intervals, against independent computations ---


def _half_up(value: float) -> float:
    return float(Decimal(repr(value)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


@pytest.mark.parametrize(("x", "n", "n_max"), [
    (0, 12, 150), (1, 14, 150), (9, 22, 150), (3, 7, 150), (57, 120, 150), (40, 40, 150),
    (3, 1100, 1500), (611, 1222, 1500), (1400, 1450, 1500), (250, 1000, 1500),
])
def test_invert_wilson_finds_every_count_and_base_a_brute_force_finds(
    x: int, n: int, n_max: int
) -> None:
    """(x, n) → the published share and Wilson bounds (statsmodels, half up) → every (x', n'),
    n' ≤ ``n_max``, with the same three shown values, found by trying them all."""
    lo, hi = proportion_confint(x, n, method="wilson")
    shown = (_half_up(100 * x / n), _half_up(100 * lo), _half_up(100 * hi))
    ns = np.repeat(np.arange(1, n_max + 1), np.arange(2, n_max + 2))
    xs = np.concatenate([np.arange(m + 1) for m in range(1, n_max + 1)])
    a, b = proportion_confint(xs, ns, method="wilson")
    close = [np.abs(100 * v - s) <= 0.05 + 1e-9 for v, s in zip((xs / ns, a, b), shown,
                                                                  strict=True)]
    expected = sorted(zip(xs[close[0] & close[1] & close[2]].tolist(),
                          ns[close[0] & close[1] & close[2]].tolist(), strict=True))
    assert (x, n) in expected
    assert sorted(invert_wilson(*shown, n_max=n_max)) == expected


def test_effective_n_is_the_base_of_a_logit_interval() -> None:
    """A weighted interval made on the logit scale with n_eff = 200 gives 200 back."""
    p, n = 0.3, 200
    half = Z95 / math.sqrt(n * p * (1 - p))
    logit = math.log(p / (1 - p))
    lo, hi = (1 / (1 + math.exp(-(logit + s * half))) for s in (-1, 1))
    assert effective_n(100 * p, 100 * lo, 100 * hi) == pytest.approx(200, rel=1e-9)
    assert effective_n(30.0, 30.0, 40.0) is None  # no interval around the share
    assert effective_n(30.0, 0.0, 40.0) is None


def test_results_json_is_held_to_its_own_min_cell_and_names_each_table() -> None:
    ok = {"p": 50.0, "lo": 34.8, "hi": 65.2, "n": 40, "x": 20}
    results = {"town": "t", "min_cell": 12, "headline": {
        "lonely": ok, "often_always": {**ok, "x": 11, "p": 27.5}}, "district": {"lonely": {
            "title": "地区別", "rows": [{"district": "全体", "n": 100, "x": 40, "p": 40.0},
                                     {"district": "A", "n": 89, "x": 29, "p": 32.6},
                                     {"district": "B", "n": 11, "x": 11, "p": 100.0}]}}}
    for min_cell in (None, 10):  # the file's 12 holds even when the build says 10
        where = {str(f).split(":")[0] for f in attack_results(results, min_cell)}
        assert where == {"results.headline", "results.district.lonely 「地区別」"}
    results["min_cell"] = 10
    assert attack_results(results) == []


def test_a_distribution_gives_a_hidden_count_by_its_share_and_its_weighted_share() -> None:
    rows = [["全体", 40, 100.0, 100.0], ["a", 35, 87.5, 80.0], ["b", "—", 12.5, 20.0]]
    found = attack(grid(["回答", "人数", "構成比（%）", "重み付け構成比（%）"], rows), 10)
    assert [str(f) for f in found] == [
        "表: 「b」: 構成比 = 12.5, 重み付け構成比 = 20 shown although its base is hidden",
        "表: 「b」の重み付け構成比: a weighted share shown for a hidden count",
        "表: 「b」の該当者数: 構成比 12.5% × 全体 40 = 5",
        "表: 「b」の人数: 「全体」の人数 40 − 「a」の人数 35 = 5（合計と内訳の引き算）",
    ]
    rows[2][1:] = ["—", "—", "—"]
    rows[1][1:] = ["—", "—", "—"]
    assert attack(grid(["回答", "人数", "構成比（%）", "重み付け構成比（%）"], rows), 10) == []


def test_an_interval_without_its_base_gives_away_a_small_complement() -> None:
    # 80.0 % (60.9–91.1 %) is 20 of 25 and nothing else: the 5 without the flag are found
    # (and the rates shown on a hidden base, found anyway)
    for p, lo, hi, x, n in ((80.0, 60.9, 91.1, 20, 25), (88.9, 76.5, 95.2, 40, 45)):
        found = attack(grid(RATES, [["A", "—", "—", p, lo, hi]]), 10)
        assert [str(f) for f in found] == [
            f"表: 「A」: 割合 = {p:g}, 下限 = {lo:g}, 上限 = {hi:g} shown although its base is "
            "hidden",
            f"表: 「A」: {p:g}%（{lo:g}～{hi:g}%）: only {x} of {n} gives this share and Wilson "
            "interval"]


def test_a_record_with_a_base_anywhere_in_results_json_is_attacked() -> None:
    results = {"min_cell": 10, "smalltown": {"items": {"faces": {"n": 40, "x": 3, "p": 7.5}}}}
    assert [str(f) for f in attack_results(results)] == [
        "results.smalltown.items.faces: 「?」の該当者数: a count of 3 is shown (under 10)"]


def test_a_sex_by_age_profile_leaves_the_other_sexes_of_each_age_band(tmp_path: Path) -> None:
    """The 年代 profile counts every respondent, the 性別×年代 profile only 男性 and 女性:
    20代 31 − 15 − 15 leaves one respondent of another sex (or who did not say) in 20代."""
    ages = [["全体", 100, 100.0], ["20代", 31, 31.0], ["30代", 69, 69.0]]
    profile = ["性別×年代", "人数", "構成比（%）"]
    cells = [["全体", 99, 100.0], ["男性×20代", 15, 15.2], ["女性×20代", 15, 15.2],
             ["男性×30代", 30, 30.3], ["女性×30代", 39, 39.4]]
    assert found(tmp_path, page(("年代別の回答者数", AGES, ages))) == []
    assert found(tmp_path, page(("性別×年代", profile, cells))) == []
    details = found(tmp_path, page(("年代別の回答者数", AGES, ages), ("性別×年代", profile, cells)))
    assert details == ["town.html 「表:年代別の回答者数」: 「20代」の男性・女性以外の回答者数: "
                       "「20代」の人数 31 − 「男性×20代」の人数 15 − 「女性×20代」の人数 15 = 1"
                       "（合計と内訳の引き算）"]
    # both bands hidden: their other sexes add up to 100 − 99 = 1, in either band
    hidden = [["全体", 100, 100.0], ["20代", "—", "—"], ["30代", "—", "—"]]
    assert found(tmp_path, page(("年代別の回答者数", AGES, hidden),
                                ("性別×年代", profile, cells))) == []
    # a 年代 table of fewer respondents than the 性別×年代 one counts other respondents
    fewer = [["全体", 50, 100.0], ["20代", 11, 22.0], ["30代", 39, 78.0]]
    assert found(tmp_path, page(("年代別の回答者数", AGES, fewer),
                                ("性別×年代", profile, cells))) == []
