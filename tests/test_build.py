"""The batch build: content hashes, incremental skips, parallel towns, failures, end to end."""

from __future__ import annotations

import hashlib
import json
import os
import platform
from dataclasses import replace
from pathlib import Path
from types import ModuleType

import pandas as pd
import pytest

from helpers import paths
from helpers.build import quarto
from helpers.build.manifest import (
    Hasher,
    Manifest,
    replace_dir,
    tree_files,
    versions,
    write_atomic,
)
from helpers.build.pipeline import Layout, Options, build, report_code, town_keys
from helpers.build.runner import describe
from helpers.dataset import load_survey
from helpers.errors import UserError
from helpers.towns import load_town

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


def test_a_key_is_sha256_of_the_step_and_its_tagged_inputs(tmp_path: Path) -> None:
    # reproducible by hand: the step, then "\0t" + each text, "\0f" + path "=" + the file's
    # SHA-256; a file of the project by its path in the project (the same key in every clone)
    f = tmp_path / "a.csv"
    f.write_bytes(b"1,2\n" * 300_000)  # more than one read of 1 MiB
    town = paths.TOWNS / "iiyama.yml"
    sha = lambda data: hashlib.sha256(data).hexdigest()  # noqa: E731
    expected = sha(b"report:iiyama" + b"\0tv1" + b"\0f" + f.as_posix().encode() + b"="
                   + sha(f.read_bytes()).encode() + b"\0fconfig/towns/iiyama.yml="
                   + sha(town.read_bytes()).encode())
    assert Hasher("report:iiyama").text("v1").files([f, town]).key() == expected


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


def test_a_towns_keys_follow_each_of_its_inputs_and_only_them(layout: Layout) -> None:
    """The town file (a changed min_cell or label), the raw files, the code and package versions
    make the clean key; the notebook only the report key; another town's files neither."""
    keys = lambda: town_keys(layout, "suzaka", "env")  # noqa: E731
    clean, report = keys()
    assert keys() == (clean, report) and clean != report

    town_file = layout.towns_config / "suzaka.yml"
    original = town_file.read_text(encoding="utf-8")
    town_file.write_text(original.replace("min_cell: 10", "min_cell: 11"), encoding="utf-8")
    changed = keys()
    assert changed[0] != clean and changed[1] != report
    town_file.write_text(original, encoding="utf-8")
    assert keys() == (clean, report)

    (layout.raw / "suzaka" / "more.csv").write_text("id\n", encoding="utf-8")
    assert keys()[0] != clean
    (layout.raw / "suzaka" / "more.csv").unlink()
    assert town_keys(layout, "suzaka", "other env")[0] != clean
    (layout.towns_config / "iiyama.yml").write_text("changed\n", encoding="utf-8")
    (layout.raw / "iiyama" / "export.csv").write_text("changed\n", encoding="utf-8")
    assert keys() == (clean, report)
    notebook = layout.build / "report.ipynb"
    notebook.parent.mkdir(parents=True)
    notebook.write_bytes(layout.notebook.read_bytes() + b" ")
    moved = town_keys(replace(layout, notebook=notebook), "suzaka", "env")
    assert moved[0] == clean and moved[1] != report


def test_report_code_leaves_out_what_does_not_change_a_report(tmp_path: Path) -> None:
    code = tmp_path / "helpers"
    for name in ("stats/disclosure.py", "cli.py", "sample/generator.py", "build/site.py",
                 "build/manifest.py", "analysis/publish.py", "__pycache__/x.py", "notes.txt"):
        (code / name).parent.mkdir(parents=True, exist_ok=True)
        (code / name).write_text("x = 1\n")
    files = report_code(Layout(code=code))
    assert [f.relative_to(code).as_posix() for f in files] == [
        "analysis/publish.py", "build/manifest.py", "stats/disclosure.py"]


def test_write_atomic_writes_beside_the_target_and_cleans_up_a_failure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "a" / "b" / "results.json"
    renames = []
    real_replace = os.replace
    monkeypatch.setattr(os, "replace", lambda s, d: (renames.append(Path(s)), real_replace(s, d)))
    write_atomic(target, "飯山市")  # folders made as needed, text as UTF-8
    write_atomic(target.with_name("x.bin"), b"\xff\x00")  # bytes as they are
    assert target.read_bytes() == "飯山市".encode() and target.with_name("x.bin").read_bytes() == (
        b"\xff\x00")
    # the temporary file lies beside the target (a rename within one file system is atomic)
    assert [(p.parent, p.name.startswith(".results.json."), p.suffix) for p in renames[:1]] == [
        (target.parent, True, ".tmp")]

    def fail(*args: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(OSError, match="disk full"):
        write_atomic(target, "new")
    assert target.read_text(encoding="utf-8") == "飯山市"  # the old content stays
    assert sorted(p.name for p in target.parent.iterdir()) == ["results.json", "x.bin"]


def test_replace_dir_the_first_time_and_after_a_crash(tmp_path: Path) -> None:
    new, final = tmp_path / "new", tmp_path / "final"
    new.mkdir()
    (new / "x").write_text("1")
    replace_dir(new, final)  # nothing to replace yet
    stale = tmp_path / ".final.old"  # left by a build that died between the two renames
    (stale / "sub").mkdir(parents=True)
    new.mkdir()
    (new / "x").write_text("2")
    replace_dir(new, final)
    assert (final / "x").read_text() == "2"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["final"]


def test_tree_files_leave_out_hidden_files_and_caches(tmp_path: Path) -> None:
    for name in ("b.csv", "a/c.csv", ".hidden.csv", ".git/d.csv", "a/__pycache__/e.pyc",
                 "a/.f/g.csv"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x")
    assert [p.relative_to(tmp_path).as_posix() for p in tree_files(tmp_path)] == [
        "a/c.csv", "b.csv"]
    assert tree_files(tmp_path, "*.csv") == [tmp_path / "b.csv"]
    assert tree_files(tmp_path / "missing") == []


def test_the_manifest_file_is_stable_and_forgets_quietly(tmp_path: Path) -> None:
    a, b = Manifest(tmp_path / "a.json"), Manifest(tmp_path / "b.json")
    for step, key in (("x", "1"), ("y", "2")):
        a.record(step, key)
    for step, key in (("y", "2"), ("x", "1")):
        b.record(step, key)
    assert (tmp_path / "a.json").read_bytes() == (tmp_path / "b.json").read_bytes()
    # one step per line: a developer reads which steps are recorded
    assert (tmp_path / "a.json").read_text().splitlines() == ["{", ' "x": "1",', ' "y": "2"', "}"]
    a.forget("never recorded")
    (tmp_path / "bad.json").write_text("{not json")
    assert not Manifest(tmp_path / "bad.json").fresh("x", "1")


def test_versions_name_missing_packages() -> None:
    line = versions(["pandas", "surely-not-installed-pkg"])
    assert line == (f"python={platform.python_version()} pandas={pd.__version__} "
                    "surely-not-installed-pkg=absent")


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

    again = build(Options(workers=1), layout)  # its time: bench/bench_build.py
    assert again.towns == {} and sorted(again.skipped) == sorted(TOWNS)
    assert again.compare == "up to date"

    (layout.raw / "suzaka" / "export.csv").write_text("id,sex\nsuzaka-1,2\n", encoding="utf-8")
    one = build(Options(workers=1), layout)
    assert list(one.towns) == ["suzaka"] and one.exit_code == 0
    assert one.compare == "up to date"  # suzaka's results.json came out byte-identical

    town_file = layout.towns_config / "iiyama.yml"  # a changed threshold: no stale report
    town_file.write_text(town_file.read_text(encoding="utf-8").replace(
        "min_cell: 10", "min_cell: 12"), encoding="utf-8")
    changed = build(Options(workers=1), layout)
    assert list(changed.towns) == ["iiyama"] and changed.exit_code == 0

    stale = layout.svg_cache / "ab" / "ab12.svg"  # --force draws every chart again
    stale.parent.mkdir(parents=True)
    stale.write_text("<svg/>", encoding="utf-8")
    forced = build(Options(workers=1, force=True), layout)
    assert sorted(forced.towns) == sorted(TOWNS)
    assert not stale.exists()

    (layout.code / "helper.py").write_text("X = 2\n")  # every town is out of date now
    subset = build(Options(towns=("tsukumi",), workers=1), layout)
    assert list(subset.towns) == ["tsukumi"]
    assert "towns/iiyama.html" in _staged_index(layout)  # still published from the last build



def test_a_worker_holds_no_more_after_each_job(layout: Layout) -> None:
    """One kernel runs town after town: the worker's threads and open files do not grow with the
    jobs (papermill leaves a client open per notebook: 3 threads, 14 files and 12 MB a town).
    One transient thread or file is allowed: the runtime starts and ends helper threads of its
    own, so an exact count is flaky; a leak of one job already exceeds the allowance."""
    import psutil

    from helpers.build import runner
    from helpers.build.pipeline import _job

    me = psutil.Process()
    held = []
    try:
        for town in (*TOWNS, *TOWNS):
            assert runner.run_job(_job(layout, town, clean=False)).ok
            held.append((me.num_threads(), me.num_fds()))
    finally:
        runner.drop_kernel()
    threads, files = held[0]
    assert all(t <= threads + 1 and f <= files + 1 for t, f in held[1:]), held

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

@pytest.mark.slow
def test_sample_towns_end_to_end(
    site_build: Layout, recompute: ModuleType, independent: ModuleType, processed: Path
) -> None:
    """Every sample town's real report, the comparison, the site and the audit (the build of
    ``site_build``, which checked it succeeded with no breach); then the independent
    recomputation recovers no small count from any results.json or HTML page, and Iiyama's page
    says the numbers the cleaned data give."""
    layout = site_build
    for t in layout.towns_config.glob("*.yml"):
        results = json.loads(layout.results(t.stem).read_text(encoding="utf-8"))
        assert results["town"] == t.stem
        assert layout.xlsx(t.stem).exists()
        k = results["min_cell"]
        assert recompute.recover(recompute.tables_of_results(results), k) == [], t.stem
    pages = sorted(layout.site.rglob("*.html"))
    assert len(pages) > len(list(layout.towns_config.glob("*.yml")))
    for page in pages:
        tables = recompute.tables_of_html(page.read_text(encoding="utf-8"))
        assert recompute.recover(tables, 10) == [], page.name
    executed = (layout.build / "towns" / "iiyama.ipynb").read_text(encoding="utf-8")
    assert "data:image/svg+xml;base64," in executed, "static figures must reach the page as images"
    assert any(layout.svg_cache.rglob("*.svg")), "the build keeps its charts for the next one"
    assert (layout.site / "index.html").exists()
    page = (layout.site / "towns" / "iiyama.html").read_text(encoding="utf-8")
    assert "<img" in page and "&lt;Figure size" not in page
    # the published numbers as the reader reads them, recomputed from the cleaned data
    df = load_survey("iiyama", processed_dir=processed / "iiyama")
    survey = load_town("iiyama").survey
    results = json.loads(layout.results("iiyama").read_text(encoding="utf-8"))
    text = independent.page_text(page)
    for sentence in independent.sentences(df, survey, results):
        assert sentence in text


def test_report_code_holds_the_wording_templates() -> None:
    """A change of the report's wording (a template) rebuilds the reports, as a code change does;
    the site's own code does not."""
    from helpers.build.pipeline import report_code

    names = {p.relative_to(Layout().code).as_posix() for p in report_code(Layout())}
    assert {"analysis/templates/loneliness.md.j2", "analysis/document.py",
            "figures.py"} <= names
    assert "build/site.py" not in names


def _square_unless_spawned(x: int) -> int:
    """A task that kills the worker process it runs in (as the out-of-memory killer would),
    and works in the build process itself."""
    import multiprocessing

    if multiprocessing.parent_process() is not None:
        os._exit(1)
    return x * x


def test_a_worker_process_that_dies_loses_no_task() -> None:
    """The audit's tasks run in local processes; when one dies, they run again in the build
    process, and the build says so."""
    from helpers.build.pipeline import Workers

    workers = Workers(Options(workers=2), 2)
    try:
        assert workers.map_cpu(_square_unless_spawned, [1, 2, 3]) == [1, 4, 9]
    finally:
        workers.close()
    assert len(workers.notes) == 1 and "_square_unless_spawned" in workers.notes[0]
    assert "its 3 tasks ran again in the build process" in workers.notes[0]
