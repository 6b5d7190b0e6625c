"""Design-based (Taylor-linearized) variance of estimates from raked survey weights.

A :class:`Design` holds what the variance needs after raking: each respondent's weight and,
for every calibration margin, the respondent's category. An estimate is linearized into one
influence value per respondent of the design (zero outside the estimate's subgroup); the part
the calibration margins explain is removed (the residuals of the calibration, Deville & Särndal
1992), and the variance is that of a with-replacement sample of respondents, n/(n−1)·Σ(z − z̄)².

This is what R's ``survey`` package computes for ``svydesign(ids = ~1, weights = ~1)`` followed
by ``rake()`` (no strata, clusters or finite population correction): the tests reproduce its
numbers on ``tests/fixtures/r_survey_iiyama``. A subgroup (domain) keeps the full design, as a
``subset()`` of a calibrated design does in R: respondents outside it count with influence 0.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd

from helpers.stats._common import kish_n_eff


@dataclass(frozen=True)
class DomainMean:
    """Weighted means of some values in one subgroup, with their linearized covariance.

    ``n`` is the unweighted number of respondents in the subgroup, ``n_eff`` their Kish
    effective number (Σw)²/Σw², and ``df`` the degrees of freedom of intervals (n − 1, as R's
    ``degf`` of the subset).
    """

    mean: np.ndarray
    cov: np.ndarray
    n: int
    n_eff: float

    @property
    def df(self) -> int:
        return self.n - 1


@dataclass(frozen=True)
class DomainMeans:
    """Weighted means of one value in several subgroups: arrays with one entry per subgroup
    (``mean``, linearized ``se``, unweighted ``n``, Kish ``n_eff``; ``df`` = n − 1)."""

    mean: np.ndarray
    se: np.ndarray
    n: np.ndarray
    n_eff: np.ndarray

    @property
    def df(self) -> np.ndarray:
        return self.n - 1


@dataclass(frozen=True, eq=False)
class Design:
    """Respondents (``index``), their weights and their calibration categories.

    ``margins`` holds, per calibration margin, each respondent's category code (0..k−1); an
    empty tuple means weights taken as fixed (no calibration), as ``svydesign(weights = ~w)``.
    """

    index: pd.Index
    weights: np.ndarray
    margins: tuple[np.ndarray, ...] = field(default=())

    def __post_init__(self) -> None:
        n = len(self.index)
        if not self.index.is_unique:
            raise ValueError("the respondents of a design must have a unique index")
        if self.weights.shape != (n,) or any(m.shape != (n,) for m in self.margins):
            raise ValueError("weights and margin codes need one value per respondent")
        if not (np.isfinite(self.weights).all() and (self.weights > 0).all()):
            raise ValueError("design weights must be positive numbers")

    @classmethod
    def from_weights(cls, weights: pd.Series) -> Design:
        """A design whose weights are taken as fixed (no calibration margins)."""
        return cls(weights.index, pd.to_numeric(weights).to_numpy(dtype=float))

    @property
    def n(self) -> int:
        return len(self.index)

    @property
    def calibrated(self) -> bool:
        return bool(self.margins)

    def positions(self, index: pd.Index) -> np.ndarray:
        """Position of each of the given respondents in the design, −1 for those outside it."""
        return self.index.get_indexer(index)

    @cached_property
    def _basis(self) -> np.ndarray:
        """Orthonormal basis of the span of the margins' category indicators."""
        dummies = np.hstack([np.eye(int(codes.max()) + 1)[codes] for codes in self.margins])
        u, s, _ = np.linalg.svd(dummies, full_matrices=False)
        return u[:, s > s[0] * 1e-10]

    def _centred_residuals(self, scores: np.ndarray) -> np.ndarray:
        z = np.asarray(scores, dtype=float).reshape(self.n, -1)
        if self.calibrated:
            w = self.weights[:, None]
            e = z / w
            z = w * (e - self._basis @ (self._basis.T @ e))
        return z - z.mean(axis=0)

    def covariance(self, scores: np.ndarray) -> np.ndarray:
        """Linearized covariance of the estimates whose influence values are ``scores``.

        ``scores`` has one row per respondent of the design (in design order) and one column
        per estimate. With calibration margins, each column is first replaced by its
        calibration residuals: w·(e − fitted e) with e = scores/w regressed on the margins'
        categories (what R's ``svyrecvar`` does for a raked design, there by iterated
        centring). Then n/(n − 1)·Σ z z′.
        """
        z = self._centred_residuals(scores)
        return self.n / (self.n - 1) * (z.T @ z)

    def _means(
        self, x: np.ndarray, index: pd.Index, domains: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Weighted means of each column of ``x`` over its column of ``domains`` (both rows as
        ``index``), their influence values in design order, and the weight matrix."""
        pos = self.positions(index)
        w = np.where(pos >= 0, self.weights[pos], 0.0)
        wd = w[:, None] * domains
        x = np.where(wd > 0, x, 0.0)
        totals = wd.sum(axis=0)
        safe = np.where(totals > 0, totals, 1.0)
        mean = np.where(totals > 0, (wd * x).sum(axis=0) / safe, np.nan)
        scores = np.zeros((self.n, x.shape[1]))
        inside = pos >= 0
        scores[pos[inside]] = (wd * (x - np.nan_to_num(mean)) / safe)[inside]
        return mean, scores, wd

    def mean(self, values: np.ndarray, index: pd.Index, domain: np.ndarray) -> DomainMean:
        """Weighted means of the columns of ``values`` among the respondents in ``domain``,
        with their full covariance.

        ``values`` (one row per entry of ``index``, no NaN in the domain) and the boolean
        ``domain`` describe the rows of ``index``; rows outside the domain or the design are
        left out.
        """
        x = np.asarray(values, dtype=float).reshape(len(index), -1)
        in_domain = np.repeat(np.asarray(domain, dtype=bool)[:, None], x.shape[1], axis=1)
        mean, scores, wd = self._means(x, index, in_domain)
        w = wd[:, 0]
        return DomainMean(mean, self.covariance(scores), int((w > 0).sum()), kish_n_eff(w[w > 0]))

    def domain_means(self, y: np.ndarray, index: pd.Index, domains: np.ndarray) -> DomainMeans:
        """Weighted means of ``y`` in each subgroup: column g of the boolean ``domains``
        (rows as ``index``) marks subgroup g. Like :meth:`mean`, for many subgroups at once."""
        domains = np.asarray(domains, dtype=bool).reshape(len(index), -1)
        x = np.repeat(np.asarray(y, dtype=float)[:, None], domains.shape[1], axis=1)
        mean, scores, wd = self._means(x, index, domains)
        z = self._centred_residuals(scores)
        var = self.n / (self.n - 1) * (z**2).sum(axis=0)
        totals, squares = wd.sum(axis=0), (wd**2).sum(axis=0)
        return DomainMeans(
            mean=mean,
            se=np.where(totals > 0, np.sqrt(var), np.nan),
            n=(wd > 0).sum(axis=0),
            n_eff=np.where(squares > 0, totals**2 / np.where(squares > 0, squares, 1), 0.0),
        )
