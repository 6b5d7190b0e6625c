"""The standard dataset's types and its validation schema, both generated from the codebook.

``standard_frame`` turns numeric codes into the data contract (docs/ARCHITECTURE.md);
``build_schema`` is the pandera schema every cleaned dataset must pass.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pandera.pandas as pa

from helpers.codebook import Codebook, Variable, VarType
from helpers.errors import UserError


def category_dtype(var: Variable) -> pd.CategoricalDtype:
    """Categories are the labels in code order (of a town's codebook: its districts, age bands
    and wording); ordered for ordinal variables."""
    return pd.CategoricalDtype(list(var.labels().values()), ordered=var.type is VarType.ORDINAL)


def public_columns(book: Codebook) -> list[tuple[Variable, str]]:
    """(variable, column) of every column the standard dataset may have, in codebook order."""
    return [(var, col) for var in book.public for col in var.columns()]


def standard_frame(codes: pd.DataFrame, book: Codebook) -> pd.DataFrame:
    """Numeric codes → the standard dataset's types; restricted and unknown columns dropped
    (``book``: the town's codebook)."""
    out: dict[str, pd.Series | pd.Categorical] = {}
    for var, col in public_columns(book):
        if col not in codes:
            continue
        x = codes[col].to_numpy(dtype=float)
        missing = np.isnan(x)
        if var.type is VarType.MULTI:
            out[col] = pd.arrays.IntegerArray(np.nan_to_num(x).astype(np.int8), missing)
        elif var.type is VarType.NUMBER:
            out[col] = pd.arrays.FloatingArray(np.nan_to_num(x), missing)
        elif var.type is VarType.FLAG:
            out[col] = pd.arrays.BooleanArray(x == 1, missing)
        else:
            known = np.array(list(var.labels()), dtype=float)
            position = np.searchsorted(known, x)
            position[missing] = -1
            out[col] = pd.Categorical.from_codes(position, dtype=category_dtype(var))
    frame = pd.DataFrame(out, index=codes.index)
    frame.index.name = "row_key"
    return frame


def build_schema(book: Codebook, town: str) -> pa.DataFrameSchema:
    """pandera schema of a town's standard dataset: types, categories and ranges from its
    codebook (``book``; ``town``: its id, for messages)."""
    columns: dict[str, pa.Column] = {}
    for var, col in public_columns(book):
        required = var.name == "mode"
        if var.type is VarType.MULTI:
            columns[col] = pa.Column("Int8", pa.Check.isin([0, 1]), nullable=True,
                                     required=False)
        elif var.type is VarType.NUMBER:
            lo, hi = var.range or (-np.inf, np.inf)
            columns[col] = pa.Column("Float64", pa.Check.in_range(lo, hi), nullable=True,
                                     required=False)
        elif var.type is VarType.FLAG:
            columns[col] = pa.Column("boolean", nullable=True, required=False)
        else:
            columns[col] = pa.Column(category_dtype(var), nullable=not required,
                                     required=required)
    return pa.DataFrameSchema(columns, strict=True, name=f"standard dataset of {town}")


def validate(frame: pd.DataFrame, book: Codebook, town: str) -> pd.DataFrame:
    """Validate against the generated schema; a failure names the column and the values."""
    try:
        return build_schema(book, town).validate(frame, lazy=True)
    except pa.errors.SchemaErrors as exc:
        cases = exc.failure_cases
        first = cases.iloc[0]
        raise UserError(
            f"the cleaned data breaks the codebook's rules ({len(cases)} problem(s)): "
            f"{first['check']}",
            column=str(first["column"]),
            value=first["failure_case"],
            hint="check config/codebook.yml and the town's parameter file; if both look right, "
            "report this to the project's maintainers",
            kind="validation",
        ) from None
