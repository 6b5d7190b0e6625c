"""``tsunagari build``: clean → report per town (parallel) → comparison → website → audit.

Each step runs only when the hash of its inputs differs from the manifest (``--force`` runs all):

| step | inputs |
|---|---|
| clean:<town> | raw files, parameter file, codebook, helper code, package versions |
| report:<town> | the clean key and the report notebook |
| compare | the towns' results.json, the comparison notebook, helper code, versions |
| site | executed pages, results, xlsx, failures, ``_quarto.yml``, ``site/``, codebook, towns |
| audit | the site key and the restricted data it checks against |

The comparison runs while the site's other pages render (its page renders once it has run),
and the audit's checks run in tasks on the workers.

One town's failure does not stop the others: it is logged (``build/logs/<town>.log``), its old
outputs are removed, it is listed as failed on the site's index and the build exits non-zero.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console

import helpers
from helpers import paths
from helpers.build.manifest import (
    Hasher,
    Manifest,
    replace_dir,
    tree_files,
    versions,
    write_atomic,
)
from helpers.build.runner import Job, Outcome, describe, run_job
from helpers.errors import UserError
from helpers.escape import console as text

if TYPE_CHECKING:
    from concurrent.futures import Future

#: Helper code that does not change what a town's report computes (path prefixes).
NOT_REPORT_CODE = (
    "cli.py", "sample/", "build/site.py", "build/audit.py", "build/quarto.py", "build/pipeline.py",
    "build/render.py",
)  # fmt: skip


@dataclass(frozen=True)
class Layout:
    """Where the build reads and writes (the project's folders unless a test says otherwise)."""

    raw: Path = paths.DATA_RAW
    processed: Path = paths.DATA_PROCESSED
    towns_config: Path = paths.TOWNS
    notebook: Path = paths.NOTEBOOKS / "municipal_report.ipynb"
    compare: Path = paths.NOTEBOOKS / "compare.ipynb"
    build: Path = paths.BUILD
    reports: Path = paths.REPORTS
    code: Path = Path(helpers.__file__).parent
    clean: bool = True

    @property
    def towns_dir(self) -> Path:
        return self.build / "towns"

    @property
    def logs(self) -> Path:
        return self.build / "logs"

    @property
    def svg_cache(self) -> Path:
        """Charts drawn by earlier builds, by their data and drawing code (emptied by
        ``--force``)."""
        return self.build / "cache" / "svg"

    @property
    def site(self) -> Path:
        return self.reports / "site"

    def executed(self, town: str) -> Path:
        return self.towns_dir / f"{town}.ipynb"

    def results(self, town: str) -> Path:
        return self.towns_dir / town / "results.json"

    def print_source(self, town: str) -> Path:
        """The printed report's Quarto source that the town's report notebook writes."""
        from helpers.analysis.document import PRINT_DIR

        return self.towns_dir / town / PRINT_DIR / f"{town}.qmd"

    def xlsx(self, town: str) -> Path:
        from helpers.build.site import xlsx_name

        return self.towns_dir / town / xlsx_name(town)


@dataclass(frozen=True)
class Options:
    """What the user asked for on the command line."""

    towns: tuple[str, ...] = ()
    workers: int | None = None
    force: bool = False
    dask: bool = False
    scheduler: str | None = None
    shards: int | None = None  # at most this many site render shards (default: one per worker)


@dataclass
class Summary:
    """The outcome of a build, for the summary table and the exit code."""

    towns: dict[str, Outcome] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)
    compare: str = "skipped"
    site: str = "skipped"
    audit: str = "skipped"
    breaches: list[str] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)
    seconds: float = 0.0
    phases: dict[str, float] = field(default_factory=dict)

    @property
    def failed(self) -> dict[str, str]:
        return {t: o.error or "failed" for t, o in self.towns.items() if not o.ok}

    @property
    def exit_code(self) -> int:
        bad = self.failed or self.breaches or "failed" in (self.compare, self.site, self.audit)
        return 1 if bad else 0


# --- hashing ---


def report_code(layout: Layout) -> list[Path]:
    """The helper package's Python files and wording templates that a town's cleaning and
    report depend on."""
    files = tree_files(layout.code, "**/*.py") + tree_files(layout.code, "**/*.j2")
    return [
        f for f in files if not f.relative_to(layout.code).as_posix().startswith(NOT_REPORT_CODE)
    ]


def _env_key(layout: Layout) -> str:
    return Hasher("env").text(versions()).files(report_code(layout)).key()


def town_keys(layout: Layout, town: str, env: str) -> tuple[str, str]:
    """(clean key, report key) of a town."""
    clean = (
        Hasher("clean")
        .text(env)
        .files([paths.CODEBOOK, layout.towns_config / f"{town}.yml"])
        .files(tree_files(layout.raw / town))
        .key()
    )
    return clean, Hasher("report").text(clean).files([layout.notebook]).key()


# --- workers ---


class Workers:
    """A pool of worker processes (or a Dask cluster), started on first use."""

    def __init__(self, options: Options, n_jobs: int) -> None:
        self.options = options
        self.n = max(1, min(options.workers or os.cpu_count() or 1, n_jobs))
        self._pool: Any = None
        self._cpu_pool: Any = None
        self._client: Any = None
        self._cluster: Any = None
        self._lock = threading.Lock()  # the comparison and the audit use the workers in threads
        self.notes: list[str] = []  # fallbacks taken, for the build's messages

    def run(self, jobs: list[Job]) -> Iterator[Outcome]:
        """Run jobs in parallel; yield each outcome as it finishes."""
        if self.options.dask or self.options.scheduler:
            yield from self._run_dask(jobs)
            return
        from concurrent.futures import as_completed
        from concurrent.futures.process import BrokenProcessPool

        try:
            futures = {self._local_pool().submit(run_job, j): j for j in jobs}
        except BrokenProcessPool:  # a worker crashed in an earlier step: start a fresh pool
            self._pool.shutdown(cancel_futures=True)
            self._pool = None
            futures = {self._local_pool().submit(run_job, j): j for j in jobs}
        for f in as_completed(futures):
            yield _result(f, futures[f])

    @property
    def slots(self) -> int:
        """How many tasks can run at once: the workers asked for (or the cores), or the Dask
        cluster's workers."""
        if self._client is not None:
            return max(1, len(self._client.scheduler_info()["workers"]))
        return max(1, self.options.workers or os.cpu_count() or 1)

    def map(self, fn: Callable[[Any], Any], items: list[Any]) -> list[Any]:
        """``fn`` over ``items``, as many at a time as there are slots: on the Dask workers when
        the build runs on Dask, else in threads (for work done by subprocesses, such as
        Quarto)."""
        if self.options.dask or self.options.scheduler:
            self._connect()
            futures = [self._client.submit(fn, i, pure=False) for i in items]
            return self._client.gather(futures)
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max(1, min(len(items), self.slots))) as threads:
            return list(threads.map(fn, items))

    def map_cpu(self, fn: Callable[[Any], Any], items: list[Any]) -> list[Any]:
        """``fn`` over ``items`` where Python work runs in parallel (it holds the GIL, unlike
        ``map``'s Quarto): on the Dask workers, else in local processes (spawned once,
        as many as there are slots)."""
        if self.options.dask or self.options.scheduler:
            return self.map(fn, items)
        from concurrent.futures import ProcessPoolExecutor
        from concurrent.futures.process import BrokenProcessPool
        from multiprocessing import get_context

        with self._lock:
            if self._cpu_pool is None:
                self._cpu_pool = ProcessPoolExecutor(self.slots, mp_context=get_context("spawn"))
            pool = self._cpu_pool
        try:
            return list(pool.map(fn, items))
        except BrokenProcessPool as exc:  # a process died (e.g. out of memory): nothing is lost
            with self._lock:
                if self._cpu_pool is pool:
                    self._cpu_pool = None
            pool.shutdown(cancel_futures=True)
            self.notes.append(f"a worker process ended during {getattr(fn, '__name__', fn)} "
                              f"({exc}); its {len(items)} tasks ran again in the build process")
            return [fn(item) for item in items]

    def release_kernels(self) -> None:
        """Shut down the workers' kernels (about 0.4 GB each) once no notebook is left to run:
        local worker processes end, Dask workers drop theirs (a later job starts a new one)."""
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None
        if self._client is not None:
            from helpers.build.runner import drop_kernel

            self._client.run(drop_kernel)

    def _local_pool(self) -> Any:
        from concurrent.futures import ProcessPoolExecutor
        from multiprocessing import get_context

        if self._pool is None:
            self._pool = ProcessPoolExecutor(self.n, mp_context=get_context("spawn"))
        return self._pool

    def _run_dask(self, jobs: list[Job]) -> Iterator[Outcome]:
        from distributed import as_completed

        self._connect()
        futures = {
            self._client.submit(
                run_job, j, pure=False, key=f"tsunagari-{j.name}-{time.time_ns()}"
            ): j
            for j in jobs
        }
        for f in as_completed(list(futures)):
            yield _result(f, futures[f])

    def _connect(self) -> None:
        from distributed import Client, LocalCluster

        with self._lock:
            if self._client is not None:
                return
            if self.options.scheduler:
                self._client = Client(self.options.scheduler)
            else:
                self._cluster = LocalCluster(
                    n_workers=self.n, threads_per_worker=1, processes=True, dashboard_address=None
                )
                self._client = Client(self._cluster)

    def close(self) -> None:
        for pool in (self._pool, self._cpu_pool):
            if pool is not None:
                pool.shutdown()
        if self._client is not None:
            self._client.close()
        if self._cluster is not None:
            self._cluster.close()


def _result(future: Any, job: Job) -> Outcome:
    try:
        return future.result()
    except Exception as exc:  # the worker process died: the job failed, the build goes on
        return Outcome(job.name, False, 0.0, f"worker lost: {describe(exc)}")


@contextmanager
def _build_lock(build_dir: Path) -> Iterator[None]:
    build_dir.mkdir(parents=True, exist_ok=True)
    with (build_dir / ".lock").open("w") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise UserError(
                "another build is running in this project",
                file=build_dir,
                hint="wait for it to finish (two builds would overwrite each other's outputs)",
            ) from None
        yield


# --- the build ---


def town_ids(layout: Layout) -> list[str]:
    """Every town with a parameter file."""
    return sorted(p.stem for p in layout.towns_config.glob("*.yml"))


def _job(layout: Layout, town: str, clean: bool) -> Job:
    return Job(
        name=town,
        notebook=layout.notebook,
        output=layout.executed(town),
        parameters={"town": town, "svg_cache": str(layout.svg_cache)},
        log=layout.logs / f"{town}.log",
        cwd=layout.notebook.parent,
        clean=town if clean else None,
        out_dir=layout.towns_dir / town,
        tmp_root=layout.build / "tmp",
    )


def _fresh_report(manifest: Manifest, layout: Layout, town: str, key: str) -> bool:
    outputs = [layout.executed(town), layout.results(town)]
    return manifest.fresh(f"report:{town}", key, outputs)


def _publishable(manifest: Manifest, layout: Layout, town: str, key: str, options: Options) -> bool:
    """Up to date, or left out of this build (``tsunagari build TOWN``) with earlier outputs."""
    if _fresh_report(manifest, layout, town, key):
        return True
    earlier = layout.executed(town).exists() and layout.results(town).exists()
    return bool(options.towns) and town not in options.towns and earlier


def _durations(layout: Layout) -> dict[str, float]:
    try:
        return json.loads((layout.build / "durations.json").read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return {}


def _expected_seconds(layout: Layout, town: str) -> float:
    """A town's last build time (else its raw data size, as a proxy): the longest start first."""
    last = _durations(layout).get(town)
    if last is not None:
        return float(last)
    return sum(f.stat().st_size for f in tree_files(layout.raw / town)) / 1e6


def _remove_outputs(layout: Layout, town: str) -> None:
    shutil.rmtree(layout.towns_dir / town, ignore_errors=True)
    layout.executed(town).unlink(missing_ok=True)


def build(
    options: Options = Options(),
    layout: Layout = Layout(),
    console: Console | None = None,
) -> Summary:
    """Run the whole build; never raises for one town's failure (see ``Summary.exit_code``)."""
    console = console or Console(highlight=False)
    start = time.perf_counter()
    summary = Summary()
    all_ids = town_ids(layout)
    unknown = sorted(set(options.towns) - set(all_ids))
    if unknown:
        raise UserError(
            f"no parameter file for {', '.join(unknown)}",
            file=layout.towns_config,
            hint=f"towns with a parameter file: {', '.join(all_ids) or 'none'}",
        )
    with _build_lock(layout.build):
        if options.force:
            shutil.rmtree(layout.svg_cache, ignore_errors=True)
        manifest = Manifest(layout.build / "manifest.json")
        env = _env_key(layout)
        keys = {t: town_keys(layout, t, env) for t in all_ids}
        for stale in tree_files(layout.towns_dir, "*.ipynb"):
            if stale.stem not in keys:
                _remove_outputs(layout, stale.stem)
        jobs = []
        for t in options.towns or all_ids:
            clean_key, report_key = keys[t]
            cleaned = [layout.processed / t / "survey.parquet"]
            clean = layout.clean and (
                options.force or not manifest.fresh(f"clean:{t}", clean_key, cleaned)
            )
            if clean or options.force or not _fresh_report(manifest, layout, t, report_key):
                jobs.append(_job(layout, t, clean))
            else:
                summary.skipped.append(t)
        jobs.sort(key=lambda j: _expected_seconds(layout, j.name), reverse=True)
        workers = Workers(options, max(1, len(jobs)))
        try:
            summary.phases["prepare"] = time.perf_counter() - start
            _run_towns(jobs, workers, manifest, keys, layout, summary, console)
            summary.phases["towns"] = time.perf_counter() - start - sum(summary.phases.values())
            ok = [t for t in all_ids if _publishable(manifest, layout, t, keys[t][1], options)]
            compare = _plan_compare(ok, env, manifest, layout, options, summary)
            _site_and_audit(ok, compare, workers, manifest, layout, options, summary, console)
        finally:
            workers.close()
            summary.messages += workers.notes
    summary.seconds = time.perf_counter() - start
    summary.phases["audit"] = summary.seconds - sum(summary.phases.values())
    return summary


def _run_towns(
    jobs: list[Job],
    workers: Workers,
    manifest: Manifest,
    keys: dict[str, tuple[str, str]],
    layout: Layout,
    summary: Summary,
    console: Console,
) -> None:
    if not jobs:
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TimeElapsedColumn())  # fmt: skip
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task(f"towns ({workers.n} workers)", total=len(jobs))
        for out in workers.run(jobs):
            clean_key, report_key = keys[out.name]
            summary.towns[out.name] = out
            if "clean" in out.steps and (out.ok or len(out.steps) > 1):
                manifest.record(f"clean:{out.name}", clean_key)  # cleaning itself worked
            if out.ok:
                manifest.record(f"report:{out.name}", report_key)
                durations = {**_durations(layout), out.name: round(out.seconds, 2)}
                write_atomic(layout.build / "durations.json", json.dumps(durations))
                console.print(
                    f"  [green]✓[/] {out.name}  {'+'.join(out.steps)}  {out.seconds:.1f} s"
                )
            else:
                manifest.forget(f"report:{out.name}")
                _remove_outputs(layout, out.name)
                log = layout.logs / f"{out.name}.log"
                console.print("  [red]✗[/]", text(f"{out.name}: {out.error}  (log: {log})"),
                              soft_wrap=True)
            progress.advance(task)


@dataclass(frozen=True)
class _Compare:
    """The comparison step: its output (None: no comparison) and, when it must run, its job and
    the key to record."""

    out: Path | None
    job: Job | None = None
    key: str = ""


def _plan_compare(
    ok: list[str],
    env: str,
    manifest: Manifest,
    layout: Layout,
    options: Options,
    summary: Summary,
) -> _Compare:
    out = layout.build / "compare.ipynb"
    if not ok or not layout.compare.exists():
        summary.compare = "no towns" if not ok else "no notebook"
        return _Compare(None)
    key = (
        Hasher("compare")
        .text(env + " ".join(ok))
        .files([layout.compare, *(layout.results(t) for t in ok)])
        .key()
    )
    if not options.force and manifest.fresh("compare", key, [out]):
        summary.compare = "up to date"
        return _Compare(out)
    job = Job(
        name="compare",
        notebook=layout.compare,
        output=out,
        parameters={"results_dir": str(layout.towns_dir)},
        log=layout.logs / "compare.log",
        cwd=layout.compare.parent,
    )
    return _Compare(out, job, key)


def _run_compare(
    compare: _Compare, workers: Workers, manifest: Manifest, summary: Summary
) -> Path | None:
    """Run the comparison notebook if it must run, then shut down the workers' kernels; its
    output, or None."""
    if compare.job is None:
        workers.release_kernels()
        return compare.out
    try:
        result = next(workers.run([compare.job]))
    finally:
        workers.release_kernels()
    if result.ok:
        manifest.record("compare", compare.key)
        summary.compare = f"built in {result.seconds:.1f} s"
        return compare.out
    manifest.forget("compare")
    compare.job.output.unlink(missing_ok=True)
    summary.compare = "failed"
    summary.messages.append(f"comparison failed: {result.error} (log: {compare.job.log})")
    return None


def _pages(ok: list[str], summary: Summary, layout: Layout) -> list[Any]:
    from helpers.build.site import Page
    from helpers.towns import load_town

    pages = []
    for t in sorted({*ok, *summary.failed}):
        try:
            town = load_town(layout.towns_config / f"{t}.yml")
        except UserError as exc:
            summary.towns.setdefault(t, Outcome(t, False, 0.0, exc.message))
            pages.append(Page(t, None, error=exc.message))
            continue
        if t in summary.failed:
            pages.append(Page(t, town, error=summary.failed[t]))
        else:
            xlsx, printed = layout.xlsx(t), layout.print_source(t)
            pages.append(Page(t, town, layout.executed(t), layout.results(t),
                              xlsx if xlsx.exists() else None,
                              print_source=printed if printed.exists() else None))
    return pages


def _site_key(ok: list[str], compare: Path | None, layout: Layout, summary: Summary) -> str:
    site_inputs = [paths.ROOT / "_quarto.yml", *tree_files(paths.ROOT / "site"), paths.CODEBOOK]
    site_inputs += [layout.towns_config / f"{t}.yml" for t in ok]
    for t in ok:
        site_inputs += [layout.executed(t), *tree_files(layout.towns_dir / t)]
    site_inputs += [compare] if compare else []
    failures = " ".join(f"{t}={e}" for t, e in sorted(summary.failed.items()))
    return (
        Hasher("site")
        .text(failures + os.environ.get("TSUNAGARI_SITE_URL", ""))
        .files(tree_files(layout.code / "build", "*.py"))
        .files(site_inputs)
        .key()
    )


def _site_and_audit(
    ok: list[str],
    compare: _Compare,
    workers: Workers,
    manifest: Manifest,
    layout: Layout,
    options: Options,
    summary: Summary,
    console: Console,
) -> None:
    """Run the comparison, stage and render the site (if its inputs changed), then audit it (if
    anything changed).

    The comparison runs in a thread while the pages that do not depend on it render; the
    audit's slow part (imports, restricted data, the results and Excel files) runs in another
    thread meanwhile; the site's pages are audited once they exist.
    """
    from concurrent.futures import ThreadPoolExecutor

    from helpers.build import quarto

    start = time.perf_counter()
    pending = compare.job is not None  # the site's key includes the comparison's output
    site_key = "" if pending else _site_key(ok, compare.out, layout, summary)
    restricted = tree_files(layout.processed, "*/restricted.parquet")

    def audit_key_of(site_key: str) -> str:  # the site and the restricted data it is checked with
        return Hasher("audit").text(site_key).files(restricted).key()

    index = layout.site / "index.html"
    exe = quarto.find_quarto()
    fresh = not (options.force or pending)
    render = exe is None or not (fresh and manifest.fresh("site", site_key, [index]))
    audit_key = audit_key_of(site_key)
    check = not (fresh and manifest.fresh("audit", audit_key, [index]))
    passed = _passed(layout, options.force) if check else None
    with ThreadPoolExecutor(max_workers=2) as threads:
        early = threads.submit(_audit_build_outputs, layout, ok, passed, workers) if check else None
        compared = threads.submit(_run_compare, compare, workers, manifest, summary)
        with console.status("comparison and website…"):
            if render:
                shards = options.shards or workers.slots
                done = _render(ok, compare, compared, exe, shards, workers, layout, summary)
            else:
                done, summary.site = False, "up to date"
            compare_out = compared.result()
        if pending:
            site_key = _site_key(ok, compare_out, layout, summary)
            audit_key = audit_key_of(site_key)
        if done:
            manifest.record("site", site_key)
        elif render:
            manifest.forget("site")
        summary.phases["site"] = time.perf_counter() - start
        if early is None:
            summary.audit = "passed (up to date)"
            return
        with console.status("disclosure audit…"):
            secrets, mins, default, breaches = early.result()
            from helpers.build.audit import UserText, audit, audit_text

            breaches += audit([layout.site], secrets, default, mins, passed, workers.map_cpu)
            user = UserText.from_town_files(layout.towns_config)
            breaches += audit_text([layout.towns_dir, layout.site], user, passed,
                                   workers.map_cpu)
            passed.save()
    summary.breaches = [str(b) for b in breaches]
    if breaches:
        summary.audit = f"failed: {len(breaches)} breaches"
        manifest.forget("audit")
    else:
        summary.audit = "passed"
        if index.exists():
            manifest.record("audit", audit_key)


def _render(
    ok: list[str],
    compare: _Compare,
    compared: Future[Path | None],
    exe: Path | None,
    n_shards: int,
    workers: Workers,
    layout: Layout,
    summary: Summary,
) -> bool:
    """Stage the site, render the pages that changed (all of them when the site's shared files
    or its list of pages changed) in shards on all workers, assemble them into the site; True
    when the site is in place.

    When the comparison notebook is still to run (``compared``), its page is staged and
    rendered in a shard of its own once it has; the other pages render meanwhile. If it fails,
    the site is rendered again without it (its menu entry goes: every page changes).
    """
    from concurrent.futures import ThreadPoolExecutor

    from helpers.build import quarto, render
    from helpers.build.site import COMPARE_PAGE, site_url, stage_compare, stage_site

    new = layout.reports / ".site-new"
    state = layout.build / "render.json"
    later = compare.job is not None
    stage = stage_site(_pages(ok, summary, layout), compare.out, layout.build / "site", new,
                       compare_later=later)
    if exe is None:
        summary.site = "not rendered (no Quarto)"
        summary.messages.append(quarto.INSTALL_HINT)
        return False
    plan = render.plan(stage, layout.site, state, exe, [COMPARE_PAGE] if later else [])
    now = [p for p in plan.render if p not in plan.later]
    shards = render.split(stage, now, render.shard_count(now, n_shards))
    folder = layout.build / "shards"
    projects = render.stage_shards(stage, shards, folder)
    with ThreadPoolExecutor(max_workers=1) as thread:
        rendering = thread.submit(render.render_shards, projects, workers.map)
        errors: list[str] = []
        if later:
            if compared.result() is None:
                rendering.result()
                return _render(ok, _Compare(None), compared, exe, n_shards, workers, layout,
                               summary)
            stage_compare(compare.out, stage)
            projects.append(render.stage_shard(stage, plan.later, folder / str(len(projects))))
            errors = render.render_shards(projects[-1:], workers.map)
        errors = rendering.result() + errors
    if errors:
        summary.site = "failed"
        summary.messages += errors
        state.unlink(missing_ok=True)
        return False
    render.assemble(stage, plan, projects, layout.site, new, site_url())
    if not site_url():  # Quarto would list the pages by relative address, which no crawler reads
        (new / "sitemap.xml").unlink(missing_ok=True)
        summary.messages.append("sitemap.xml was not written: set website: site-url in "
                                "_quarto.yml (or TSUNAGARI_SITE_URL) to the site's address")
    replace_dir(new, layout.site)
    plan.save(state, stage)
    how = "every page" if plan.cold else f"{len(plan.render)} of {len(plan.pages)} pages"
    shards = f"{len(projects)} shard" + ("s" if len(projects) > 1 else "")
    summary.site = f"rendered {how} in {shards} → {layout.site}"
    return True


def _passed(layout: Layout, force: bool) -> Any:
    """The files that passed the audit in earlier builds (none with ``--force``)."""
    from helpers.build.audit import Passed

    path = layout.build / "audit-passed.json"
    if force:
        path.unlink(missing_ok=True)
    return Passed(path)


def _audit_build_outputs(
    layout: Layout, towns: list[str], passed: Any = None, workers: Workers | None = None
) -> tuple[Any, dict[str, int], int, list]:
    """What the audit needs (secrets, each town's min_cell) and its findings in build/towns
    (the files in ``passed`` skipped; checked on the ``workers`` if given)."""
    from helpers.build.audit import Secrets, audit
    from helpers.towns import Report, load_town

    mins = {}
    for t in towns:
        try:
            mins[t] = load_town(layout.towns_config / f"{t}.yml").report.min_cell
        except UserError:
            continue
    secrets = Secrets.from_processed(layout.processed)
    default = max(mins.values(), default=Report().min_cell)
    run = workers.map_cpu if workers else None
    return secrets, mins, default, audit([layout.towns_dir], secrets, default, mins, passed, run)


def run_audit(layout: Layout = Layout()) -> list[Any]:
    """Audit the site and the build's results and Excel files against every town's secrets,
    and check that the town files' text stayed text."""
    from helpers.build.audit import UserText, audit, audit_text

    secrets, mins, default, found = _audit_build_outputs(layout, town_ids(layout))
    user = UserText.from_town_files(layout.towns_config)
    return (found + audit([layout.site], secrets, default, mins)
            + audit_text([layout.towns_dir, layout.site], user))


def print_summary(summary: Summary, console: Console, err: Console) -> None:
    """The summary table on ``console``, then any messages (Quarto, audit, …) on ``err``."""
    from rich.table import Table

    table = Table("step", "result", highlight=False, show_header=False)
    built = [t for t, o in summary.towns.items() if o.ok]
    table.add_row("towns built", ", ".join(built) or "none")
    table.add_row("up to date", ", ".join(summary.skipped) or "none")
    for t, e in summary.failed.items():
        table.add_row(f"[red]failed: {t}[/]", text(e))
    table.add_row("comparison", text(summary.compare))
    table.add_row("website", text(summary.site))
    table.add_row("audit", summary.audit)
    table.add_row("time", f"{summary.seconds:.1f} s")
    console.print(table)
    for b in summary.breaches[:50]:
        err.print("[bold red]disclosure breach:[/]", text(b), soft_wrap=True)
    for m in summary.messages:
        err.print(m, soft_wrap=True, markup=False)
