"""Survey statistics for the town reports.

Proportions with confidence intervals, rate tables and cross tables with disclosure control,
significance tests with effect sizes, logistic odds ratios, raking weights and the design-based
(linearized) variance of raked estimates, national reference figures and Japanese number
formats. All shares are proportions 0–1 (format with ``fmt_pct``).

Heavy libraries (statsmodels, scipy.stats) are imported inside the functions that need them, so
``import helpers.stats`` stays fast.
"""

from helpers.stats.crosstab import Crosstab, crosstab
from helpers.stats.design import Design, DomainMean
from helpers.stats.disclosure import (
    DEFAULT_MIN_CELL,
    Ledger,
    rule_text,
    suppress_counts,
    suppress_rates,
)
from helpers.stats.format import (
    fmt_ci,
    fmt_date,
    fmt_n,
    fmt_p,
    fmt_pct,
    fmt_percent,
    fmt_period,
    fmt_points,
    percent,
    points,
    round_half_up,
)
from helpers.stats.inference import (
    ChiSquare,
    GroupComparison,
    PairedTest,
    RaoScott,
    chi_square,
    compare_groups,
    rao_scott,
    wilcoxon_paired,
)
from helpers.stats.national import NationalReference, national_reference
from helpers.stats.proportions import (
    Proportion,
    logit_interval,
    proportion,
    rate_table,
    wilson_interval,
)
from helpers.stats.regression import logistic_odds_ratios
from helpers.stats.weighting import (
    SEX_AGE,
    RakeResult,
    add_sex_age,
    rake,
    sex_age_label,
    sex_age_margins,
)

__all__ = [
    "DEFAULT_MIN_CELL",
    "SEX_AGE",
    "ChiSquare",
    "Crosstab",
    "Design",
    "DomainMean",
    "GroupComparison",
    "Ledger",
    "NationalReference",
    "PairedTest",
    "Proportion",
    "RakeResult",
    "RaoScott",
    "add_sex_age",
    "chi_square",
    "compare_groups",
    "crosstab",
    "fmt_ci",
    "fmt_date",
    "fmt_n",
    "fmt_p",
    "fmt_pct",
    "fmt_percent",
    "fmt_period",
    "fmt_points",
    "logistic_odds_ratios",
    "logit_interval",
    "national_reference",
    "percent",
    "points",
    "proportion",
    "rake",
    "rao_scott",
    "rate_table",
    "round_half_up",
    "rule_text",
    "sex_age_label",
    "sex_age_margins",
    "suppress_counts",
    "suppress_rates",
    "wilcoxon_paired",
    "wilson_interval",
]
