"""Project paths, anchored on this package's file so no notebook hard-codes a path."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(os.environ.get("TSUNAGARI_ROOT", Path(__file__).resolve().parents[2]))
CONFIG = ROOT / "config"
CODEBOOK = CONFIG / "codebook.yml"
TOWNS = CONFIG / "towns"
DATA_RAW = ROOT / "data" / "raw"
#: Cleaned data (``TSUNAGARI_PROCESSED`` moves it: the tests clean into a temporary folder).
DATA_PROCESSED = Path(os.environ.get("TSUNAGARI_PROCESSED", ROOT / "data" / "processed"))
NOTEBOOKS = ROOT / "notebooks"
REPORTS = ROOT / "reports"
BUILD = ROOT / "build"


def raw_dir(town: str) -> Path:
    """Folder of a town's raw survey files."""
    return DATA_RAW / town


def processed_dir(town: str) -> Path:
    """Folder of a town's cleaned, standard dataset."""
    return DATA_PROCESSED / town
