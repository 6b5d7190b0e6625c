"""User-facing errors: one clear message naming the file, column, rows, value and what to do."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class UserError(Exception):
    """A mistake in the user's input: shown as one message, never as a traceback.

    ``rows`` are row numbers as the user sees them in Excel (header on row 1 unless the file
    says otherwise); ``hint`` says what to do about it.
    """

    problem: str
    file: Path | str | None = None
    column: str | None = None
    rows: Sequence[int] = field(default_factory=tuple)
    value: object = None
    hint: str | None = None
    kind: str = "input"

    def __post_init__(self) -> None:
        super().__init__(self.message)

    @property
    def message(self) -> str:
        parts = []
        if self.file is not None:
            parts.append(f"{self.file}")
        where = []
        if self.column is not None:
            where.append(f"column 「{self.column}」")
        if self.rows:
            shown = ", ".join(str(r) for r in list(self.rows)[:10])
            more = f" (and {len(self.rows) - 10} more)" if len(self.rows) > 10 else ""
            where.append(f"row{'s' if len(self.rows) > 1 else ''} {shown}{more}")
        if where:
            parts.append(", ".join(where))
        head = ": ".join(parts)
        text = f"{head}: {self.problem}" if head else self.problem
        if self.value is not None:
            text += f" (value: 「{self.value}」)"
        if self.hint:
            text += f"\n  → {self.hint}"
        return text

    def __str__(self) -> str:
        return self.message


class ConfigError(UserError):
    """A mistake in the codebook or a town parameter file."""
