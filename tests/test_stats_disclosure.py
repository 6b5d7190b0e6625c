"""Disclosure control: primary and secondary suppression on small hand-made tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from helpers.stats import suppress_counts, suppress_rates


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
