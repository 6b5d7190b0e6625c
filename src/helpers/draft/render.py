"""Write a drafted town file as YAML a person reads: one key a line where it fits, a comment
after each drafted value saying how sure it is or what is left to do."""

from __future__ import annotations

from typing import Any

import yaml

_WIDTH = 100


def flow(value: Any) -> str:
    """A value in YAML's one-line (flow) style."""
    text = yaml.safe_dump(value, default_flow_style=True, allow_unicode=True, width=10**9,
                          sort_keys=False).strip()
    return text.removesuffix("...").strip()


def _line(indent: int, head: str, comment: str | None) -> str:
    line = " " * indent + head
    return f"{line}   # {comment}" if comment else line


def _emit(out: list[str], name: Any, value: Any, path: tuple, comments: dict[tuple, str],
          indent: int) -> None:
    comment = comments.get(path)
    head = f"{flow(name)}:" if name is not None else "-"
    one = f"{head} {flow(value)}"
    inner = value if isinstance(value, dict) else range(len(value)) if isinstance(
        value, list) else ()
    simple = not isinstance(value, (dict, list)) or (
        indent + len(one) <= _WIDTH and not any((*path, k) in comments for k in inner))
    if simple and not (isinstance(value, list) and value and isinstance(value[0], dict)):
        out.append(_line(indent, one, comment))
        return
    out.append(_line(indent, head, comment))
    step = indent + 2
    if isinstance(value, dict):
        for k, v in value.items():
            _emit(out, k, v, (*path, k), comments, step)
        return
    for i, item in enumerate(value):
        if isinstance(item, dict):
            inner: list[str] = []
            for k, v in item.items():
                _emit(inner, k, v, (*path, i, k), comments, step + 2)
            inner[0] = " " * step + "- " + inner[0].lstrip()
            out += inner
        else:
            out.append(_line(step, f"- {flow(item)}", comments.get((*path, i))))


def render(data: dict[str, Any], comments: dict[tuple, str], header: list[str]) -> str:
    """The YAML text: the header as comments, then each top-level key, sections apart."""
    out = [f"# {line}" for line in header]
    for name, value in data.items():
        before = len(out)
        _emit(out, name, value, (name,), comments, 0)
        if len(out) - before > 1:  # a block of its own: a blank line above it
            out.insert(before, "")
    return "\n".join(out) + "\n"
