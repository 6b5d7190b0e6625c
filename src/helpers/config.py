"""Reading the project's YAML files into typed models, with errors that name the file and key."""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from helpers.errors import ConfigError

M = TypeVar("M", bound=BaseModel)


def _location(loc: tuple[Any, ...], raw: dict[str, Any]) -> str:
    """Describe a pydantic error location as 'variables[3] (sex) → codes'."""
    parts: list[str] = []
    node: Any = raw
    for key in loc:
        if isinstance(key, int) and isinstance(node, list) and key < len(node):
            node = node[key]
            name = node.get("name") if isinstance(node, dict) else None
            parts[-1] = f"{parts[-1]}[{key}]" + (f" ({name})" if name else "")
            continue
        parts.append(str(key))
        node = node.get(key) if isinstance(node, dict) else None
    return " → ".join(parts) or "(top level)"


def parse_yaml(path: Path) -> Any:
    """Read a YAML file, turning syntax errors into a ``ConfigError`` that names the line."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError("file not found", file=path, hint="check the path") from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ConfigError(
            f"is not valid YAML{where}: {getattr(exc, 'problem', exc)}",
            file=path,
            hint="fix the indentation or quoting on that line",
        ) from None


def validation_message(exc: ValidationError, raw: dict[str, Any]) -> str:
    """One line per problem, each naming where in the file it is."""
    lines = []
    for err in exc.errors():
        where = _location(tuple(err["loc"]), raw)
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = "unknown key (misspelt?)"
        elif err["type"] == "missing":
            msg = "required key is missing"
        lines.append(f"{where}: {msg}")
    return "; ".join(lines)


def load_model(path: Path, model: type[M], *, what: str, hint: str) -> M:
    """Parse the YAML file at ``path`` into ``model``; a mistake raises ``ConfigError``."""
    raw = parse_yaml(path)
    if not isinstance(raw, dict):
        raise ConfigError(f"must be a mapping of keys ({what})", file=path, hint=hint)
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(
            f"invalid {what}: {validation_message(exc, raw)}", file=path, hint=hint
        ) from None
