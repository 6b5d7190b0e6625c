"""The ``tsunagari`` command: sample data, cleaning, reports and the website.

A user mistake (``UserError``) ends in one clear message and exit code 2; ``--debug`` shows the
traceback instead.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from helpers.errors import UserError

app = typer.Typer(
    help="tsunagari-reports: municipal loneliness survey reports (孤独・孤立 実態調査).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
err = Console(stderr=True, highlight=False)
_state = {"debug": False}


@app.callback()
def main(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks of errors.")] = False,
) -> None:
    _state["debug"] = debug


def friendly(func: Callable[..., Any]) -> Callable[..., Any]:
    """Turn a ``UserError`` into one message on stderr and exit code 2."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except UserError as exc:
            if _state["debug"]:
                raise
            err.print(f"[bold red]error:[/] {exc.message}", markup=True, soft_wrap=True)
            sys.exit(2)

    return wrapper


@app.command()
@friendly
def sample(
    towns: Annotated[
        list[str] | None, typer.Argument(help="Town ids (default: every sample town).")
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Root folder (default: data/raw), one subfolder per town."),
    ] = None,
) -> None:
    """Generate the synthetic sample surveys (合成データ) into data/raw/<town>/."""
    from helpers import paths
    from helpers.sample import generate_all

    written = generate_all(out or paths.DATA_RAW, towns or None)
    for path in written:
        typer.echo(path)
    typer.echo(f"{len(written)} files written (synthetic sample data, 合成データ)")
