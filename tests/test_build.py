"""The batch build: content hashes, incremental skips, parallel towns, failures, end to end."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from types import ModuleType

import pytest

from helpers import paths
from helpers.build import quarto
from helpers.build.manifest import Hasher, Manifest, replace_dir, versions, write_atomic
from helpers.build.pipeline import Layout, Options, build
from helpers.build.runner import describe
from helpers.errors import UserError

TOWNS = ("iiyama", "suzaka", "tsukumi")


@pytest.fixture
def layout(build_layout, monkeypatch: pytest.MonkeyPatch) -> Layout:
    """A throwaway project: three real parameter files, fake raw files and code, tiny notebooks."""
    monkeypatch.delenv("TSUNAGARI_TEST_FAIL", raising=False)
    monkeypatch.delenv("TSUNAGARI_TEST_KILL", raising=False)
    return build_layout(TOWNS)


# --- hashes and the manifest ---


def test_key_follows_content_not_timestamps(tmp_path: Path) -> None:
    f = tmp_path / "a.csv"
    f.write_text("1,2\n")
    before = Hasher("step").files([f]).key()
    os.utime(f, (0, 0))
    assert Hasher("step").files([f]).key() == before
    g = tmp_path / "b.csv"
    g.write_text("1,3\n")
    assert Hasher("step").files([g]).key() != before
    assert Hasher("other").files([f]).key() != before


def test_manifest_needs_key_and_outputs(tmp_path: Path) -> None:
    out = tmp_path / "out.txt"
    m = Manifest(tmp_path / "manifest.json")
    assert not m.fresh("s", "k")
    m.record("s", "k")
    assert Manifest(tmp_path / "manifest.json").fresh("s", "k")
    assert not m.fresh("s", "other")
    assert not m.fresh("s", "k", [out])
    out.write_text("x")
    assert m.fresh("s", "k", [out])
    m.forget("s")
    assert not Manifest(tmp_path / "manifest.json").fresh("s", "k")


def test_write_atomic_and_replace_dir_leave_no_temporary_files(tmp_path: Path) -> None:
    write_atomic(tmp_path / "d" / "f.json", "{}")
    write_atomic(tmp_path / "d" / "f.json", "[]")
    assert [p.name for p in (tmp_path / "d").iterdir()] == ["f.json"]
    new, final = tmp_path / "new", tmp_path / "final"
    for d, text in ((final, "old"), (new, "new")):
        d.mkdir()
        (d / "x").write_text(text)
    replace_dir(new, final)
    assert (final / "x").read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d", "final"]


def test_versions_name_missing_packages() -> None:
    line = versions(["pandas", "surely-not-installed-pkg"])
    assert "pandas=" in line
    assert "surely-not-installed-pkg=absent" in line


def test_describe_gives_one_line() -> None:
    exc = UserError("column missing", file="x.csv", hint="add it")
    assert describe(exc) == "x.csv: column missing → add it"


def test_unknown_town_is_a_user_error(layout: Layout) -> None:
    with pytest.raises(UserError, match="no parameter file for nowhere"):
        build(Options(towns=("nowhere",)), layout)


# --- whole builds with the throwaway notebooks ---


def _staged_index(layout: Layout) -> str:
    return (layout.build / "site" / "index.qmd").read_text(encoding="utf-8")


@pytest.mark.slow
def test_cold_then_incremental_then_force(layout: Layout) -> None:
    # one worker runs all three towns in one kernel: the notebook asserts the namespace was reset
    cold = build(Options(workers=1), layout)
    assert cold.exit_code == 0, cold
    assert sorted(cold.towns) == sorted(TOWNS) and all(o.ok for o in cold.towns.values())
    for t in TOWNS:
        assert (layout.towns_dir / t / "results.json").exists()
        assert (layout.towns_dir / t / f"{t}_集計表.xlsx").exists()
        assert (layout.logs / f"{t}.log").read_text(encoding="utf-8")
        assert f"towns/{t}.html" in _staged_index(layout)
    assert (layout.build / "compare.ipynb").exists()
    assert cold.site == "not rendered (no Quarto)"
    assert quarto.INSTALL_HINT in cold.messages
    assert cold.audit == "passed"

    start = time.perf_counter()
    again = build(Options(workers=1), layout)
    assert time.perf_counter() - start < 2.0
    assert again.towns == {} and sorted(again.skipped) == sorted(TOWNS)
    assert again.compare == "up to date"

    (layout.raw / "suzaka" / "export.csv").write_text("id,sex\nsuzaka-1,2\n", encoding="utf-8")
    one = build(Options(workers=1), layout)
    assert list(one.towns) == ["suzaka"] and one.exit_code == 0
    assert one.compare == "up to date"  # suzaka's results.json came out byte-identical

    forced = build(Options(workers=1, force=True), layout)
    assert sorted(forced.towns) == sorted(TOWNS)

    (layout.code / "helper.py").write_text("X = 2\n")  # every town is out of date now
    subset = build(Options(towns=("tsukumi",), workers=1), layout)
    assert list(subset.towns) == ["tsukumi"]
    assert "towns/iiyama.html" in _staged_index(layout)  # still published from the last build


@pytest.mark.slow
def test_a_failing_town_does_not_stop_the_others(
    layout: Layout, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert build(Options(workers=2), layout).exit_code == 0
    monkeypatch.setenv("TSUNAGARI_TEST_FAIL", "suzaka")
    monkeypatch.setenv("TSUNAGARI_TEST_KILL", "iiyama")
    for t in ("suzaka", "iiyama"):
        (layout.raw / t / "export.csv").write_text("changed\n", encoding="utf-8")
    summary = build(Options(workers=1), layout)  # one worker: iiyama's kernel dies first
    assert summary.exit_code == 1
    assert "planted failure in suzaka" in summary.failed["suzaka"]
    assert summary.failed["iiyama"] == "Kernel died"  # the next town got a new kernel
    assert summary.skipped == ["tsukumi"]
    assert not (layout.towns_dir / "suzaka").exists()  # stale outputs are not published
    assert "planted failure in suzaka" in (layout.logs / "suzaka.log").read_text(encoding="utf-8")
    index = _staged_index(layout)
    assert "作成に失敗しました" in index and "planted failure in suzaka" in index
    assert "towns/suzaka.html" not in index and "towns/tsukumi.html" in index
    config = (layout.build / "site" / "_quarto.yml").read_text(encoding="utf-8")
    assert "towns/suzaka.ipynb" not in config

    monkeypatch.delenv("TSUNAGARI_TEST_FAIL")
    monkeypatch.delenv("TSUNAGARI_TEST_KILL")
    fixed = build(Options(workers=2), layout)
    assert fixed.exit_code == 0 and sorted(fixed.towns) == ["iiyama", "suzaka"]


# --- the real thing ---

REAL = [paths.processed_dir(t) / "survey.parquet" for t in ("iiyama", "tsukumi")]


@pytest.mark.slow
@pytest.mark.skipif(
    not (paths.NOTEBOOKS / "municipal_report.ipynb").exists()
    or not (paths.NOTEBOOKS / "compare.ipynb").exists()
    or not all(p.exists() for p in REAL),
    reason="needs notebooks/municipal_report.ipynb, compare.ipynb and cleaned samples "
    "(`tsunagari clean`)",
)
def test_sample_towns_end_to_end(built_site: Path, recompute: ModuleType) -> None:
    """Every sample town's real report, the comparison, the site and the audit (the project's
    own build, which ``built_site`` checked succeeded with no breach); then the independent
    recomputation recovers no small count from any results.json or HTML page."""
    layout = Layout(clean=False)
    assert layout.site == built_site
    for t in layout.towns_config.glob("*.yml"):
        results = json.loads(layout.results(t.stem).read_text(encoding="utf-8"))
        assert results["town"] == t.stem
        assert layout.xlsx(t.stem).exists()
        k = results["min_cell"]
        assert recompute.recover(recompute.tables_of_results(results), k) == [], t.stem
    pages = sorted(layout.site.rglob("*.html")) if layout.site.exists() else []
    for page in pages:
        tables = recompute.tables_of_html(page.read_text(encoding="utf-8"))
        assert recompute.recover(tables, 10) == [], page.name
    executed = (layout.build / "towns" / "iiyama.ipynb").read_text(encoding="utf-8")
    assert "data:image/svg+xml;base64," in executed, "static figures must reach the page as images"
    assert (layout.site / "index.html").exists()
    page = (layout.site / "towns" / "iiyama.html").read_text(encoding="utf-8")
    assert "<img" in page and "&lt;Figure size" not in page


def test_report_code_holds_the_wording_templates() -> None:
    """A change of the report's wording (a template) rebuilds the reports, as a code change does;
    the site's own code does not."""
    from helpers.build.pipeline import report_code

    names = {p.relative_to(Layout().code).as_posix() for p in report_code(Layout())}
    assert {"analysis/templates/loneliness.md.j2", "analysis/document.py",
            "figures.py"} <= names
    assert "build/site.py" not in names
