"""Benchmark of the design-based (weighted) analysis, ratios measured in one run.

For each processed sample town, ``analyse_town`` runs alternately with and without weighting
(raking plus every weighted estimate: rates with linearized intervals, Rao–Scott tests, the
survey-weighted models); the best of several runs of each is kept, and the ratio weighted ÷
unweighted says what the design-based inference costs on top of the unweighted report.

Usage: python bench/bench_weighted.py [--repeat N] (needs `tsunagari clean` first).
"""

from __future__ import annotations

import argparse
import time

from helpers import paths
from helpers.analysis import analyse_town
from helpers.dataset import load_survey
from helpers.towns import load_town

TOWNS = ["iiyama", "suzaka", "kitakyushu", "tsuruoka", "tsukumi", "noboribetsu"]


def seconds(df, params, weighting: bool) -> float:
    start = time.perf_counter()
    analyse_town(df, params, weighting=weighting)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    print(f"{'town':<12}{'rows':>6}{'unweighted s':>14}{'weighted s':>12}{'ratio':>8}")
    for town in TOWNS:
        if not (paths.processed_dir(town) / "survey.parquet").exists():
            print(f"{town:<12} not cleaned: run `tsunagari clean {town}`")
            continue
        df, params = load_survey(town), load_town(town)
        analyse_town(df, params)  # warm-up: imports, codebook, caches
        plain, weighted = [], []
        for _ in range(args.repeat):  # alternate, so both see the same machine load
            plain.append(seconds(df, params, weighting=False))
            weighted.append(seconds(df, params, weighting=True))
        p, w = min(plain), min(weighted)
        print(f"{town:<12}{len(df):>6}{p:>14.3f}{w:>12.3f}{w / p:>8.2f}")


if __name__ == "__main__":
    main()
