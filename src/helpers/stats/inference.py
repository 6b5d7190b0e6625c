"""Significance tests with effect sizes: chi-square (unweighted, and Rao–Scott on a weighted
design), Wilcoxon signed-rank, Kruskal–Wallis."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from helpers.stats._common import levels, to_float
from helpers.stats.design import Design
from helpers.stats.disclosure import DEFAULT_MIN_CELL


@dataclass(frozen=True)
class ChiSquare:
    """Pearson chi-square test of independence (no continuity correction) with Cramér's V."""

    chi2: float
    dof: int
    p: float
    cramers_v: float
    n: int
    min_expected: float


@dataclass(frozen=True)
class RaoScott:
    """Rao–Scott tests of independence on a weighted cross table (R's ``svychisq``).

    ``pearson`` is Pearson's X² of the weighted table scaled to the design's respondents (R's
    ``Ntotal``); ``chi2`` = X²/δ̄ is the first-order correction (χ² on ``dof``, p ``p_chi2``;
    ``statistic = "Chisq"``); ``f`` = X²/Σδ with ``ndf`` = (Σδ)²/Σδ² and ``ddf`` = ndf·(design
    respondents − 1) is the second-order correction (p ``p``; ``statistic = "F"``). δ are the
    eigenvalues of the generalized design-effect matrix, ``mean_deff`` = δ̄. ``cramers_v`` =
    √(χ²/(N·(min(r, c) − 1))) from the adjusted statistic; ``n`` counts the respondents with
    both answers (unweighted).
    """

    pearson: float
    chi2: float
    dof: int
    p_chi2: float
    f: float
    ndf: float
    ddf: float
    p: float
    cramers_v: float
    mean_deff: float
    n: int


@dataclass(frozen=True)
class PairedTest:
    """Wilcoxon signed-rank test of paired ordinal answers (``after`` − ``before``).

    ``w`` is the smaller of the positive and negative rank sums (zero differences dropped),
    ``effect_r`` the matched-pairs rank-biserial correlation (R+ − R−)/(R+ + R−): positive when
    ``after`` tends to be higher. Shares are of all ``n`` pairs; ``median_diff`` is the median
    of ``after`` − ``before``.
    """

    n: int
    n_nonzero: int
    w: float
    p: float
    effect_r: float
    share_lower: float
    share_equal: float
    share_higher: float
    median_diff: float


@dataclass(frozen=True)
class GroupComparison:
    """A test comparing a score across groups, with an effect size and a per-group summary."""

    test: str
    statistic: float
    p: float
    effect: float
    effect_name: str
    summary: pd.DataFrame


def chi_square(df: pd.DataFrame, row: str, col: str) -> ChiSquare:
    """Pearson chi-square test of independence between two answers.

    Respondents missing either answer are dropped, then categories nobody chose. The statistic
    has no Yates correction (so it matches Cramér's V = √(χ²/(n·(min(r, c) − 1)))). Unweighted.

    Raises
    ------
    ValueError
        When fewer than two categories of either answer remain (the test is undefined).
    """
    from scipy.special import chdtrc

    sub = df[[row, col]].dropna()
    obs = pd.crosstab(sub[row].astype(object), sub[col].astype(object)).to_numpy(dtype=float)
    obs = obs[obs.sum(axis=1) > 0][:, obs.sum(axis=0) > 0]
    if obs.shape[0] < 2 or obs.shape[1] < 2:
        raise ValueError(
            f"chi-square of {row!r} × {col!r} needs at least two answered categories of each; "
            f"got a {obs.shape[0]} × {obs.shape[1]} table"
        )
    n = obs.sum()
    expected = np.outer(obs.sum(axis=1), obs.sum(axis=0)) / n
    chi2 = float(((obs - expected) ** 2 / expected).sum())
    dof = (obs.shape[0] - 1) * (obs.shape[1] - 1)
    k = min(obs.shape) - 1
    return ChiSquare(
        chi2=chi2,
        dof=dof,
        p=float(chdtrc(dof, chi2)),
        cramers_v=float(np.sqrt(chi2 / (n * k))),
        n=int(n),
        min_expected=float(expected.min()),
    )


def _independence_contrasts(nr: int, nc: int) -> np.ndarray:
    """Interaction contrasts of an r × c table (cells row-major), orthogonal to the margins."""
    rows, cols = np.repeat(np.arange(nr), nc), np.tile(np.arange(nc), nr)
    main = np.column_stack(
        [np.ones(nr * nc)]
        + [rows == i for i in range(1, nr)]
        + [cols == j for j in range(1, nc)]
    ).astype(float)
    inter = np.column_stack(
        [(rows == i) & (cols == j) for i in range(1, nr) for j in range(1, nc)]
    ).astype(float)
    q, _ = np.linalg.qr(main)
    return inter - q @ (q.T @ inter)


def rao_scott(df: pd.DataFrame, row: str, col: str, design: Design) -> RaoScott:
    """Rao–Scott adjusted chi-square tests of independence between two answers, weighted.

    Among the respondents of ``df`` who are in ``design`` and gave both answers (a subgroup of
    the full design), the weighted cell shares and their linearized covariance give the
    design-effect matrix Δ = (C′D⁻¹C/N)⁻¹ C′D⁻¹VD⁻¹C (C: interaction contrasts, D: cell shares,
    V: their covariance, N: the design's respondents), as R's ``svychisq``; categories without
    weight are dropped first. See :class:`RaoScott` for what is returned.

    Raises
    ------
    ValueError
        When fewer than two categories of either answer remain.
    """
    from scipy.special import chdtrc, fdtrc

    sub = df.loc[design.positions(df.index) >= 0, [row, col]]
    both = sub.notna().all(axis=1).to_numpy()
    r_levels, c_levels = levels(sub[row]), levels(sub[col])
    r_idx = pd.Index(r_levels).get_indexer(sub[row].astype(object))
    c_idx = pd.Index(c_levels).get_indexer(sub[col].astype(object))
    cells = np.zeros((len(sub), len(r_levels) * len(c_levels)))
    cells[np.flatnonzero(both), (r_idx * len(c_levels) + c_idx)[both]] = 1.0
    est = design.mean(cells, sub.index, both)
    shares = est.mean.reshape(len(r_levels), len(c_levels))
    used_r, used_c = shares.sum(axis=1) > 0, shares.sum(axis=0) > 0
    nr, nc = int(used_r.sum()), int(used_c.sum())
    if nr < 2 or nc < 2:
        raise ValueError(
            f"Rao–Scott test of {row!r} × {col!r} needs at least two answered categories of "
            f"each; got a {nr} × {nc} table"
        )
    kept = np.outer(used_r, used_c).ravel()
    p, v = est.mean[kept], est.cov[np.ix_(kept, kept)]
    n_design = design.n
    contrasts = _independence_contrasts(nr, nc)
    inv_d = np.where(p > 0, 1 / np.where(p > 0, p, 1), 0.0)
    scaled = contrasts * inv_d[:, None]
    delta = np.linalg.solve(contrasts.T @ scaled / n_design, scaled.T @ v @ scaled)
    trace, trace2 = float(np.trace(delta)), float(np.trace(delta @ delta))
    table = p.reshape(nr, nc) * n_design
    expected = np.outer(table.sum(axis=1), table.sum(axis=0)) / n_design
    pearson = float(((table - expected) ** 2 / expected).sum())
    dof = (nr - 1) * (nc - 1)
    chi2 = pearson * dof / trace
    ndf = trace**2 / trace2
    ddf = ndf * (n_design - 1)
    f = pearson / trace
    return RaoScott(
        pearson=pearson,
        chi2=chi2,
        dof=dof,
        p_chi2=float(chdtrc(dof, chi2)),
        f=f,
        ndf=ndf,
        ddf=ddf,
        p=float(fdtrc(ndf, ddf, f)),
        cramers_v=float(np.sqrt(chi2 / (n_design * (min(nr, nc) - 1)))),
        mean_deff=trace / dof,
        n=est.n,
    )


def _paired_values(before: pd.Series, after: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    cats = [s.cat.categories for s in (before, after) if isinstance(s.dtype, pd.CategoricalDtype)]
    if len(cats) == 1 or (len(cats) == 2 and not cats[0].equals(cats[1])):
        raise ValueError(
            f"{before.name!r} and {after.name!r} must share the same answer scale "
            "(identical categories in the same order)"
        )
    return to_float(before), to_float(after)


def wilcoxon_paired(before: pd.Series, after: pd.Series) -> PairedTest:
    """Wilcoxon signed-rank test for paired answers (e.g. outings spring–autumn vs winter).

    Ordinal categoricals are compared on their codes 1..k (both must have the same categories);
    numbers as they are. Pairs with a missing value are dropped; zero differences are dropped
    from the ranking (Wilcoxon's method). The p-value is two-sided, from
    ``scipy.stats.wilcoxon`` (exact for small samples without ties, otherwise the normal
    approximation with tie correction). With no non-zero difference, w/p/effect_r are NaN.
    """
    from scipy.stats import rankdata, wilcoxon

    b, a = _paired_values(before, after)
    keep = ~np.isnan(b) & ~np.isnan(a)
    d = a[keep] - b[keep]
    n = int(d.size)
    nz = d[d != 0]
    if nz.size:
        ranks = rankdata(np.abs(nz))
        r_plus, r_minus = float(ranks[nz > 0].sum()), float(ranks[nz < 0].sum())
        w = min(r_plus, r_minus)
        p = float(wilcoxon(nz, zero_method="wilcox").pvalue)
        effect = (r_plus - r_minus) / (r_plus + r_minus)
    else:
        w = p = effect = float("nan")

    def share(mask: np.ndarray) -> float:
        return float(mask.mean()) if n else float("nan")

    return PairedTest(
        n=n,
        n_nonzero=int(nz.size),
        w=w,
        p=p,
        effect_r=effect,
        share_lower=share(d < 0),
        share_equal=share(d == 0),
        share_higher=share(d > 0),
        median_diff=float(np.median(d)) if n else float("nan"),
    )


def compare_groups(
    df: pd.DataFrame, score: str, group: str, min_cell: int = DEFAULT_MIN_CELL
) -> GroupComparison:
    """Kruskal–Wallis test of a score across groups, with epsilon² effect size.

    H is computed from mid-ranks with the tie correction; p from the χ² distribution with
    (groups − 1) degrees of freedom; ε² = H / (n − 1) (Tomczak & Tomczak 2014). Rows missing the
    score or group are dropped; groups with no respondents are left out of the test. Ordinal
    scores use codes 1..k.

    Returns
    -------
    GroupComparison whose ``summary`` has one row per group (category order): ``group``, ``n``,
    ``mean``, ``median``, ``suppressed`` (n < ``min_cell``: mean and median are NaN).

    Raises
    ------
    ValueError
        When fewer than two groups have answers, or all scores are equal.
    """
    from scipy.special import chdtrc

    y = to_float(df[score])
    g = df[group]
    keep = ~np.isnan(y) & g.notna().to_numpy()
    y, g = y[keep], g[keep].astype(object).to_numpy()
    names = levels(df[group])
    rows = []
    for name in names:
        v = y[g == name]
        rows.append(
            (name, v.size, v.mean() if v.size else np.nan, np.median(v) if v.size else np.nan)
        )
    summary = pd.DataFrame(rows, columns=["group", "n", "mean", "median"])
    summary["group"] = pd.Categorical(summary["group"], categories=names)
    summary["suppressed"] = summary["n"] < min_cell
    summary.loc[summary["suppressed"], ["mean", "median"]] = np.nan

    used = [name for name, size in zip(names, summary["n"], strict=True) if size > 0]
    if len(used) < 2:
        raise ValueError(f"comparing {score!r} across {group!r} needs at least two answered groups")
    ranks = pd.Series(y).rank(method="average").to_numpy()
    n = y.size
    h = 12 / (n * (n + 1)) * sum(ranks[g == k].sum() ** 2 / (g == k).sum() for k in used)
    h -= 3 * (n + 1)
    _, ties = np.unique(y, return_counts=True)
    correction = 1 - (ties**3 - ties).sum() / (n**3 - n)
    if correction == 0:
        raise ValueError(f"all values of {score!r} are equal: nothing to compare")
    h /= correction
    dof = len(used) - 1
    return GroupComparison(
        test="Kruskal-Wallis",
        statistic=float(h),
        p=float(chdtrc(dof, h)),
        effect=float(h / (n - 1)),
        effect_name="epsilon²",
        summary=summary,
    )
