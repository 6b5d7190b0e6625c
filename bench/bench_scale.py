"""Scale benchmark of `tsunagari build`: N synthetic towns (the samples copied under new ids,
names made unique), for each N in one run:

- cold build (every step forced, empty build folder), the site rendered in shards on every
  worker; and the same build with the site rendered in one shard (as before shards: the
  baseline of the 40-town target; the comparison page still renders in a shard of its own once
  its notebook has run) for the N given with --baseline;
- no-change rebuild (a new process, interpreter start included);
- one town changed (its parameter file: returns, so its page, the index and the methods page
  change): the rebuild's time against that town's own time in it;
- a town added (one copy more), then removed: each rebuild's time and what the render did
  (every page, or which share of them); the size of a town's page, of its navigation bar and of
  all the site's HTML pages after the cold build;
- at the N given with --native: the Quarto-native way on the same notebook (`tsunagari clean`,
  then `quarto render municipal_report.ipynb --execute -P town:…` per town, as many at a time
  as workers; pages only, no site).

Each build runs in its own process in a throwaway project (TSUNAGARI_ROOT, bench/out/scale/N);
its memory, sampled every 0.25 s over its process tree (build, workers, kernels, Quarto,
pandoc, typst), is the peak of the summed proportional set size (PSS: each shared page divided
among the processes that share it, so the sum is what the build takes from the machine), the
peak of each part of it (the build process; the workers and their kernels; Quarto with pandoc
and typst), and the peak of the summed resident size (RSS: shared pages counted in every
process, an upper bound). Printed:
each measurement, the per-town marginal cost and the render cost per page, the ratios between N
values and the issue's targets with their measured ratios. Results: bench/out/scale.json.

Usage: python bench/bench_scale.py [--towns 5 40 160] [--workers 2] [--baseline 5 40]
       [--native 5] [--rounds 1]
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psutil

from helpers import paths
from helpers.build import quarto
from helpers.towns import list_towns, load_town

OUT = paths.ROOT / "bench" / "out" / "scale"
SAMPLES = list_towns()
#: The issue's 40-town cold build before shards, on this kind of machine (for reference only:
#: the target is the ratio to the one-shard build measured in the same run).
TODAY_40 = 81.5


# --- the throwaway project ---


def town_copies(n: int) -> dict[str, str]:
    """``n`` new town ids → the sample each copies (the samples in turn)."""
    return {f"{SAMPLES[i % len(SAMPLES)]}-{i + 1:03d}": SAMPLES[i % len(SAMPLES)]
            for i in range(n)}


def unique_name(ja: str, k: int) -> str:
    """飯山市 → 飯山7市: a name no other copy has, still read as a town's."""
    return f"{ja[:-1]}{k}{ja[-1]}"


def make_project(root: Path, n: int) -> dict[str, str]:
    """A project root with ``n`` copied towns (raw files hard-linked: never written)."""
    shutil.rmtree(root, ignore_errors=True)
    (root / "config" / "towns").mkdir(parents=True)
    for f in paths.CONFIG.glob("*.yml"):
        shutil.copy(f, root / "config" / f.name)
    for name in ("notebooks", "site"):
        shutil.copytree(paths.ROOT / name, root / name)
    shutil.copy(paths.ROOT / "_quarto.yml", root / "_quarto.yml")
    copies = town_copies(n)
    for k, (town, sample) in enumerate(copies.items(), start=1):
        copy_town(root, town, sample, k)
    return copies


def copy_town(root: Path, town: str, sample: str, k: int) -> None:
    """The parameter file of ``sample`` as ``town`` (named with ``k``), its raw files linked."""
    text = (paths.TOWNS / f"{sample}.yml").read_text(encoding="utf-8")
    ja = load_town(sample).name.ja
    text = re.sub(r"^id: .*$", f"id: {town}", text, flags=re.M)
    text = re.sub(r"^name: \{ja: [^,]*,", f"name: {{ja: {unique_name(ja, k)},", text, flags=re.M)
    (root / "config" / "towns" / f"{town}.yml").write_text(text, encoding="utf-8")
    shutil.copytree(paths.raw_dir(sample), root / "data" / "raw" / town, copy_function=os.link)


def env(root: Path) -> dict[str, str]:
    exe = quarto.find_quarto()
    extra = {"TSUNAGARI_ROOT": str(root), "QUARTO_PYTHON": sys.executable}
    if exe is not None:
        extra["PATH"] = f"{exe.parent}{os.pathsep}{os.environ['PATH']}"
    return {**os.environ, **extra}


# --- measuring a process tree ---


#: The parts of a build's process tree whose memory is reported apart.
PARTS = ("build", "kernels", "quarto")


def _part(p: psutil.Process, root: psutil.Process) -> str:
    if p.pid == root.pid:
        return "build"
    return "kernels" if p.name().startswith("python") else "quarto"


def measure(cmd: list[str], root: Path, cwd: Path | None = None) -> tuple[float, dict]:
    """Run ``cmd`` in the project ``root``; (seconds, peak memory in MB: ``pss`` and ``rss``
    of its whole tree, and ``pss`` of each of :data:`PARTS`)."""
    peak = {"pss": 0.0, "rss": 0.0, **dict.fromkeys(PARTS, 0.0)}
    start = time.perf_counter()
    proc = psutil.Popen(cmd, env=env(root), cwd=cwd or root, stdout=subprocess.DEVNULL,
                        stderr=subprocess.PIPE)
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            now = dict.fromkeys(peak, 0.0)
            with contextlib.suppress(psutil.Error):
                for p in [proc, *proc.children(recursive=True)]:
                    with contextlib.suppress(psutil.Error):
                        mem = p.memory_full_info()
                        now[_part(p, proc)] += mem.pss / 1e6
                        now["pss"] += mem.pss / 1e6
                        now["rss"] += mem.rss / 1e6
            for k, v in now.items():
                peak[k] = max(peak[k], v)
            done.wait(0.25)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, err = proc.communicate()
    seconds = time.perf_counter() - start
    done.set()
    sampler.join()
    if proc.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed:\n{err.decode(errors='replace')[-3000:]}")
    return seconds, peak


def build_run(root: Path, workers: int, force: bool, shards: int | None) -> dict:
    """One `tsunagari build` in its own process: seconds, peak memory and the summary."""
    report = root / "summary.json"
    cmd = [sys.executable, __file__, "--run", str(report), "--workers", str(workers)]
    cmd += ["--force"] if force else []
    cmd += ["--shards", str(shards)] if shards else []
    seconds, peak = measure(cmd, root)
    return {"s": seconds, "peak_mb": peak, **json.loads(report.read_text(encoding="utf-8"))}


def run_build(report: Path, workers: int, force: bool, shards: int | None) -> None:
    """(In the benchmark's child process.) The build, its summary as JSON."""
    from helpers.build.pipeline import Layout, Options, build

    summary = build(Options(workers=workers, force=force, shards=shards), Layout())
    if summary.exit_code != 0:
        sys.exit(f"the build failed: {summary.failed or summary.messages or summary.breaches}")
    report.write_text(json.dumps({
        "phases": summary.phases, "site": summary.site,
        "towns": {t: o.seconds for t, o in summary.towns.items()},
    }), encoding="utf-8")


def cold(root: Path, workers: int, shards: int | None) -> dict:
    for folder in ("build", "reports", "data/processed"):
        shutil.rmtree(root / folder, ignore_errors=True)
    return build_run(root, workers, force=True, shards=shards)


def one_town(root: Path, town: str, workers: int, returned: int) -> dict:
    """Change the town's returns (its page, the index and the methods page change); rebuild."""
    path = root / "config" / "towns" / f"{town}.yml"
    text = path.read_text(encoding="utf-8")
    path.write_text(re.sub(r"(?m)^(  returned: )\d+", rf"\g<1>{returned}", text),
                    encoding="utf-8")
    run = build_run(root, workers, force=False, shards=None)
    run["town_s"] = run["towns"][town]
    return run


def town_added_and_removed(root: Path, n: int, workers: int) -> tuple[dict, dict]:
    """A town more (the next copy), rebuilt; then the same town removed, rebuilt."""
    town, sample = next(reversed(town_copies(n + 1).items()))
    copy_town(root, town, sample, n + 1)
    added = build_run(root, workers, force=False, shards=None)
    (root / "config" / "towns" / f"{town}.yml").unlink()
    shutil.rmtree(root / "data" / "raw" / town)
    return added, build_run(root, workers, force=False, shards=None)


def page_sizes(site: Path, town: str) -> dict[str, int]:
    """Bytes of a town's page, of its navigation bar, and of all the site's HTML pages."""
    page = (site / "towns" / f"{town}.html").read_text(encoding="utf-8")
    navbar = re.search(r'<nav class="navbar.*?</nav>', page, re.S)
    return {"town_page": len(page.encode()), "navbar": len(navbar[0].encode()) if navbar else 0,
            "all_html": sum(f.stat().st_size for f in site.rglob("*.html"))}


def native(root: Path, copies: dict[str, str], workers: int) -> float:
    """`tsunagari clean`, then one `quarto render … --execute -P town:…` per town (its own copy
    of the notebook: two renders of one file collide), ``workers`` at a time; seconds."""
    start = time.perf_counter()
    measure([sys.executable, "-c", "from helpers.cli import app; app()", "clean"], root)
    folder = root.with_name(f"{root.name}-native")  # outside the project: no website config
    shutil.rmtree(folder, ignore_errors=True)
    exe = str(quarto.find_quarto())

    def render(town: str) -> None:
        nb = folder / town / "municipal_report.ipynb"
        nb.parent.mkdir(parents=True)
        shutil.copy(root / "notebooks" / "municipal_report.ipynb", nb)
        cmd = [exe, "render", str(nb), "--execute", "-P", f"town:{town}",
               "-P", f"out_dir:{nb.parent}"]
        subprocess.run(cmd, env=env(root), cwd=nb.parent, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(render, copies))
    return time.perf_counter() - start


# --- the benchmark ---


def median(runs: list[dict], key: Callable[[dict], float]) -> float:
    return statistics.median(key(r) for r in runs)


def bench_n(n: int, args: argparse.Namespace) -> dict:
    root = OUT / str(n)
    copies = make_project(root, n)
    result: dict = {"n": n, "load_before": os.getloadavg()[0]}
    sharded, single, natives = [], [], []
    for _ in range(args.rounds):  # interleaved: native, one shard, shards
        if n in args.native:
            natives.append(native(root, copies, args.workers))
        if n in args.baseline:
            single.append(cold(root, args.workers, shards=1))
        sharded.append(cold(root, args.workers, shards=None))
    result["cold"] = sharded[-1]
    result["sizes"] = page_sizes(root / "reports" / "site", next(iter(copies)))
    result["cold_s"] = median(sharded, lambda r: r["s"])
    result["cold_peak_mb"] = max((r["peak_mb"] for r in sharded), key=lambda m: m["pss"])
    if single:
        result["one_shard_s"] = median(single, lambda r: r["s"])
        result["one_shard_site_s"] = median(single, lambda r: r["phases"]["site"])
    if natives:
        result["native_s"] = statistics.median(natives)
    no_change = [build_run(root, args.workers, False, None) for _ in range(3)]
    result["no_change_s"] = median(no_change, lambda r: r["s"])
    town = next(iter(copies))
    returned = int(re.search(r"(?m)^  returned: (\d+)", (root / "config" / "towns" /
                                                          f"{town}.yml").read_text("utf-8"))[1])
    changed = [one_town(root, town, args.workers, returned + 1 + i) for i in range(3)]
    result["one_town"] = changed[-1]
    result["one_town_s"] = median(changed, lambda r: r["s"])
    result["one_town_own_s"] = median(changed, lambda r: r["town_s"])
    result["one_town_extra_s"] = median(changed, lambda r: r["s"] - r["town_s"])
    result["added"], result["removed"] = town_added_and_removed(root, n, args.workers)
    result["load_after"] = os.getloadavg()[0]
    return result


def report(results: list[dict], workers: int) -> None:
    print(f"\n{workers} workers; load average before/after each N in brackets")
    head = (f"{'N':>4} {'cold s':>7} {'towns':>6} {'site':>6} {'audit':>6} {'1-shard':>8}"
            f" {'no-chg':>7} {'1 town':>7} {'its own':>8} {'PSS MB':>7} {'RSS MB':>7}  load")
    print(head)
    for r in results:
        ph = r["cold"]["phases"]
        one = f"{r['one_shard_s']:8.1f}" if "one_shard_s" in r else f"{'—':>8}"
        print(f"{r['n']:>4} {r['cold_s']:7.1f} {ph['towns']:6.1f} {ph['site']:6.1f} "
              f"{ph['audit']:6.1f} {one} {r['no_change_s']:7.2f} {r['one_town_s']:7.1f} "
              f"{r['one_town_own_s']:8.1f} {r['cold_peak_mb']['pss']:7.0f} "
              f"{r['cold_peak_mb']['rss']:7.0f}  "
              f"[{r['load_before']:.1f}/{r['load_after']:.1f}]")
    print("\nper page: the cold site phase ÷ pages rendered (2 a town: page and PDF, + 4)")
    for r in results:
        pages = 2 * r["n"] + 4
        print(f"  N={r['n']:>4}: {r['cold']['phases']['site'] / pages:.2f} s a page "
              f"(sharded), {r.get('one_shard_site_s', float('nan')) / pages:.2f} s (one shard)")
    print("peak memory (PSS, MB) of each part of the cold build, each at its own peak")
    for r in results:
        print(f"  N={r['n']:>4}: " + ", ".join(f"{k} {r['cold_peak_mb'][k]:.0f}" for k in PARTS))
    print("a town's page: bytes (its navigation bar); all HTML pages of the site; a town added, "
          "then removed: seconds (what the render did)")
    for r in results:
        s, added, removed = r["sizes"], r["added"], r["removed"]
        print(f"  N={r['n']:>4}: {s['town_page'] / 1e3:.0f} kB ({s['navbar'] / 1e3:.1f} kB); "
              f"{s['all_html'] / 1e6:.1f} MB; added {added['s']:.1f} s ({added['site']}), "
              f"removed {removed['s']:.1f} s ({removed['site']})")
    print("marginal cost per town between N values (cold build)")
    for a, b in itertools.pairwise(results):
        per = (b["cold_s"] - a["cold_s"]) / (b["n"] - a["n"])
        print(f"  {a['n']}→{b['n']}: {per:.2f} s a town; cold ×{b['cold_s'] / a['cold_s']:.2f} "
              f"for ×{b['n'] / a['n']:.0f} towns; peak memory ×"
              f"{b['cold_peak_mb']['pss'] / a['cold_peak_mb']['pss']:.2f}")
    print("\ntargets (ratios measured in this run)")
    for r in results:
        n = r["n"]
        if "native_s" in r:
            ratio = r["cold_s"] / r["native_s"]
            print(f"  N={n}: cold build / Quarto-native loop = {r['cold_s']:.1f} / "
                  f"{r['native_s']:.1f} = {ratio:.2f} (≤ 0.5: {_ok(ratio <= 0.5)})")
        if "one_shard_s" in r and n >= 40:
            ratio = r["cold_s"] / r["one_shard_s"]
            print(f"  N={n}: cold build / the same with one render shard = {r['cold_s']:.1f} / "
                  f"{r['one_shard_s']:.1f} = {ratio:.2f} (≤ 0.65: {_ok(ratio <= 0.65)}; "
                  f"/ the issue's {TODAY_40} s: {r['cold_s'] / TODAY_40:.2f})")
        extra = r["one_town_extra_s"]
        print(f"  N={n}: one town changed = {r['one_town_s']:.1f} s, its own "
              f"{r['one_town_own_s']:.1f} s + {extra:.1f} s (≤ +3 s: {_ok(extra <= 3)})")
        if n >= 40:
            print(f"  N={n}: no-change rebuild = {r['no_change_s']:.2f} s (≤ 2 s: "
                  f"{_ok(r['no_change_s'] <= 2)})")
        if n >= 160:
            peak = r["cold_peak_mb"]
            print(f"  N={n}: peak memory (PSS) = {peak['pss']:.0f} MB (≤ 2000 MB: "
                  f"{_ok(peak['pss'] <= 2000)}; RSS, shared pages counted in every process: "
                  f"{peak['rss']:.0f} MB)")


def _ok(ok: bool) -> str:
    return "ok" if ok else "MISSED"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--towns", type=int, nargs="+", default=[5, 40, 160])
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--baseline", type=int, nargs="*", default=[5, 40],
                        help="N at which to also build with one render shard")
    parser.add_argument("--native", type=int, nargs="*", default=[5],
                        help="N at which to run the Quarto-native loop")
    parser.add_argument("--rounds", type=int, default=1, help="cold builds per N (median)")
    parser.add_argument("--run", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--force", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--shards", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run:
        run_build(args.run, args.workers, args.force, args.shards)
        return
    if quarto.find_quarto() is None:
        sys.exit("Quarto not found (PATH, $QUARTO): the benchmark measures the site render")
    results = []
    for n in args.towns:
        print(f"N = {n} …", flush=True)
        results.append(bench_n(n, args))
        (OUT.parent / "scale.json").write_text(json.dumps(results, indent=1), encoding="utf-8")
    report(results, args.workers)


if __name__ == "__main__":
    main()
