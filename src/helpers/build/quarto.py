"""Finding Quarto and rendering the staged website with it (Quarto only renders, never executes)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from helpers.build.manifest import write_atomic

INSTALL_HINT = (
    "Quarto was not found, so the website was not rendered (everything before it is built: "
    "build/towns/ holds each town's executed report, results and Excel tables). Install Quarto "
    "with `conda install -c conda-forge quarto`, or the official installer from "
    "https://quarto.org/docs/get-started/ (or `pip install quarto-cli` with internet access), "
    "or set QUARTO=/path/to/quarto; then run `make report` again."
)


class QuartoError(RuntimeError):
    """``quarto render`` failed; the message ends with the tail of its log."""


def find_quarto() -> Path | None:
    """``$QUARTO``, else ``quarto`` on PATH, else the one the quarto-cli pip package installs."""
    candidates = [os.environ.get("QUARTO"), shutil.which("quarto")]
    candidates.append(str(Path(sys.executable).parent / "quarto"))
    for c in candidates:
        if c and Path(c).is_file() and os.access(c, os.X_OK):
            return Path(c)
    return None


def render(quarto: Path, project: Path, log: Path) -> None:
    """Render a staged website project; its output goes to the project's ``output-dir``."""
    env = {**os.environ, "QUARTO_PYTHON": os.environ.get("QUARTO_PYTHON", sys.executable)}
    proc = subprocess.run(
        [str(quarto), "render", str(project), "--no-execute"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    write_atomic(log, proc.stdout + proc.stderr)
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-15:])
        raise QuartoError(f"quarto render failed (log: {log}):\n{tail}")
