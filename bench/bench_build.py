"""Benchmark of `tsunagari build` on the sample towns, ratios measured in one run.

1. floor: papermill runs, once per town, a notebook that only imports what the report imports
   (its import lines plus the scientific stack), each in a fresh kernel; the summed time divided
   by the workers;
2. cold build: the whole build (clean, reports, comparison, site render when Quarto is found,
   audit) into an empty build folder, with the same workers; target ≤ 1.5 × floor;
3. no-change re-run: the same build again in a new process; target ≤ 2 s.

Usage: python bench/bench_build.py [--workers N]. Outputs go to bench/out/ (not committed).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from helpers import paths
from helpers.build import quarto
from helpers.build.pipeline import Layout, Options, build, town_ids

OUT = paths.ROOT / "bench" / "out"
STACK = (
    "import numpy, pandas, scipy.stats, statsmodels.api, pingouin, matplotlib.pyplot, seaborn, "
    "plotly.express, openpyxl, xlsxwriter, pyarrow"
)


def layout() -> Layout:
    return Layout(build=OUT / "build", reports=OUT / "reports")


def floor_notebook(path: Path) -> Path:
    """The report notebook's parameters cell and import lines, plus the stack, nothing else."""
    import nbformat

    report = nbformat.read(paths.NOTEBOOKS / "municipal_report.ipynb", as_version=4)
    params = next(c for c in report.cells if "parameters" in c.metadata.get("tags", []))
    imports = [
        line
        for c in report.cells
        if c.cell_type == "code"
        for line in c.source.splitlines()
        if line.startswith(("import ", "from ", "%load_ext", "%autoreload"))
    ]
    nb = nbformat.v4.new_notebook(metadata=report.metadata)
    nb.cells = [params, nbformat.v4.new_code_cell("\n".join([*imports, STACK]))]
    nbformat.write(nb, path)
    return path


def measure_floor(towns: list[str], workers: int) -> float:
    """Seconds of papermill running the import-only notebook once per town, ÷ workers."""
    import papermill as pm

    nb = floor_notebook(OUT / "floor.ipynb")
    start = time.perf_counter()
    for t in towns:
        pm.execute_notebook(
            nb, OUT / f"floor-{t}.ipynb", parameters={"town": t}, progress_bar=False,
            cwd=str(paths.NOTEBOOKS), kernel_name="python3",
        )  # fmt: skip
    return (time.perf_counter() - start) / workers


def run_once(workers: int, force: bool) -> tuple[float, dict[str, float]]:
    """Seconds of one build, and of its phases."""
    start = time.perf_counter()
    summary = build(Options(workers=workers, force=force), layout())
    if summary.exit_code != 0:
        sys.exit(f"the build failed: {summary.failed or summary.messages or summary.breaches}")
    return time.perf_counter() - start, summary.phases


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--once", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.once:  # the no-change re-run, timed from the parent including interpreter start
        run_once(args.workers, force=False)
        return
    OUT.mkdir(parents=True, exist_ok=True)
    towns = town_ids(layout())
    floor = measure_floor(towns, args.workers)
    shutil.rmtree(OUT / "build", ignore_errors=True)
    shutil.rmtree(OUT / "reports", ignore_errors=True)
    cold, phases = run_once(args.workers, force=True)
    start = time.perf_counter()
    cmd = [sys.executable, __file__, "--once", "--workers", str(args.workers)]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    no_change = time.perf_counter() - start
    result = {
        "towns": len(towns),
        "workers": args.workers,
        "quarto": quarto.find_quarto() is not None,
        "floor_s": round(floor, 2),
        "cold_build_s": round(cold, 2),
        "cold_vs_floor": round(cold / floor, 2),
        "no_change_s": round(no_change, 2),
        "cold_phases_s": {k: round(v, 2) for k, v in phases.items()},
    }
    (OUT / "build.json").write_text(json.dumps(result, indent=1))
    print(f"{len(towns)} towns, {args.workers} workers, site rendered: {result['quarto']}")
    print(f"floor (import-only notebook per town ÷ workers): {floor:6.1f} s")
    print(f"cold build:                                      {cold:6.1f} s")
    for phase, seconds in phases.items():
        print(f"  {phase + ':':47s}{seconds:6.1f} s")
    ok = "ok" if cold / floor <= 1.5 else "ABOVE TARGET"
    print(f"cold build / floor:                              {cold / floor:6.2f}   (≤ 1.5: {ok})")
    ok = "ok" if no_change <= 2 else "ABOVE TARGET"
    print(f"no-change re-run:                                {no_change:6.2f} s (≤ 2 s: {ok})")


if __name__ == "__main__":
    main()
