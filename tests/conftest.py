"""Shared fixtures.

The tests make their own cleaned data: ``data/processed`` of a test run is a temporary folder
(``TSUNAGARI_PROCESSED``, inherited by the xdist workers and the kernels they start), filled by
:func:`cleaned` and removed at the end. No test skips because a developer has not run
``tsunagari clean``, nor reads what they left there. ``TSUNAGARI_TEST_PROCESSED`` names a folder
to keep instead (tests/mutation.py: thousands of runs clean the samples once).
"""

from __future__ import annotations

import fcntl
import hashlib
import importlib.util
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from helpers.build.pipeline import Layout
    from helpers.codebook import Codebook

_run_dir: Path | None = None


def pytest_configure(config: pytest.Config) -> None:
    global _run_dir
    if hasattr(config, "workerinput"):  # an xdist worker: the controller has chosen
        return
    if kept := os.environ.get("TSUNAGARI_TEST_PROCESSED"):
        os.environ["TSUNAGARI_PROCESSED"] = kept
    else:
        _run_dir = Path(tempfile.mkdtemp(prefix="tsunagari-tests-"))
        os.environ["TSUNAGARI_PROCESSED"] = str(_run_dir / "processed")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "cleaned" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.samples)


def pytest_unconfigure(config: pytest.Config) -> None:
    if _run_dir is not None:
        shutil.rmtree(_run_dir, ignore_errors=True)


@pytest.fixture(scope="session", autouse=True)
def processed() -> Iterator[Path]:
    """This run's ``data/processed``, also for a ``helpers`` imported before the run chose it
    (mutmut runs pytest several times in one process)."""
    from helpers import paths

    folder = Path(os.environ["TSUNAGARI_PROCESSED"])
    folder.mkdir(parents=True, exist_ok=True)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(paths, "DATA_PROCESSED", folder)
        yield folder


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    """One process at a time (xdist workers share the cleaned data of the run)."""
    with path.open("w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


@pytest.fixture(scope="session")
def cleaned(processed: Path) -> Callable[[str], Path]:
    """``cleaned(town)``: the town's sample cleaned into this run's ``data/processed`` (once per
    run, whichever worker asks first); returns its folder."""
    from helpers.cleaning import clean_town

    def clean(town: str) -> Path:
        with _locked(processed / f".{town}.lock"):
            if not (processed / town / "survey.parquet").exists():
                clean_town(town, out_dir=processed / town)
        return processed / town

    return clean


@pytest.fixture(scope="session")
def codebook() -> Codebook:
    from helpers.codebook import load_codebook

    return load_codebook()


@pytest.fixture(scope="session")
def root() -> Path:
    from helpers import paths

    return paths.ROOT


def _load(name: str) -> ModuleType:
    """A helper module of the tests, by file (the tests are not a package)."""
    path = Path(__file__).parent / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"tests_{name}", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def recompute() -> ModuleType:
    """The independent recomputation of small counts from published tables (tests/recompute.py),
    kept apart from the audit's own code."""
    return _load("recompute")


@pytest.fixture(scope="session")
def independent() -> ModuleType:
    """What a report must publish, computed again from the cleaned data (tests/independent.py),
    kept apart from the package's own code."""
    return _load("independent")


@pytest.fixture
def build_layout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., object]:
    """Make a throwaway build project: real parameter files of ``towns``, fake raw files and
    code, the tiny fixture notebooks; the site is staged, not rendered."""
    from helpers import paths
    from helpers.build import quarto
    from helpers.build.pipeline import Layout

    fixtures = Path(__file__).parent / "fixtures" / "build"

    def make(towns: Iterable[str]) -> Layout:
        config = tmp_path / "towns"
        config.mkdir()
        for t in towns:
            shutil.copy(paths.TOWNS / f"{t}.yml", config / f"{t}.yml")
            (tmp_path / "raw" / t).mkdir(parents=True)
            (tmp_path / "raw" / t / "export.csv").write_text(f"id,sex\n{t}-1,1\n", encoding="utf-8")
        (tmp_path / "code").mkdir()
        (tmp_path / "code" / "helper.py").write_text("X = 1\n")
        monkeypatch.setattr(quarto, "find_quarto", lambda: None)
        return Layout(
            raw=tmp_path / "raw",
            processed=tmp_path / "processed",
            towns_config=config,
            notebook=fixtures / "report.ipynb",
            compare=fixtures / "compare.ipynb",
            build=tmp_path / "build",
            reports=tmp_path / "reports",
            code=tmp_path / "code",
            clean=False,
        )

    return make


# Raw files are never modified: hash them before and after the whole session (in the xdist
# controller, or the only process), and fail the run if anything changed.
_raw_hashes: dict[str, str] = {}


def _hash_raw() -> dict[str, str]:
    from helpers import paths

    return {
        str(p): hashlib.sha256(p.read_bytes()).hexdigest()
        for folder in (paths.DATA_RAW, Path(__file__).parent / "bad_inputs")
        for p in sorted(folder.rglob("*"))
        if p.is_file() and "__pycache__" not in p.parts
    }


_started: list[float] = []


def pytest_sessionstart(session: pytest.Session) -> None:
    if not hasattr(session.config, "workerinput"):
        _raw_hashes.update(_hash_raw())
        _started.append(time.time())


def pytest_sessionfinish(session: pytest.Session) -> None:
    if hasattr(session.config, "workerinput") or not _raw_hashes:
        return
    now = _hash_raw()
    changed = sorted(p for p in _raw_hashes.keys() | now.keys() if _raw_hashes.get(p) != now.get(p))
    if changed:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line(f"RAW FILES CHANGED DURING THE TESTS: {', '.join(changed)}",
                                red=True)


@pytest.fixture(scope="session")
def site_build(cleaned: Callable[[str], Path], processed: Path) -> Layout:
    """The sample towns built end to end by ``tsunagari build`` (reports, comparison, site,
    audit) from this run's cleaned data into this run's folder, never over the project's own
    build/ and reports/. Workers of pytest-xdist wait for each other on a lock, so the build runs
    once (the next finds every step fresh). Skipped without Quarto."""
    from helpers.build import quarto
    from helpers.build.pipeline import Layout, Options, build
    from helpers.towns import list_towns

    if quarto.find_quarto() is None:
        pytest.skip("Quarto not found (PATH, $QUARTO): the site cannot be rendered")
    for town in list_towns():
        cleaned(town)
    root = processed.parent / "samples-built"
    root.mkdir(parents=True, exist_ok=True)
    layout = Layout(processed=processed, build=root / "build", reports=root / "reports",
                    clean=False)
    with _locked(root / ".lock"):
        summary = build(Options(), layout)
    assert summary.exit_code == 0, (summary.failed, summary.messages, summary.breaches)
    return layout


@pytest.fixture(scope="session")
def built_site(site_build: Layout) -> Path:
    """The site of :func:`site_build`."""
    return site_build.site


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """The page weights the browser test measured in this run (first view, uncompressed)."""
    from helpers import paths

    folder = paths.REPORTS / "page-weights"
    started = _started[0] if _started else 0.0
    lines = sorted(f.read_text(encoding="utf-8") for f in folder.glob("*.txt")
                   if f.stat().st_mtime >= started) if folder.exists() else []
    if lines:
        terminalreporter.write_sep("-", "page weights (first view, uncompressed; budget 2 MB)")
        for line in lines:
            terminalreporter.write(line)
