"""Write a town's cleaned outputs all at once: into a temporary folder beside the target, then
moved into place. On any failure the previous good output stays untouched. ``rejected.csv`` holds
raw cells, opened in Excel: a cell that would start a formula is neutralised (``escape.csv_cells``).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from helpers.escape import csv_cells

SURVEY = "survey.parquet"
RESTRICTED = "restricted.parquet"
REJECTED = "rejected.csv"
REPORT_JSON = "cleaning_report.json"
REPORT_MD = "cleaning_report.md"


def write_outputs(
    out_dir: Path,
    *,
    survey: pd.DataFrame,
    restricted: pd.DataFrame,
    rejected: pd.DataFrame,
    report: dict[str, Any],
    report_md: str,
) -> None:
    """Write every output file of one town, replacing the previous set only when complete."""
    writers: dict[str, Callable[[Path], object]] = {
        SURVEY: lambda p: survey.to_parquet(p),
        RESTRICTED: lambda p: restricted.to_parquet(p),
        REJECTED: lambda p: csv_cells(rejected).to_csv(p, index=False, encoding="utf-8-sig"),
        REPORT_JSON: lambda p: p.write_text(
            json.dumps(report, ensure_ascii=False, indent=2, default=str), encoding="utf-8"),
        REPORT_MD: lambda p: p.write_text(report_md, encoding="utf-8"),
    }
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.tmp-", dir=out_dir.parent))
    try:
        for name, write in writers.items():
            write(tmp / name)
        if out_dir.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.old-", dir=out_dir.parent))
            os.replace(out_dir, old / out_dir.name)
            os.replace(tmp, out_dir)
            shutil.rmtree(old)
        else:
            os.replace(tmp, out_dir)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)
