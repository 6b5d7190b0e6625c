"""Disclosure control: primary and secondary suppression on small hand-made tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from helpers.stats import Ledger, rule_text, suppress_counts, suppress_rates


def table(rows: list[list[int]]) -> pd.DataFrame:
    return pd.DataFrame(rows, index=[f"r{i}" for i in range(len(rows))]).rename(
        columns=lambda j: f"c{j}"
    )


def hidden_cells(mask: pd.DataFrame) -> set[tuple[int, int]]:
    return {(int(i), int(j)) for i, j in zip(*np.nonzero(mask.to_numpy()), strict=True)}


def test_suppress_rates() -> None:
    base = pd.Series([0, 1, 9, 10, 643], index=list("abcde"))
    assert suppress_rates(base).tolist() == [True, True, True, False, False]
    assert suppress_rates(base, min_cell=5).tolist() == [True, True, False, False, False]
    assert list(suppress_rates(base).index) == list("abcde")


def test_nothing_to_hide() -> None:
    mask = suppress_counts(table([[0, 15], [12, 20]]))
    assert not mask.to_numpy().any()
    assert list(mask.index) == ["r0", "r1"]
    assert list(mask.columns) == ["c0", "c1"]


def test_primary_cells_that_protect_each_other() -> None:
    # every row and column with a small count has two of them: no cell can be worked out
    mask = suppress_counts(table([[3, 8, 40], [7, 6, 40], [30, 30, 30]]))
    assert hidden_cells(mask) == {(0, 0), (0, 1), (1, 0), (1, 1)}


def test_a_cell_whose_complement_is_small_is_hidden_too() -> None:
    # row r0: 57 − 50 = 7 (3 + 4 together); column c0: 38 − 30 = 8 (3 + 5)
    mask = suppress_counts(table([[3, 4, 50], [5, 6, 40], [30, 30, 30]]))
    assert hidden_cells(mask) == {(0, 0), (0, 1), (1, 0), (1, 1), (0, 2), (2, 0)}


def test_secondary_suppression_by_hand() -> None:
    # 3 is hidden; row r0 would give it away (total − 20 − 50): hide 20, the next-smallest.
    # Column c0 would give it away too: hide 15. Column c1 now has 20 alone: hide 12.
    mask = suppress_counts(table([[3, 20, 50], [15, 12, 40], [30, 25, 60]]))
    assert hidden_cells(mask) == {(0, 0), (0, 1), (1, 0), (1, 1)}


def test_a_hidden_count_of_min_cell_may_be_worked_out() -> None:
    # the 10 of row r1 is hidden to protect its row's 3; column c0 gives it back (20 − 10),
    # which publishes nothing secret: the 10 of row r0 stays shown
    mask = suppress_counts(table([[10, 20, 3], [10, 3, 0]]))
    assert hidden_cells(mask) == {(0, 1), (0, 2), (1, 0), (1, 1), (1, 2)}


def test_secondary_prefers_non_zero_cells() -> None:
    # the 0 in row r0 protects nothing (a reader may know the category is empty)
    mask = suppress_counts(table([[3, 0, 40], [20, 30, 30]]))
    assert hidden_cells(mask) == {(0, 0), (0, 2), (1, 0), (1, 2)}


def test_single_column_against_its_total() -> None:
    base = table([[120], [5], [60], [80]])
    assert hidden_cells(suppress_counts(base)) == {(1, 0), (2, 0)}


def test_min_cell_parameter() -> None:
    counts = table([[3, 3], [3, 3], [5, 5]])
    assert hidden_cells(suppress_counts(counts, min_cell=4)) == {(0, 0), (0, 1), (1, 0), (1, 1)}
    assert suppress_counts(counts, min_cell=10).to_numpy().all()


@pytest.mark.parametrize("seed", range(20))
def test_no_line_ever_has_a_single_hidden_cell(seed: int) -> None:
    rng = np.random.default_rng(seed)
    counts = table(rng.choice([0, 2, 5, 9, 10, 15, 40], size=(4, 5)).tolist())
    mask = suppress_counts(counts).to_numpy()
    value = counts.to_numpy()
    assert mask[(value > 0) & (value < 10)].all()  # every small count is hidden
    assert (mask.sum(axis=1) != 1).all()  # no row total gives a hidden cell away
    assert (mask.sum(axis=0) != 1).all()  # nor a column total


# --- the ledger behind the publication boundary ---


def ledger(cells: dict[str, int], sums: dict[str, list[str]], **kinds: list[str]) -> Ledger:
    book = Ledger()
    for key, value in cells.items():
        latent = key in kinds.get("latent", []) or key in kinds.get("secret", [])
        protected = key not in kinds.get("unprotected", []) and (
            key not in kinds.get("latent", []))
        book.cell(key, value, latent=latent, protected=protected)
    for total, parts in sums.items():
        book.sum(total, parts)
    return book


def test_a_count_shown_twice_is_hidden_twice() -> None:
    book = ledger({"all": 40, "a": 22, "b": 15, "c": 3, "c again": 3}, {"all": ["a", "b", "c"]})
    book.same("c", "c again")
    assert book.protect(10) == {"b", "c", "c again"}
    with pytest.raises(ValueError, match="cannot be the same count"):
        book.same("a", "b")


@pytest.mark.parametrize(("value", "hidden"), [(0, False), (1, True), (9, True), (10, False)])
def test_primary_on_both_sides_of_min_cell(value: int, hidden: bool) -> None:
    book = ledger({"all": 100 + value, "a": 100, "b": value}, {})
    assert ("b" in book.protect(10)) is hidden


def test_non_response_hides_a_small_group_but_need_not_stay_unknown() -> None:
    # その他 3 and 無回答 4: each hides the other; nothing else is hidden
    book = ledger({"all": 643, "男性": 300, "女性": 336, "その他": 3, "無回答": 4},
                  {"all": ["男性", "女性", "その他", "無回答"]}, unprotected=["無回答"])
    assert book.protect(10) == {"その他", "無回答"}
    # 無回答 12 is shown; worked out or not, it says nobody's answer
    book = ledger({"all": 643, "男性": 300, "女性": 331, "無回答": 12},
                  {"all": ["男性", "女性", "無回答"]}, unprotected=["無回答"])
    assert book.protect(10) == set()


def test_a_latent_count_protects_but_is_never_shown() -> None:
    book = ledger({"all": 50, "shown": 40, "small": 4, "skipped": 6},
                  {"all": ["shown", "small", "skipped"]}, latent=["skipped"])
    assert book.protect(10) == {"small", "skipped"}


def test_a_hidden_zero_a_reader_can_work_out_protects_nothing() -> None:
    # row a: 4 of 10, hidden; the empty row b (hidden, like an empty 無回答 row) would pair with
    # it, but 30 − 10 − 20 = 0 fixes b, counts are never negative, so ax = 14 − 10 − 0 = 4
    cells = {"N": 30, "a": 10, "b": 0, "c": 20, "X": 14, "ax": 4, "bx": 0, "cx": 10,
             "Y": 16, "ay": 6, "by": 0, "cy": 10}
    sums = {"N": ["a", "b", "c"], "X": ["ax", "bx", "cx"], "Y": ["ay", "by", "cy"],
            "a": ["ax", "ay"], "b": ["bx", "by"], "c": ["cx", "cy"]}
    book = ledger(cells, sums, unprotected=["b", "bx", "by"])
    for base, members in (("a", ["ax", "ay"]), ("b", ["bx", "by"]), ("c", ["cx", "cy"])):
        book.group(base, members)
    hidden = book.protect(10)
    assert {"ax", "ay", "b"} <= hidden
    assert hidden & {"a", "c", "cx", "cy"}  # so more is hidden


def test_a_group_under_min_cell_is_hidden_with_its_zeros() -> None:
    book = ledger({"g": 3, "gx": 0, "gy": 3}, {"g": ["gx", "gy"]})
    book.group("g", ["gx", "gy"])
    assert book.protect(10) == {"g", "gx", "gy"}


def test_the_complement_of_a_shown_cell_is_protected() -> None:
    # a row 0 + 3 + 30 = 33: the 0 beside the 3 does not stop 33 − 30 = 3
    mask = suppress_counts(table([[0, 3, 30], [20, 40, 12], [60, 25, 0]]))
    assert (0, 2) in hidden_cells(mask) and (0, 1) in hidden_cells(mask)


@pytest.mark.parametrize(("no_answer", "hidden"), [
    (0, {"a", "s", "t"}),  # 30 − 25 = 5 who answered s or t: a small group, a is hidden
    (1, {"s", "t", "無回答"}),  # 31 − 25 = 6 holds a non-response: no group of answers
])
def test_a_complement_beside_an_empty_non_response_is_still_a_group(no_answer, hidden) -> None:
    book = ledger({"all": 30 + no_answer, "a": 25, "s": 3, "t": 2, "無回答": no_answer},
                  {"all": ["a", "s", "t", "無回答"]}, unprotected=["無回答"])
    assert book.protect(10) == hidden


def test_rule_text_states_the_thresholds() -> None:
    assert "1～9人" in rule_text(10)[0] and "10人未満" in rule_text(10)[1]
    assert "1～4人" in rule_text(5)[0]
    assert "基準の人数" in rule_text(None)[1]


def test_the_rule_as_the_methods_page_and_workbooks_state_it() -> None:
    assert rule_text(10) == [
        "回答者保護のため、1～9人の人数は表示せず「—」としています。",
        "回答者（集計の基数）が10人未満の区分は、0人の場合も含めて、人数・割合・信頼区間をすべて"
        "「—」としています。",
        "割合は、その区分で該当する人と該当しない人がどちらも0人または10人以上のときだけ表示します"
        "（たとえば14人中11人が該当する場合、割合から該当しない3人が分かるため「—」）。",
        "「—」にした人数が、合計や他の行・列、他の表との足し算・引き算で分かってしまう場合は、"
        "ほかの数値も「—」にしています（二次秘匿）。",
        "検定の結果は、その集計のすべての区分を表示できるときだけ示しています。",
        "「無回答」（その質問に答えなかった人）の行も10人未満のときは「—」としますが、回答の内容を"
        "表すものではないため、他の数値から計算で分かる場合があります。",
    ]


def test_a_missing_base_or_count_counts_as_none() -> None:
    assert suppress_rates(pd.Series([pd.NA, 12, 3], dtype="Int64")).tolist() == [True, False, True]
    mask = suppress_counts(pd.DataFrame({"a": [None, 20.0], "b": [15.0, 30.0]}))
    assert not mask.to_numpy().any()  # as a 0: nothing small to hide


def test_a_latent_count_is_not_protected_itself() -> None:
    # 50 − 44 = 6 gives the latent count away, and may: nobody publishes it as a count
    book = ledger({"all": 50, "a": 44, "L": 6}, {"all": ["a", "L"]}, latent=["L"])
    assert book.protect(10) == {"L"}


def test_a_secret_count_is_never_published_nor_worked_out() -> None:
    # the respondents of some sexes in an age band: 50 − 44 = 6 would give them away
    book = ledger({"all": 50, "a": 44, "S": 6}, {"all": ["a", "S"]}, secret=["S"])
    assert book.protect(10) == {"S", "a"}
    # never shown even when not small (a latent cell)
    assert ledger({"all": 50, "a": 30, "S": 20}, {"all": ["a", "S"]},
                  secret=["S"]).protect(10) == {"S"}


def test_an_expendable_cell_is_hidden_before_a_smaller_one() -> None:
    """Two age bands' 40 and 60 (profile counts another table breaks down) go before the 12
    respondents of one row (hiding the 40 alone, 100 − 60 would give it)."""
    cells = {"all": 100, "band": 40, "other band": 60, "men": 12, "women": 25, "S": 3}
    sums = {"all": ["band", "other band"], "band": ["men", "women", "S"]}
    assert ledger(cells, sums, secret=["S"]).protect(10) == {"S", "men"}
    book = ledger(cells, sums, secret=["S"])
    for band in ("band", "other band"):
        book.expendable(band)
    assert book.protect(10) == {"S", "band", "other band"}


def test_latent_twice_stays_latent() -> None:
    book = Ledger()
    for key in ("x", "y"):
        book.cell(key, 20, latent=True)
    book.same("x", "y")
    assert book.protect(10) == {"x", "y"}  # 20 is not small, but never published


def test_a_no_answer_count_shown_again_in_a_protected_place_is_protected() -> None:
    def book(twin: bool) -> Ledger:
        cells = {"all": 643, "男性": 300, "女性": 339, "無回答": 4}
        b = ledger({**cells, "無回答 again": 4} if twin else cells,
                   {"all": ["男性", "女性", "無回答"]}, unprotected=["無回答"])
        if twin:
            b.same("無回答", "無回答 again")
        return b

    assert book(twin=False).protect(10) == {"無回答"}  # worked out, but says nobody's answer
    assert book(twin=True).protect(10) == {"無回答", "無回答 again", "男性"}


def test_a_whole_group_is_hidden_with_its_base_whatever_the_reason() -> None:
    book = ledger({"B": 30, "m1": 15, "m2": 15}, {"B": ["m1", "m2"]}, latent=["B"])
    book.group("B", ["m1", "m2"])
    assert book.protect(10) == {"B", "m1", "m2"}
    book = ledger({"B": 30, "m1": 15, "m2": 15}, {"B": ["m1", "m2"]}, latent=["B"])
    book.group("B", ["m1", "m2"], whole=False)  # a distribution's total: its parts stay
    assert book.protect(10) == {"B"}


def test_secondary_suppression_spares_a_groups_base_of_the_same_count() -> None:
    # 44 − 20 − 20 gives the 4 away: hide c (20), not the base b (20) with its figures
    book = ledger({"T": 44, "a": 4, "b": 20, "c": 20, "b1": 10, "b2": 10},
                  {"T": ["a", "b", "c"], "b": ["b1", "b2"]})
    book.group("b", ["b1", "b2"])
    assert book.protect(10) == {"a", "c"}


def test_what_the_sums_alone_fix_and_what_counts_never_negative_fix() -> None:
    """The rule's two readers: one solves the published sums (linear algebra), the other also
    knows that counts are never negative (a linear program). Hand-worked on one table:
    T = a + b + c = 10 and U = a + d = 6, with a = 2, b = 8, c = 0, d = 4."""
    from helpers.stats.disclosure import _Protection

    book = Ledger()
    for key, n in {"T": 10, "a": 2, "b": 8, "c": 0, "U": 6, "d": 4, "lone": 3}.items():
        book.cell(key, n)
    book.sum("T", ["a", "b", "c"])
    book.sum("U", ["a", "d"])
    rule = _Protection(book, min_cell=5)
    cell = {k: n for n, k in enumerate(["T", "a", "b", "c", "U", "d", "lone"])}

    def hiding(*keys: str) -> np.ndarray:
        hidden = np.zeros(len(cell), bool)
        hidden[[cell[k] for k in keys]] = True
        return hidden

    # a alone hidden: T − b − c gives it
    assert rule._linear(hiding("a"), cell["a"]) is True
    # a and b hidden: T gives a + b = 8, U gives a = 6 − d = 2: still fixed, through U
    assert rule._linear(hiding("a", "b"), cell["a"]) is True
    # a, b and d hidden: a + b = 8 and a + d = 6 have a line of solutions
    assert rule._linear(hiding("a", "b", "d"), cell["a"]) is False
    # … and counts ≥ 0 still leave a anywhere in 0 … 6
    assert rule._bounded(hiding("a", "b", "d"), cell["a"]) is False
    # a, b, c hidden with U and d published: the sums fix a but not b or c
    fixed = rule._determined(hiding("a", "b", "c"), cell["a"])
    assert fixed == {cell["a"]: True, cell["b"]: False, cell["c"]: False}
    # a cell in no sum is fixed by none
    assert rule._linear(hiding("lone"), cell["lone"]) is False
