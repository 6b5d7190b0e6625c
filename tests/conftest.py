"""Shared fixtures."""

from __future__ import annotations

import hashlib
import importlib.util
import shutil
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from types import ModuleType

import pytest

from helpers import paths
from helpers.codebook import Codebook, load_codebook


@pytest.fixture(scope="session")
def codebook() -> Codebook:
    return load_codebook()


@pytest.fixture(scope="session")
def root():
    return paths.ROOT


@pytest.fixture(scope="session")
def recompute() -> ModuleType:
    """The independent recomputation of small counts from published tables (tests/recompute.py),
    kept apart from the audit's own code."""
    path = Path(__file__).parent / "recompute.py"
    spec = importlib.util.spec_from_file_location("recompute", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def build_layout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., object]:
    """Make a throwaway build project: real parameter files of ``towns``, fake raw files and
    code, the tiny fixture notebooks; the site is staged, not rendered."""
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
_GUARDED = (paths.DATA_RAW, Path(__file__).parent / "bad_inputs")
_raw_hashes: dict[str, str] = {}


def _hash_raw() -> dict[str, str]:
    return {
        str(p): hashlib.sha256(p.read_bytes()).hexdigest()
        for folder in _GUARDED
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
def built_site() -> Path:
    """The project's own site, built from the sample towns' processed data (``tsunagari clean``,
    which ``make test`` runs first) by ``tsunagari build`` (incremental: nothing is redone when
    nothing changed). Workers of pytest-xdist wait for each other on a lock, so the build runs
    once; the outputs are the project's build/ and reports/site/. Skipped without Quarto."""
    import fcntl

    from helpers.build import quarto
    from helpers.build.pipeline import Layout, Options, build

    if quarto.find_quarto() is None:
        pytest.skip("Quarto not found (PATH, $QUARTO): the site cannot be rendered")
    from helpers.towns import list_towns

    missing = [t for t in list_towns() if not (paths.processed_dir(t) / "survey.parquet").exists()]
    if missing:
        pytest.skip(f"no processed data for {', '.join(missing)}: run `tsunagari clean`")
    layout = Layout(clean=False)  # the other tests read data/processed/ meanwhile
    layout.build.mkdir(parents=True, exist_ok=True)
    with (layout.build / ".test-site.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        summary = build(Options(), layout)
    assert summary.exit_code == 0, (summary.failed, summary.messages, summary.breaches)
    return layout.site


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """The page weights the browser test measured in this run (first view, uncompressed)."""
    folder = paths.REPORTS / "page-weights"
    started = _started[0] if _started else 0.0
    lines = sorted(f.read_text(encoding="utf-8") for f in folder.glob("*.txt")
                   if f.stat().st_mtime >= started) if folder.exists() else []
    if lines:
        terminalreporter.write_sep("-", "page weights (first view, uncompressed; budget 2 MB)")
        for line in lines:
            terminalreporter.write(line)
