"""The ``tsunagari`` command: sample data, cleaning, reports and the website.

A user mistake (``UserError``) ends in one clear message and exit code 2; ``--debug`` shows the
traceback instead.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from helpers.errors import UserError
from helpers.escape import console as text

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
            err.print("[bold red]error:[/]", text(exc.message), soft_wrap=True)
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


Verbose = Annotated[
    bool, typer.Option("--verbose", "-v", help="Show every value seen, as a full table.")
]


def _show_values(report: dict[str, Any], verbose: bool, console: Console) -> None:
    """The verification view: what each raw value became (compact, or the full table)."""
    from rich.table import Table

    from helpers.cleaning import verify

    if not verbose:
        for line in verify.lines(report):
            console.print(line, markup=False, soft_wrap=True)
        return
    table = Table(highlight=False)
    for name in ("file", "variable", "column", "value in the file", "became", "count"):
        table.add_column(name, overflow="fold")
    for file, var, column, raw, became, n in verify.rows(report):
        table.add_row(*map(text, (file, var, column, raw or "(blank)", became)), str(n))
    console.print(table)


def _show_findings(report: dict[str, Any], console: Console) -> None:
    """Notes per file, impossible answers set to missing and warnings, one line each."""
    for src in report["sources"]:
        for note in src["notes"]:
            console.print(f"  note: {src['file']}: {note}", markup=False, soft_wrap=True)
    invalid = report["invalid_values"]
    for v in invalid[:20]:
        console.print(f"  set to missing: {v['file']} row {v['row']}, column 「{v['column']}」, "
                      f"value 「{v['value']}」: {v['reason']}", markup=False, soft_wrap=True)
    if len(invalid) > 20:
        console.print(f"  … and {len(invalid) - 20} more (see the cleaning report)")
    for warning in report["warnings"]:
        console.print(f"  warning: {warning}", markup=False, soft_wrap=True)
    for note in report.get("population_notes", []):
        console.print(f"  note: {note}", markup=False, soft_wrap=True)


@app.command()
@friendly
def clean(
    towns: Annotated[
        list[str] | None, typer.Argument(help="Town ids (default: every town in config/towns/).")
    ] = None,
    verbose: Verbose = False,
) -> None:
    """Clean each town's raw files into data/processed/<town>/ (standard dataset + reports)."""
    from rich.table import Table

    from helpers import paths
    from helpers.cleaning import clean_towns

    results = clean_towns(towns or None)
    console = Console(highlight=False)
    for town, res in results.items():
        if isinstance(res, UserError):
            continue
        console.print(text(town), style="bold")
        _show_values(res.report, verbose, console)
        _show_findings(res.report, console)
    table = Table("town", "rows read", "duplicates", "empty rows", "set missing", "rows out",
                  "result", highlight=False)
    for town, res in results.items():
        if isinstance(res, UserError):
            table.add_row(text(town), "", "", "", "", "", "[red]failed[/]")
        else:
            rep = res.report
            out = res.out_dir or paths.processed_dir(town)
            where = out.relative_to(paths.ROOT) if out.is_relative_to(paths.ROOT) else out
            table.add_row(text(town), str(rep["rows_in"]), str(rep["duplicates_removed"]),
                          str(rep["empty_rows_skipped"]), str(rep["values_set_missing"]),
                          str(rep["rows_out"]), text(f"ok → {where}"))
    console.print(table)
    failed = {t: r for t, r in results.items() if isinstance(r, UserError)}
    for town, exc in failed.items():
        err.print("[bold red]error[/]", text(f"({town}): {exc.message}"), soft_wrap=True)
    if failed:
        sys.exit(2)


@app.command()
@friendly
def check(
    file: Annotated[Path, typer.Argument(help="The export to test (xlsx, xls, CSV or sav).")],
    town: Annotated[str, typer.Option("--town", help="Town id (config/towns/<id>.yml).")],
    verbose: Verbose = False,
) -> None:
    """Read and validate one export like `clean` would, without writing anything; show what
    each value became."""
    from helpers.cleaning import check_file

    res = check_file(file, town)
    rep = res.report
    console = Console(highlight=False)
    _show_values(rep, verbose, console)
    _show_findings(rep, console)
    console.print(f"{file}: OK — {rep['rows_in']} rows read, {rep['duplicates_removed']} exact "
                  f"duplicate(s), {rep['empty_rows_skipped']} without any answer, "
                  f"{rep['values_set_missing']} impossible answer(s) set to missing, "
                  f"{rep['rows_out']} respondents", markup=False, soft_wrap=True)


@app.command()
@friendly
def init(
    town: Annotated[str, typer.Argument(help="Id of the new town (config/towns/<id>.yml).")],
    files: Annotated[
        list[Path] | None,
        typer.Argument(help="Its raw files, in data/raw/<id>/ (default: every file there)."),
    ] = None,
) -> None:
    """Draft config/towns/<town>.yml from the town's raw files (never overwrites a file)."""
    from helpers import paths
    from helpers.draft import draft_town, write_draft
    from helpers.towns import town_file

    if not re.fullmatch(r"[a-z][a-z0-9_-]*", town):
        raise UserError("a town id is lower-case roman letters, digits, - or _, starting "
                        "with a letter", value=town, hint="e.g. nagano-shi")
    if town_file(town).exists():
        raise UserError("a parameter file for this town exists already: init never "
                        "overwrites it", file=town_file(town),
                        hint="edit it, or move it away to draft a new one")
    folder = paths.raw_dir(town)
    chosen = [_raw_file(f, folder) for f in files] if files else sorted(
        p for p in folder.glob("*") if p.is_file() and p.name != "README.md")
    if not chosen:
        raise UserError("no raw files to draft from", file=folder,
                        hint=f"copy the survey's exports into {folder}/ first")
    draft = draft_town(town, chosen)
    path = write_draft(draft)
    console = Console(highlight=False)
    for line in draft.found:
        console.print(f"  {line}", markup=False, soft_wrap=True)
    shown = path.relative_to(paths.ROOT) if path.is_relative_to(paths.ROOT) else path
    console.print(f"{shown}: drafted, {len(draft.todo)} decision(s) left:", markup=False)
    for item in draft.todo:
        console.print(f"  - {item}", markup=False, soft_wrap=True)
    console.print(f"Next: edit {shown}, then run `tsunagari check {_shown(chosen[0])} "
                  f"--town {town}`", markup=False, soft_wrap=True)


def _raw_file(file: Path, folder: Path) -> Path:
    """A raw file given to init: it must lie in the town's raw-data folder."""
    path = file if file.exists() or file.is_absolute() else folder / file
    if not path.exists():
        raise UserError("file not found", file=file, hint=f"put the export in {folder}/")
    if not path.resolve().is_relative_to(folder.resolve()):
        raise UserError(f"the raw files of a town live in {folder}/", file=file,
                        hint=f"copy the file into {folder}/ (the project never changes it) "
                        "and give that path")
    return path


def _shown(path: Path) -> str:
    from helpers import paths

    path = path.resolve()
    return str(path.relative_to(paths.ROOT) if path.is_relative_to(paths.ROOT) else path)


@app.command()
@friendly
def build(
    towns: Annotated[
        list[str] | None, typer.Argument(help="Town ids (default: every town in config/towns/).")
    ] = None,
    workers: Annotated[
        int | None, typer.Option("--workers", "-j", help="Parallel workers (default: the cores).")
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Rebuild every step.")] = False,
    dask: Annotated[
        bool,
        typer.Option("--dask", help="Run the towns and the site's render shards on a local Dask "
                     "cluster."),
    ] = False,
    scheduler: Annotated[
        str | None,
        typer.Option("--scheduler", help="Dask scheduler address (shared file system needed)."),
    ] = None,
) -> None:
    """Clean every town, run every report, the comparison, render the website and audit it."""
    from helpers.build.pipeline import Options, print_summary
    from helpers.build.pipeline import build as run_build

    if workers is not None and workers < 1:
        raise UserError("--workers must be at least 1", value=workers)
    options = Options(tuple(towns or ()), workers, force, dask, scheduler)
    console = Console(highlight=False)
    summary = run_build(options, console=console)
    print_summary(summary, console, err)
    raise typer.Exit(summary.exit_code)


@app.command()
@friendly
def audit() -> None:
    """Scan the built site, results and Excel files for anything that breaks the data rules."""
    from helpers.build.pipeline import Layout, run_audit

    layout = Layout()
    if not layout.site.exists() and not layout.towns_dir.exists():
        raise UserError("nothing built yet", file=layout.build, hint="run `tsunagari build` first")
    breaches = run_audit(layout)
    for b in breaches:
        err.print("[bold red]disclosure breach:[/]", text(b), soft_wrap=True)
    if breaches:
        err.print(f"{len(breaches)} breaches: do not publish this site.", markup=False)
        raise typer.Exit(1)
    typer.echo(f"audit passed: {layout.site} and {layout.towns_dir}")
