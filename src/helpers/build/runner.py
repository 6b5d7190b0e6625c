"""Per-town work (cleaning, then the report notebook) in one long-lived kernel per worker.

Starting a kernel and importing the scientific stack costs more than a town's analysis, so each
worker process (a local process or a Dask worker) keeps one Jupyter kernel alive and reuses it for
every town it is given: cleaning runs in that kernel, the namespace is reset (``%reset -f``) and
papermill executes the report in it. papermill is process-safe but not thread-safe, so a lock keeps
one job at a time per process. Outputs are written to a temporary folder and moved into place only
when the whole town succeeded.
"""

from __future__ import annotations

import importlib
import logging
import os
import shutil
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from multiprocessing.util import Finalize
from pathlib import Path
from typing import Any

from helpers.build.manifest import replace_dir

#: Environment of the kernels: plotly figures as bare JSON (the site step turns them into divs
#: that use the one plotly.js the site serves), no debugger warnings, matplotlib figures as PNG.
KERNEL_ENV = {
    "PLOTLY_RENDERER": "plotly_mimetype",
    "PYDEVD_DISABLE_FILE_VALIDATION": "1",
    "MPLBACKEND": "module://matplotlib_inline.backend_inline",
}
CELL_TIMEOUT = 900
KERNEL = "python3"

_lock = threading.Lock()
_kernel: dict[str, Any] = {}


@dataclass(frozen=True)
class Job:
    """One unit of work for a worker: a town (clean and/or report) or the comparison."""

    name: str
    notebook: Path
    output: Path
    parameters: dict[str, Any]
    log: Path
    cwd: Path
    clean: str | None = None
    out_dir: Path | None = None
    tmp_root: Path | None = None


@dataclass
class Outcome:
    """What happened to a job: ``error`` is one line for the summary and the site's index."""

    name: str
    ok: bool
    seconds: float
    error: str | None = None
    steps: list[str] = field(default_factory=list)


def _run_sync(coro_fn: Any) -> Any:
    from jupyter_core.utils import run_sync

    return run_sync(coro_fn)


def _client_class() -> type:
    """Kernel clients that are closed after each job (:func:`_close_clients`).

    papermill given a kernel it does not own leaves the client it opened running when the
    notebook ends: its heartbeat thread, its sockets and, on its iopub socket, a queue of every
    later message of the kernel (each town's figures). Measured: 12 MB, 14 file descriptors and
    3 threads more in the worker after each town, 1 GB after 80 towns.
    """
    from jupyter_client.asynchronous import AsyncKernelClient

    class ClosedAfterEachJob(AsyncKernelClient):
        def start_channels(self, *args: Any, **kwargs: Any) -> None:
            super().start_channels(*args, **kwargs)
            _open_clients.append(self)

    return ClosedAfterEachJob


_open_clients: list[Any] = []


def _close_clients() -> None:
    while _open_clients:
        _open_clients.pop().stop_channels()


def _start_kernel(cwd: Path, log_dir: Path) -> Any:
    """Start a kernel with ``KERNEL_ENV``; it is shut down when the worker process exits.

    The kernel's own messages go to ``log_dir/kernel-<worker pid>.log``, not to the console.
    """
    from jupyter_client.kernelspec import KernelSpec, KernelSpecManager
    from jupyter_client.manager import AsyncKernelManager

    class ThisPython(KernelSpecManager):
        """Always this interpreter: a user's own "python3" kernel may lack the project."""

        def get_kernel_spec(self, kernel_name: str) -> KernelSpec:
            argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
            return KernelSpec(argv=argv, display_name="tsunagari build", language="python")

    log_dir.mkdir(parents=True, exist_ok=True)
    km = AsyncKernelManager(kernel_name=KERNEL, kernel_spec_manager=ThisPython(),
                            client_factory=_client_class())
    with (log_dir / f"kernel-{os.getpid()}.log").open("ab") as out:
        _run_sync(km.start_kernel)(
            cwd=str(cwd), env={**os.environ, **KERNEL_ENV}, stdout=out, stderr=out
        )
    Finalize(km, _shutdown, args=(km,), exitpriority=10)
    return km


def _shutdown(km: Any) -> None:
    with suppress(Exception):  # the kernel may already be gone; nothing more to do at exit
        _run_sync(km.shutdown_kernel)(now=True)


def _get_kernel(cwd: Path, log_dir: Path) -> Any:
    km = _kernel.get("km")
    if km is None or _kernel.get("cwd") != cwd or not _run_sync(km.is_alive)():
        if km is not None:
            _shutdown(km)
        km = _kernel["km"] = _start_kernel(cwd, log_dir)
        _kernel["cwd"] = cwd
    return km


def drop_kernel() -> None:
    """Shut down this process's kernel (the next job starts a new one)."""
    km = _kernel.pop("km", None)
    if km is not None:
        _shutdown(km)


class KernelCodeError(RuntimeError):
    """Code sent to the kernel outside a notebook raised an exception."""


def _execute(km: Any, code: str, log: logging.Logger, timeout: float = CELL_TIMEOUT) -> None:
    """Run ``code`` in the kernel; its output goes to the town's log, an error raises."""

    def hook(msg: dict[str, Any]) -> None:
        content = msg["content"]
        if msg["msg_type"] == "stream":
            log.info(content["text"].rstrip())
        elif msg["msg_type"] == "error":
            log.error("\n".join(content["traceback"]))

    kc = km.blocking_client()
    kc.start_channels()
    try:
        kc.wait_for_ready(timeout=60)
        reply = kc.execute_interactive(code, timeout=timeout, output_hook=hook)
    finally:
        kc.stop_channels()
    if reply["content"]["status"] != "ok":
        raise KernelCodeError(f"{reply['content']['ename']}: {reply['content']['evalue']}")


def describe(exc: BaseException) -> str:
    """One line saying why a job failed (the user-facing message where there is one)."""
    if hasattr(exc, "ename") and hasattr(exc, "evalue"):  # papermill's PapermillExecutionError
        cell = getattr(exc, "cell_index", None)
        where = f" (notebook cell {cell})" if cell is not None else ""
        text = f"{exc.ename}: {exc.evalue}{where}"
    else:
        text = str(exc) or type(exc).__name__
    return " ".join(text.split())[:400]


@contextmanager
def _town_log(path: Path) -> Iterator[logging.Logger]:
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(path, mode="w", encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        yield logging.getLogger(f"tsunagari.build.{path.stem}")
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)
        handler.close()


def _run_notebook(job: Job, km: Any, log: logging.Logger) -> None:
    import papermill as pm

    params = dict(job.parameters)
    tmp_dir = None
    if job.out_dir is not None and job.tmp_root is not None:
        tmp_dir = job.tmp_root / job.name
        shutil.rmtree(tmp_dir, ignore_errors=True)
        tmp_dir.mkdir(parents=True)
        params["out_dir"] = str(tmp_dir)
    _execute(km, f"%reset -f\nimport os; os.chdir({str(job.cwd)!r})", log)
    tmp_nb = job.output.with_name(f".{job.output.stem}.tmp.ipynb")
    job.output.parent.mkdir(parents=True, exist_ok=True)
    try:
        pm.execute_notebook(
            job.notebook,
            tmp_nb,
            parameters=params,
            km=km,
            kernel_name=KERNEL,
            language="python",
            progress_bar=False,
            log_output=True,
            request_save_on_cell_execute=False,
            execution_timeout=CELL_TIMEOUT,
        )
        if tmp_dir is not None and job.out_dir is not None:
            replace_dir(tmp_dir, job.out_dir)
        os.replace(tmp_nb, job.output)
    finally:
        _close_clients()
        tmp_nb.unlink(missing_ok=True)
        if tmp_dir is not None:
            shutil.rmtree(tmp_dir, ignore_errors=True)


def run_job(job: Job) -> Outcome:
    """Run one job in this process's kernel; never raises (failures become an ``Outcome``)."""
    start = time.perf_counter()
    with _lock, _town_log(job.log) as log:
        steps: list[str] = []
        try:
            km = _get_kernel(job.cwd, job.log.parent)
            importlib.import_module("papermill")  # loads while a new kernel is still starting
            if job.clean is not None:
                steps.append("clean")
                log.info("cleaning %s", job.clean)
                _execute(
                    km,
                    "from helpers.cleaning import clean_town as _clean_town\n"
                    f"_clean_town({job.clean!r})\ndel _clean_town",
                    log,
                )
            steps.append(job.notebook.stem)
            log.info("running %s for %s", job.notebook.name, job.name)
            _run_notebook(job, km, log)
        except Exception as exc:
            log.exception("failed: %s", describe(exc))
            if not (hasattr(exc, "ename") or isinstance(exc, KernelCodeError)):
                drop_kernel()  # the kernel may be dead or stuck: start afresh next time
            return Outcome(job.name, False, time.perf_counter() - start, describe(exc), steps)
        log.info("done in %.1f s", time.perf_counter() - start)
        return Outcome(job.name, True, time.perf_counter() - start, None, steps)
