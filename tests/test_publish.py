"""The publication boundary: the disclosure rule on every kind of table, thresholds on both
sides, and rounding half up in records, tables, charts and workbooks. Every published table is
then attacked as a reader would (``helpers.build.attack``) and must give nothing away."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from helpers.analysis.common import CROSSTAB, DISTRIBUTION, GROUPS, RATES, Table
from helpers.analysis.publish import Publication
from helpers.build.attack import Grid, attack
from helpers.excel import read_tables, write_tables
from helpers.figures import bar_chart
from helpers.stats import proportion

K = 10


def rates_frame(groups: dict[str, tuple[int, int]], by: str = "group") -> pd.DataFrame:
    """A raw rate table: a 全体 row, then (n, x) per group, with Wilson intervals."""
    rows = []
    for label, (n, x) in {"全体": tuple(map(sum, zip(*groups.values(), strict=True))),
                          **groups}.items():
        est = proportion(pd.Series([True] * x + [False] * (n - x), dtype="boolean"))
        rows.append({by: label, "n": n, "x": x, "p": est.p, "lo": est.lo, "hi": est.hi})
    return pd.DataFrame(rows)


def publish(*tables: Table, min_cell: int = K) -> list[Table]:
    pub = Publication()
    for table in tables:
        pub.add(table)
    pub.publish(min_cell)
    return list(tables)


def rows_of(table: Table) -> dict[str, dict]:
    return {r[table.label_columns[-1]]: r for r in table.records()}


def grids(*tables: Table) -> list[Grid]:
    """The tables as a page shows them."""
    out = []
    for t in tables:
        shown = t.display()
        out.append(Grid(t.title, list(shown.columns), shown.values.tolist()))
    return out


@pytest.mark.parametrize(
    ("n", "x", "shown"),
    [
        (0, 0, "nothing"), (1, 0, "nothing"), (1, 1, "nothing"), (9, 0, "nothing"),
        (9, 9, "nothing"), (10, 0, "rate"), (10, 1, "base"), (10, 9, "base"),
        (10, 10, "rate"), (11, 0, "rate"), (11, 1, "base"), (11, 10, "base"), (11, 11, "rate"),
        (19, 10, "base"), (20, 10, "rate"), (21, 10, "rate"), (21, 11, "rate"),
    ],
)
def test_a_group_on_both_sides_of_every_threshold(n: int, x: int, shown: str) -> None:
    """min_cell − 1, min_cell, min_cell + 1; counts 0 and 1; a base of 1 and of 0."""
    groups = {"G": (n, x), "H": (200, 80), "I": (150, 45)}
    (table,) = publish(Table("t", "表", rates_frame(groups), RATES, universe="u", flag="f"))
    g = rows_of(table)["G"]
    if shown == "nothing":  # a group under min_cell is hidden as a whole (no 0 either)
        assert all(g[c] is None for c in ("n", "x", "p", "lo", "hi"))
    elif shown == "base":  # with or without the flag under min_cell: the rate would give it
        assert g["n"] == n and all(g[c] is None for c in ("x", "p", "lo", "hi"))
    else:
        assert (g["n"], g["x"], g["p"]) == (n, x, round(1000 * x / n) / 10)  # no .x5 here
    assert rows_of(table)["全体"]["n"] == n + 350  # the total always shows
    assert attack(grids(table), K) == []


def test_secondary_suppression_keeps_a_small_group_from_the_total() -> None:
    groups = {"飯山": (242, 90), "柳原": (35, 4), "富倉": (10, 5), "太田": (41, 16),
              "岡山": (39, 15), "秋津": (57, 21)}
    (table,) = publish(Table("d", "地区別", rates_frame(groups, "地区"), RATES, universe="u",
                             flag="f"))
    rows = rows_of(table)
    assert rows["柳原"]["p"] is None and rows["富倉"]["p"] is None  # 4 and 5 lonely
    assert rows["柳原"]["n"] == 35 and rows["富倉"]["n"] == 10  # bases of 10+ still show
    hidden_x = [k for k, r in rows.items() if r["x"] is None]
    assert len(hidden_x) >= 2  # 4 + 5 alone would be 222 minus the rest: one more is hidden
    assert (rows["全体"]["p"], rows["飯山"]["p"]) == (35.6, 37.2)  # 151/424, 90/242
    assert attack(grids(table), K) == []


def test_no_answer_rows_protect_a_small_group_without_hiding_a_large_one() -> None:
    groups = {"男性": (300, 110), "女性": (335, 109), "その他・答えたくない": (3, 1),
              "無回答": (4, 2)}
    (table,) = publish(Table("s", "性別", rates_frame(groups, "性別"), RATES))
    rows = rows_of(table)
    assert (rows["男性"]["p"], rows["女性"]["p"]) == (36.7, 32.5)  # 110/300, 109/335
    assert rows["その他・答えたくない"]["n"] is None and rows["無回答"]["n"] is None
    assert attack(grids(table), K) == []
    without = {k: v for k, v in groups.items() if k != "無回答"}  # nobody skipped the question
    (table,) = publish(Table("s", "性別", rates_frame(without, "性別"), RATES))
    rows = rows_of(table)
    assert rows["その他・答えたくない"]["n"] is None
    assert rows["男性"]["n"] is None or rows["女性"]["n"] is None  # the only way to protect 3
    assert attack(grids(table), K) == []


def _nested() -> pd.DataFrame:
    cells = {("男性", "20代"): (20, 10), ("男性", "30代"): (28, 12), ("男性", "19歳以下"): (6, 3),
             ("男性", "無回答"): (0, 0), ("女性", "無回答"): (0, 0),  # some skipped the age
             ("女性", "20代"): (22, 9), ("女性", "30代"): (32, 13), ("女性", "40代"): (38, 16),
             ("その他・答えたくない", "20代"): (2, 1), ("その他・答えたくない", "30代"): (0, 0),
             ("その他・答えたくない", "40代"): (1, 0), ("無回答", "20代"): (2, 1)}
    rows = []
    for sex in dict.fromkeys(s for s, _ in cells):
        part = {a: v for (s, a), v in cells.items() if s == sex}
        frame = rates_frame(part, "age_band").assign(sex=sex)
        rows.append(frame)
    body = pd.concat(rows, ignore_index=True)
    grand = rates_frame({"all": tuple(map(sum, zip(*cells.values(), strict=True)))}).iloc[:1]
    grand = grand.rename(columns={"group": "age_band"}).assign(sex="全体")
    return pd.concat([grand, body], ignore_index=True)[["sex", "age_band", "n", "x", "p", "lo",
                                                         "hi"]]


def test_a_small_group_is_hidden_as_a_whole_without_its_zeros() -> None:
    (table,) = publish(Table("sa", "性別・年代別", _nested(), RATES, labels=("sex", "age_band"),
                             universe="u", flag="f"))
    records = table.records()
    other = [r for r in records if r["sex"] == "その他・答えたくない"]
    assert [r["age_band"] for r in other] == ["全体"]  # not broken down: no 0 next to a —
    assert other[0]["n"] is None
    women20 = next(r for r in records if (r["sex"], r["age_band"]) == ("女性", "20代"))
    assert women20["x"] is None and women20["p"] is None  # 9 of 22: the rate would give 9
    men = {r["age_band"]: r for r in records if r["sex"] == "男性"}
    assert men["19歳以下"]["n"] is None and men["無回答"]["n"] is None  # they hide each other
    assert men["20代"]["p"] == 50.0  # 10 of 20 and 10 not: shown
    assert attack(grids(table), K) == []


def test_distribution_shares_hide_with_their_counts() -> None:
    frame = pd.DataFrame({"ans": ["全体", "a", "b", "c", "d"], "count": [120, 80, 4, 24, 12]})
    frame["share"] = frame["count"] / 120
    (table,) = publish(Table("dist", "分布", frame, DISTRIBUTION, universe="u"))
    rows = rows_of(table)
    assert rows["b"]["count"] is None and rows["b"]["share"] is None
    assert rows["d"]["count"] is None and rows["d"]["share"] is None  # the smallest partner
    assert rows["a"]["share"] == 66.7 and rows["全体"]["share"] == 100.0
    assert attack(grids(table), K) == []


def test_a_cross_table_and_its_margins_in_another_table_agree() -> None:
    counts = np.array([[60, 25, 0], [5, 40, 12], [0, 3, 30]])
    labels = ["多い", "中", "少ない"]
    cross = pd.DataFrame(counts, columns=labels).assign(s=labels, n=counts.sum(axis=1))
    top = {"s": "全体", "n": counts.sum(), **dict(zip(labels, counts.sum(axis=0), strict=True))}
    cross = pd.concat([pd.DataFrame([top]), cross], ignore_index=True)[["s", "n", *labels]]
    blocks = []
    for season, margin in (("春～秋", counts.sum(axis=1)), ("冬", counts.sum(axis=0))):
        blocks += [{"season": season, "answer": "全体", "count": counts.sum()},
                   *({"season": season, "answer": a, "count": c}
                     for a, c in zip(labels, margin, strict=True))]
    dist = pd.DataFrame(blocks)
    dist["share"] = dist["count"] / counts.sum()
    t_cross = Table("tr", "移り変わり", cross, CROSSTAB, answers=tuple(labels), universe="b")
    t_dist = Table("dist", "分布", dist, DISTRIBUTION, labels=("season", "answer"), universe="b")
    pub = Publication()
    pub.add(t_cross)
    pub.add(t_dist)
    for a, i in zip(labels, range(3), strict=True):
        pub.same(pub.key(t_dist, ("春～秋", a), "count"), pub.key(t_cross, (labels[i],), "n"))
        pub.same(pub.key(t_dist, ("冬", a), "count"), pub.key(t_cross, ("全体",), a))
    pub.publish(K)
    shares = t_cross.records()
    assert shares[2]["多い"] is None and shares[3]["中"] is None  # 5 and 3 hidden
    assert all(v is None or round(v, 1) == v for r in shares for v in r.values()
               if isinstance(v, float))  # percentages with one decimal, never fractions
    assert attack(grids(t_cross, t_dist), K) == []


def test_groups_show_statistics_only_on_a_shown_base() -> None:
    frame = pd.DataFrame({"level": ["良い", "悪い"], "n": [50, 7], "odds_ratio": [1.0, 2.345],
                          "or_lo": [np.nan, 1.1], "or_hi": [np.nan, 4.9], "p_value": [np.nan,
                                                                                     0.01234]})
    (table,) = publish(Table("or", "オッズ比", frame, GROUPS))
    rows = rows_of(table)
    assert rows["悪い"]["odds_ratio"] is None and rows["悪い"]["n"] is None
    assert rows["良い"]["odds_ratio"] == 1.0


@pytest.mark.parametrize(("x", "n", "shown"), [(13, 80, "16.3"), (5, 80, "6.3"), (1, 8, "12.5"),
                                               (27, 40, "67.5"), (77, 200, "38.5")])
def test_one_number_reads_the_same_in_every_path(tmp_path, x: int, n: int, shown: str) -> None:
    """A share exactly half-way (13/80 = 16.25 %, 5/80 = 6.25 %) is rounded half up once, at
    the publication boundary: the record (results.json), the table on the page (HTML), the
    workbook cell, the chart and a sentence of the report all show the same string."""
    from helpers.analysis.district import District
    from helpers.escape import html_table

    frame = rates_frame({"A": (n, x), "B": (200, 100), "C": (120, 60)}, "district")
    (table,) = publish(Table("lonely_by_district", "地区別", frame, RATES, universe="u",
                             flag="f", labels=("district",)), min_cell=1)
    assert f"{rows_of(table)['A']['p']:.1f}" == shown  # results.json
    page = html_table(table.display()).to_html()
    assert re.search(r'class="data row1 col3" >([^<]*)<', page)[1] == shown  # row 0: 全体
    book = write_tables({"s": [(table.title, table.display(text=False))]}, tmp_path / "x.xlsx",
                        ["注記"])
    assert f"{read_tables(book)['s'][0][1].loc[1, '割合（%）']:.1f}" == shown
    chart = bar_chart(table.parts(), "district", title="t", what="w", n=n + 320, min_cell=1,
                      interactive=True)
    assert f"{chart.figure.data[0].y[0]:.1f}" == shown
    assert f"「A」が{shown}%で最も" in District(table, 1).text()  # highest or lowest


@pytest.mark.parametrize("seed", range(12))
def test_random_tables_published_give_nothing_away(seed: int) -> None:
    rng = np.random.default_rng(seed)
    groups = {}
    for g in range(rng.integers(3, 8)):
        n = int(rng.choice([0, 1, 3, 9, 10, 11, 15, 25, 60, 150]))
        groups[f"g{g}"] = (n, int(rng.integers(0, n + 1)))
    if rng.random() < 0.5:
        groups["無回答"] = (int(rng.integers(0, 12)), 0)
    frame = rates_frame(groups)
    frame.loc[frame["group"] == "無回答", "x"] = 0
    (table,) = publish(Table("t", "表", frame, RATES, universe="u", flag="f"))
    assert attack(grids(table), K) == []
    for r in table.records():
        for col in ("n", "x"):
            assert r[col] is None or r[col] == 0 or r[col] >= K or r["group"] == "無回答"


def test_a_group_within_another_has_a_rest_never_shown_or_is_the_same_count() -> None:
    """outer = inner + a rest never shown (latent: hidden, not protected); a rest of 0 makes the
    two one count; more inside than outside is a programming error, said so."""
    pub = Publication()
    for key, value in {"model": 40, "group": 37, "all": 37}.items():
        pub.ledger.cell(key, value)
    pub.within("model", "group")
    pub.within("all", "group")
    assert pub.ledger.values()[("rest", "model", "group")] == 3
    assert ("rest", "all", "group") not in pub.ledger
    assert pub.ledger.protect(10) == {("rest", "model", "group")}
    with pytest.raises(ValueError, match=r"^'model' counts more respondents than 'all'$"):
        pub.within("all", "model")


def test_a_table_without_rows_is_published_empty() -> None:
    """No group stands out (孤独層): the table has no row, and the report still goes out."""
    frame = rates_frame({"A": (20, 10)}).iloc[:0]
    (table,) = publish(Table("standout", "表", frame, RATES))
    assert table.published.empty
    assert list(table.published.columns) == ["group", "n", "x", "p", "lo", "hi"]


def test_an_odds_ratio_is_hidden_with_the_reference_groups_few() -> None:
    """An unadjusted model (a town without sex, age or household): 4 of the 40 answering
    良いと思う are lonely, hidden in the rate table; the other levels' odds ratios with their
    intervals and bases would give those 4 back (Woolf's interval pins them), so they go too."""
    from types import SimpleNamespace

    from helpers.analysis.common import rates
    from helpers.analysis.smalltown import SmalltownItem, _good, _odds
    from helpers.towns import load_town

    town = load_town("iiyama")
    labels = list(town.codebook["town_faces"].labels().values())
    counts = {labels[0]: (40, 4), labels[1]: (30, 15), labels[2]: (30, 12)}
    answers = [a for a, (n, _) in counts.items() for _ in range(n)]
    lonely = [i < x for n, x in counts.values() for i in range(n)]
    df = pd.DataFrame({"town_faces": pd.Categorical(answers, categories=labels),
                       "lonely": pd.array(lonely, dtype="boolean")})
    ctx = SimpleNamespace(df=df, design=None, town=town, min_cell=K)
    odds, fits = _odds(ctx, "town_faces", [])
    groups = Table("town_faces", "考え方別", rates(df, "lonely", ["town_faces"]), RATES,
                   universe="all", flag="lonely")
    item = SmalltownItem("town_faces", groups, None, None, odds, fits, [], [], None, None,
                         _good(ctx, "town_faces"))
    pub = Publication()
    for table in item.tables():
        pub.add(table)
    item.links(pub)
    pub.publish(K)
    assert rows_of(groups)[labels[0]]["x"] is None
    assert [r["odds_ratio"] for r in odds.records()] == [None, None, None]
    assert attack(grids(groups, odds), K) == []


def test_ratios_and_scores_keep_two_decimals_and_p_values_four() -> None:
    frame = pd.DataFrame({"group": ["A", "B"], "n": [40, 50], "mean": [2.345, 1.0],
                          "odds_ratio": [1.005, 3.0], "p_value": [0.012345, 0.00005]})
    (table,) = publish(Table("g", "表", frame, GROUPS))
    published = table.published
    assert published["mean"].tolist() == [2.35, 1.0]
    assert published["odds_ratio"].tolist() == [1.01, 3.0]
    assert published["p_value"].tolist() == [0.0123, 0.0001]


def test_groups_within_another_add_up_to_it_with_a_rest_never_shown() -> None:
    """An age band's respondents hold each sex's of that band in a loneliness table: with
    nobody left out a reader adds the parts up to it (so a hidden part is protected by the
    others), else the rest is latent."""
    pub = Publication()
    for key, value in {"band": 40, "all": 37, "men": 30, "other": 7}.items():
        pub.ledger.cell(key, value)
    pub.within("band", "men", "other")
    pub.within("all", "men", "other")
    assert pub.ledger.values()[("rest", "band", "men", "other")] == 3
    assert ("rest", "all", "men", "other") not in pub.ledger
    # 37 = 30 + 7: the small 7 is hidden, and 30 with it (else 37 − 30 gives 7)
    assert pub.ledger.protect(10) == {"other", "men", ("rest", "band", "men", "other")}
    # not merged: a rest of 0 stays a count of its own (a reader only knows it is ≥ 0); 37 − 30
    # is still 7 of other respondents (the rest being 0), so 30 is hidden too
    loose = Publication()
    for key, value in {"all": 37, "men": 30, "other": 7}.items():
        loose.ledger.cell(key, value)
    loose.within("all", "men", "other", merge=False)
    assert loose.ledger.values()[("rest", "all", "men", "other")] == 0
    assert loose.ledger.protect(10) == {"other", "men", ("rest", "all", "men", "other")}
    with pytest.raises(ValueError, match=r"^'men' \+ 'other' counts more respondents than"):
        pub.within("other", "men", "other")


def test_a_protected_latent_count_is_never_worked_out() -> None:
    """The respondents of other sexes in an age band (40 − 18 − 19 = 3): never shown, and a
    reader may not subtract them out either, unlike respondents who skipped a question."""
    for protected, hidden in ((True, {"band", "other band", "S"}), (False, {"S"})):
        pub = Publication()
        for key, value in {"all": 100, "band": 40, "other band": 60, "men": 18,
                           "women": 19}.items():
            pub.ledger.cell(key, value)
        pub.sum("all", ["band", "other band"])
        pub.sum("band", ["men", "women", pub.latent("S", 3, protected=protected)])
        for band in ("band", "other band"):
            pub.ledger.expendable(band)
        pub.publish(10)
        assert pub.hidden == hidden
