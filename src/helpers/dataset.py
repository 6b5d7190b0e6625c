"""Load a town's standard dataset (``data/processed/<town>/survey.parquet``) for analysis.

Only the standard dataset is read here: ``restricted.parquet`` (IDs, exact ages, free text) is
never loaded by analysis code.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from helpers import paths
from helpers.cleaning.schema import category_dtype
from helpers.cleaning.write import SURVEY
from helpers.codebook import Codebook, Variable, VarType, load_codebook
from helpers.errors import UserError
from helpers.towns import Town, load_town

SECTIONS = ["response", "attributes", "loneliness", "smalltown", "season", "isolation",
            "wellbeing", "own"]


def load_survey(town: str | Town, processed_dir: Path | None = None) -> pd.DataFrame:
    """The cleaned survey of a town (an id or its parameters): categoricals in the order of its
    codebook, one row per respondent."""
    town = town if isinstance(town, Town) else load_town(town)
    folder = Path(processed_dir) if processed_dir is not None else paths.processed_dir(town.id)
    path = folder / SURVEY
    if not path.exists():
        raise UserError(
            "no cleaned data for this town",
            file=path,
            hint=f"run `tsunagari clean {town.id}` first",
        )
    frame = pd.read_parquet(path)
    for var in town.codebook.public:
        if var.name in frame and var.type in (VarType.SINGLE, VarType.ORDINAL):
            frame[var.name] = frame[var.name].astype(category_dtype(var))
    return frame


def _present(var: Variable, df: pd.DataFrame) -> bool:
    cols = [c for c in var.columns() if c in df]
    return bool(cols) and bool(df[cols].notna().any(axis=None))


def available_variables(df: pd.DataFrame, book: Codebook | None = None) -> list[str]:
    """Standard variables with at least one answer in ``df``, in codebook order."""
    book = book or load_codebook()
    return [v.name for v in book.public if _present(v, df)]


def sections_present(df: pd.DataFrame, book: Codebook | None = None) -> dict[str, list[str]]:
    """Report section → its standard variables present in ``df`` (sections with none left out).

    >>> sections_present(pd.DataFrame({"sex": ["男性"], "lonely": [True]}))
    {'attributes': ['sex'], 'loneliness': ['lonely']}
    """
    book = book or load_codebook()
    present = set(available_variables(df, book))
    found = {s: [v.name for v in book.section(s) if v.name in present] for s in SECTIONS}
    return {s: names for s, names in found.items() if names}
