"""Content hashes of each build step's inputs, and the manifest that remembers finished steps.

A step is skipped when the hash of everything it depends on matches the manifest and its outputs
exist. Hashes cover file contents (never timestamps). This module imports only the standard
library so that a build with nothing to do stays fast.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Iterable
from importlib import metadata
from pathlib import Path

from helpers import paths

#: Packages whose version changes what a report computes or how it is executed.
KEY_PACKAGES = (
    "pandas", "numpy", "scipy", "statsmodels", "pingouin", "pandera", "pyarrow", "matplotlib",
    "seaborn", "plotly", "openpyxl", "xlsxwriter", "pydantic", "papermill", "nbclient", "ipykernel",
)  # fmt: skip


def file_digest(path: Path) -> str:
    """SHA-256 of a file's bytes."""
    h = hashlib.sha256()
    with Path(path).open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def tree_files(root: Path, pattern: str = "**/*") -> list[Path]:
    """Files under ``root`` matching ``pattern``, sorted; caches and hidden files left out."""
    root = Path(root)
    if not root.exists():
        return []
    return sorted(
        p
        for p in root.glob(pattern)
        if p.is_file()
        and "__pycache__" not in p.parts
        and not any(part.startswith(".") for part in p.relative_to(root).parts)
    )


def versions(packages: Iterable[str] = KEY_PACKAGES) -> str:
    """Python and package versions as one line (a missing package counts as 'absent')."""
    found = []
    for name in packages:
        try:
            found.append(f"{name}={metadata.version(name)}")
        except metadata.PackageNotFoundError:
            found.append(f"{name}=absent")
    return f"python={sys.version.split()[0]} " + " ".join(found)


class Hasher:
    """Accumulate a step's inputs (files by relative path and content, plus text) into one key."""

    def __init__(self, step: str) -> None:
        self._h = hashlib.sha256(step.encode())

    def text(self, value: str) -> Hasher:
        self._h.update(b"\0t" + value.encode())
        return self

    def files(self, files: Iterable[Path]) -> Hasher:
        for f in files:
            f = Path(f)
            try:
                name = f.resolve().relative_to(paths.ROOT.resolve()).as_posix()
            except ValueError:
                name = f.as_posix()
            self._h.update(b"\0f" + name.encode() + b"=" + file_digest(f).encode())
        return self

    def key(self) -> str:
        return self._h.hexdigest()


def write_atomic(path: Path, data: str | bytes) -> None:
    """Write a file so that readers see either the old or the new content, never a half."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data.encode() if isinstance(data, str) else data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def replace_dir(new: Path, final: Path) -> None:
    """Move a finished folder into place, replacing the old one (two renames, no half state)."""
    old = final.with_name(f".{final.name}.old")
    shutil.rmtree(old, ignore_errors=True)
    if final.exists():
        final.rename(old)
    new.rename(final)
    shutil.rmtree(old, ignore_errors=True)


class Manifest:
    """Step name → input key of its last successful run, kept in a JSON file."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        try:
            self._steps: dict[str, str] = json.loads(self.path.read_text(encoding="utf-8"))
        except (FileNotFoundError, json.JSONDecodeError):
            self._steps = {}

    def fresh(self, step: str, key: str, outputs: Iterable[Path] = ()) -> bool:
        """True when ``step`` last succeeded with ``key`` and all its outputs still exist."""
        return self._steps.get(step) == key and all(Path(p).exists() for p in outputs)

    def record(self, step: str, key: str) -> None:
        """Remember a successful run and save the manifest at once."""
        self._steps[step] = key
        self.save()

    def forget(self, step: str) -> None:
        """Drop a step (it failed or its outputs were replaced) and save."""
        if self._steps.pop(step, None) is not None:
            self.save()

    def save(self) -> None:
        write_atomic(self.path, json.dumps(self._steps, indent=1, sort_keys=True))
