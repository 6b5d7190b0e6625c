"""Benchmark of ``tsunagari init``: drafting each sample town's parameter file, against reading
its raw files, ratios measured in one run.

For each sample town, the draft from all its raw files (layout, matching, the YAML) and the bare
read of the same files with the town's own settings (``read_table``) run alternately; the best of
several runs of each is kept. The ratio says what drafting costs on top of reading.

Usage: python bench/bench_init.py [--repeat N]
"""

from __future__ import annotations

import argparse
import timeit
from pathlib import Path

from helpers import paths
from helpers.cleaning.read import read_table
from helpers.draft import draft_town
from helpers.towns import load_town

TOWNS = ["iiyama", "suzaka", "kitakyushu", "tsuruoka", "tsukumi", "noboribetsu"]


def _files(town: str) -> list[Path]:
    exports = [paths.raw_dir(town) / s.file for s in load_town(town).sources]
    return [*exports, *sorted(p for p in paths.raw_dir(town).iterdir()
                              if p.name != "README.md" and p not in exports)]


def _read(town: str) -> None:
    for source in load_town(town).sources:
        read_table(paths.raw_dir(town) / source.file, sheet=source.sheet,
                   header_row=source.header_row, encoding=source.encoding,
                   delimiter=source.delimiter)


def best(run, repeat: int) -> float:
    """The fastest of ``repeat`` runs (seconds): the least disturbed by other work."""
    return min(timeit.repeat(run, number=1, repeat=repeat))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(f"{'town':<12}{'read s':>8}{'draft s':>9}{'ratio':>7}")
    for town in TOWNS:
        files = _files(town)
        draft_town(town, files)  # warm-up: imports, codebook
        read = best(lambda t=town: _read(t), args.repeat)
        draft = best(lambda t=town, f=files: draft_town(t, f), args.repeat)
        print(f"{town:<12}{read:>8.2f}{draft:>9.2f}{draft / read:>7.1f}")


if __name__ == "__main__":
    main()
