"""Benchmark: `clean` on a sample layout scaled to 1,000,000 rows.

    .venv/bin/python bench/bench_clean.py [--rows N] [--town iiyama] [--source 1]

Scales one source file of a sample town (default: Iiyama's web CSV — labels, label variants,
one 0/1 column per option, free text) by repeating its rows with fresh respondent IDs, then
times, each in a fresh process and interleaved (medians of ``--repeat`` runs): a bare
``pandas.read_csv`` of the file, and ``clean_town`` on it (read → map → check → derive →
validate → write). Prints rows per second, peak memory (max RSS of each process) and the
ratio of the two.
Target on a 2-core machine: 1,000,000 rows in under 20 s and under 3 GB.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import resource
import statistics
import tempfile
import time
from pathlib import Path

import pandas as pd

from helpers.cleaning import clean_town
from helpers.towns import load_town


def _scaled(town_id: str, index: int, rows: int, folder: Path) -> tuple[Path, object]:
    town = load_town(town_id)
    source = town.sources[index]
    raw = town.raw_dir / source.file
    if raw.suffix.lower() != ".csv":
        raise SystemExit(f"{raw.name}: the benchmark scales CSV sources only")
    encoding = "utf-8-sig" if source.encoding in ("auto", "utf-8", "utf-8-sig") else "cp932"
    frame = pd.read_csv(
        raw, dtype=str, keep_default_na=False, encoding=encoding, sep=source.delimiter
    )
    copies = -(-rows // len(frame))
    big = pd.concat([frame] * copies, ignore_index=True).iloc[:rows]
    id_column = source.columns.get("resp_id")
    if isinstance(id_column, str):
        big[id_column] = [f"B{i:08d}" for i in range(len(big))]
    path = folder / source.file
    big.to_csv(path, index=False, encoding=encoding)
    # one source alone does not fill the town's population margins: leave them out
    scaled_town = town.model_copy(update={"sources": [source], "margins": None})
    return path, scaled_town


def _bare_read(path: Path, encoding: str, queue: mp.Queue) -> None:
    start = time.perf_counter()
    pd.read_csv(path, encoding=encoding)
    queue.put((time.perf_counter() - start, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss))


def _clean(town: object, folder: Path, queue: mp.Queue) -> None:
    start = time.perf_counter()
    result = clean_town(town, raw_dir=folder, out_dir=folder / "out")
    seconds = time.perf_counter() - start
    queue.put((seconds, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, result.rows_out))


def _in_child(target, *args) -> tuple:
    queue: mp.Queue = mp.get_context("fork").Queue()
    proc = mp.get_context("fork").Process(target=target, args=(*args, queue))
    proc.start()
    out = queue.get()
    proc.join()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--town", default="iiyama")
    parser.add_argument("--source", type=int, default=1, help="index of the source (0 = first)")
    parser.add_argument("--repeat", type=int, default=3, help="interleaved runs (medians shown)")
    args = parser.parse_args()
    bare: list[tuple] = []
    cleaned: list[tuple] = []
    with tempfile.TemporaryDirectory(prefix="bench_clean_") as tmp:
        folder = Path(tmp)
        path, town = _scaled(args.town, args.source, args.rows, folder)
        encoding = "cp932" if town.sources[0].encoding == "cp932" else "utf-8"
        print(f"{path.name}: {args.rows:,} rows, {path.stat().st_size / 1e6:.0f} MB, "
              f"{args.repeat} interleaved runs each")
        for _ in range(args.repeat):
            bare.append(_in_child(_bare_read, path, encoding))
            cleaned.append(_in_child(_clean, town, folder))
    bare_s, bare_kb = (statistics.median(x) for x in zip(*bare, strict=True))
    clean_s, clean_kb, rows_out = (statistics.median(x) for x in zip(*cleaned, strict=True))
    print(f"bare pandas.read_csv : {bare_s:6.2f} s, peak {bare_kb / 1e6:5.2f} GB "
          f"(runs: {', '.join(f'{b[0]:.1f}' for b in bare)} s)")
    print(f"tsunagari clean      : {clean_s:6.2f} s, peak {clean_kb / 1e6:5.2f} GB, "
          f"{args.rows / clean_s:,.0f} rows/s, {rows_out:,.0f} rows out "
          f"(runs: {', '.join(f'{c[0]:.1f}' for c in cleaned)} s)")
    print(f"ratio clean / read_csv: {clean_s / bare_s:.2f}x time, {clean_kb / bare_kb:.2f}x memory")
    print(f"target: < 20 s and < 3 GB → {'met' if clean_s < 20 and clean_kb < 3e6 else 'MISSED'}")


if __name__ == "__main__":
    main()
