"""Mutation testing (`make mutation`): do the tests catch the bugs we fear?

mutmut plants one small change at a time (``<`` for ``<=``, another constant, a dropped
argument …) in the modules listed under ``[tool.mutmut]`` in pyproject.toml and runs the fast
tests that reach it; a mutant no test notices has *survived*. This script runs mutmut once on the
modules asked for (mutation runs are CPU-heavy: never two at once), then prints the score of each
module (killed ÷ mutants of the sample; a timeout counts as killed, a mutant no test reaches as
survived) and every surviving mutant as the line it changed.

    python tests/mutation.py                       # every listed module
    python tests/mutation.py stats.disclosure build.manifest
    python tests/mutation.py --digits 37 build.attack   # a 20 % sample: mutants numbered …3 and …7
    python tests/mutation.py --report --digits 37  # the last results, without running

Not part of the test suite (it takes tens of minutes); README's testing section has its last
scores.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tomllib
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MUTMUT = [sys.executable, "-m", "mutmut"]
PROCESSED = ROOT / "mutants" / "processed"  # the cleaned samples every mutation run reads
KILLED = {"killed", "timeout", "caught by type check"}


def listed_modules() -> list[str]:
    """The modules ``[tool.mutmut] only_mutate`` names, as dotted names under ``helpers``."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["mutmut"]
    files = sorted({f for pattern in config["only_mutate"] for f in ROOT.glob(pattern)
                    if f.suffix == ".py" and f.name != "__init__.py"})
    return [".".join(f.relative_to(ROOT / "src" / "helpers").with_suffix("").parts)
            for f in files]


def clean_samples() -> None:
    """Clean the sample towns once for all runs, with the unmutated code (the cleaning's own
    tests clean into folders of their own, so its mutants are still tested)."""
    if not all((PROCESSED / t.stem / "survey.parquet").exists()
               for t in (ROOT / "config" / "towns").glob("*.yml")):
        subprocess.run([sys.executable, "-c", "from helpers.cli import app; app()", "clean"],
                       cwd=ROOT, env={**os.environ, "TSUNAGARI_PROCESSED": str(PROCESSED)},
                       check=True, stdout=subprocess.DEVNULL)


def run(modules: list[str], children: int, digits: str) -> None:
    """Mutate the modules and run the tests that reach each mutant (those whose number ends in
    one of ``digits``: a systematic sample), in one mutmut run (its setup, a run of the whole
    fast suite, takes minutes); mutmut's output goes to mutants/mutmut.log."""
    env = {**os.environ, "TSUNAGARI_TEST_PROCESSED": str(PROCESSED)}
    patterns = [f"helpers.{module}.*__mutmut_*[{digits}]" for module in modules]
    log = ROOT / "mutants" / "mutmut.log"
    with log.open("w") as out:
        subprocess.run([*MUTMUT, "run", "--max-children", str(children), *patterns],
                       cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, check=False)
    print(f"  mutmut's output: {log.relative_to(ROOT)}", flush=True)


def statuses() -> dict[str, str]:
    """Every mutant of the last runs → its status (killed, survived, no tests, timeout …)."""
    out = subprocess.run([*MUTMUT, "results", "--all", "true"], cwd=ROOT, capture_output=True,
                         text=True, check=True).stdout
    pairs = (line.strip().rsplit(": ", 1) for line in out.splitlines() if ": " in line)
    return {key: status for key, status in pairs}


def module_of(key: str) -> str:
    """``helpers.stats.format.x_percent__mutmut_3`` → ``stats.format``."""
    return key.split("__mutmut_")[0].rsplit(".", 1)[0].removeprefix("helpers.")


def changed_line(key: str) -> str:
    """The mutant as the source line it changes (``- old`` / ``+ new``)."""
    from mutmut.mutation.diff_apply import get_diff_for_mutant

    try:
        diff = get_diff_for_mutant(key)
    except Exception as exc:  # an old mutant whose function is gone
        return f"      (no diff: {exc})"
    lines = [ln for ln in diff.splitlines()
             if ln[:1] in "+-" and not ln.startswith(("+++", "---"))]
    return "\n".join(f"      {ln.strip()}" for ln in lines)


def report(modules: list[str], digits: str) -> int:
    """Print each module's score and surviving mutants among those whose number ends in one of
    ``digits``; the number of survivors."""
    by_module: dict[str, list[tuple[str, str]]] = {m: [] for m in modules}
    for key, status in statuses().items():
        if module_of(key) in by_module and status != "not checked" and key[-1] in digits:
            by_module[module_of(key)].append((key, status))
    total = Counter()
    survivors = []
    print(f"\n{'module':28} {'mutants':>8} {'killed':>7} {'survived':>9} {'score':>7}")
    for module, mutants in by_module.items():
        counts = Counter("killed" if s in KILLED else "survived" for _, s in mutants)
        total.update(counts)
        n = len(mutants)
        score = f"{100 * counts['killed'] / n:6.1f}%" if n else "   —"
        print(f"{module:28} {n:8d} {counts['killed']:7d} {counts['survived']:9d} {score:>7}")
        survivors += [(key, s) for key, s in mutants if s not in KILLED]
    n = total["killed"] + total["survived"]
    if n:
        print(f"{'all':28} {n:8d} {total['killed']:7d} {total['survived']:9d} "
              f"{100 * total['killed'] / n:6.1f}%")
    if survivors:
        print("\nSurviving mutants (`mutmut show NAME` for the whole diff):")
        for key, status in sorted(survivors):
            print(f"  {key} [{status}]\n{changed_line(key)}")
    return len(survivors)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("modules", nargs="*", help="e.g. stats.disclosure (default: all listed)")
    parser.add_argument("--report", action="store_true", help="print the last results only")
    parser.add_argument("--children", type=int, default=2, help="mutants tested at once")
    parser.add_argument("--digits", default="0123456789",
                        help="test only mutants whose number ends in one of these (e.g. 37: 20%%)")
    args = parser.parse_args()
    modules = args.modules or listed_modules()
    unknown = sorted(set(modules) - set(listed_modules()))
    if unknown:
        parser.error(f"not listed under [tool.mutmut] only_mutate: {', '.join(unknown)}")
    if not args.report:
        clean_samples()
        print(f"=== helpers.{{{', '.join(modules)}}}", flush=True)
        run(modules, args.children, args.digits)
    report(modules, args.digits)


if __name__ == "__main__":
    main()
