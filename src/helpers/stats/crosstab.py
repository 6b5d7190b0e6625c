"""Cross tables with row percentages, base n and disclosure control."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from helpers.stats._common import BASE_LABEL, TOTAL_LABEL, levels, weight_values
from helpers.stats.disclosure import DEFAULT_MIN_CELL, suppress_counts, suppress_rates
from helpers.stats.format import DASH, fmt_pct


@dataclass
class Crosstab:
    """A cross table of two answers.

    Attributes
    ----------
    counts
        Unweighted counts, rows × columns in category order (unused categories kept).
    row_pct
        Row shares as proportions 0–1 (weighted when weights were given); NaN for empty rows.
    base
        Unweighted number of respondents per row.
    suppressed
        True where a row share may not be published (row base < min_cell).
    counts_suppressed
        True where a count may not be published (1 … min_cell−1, plus secondary suppression).
    total_pct, total_base
        Column shares and base of all respondents with both answers (the "全体" row).
    """

    counts: pd.DataFrame
    row_pct: pd.DataFrame
    base: pd.Series
    suppressed: pd.DataFrame
    counts_suppressed: pd.DataFrame
    total_pct: pd.Series
    total_base: int
    min_cell: int

    def table(self, values: str = "pct", total: bool = True) -> pd.DataFrame:
        """Display table of strings: "—" in suppressed cells, a "回答者数" base column.

        Parameters
        ----------
        values
            "pct" for row percentages, "count" for counts.
        total
            Add a "全体" row first (all respondents with both answers).

        The base column follows the count rule (0 or ≥ min_cell, with secondary suppression
        against the shown total).
        """
        if values == "pct":
            body = self.row_pct.map(fmt_pct).mask(self.suppressed, DASH)
        elif values == "count":
            body = self.counts.map(lambda v: f"{v:,}").mask(self.counts_suppressed, DASH)
        else:
            raise ValueError(f"values must be 'pct' or 'count', got {values!r}")
        base_hidden = suppress_counts(self.base.to_frame(), self.min_cell).iloc[:, 0]
        body[BASE_LABEL] = self.base.map(lambda v: f"{v:,}").mask(base_hidden, DASH)
        if total:
            hide = self.total_base < self.min_cell
            if values == "pct":
                top = [DASH if hide else fmt_pct(v) for v in self.total_pct]
            else:
                sums = self.counts.sum(axis=0).to_frame().T
                hidden = suppress_counts(sums, self.min_cell).iloc[0]
                top = [DASH if h else f"{v:,}" for v, h in zip(sums.iloc[0], hidden, strict=True)]
            base_shown = DASH if 0 < self.total_base < self.min_cell else f"{self.total_base:,}"
            head = pd.DataFrame([[*top, base_shown]], columns=body.columns, index=[TOTAL_LABEL])
            body = pd.concat([head, body.set_axis(body.index.astype(object))])
        body.index.name = self.counts.index.name
        return body


def _shares(table: np.ndarray) -> np.ndarray:
    """Row shares of a table, NaN for rows that sum to zero."""
    sums = table.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(sums > 0, table / np.where(sums > 0, sums, 1), np.nan)


def crosstab(
    df: pd.DataFrame,
    row: str,
    col: str,
    weights: str | None = None,
    min_cell: int = DEFAULT_MIN_CELL,
) -> Crosstab:
    """Cross-tabulate ``row`` × ``col`` (respondents with both answers).

    Counts and bases are unweighted; row shares are weighted when ``weights`` names a weight
    column. Shares of rows with fewer than ``min_cell`` respondents are suppressed.
    """
    r_levels, c_levels = levels(df[row]), levels(df[col])
    both = df[row].notna() & df[col].notna()
    sub = df.loc[both]
    r_idx = pd.Index(r_levels).get_indexer(sub[row].astype(object))
    c_idx = pd.Index(c_levels).get_indexer(sub[col].astype(object))
    w = weight_values(sub[weights] if weights else None, len(sub))
    shape = (len(r_levels), len(c_levels))
    counts = np.zeros(shape, dtype=int)
    wsum = np.zeros(shape)
    np.add.at(counts, (r_idx, c_idx), 1)
    np.add.at(wsum, (r_idx, c_idx), w)

    index = pd.Index(r_levels, name=row)
    columns = pd.Index(c_levels, name=col)
    counts_df = pd.DataFrame(counts, index=index, columns=columns)
    base = pd.Series(counts.sum(axis=1), index=index, name=BASE_LABEL)
    row_supp = suppress_rates(base, min_cell).to_numpy()
    total = wsum.sum(axis=0)
    return Crosstab(
        counts=counts_df,
        row_pct=pd.DataFrame(_shares(wsum), index=index, columns=columns),
        base=base,
        suppressed=pd.DataFrame(
            np.repeat(row_supp[:, None], len(c_levels), axis=1), index=index, columns=columns
        ),
        counts_suppressed=suppress_counts(counts_df, min_cell),
        total_pct=pd.Series(_shares(total[None, :])[0], index=columns),
        total_base=int(counts.sum()),
        min_cell=min_cell,
    )
