"""「主な結果」: three to five plain findings with their numbers, chosen from a town's results.

Each finding is read from results.json (the published values, :func:`build_results`) and says
where each of its numbers comes from (:attr:`Finding.numbers`: a path into the results and the
value), so a test can check every number against the results. The wording is in
``templates/findings.md.j2``. Findings are tried in a fixed order of importance (the loneliness
rate against the national survey, the strongest kind, the age bands that stand out, the
small-town items, winter outings, the groups that stand out, people without anyone to consult)
and the first :data:`MOST` that the town's data give are kept.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from helpers.analysis.wording import say

MOST = 5
#: Small-town items in order of preference (the headline item of the Iiyama report first).
SMALLTOWN_ORDER = ("town_faces", "town_ties", "town_selfcontained")

Path = tuple[str | int, ...]


@dataclass(frozen=True)
class Finding:
    """One finding: its kind, its sentence (Markdown) and the published numbers it cites."""

    kind: str
    text: str
    numbers: dict[str, tuple[Path, float]]
    subject: tuple[str, str] | None = None  # the group it is about (variable, answer), if any


def _at(results: dict[str, Any], path: Path) -> Any:
    node: Any = results
    for key in path:
        node = node[key]
    return node


def _finding(results: dict[str, Any], kind: str, paths: dict[str, Path],
             subject: tuple[str, str] | None = None, **extra: Any) -> Finding | None:
    """A finding whose numbers are all published (none hidden), else None."""
    numbers = {name: (path, _at(results, path)) for name, path in paths.items()}
    if any(v is None for _, v in numbers.values()):
        return None
    fields = {name: v for name, (_, v) in numbers.items()}
    return Finding(kind, say("findings", kind, **fields, **extra), numbers, subject)


def _row(rows: list[dict[str, Any]], key: str, value: str) -> int | None:
    return next((i for i, r in enumerate(rows) if r.get(key) == value), None)


def _lonely(r: dict[str, Any]) -> Iterator[Finding | None]:
    paths: dict[str, Path] = {"p": ("headline", "lonely", "p"), "lo": ("headline", "lonely", "lo"),
                              "hi": ("headline", "lonely", "hi"),
                              "national": ("national", "lonely")}
    weighted = (r.get("headline_weighted") or {}).get("lonely") or {}
    if weighted.get("p") is not None:
        paths["weighted"] = ("headline_weighted", "lonely", "p")
    extra = {} if "weighted" in paths else {"weighted": None}
    yield _finding(r, "lonely", paths, round_name=r["national"]["round_name"], **extra)


def _often(r: dict[str, Any]) -> Iterator[Finding | None]:
    yield _finding(r, "often", {"p": ("headline", "often_always", "p"),
                                "national": ("national", "often_always")},
                   round_name=r["national"]["round_name"])


def _sexes(r: dict[str, Any]) -> Iterator[Finding | None]:
    highlights = r["loneliness"]["highlights"]
    if not highlights:
        return
    paths: dict[str, Path] = {}
    for i, _ in enumerate(highlights):
        for key in ("top_p", "total_p"):
            paths[f"{key}_{i}"] = ("loneliness", "highlights", i, key)
    numbers = {name: (path, _at(r, path)) for name, path in paths.items()}
    yield Finding("sexes", say("findings", "sexes", highlights=highlights), numbers)


def _smalltown(r: dict[str, Any]) -> Iterator[Finding | None]:
    items = (r.get("smalltown") or {}).get("items") or {}
    for item in (i for i in SMALLTOWN_ORDER if i in items):
        entry, overall = items[item], items[item]["overall"]["p"]
        groups = [(i, g) for i, g in enumerate(entry["groups"])  # other than 「良いと思う」
                  if g[item] not in (entry["reference"], "全体", "無回答") and g["p"] is not None
                  and overall is not None and g["p"] > overall]
        if groups:
            i, top = max(groups, key=lambda ig: ig[1]["p"])
            base: Path = ("smalltown", "items", item)
            yield _finding(r, "smalltown", {"p": (*base, "groups", i, "p"),
                                            "overall": (*base, "overall", "p")},
                           question=entry["question"], answer=top[item])
            return


def _season(r: dict[str, Any]) -> Iterator[Finding | None]:
    season = r.get("season")
    if not season or not season["winter_lower"]:
        return
    rows = season["tables"]["outing_change"]["rows"]
    i = _row(rows, "outing_change", "冬に減る")
    if i is not None:
        yield _finding(r, "season",
                       {"share": ("season", "tables", "outing_change", "rows", i, "share")})


def _standout(r: dict[str, Any]) -> Iterator[Finding | None]:
    rows = r["loneliness"]["tables"]["standout"]["rows"]
    shown = [i for i, row in enumerate(rows) if row["p"] is not None]
    if shown:
        i, row = shown[0], rows[shown[0]]
        yield _finding(r, "standout",
                       {"p": ("loneliness", "tables", "standout", "rows", i, "p"),
                        "overall": ("headline", "lonely", "p")},
                       subject=(row["variable"], row["group"]),
                       variable=row["variable"], group=row["group"])


def _consult(r: dict[str, Any]) -> Iterator[Finding | None]:
    items = (r.get("isolation") or {}).get("items") or {}
    if "consult" not in items:
        return
    groups = items["consult"]["groups"]
    without, with_ = _row(groups, "consult", "いない"), _row(groups, "consult", "いる")
    if without is None or with_ is None:
        return
    if (groups[without]["p"] or 0) <= (groups[with_]["p"] or 100):
        return  # nothing to say (or a figure hidden)
    base: Path = ("isolation", "items", "consult", "groups")
    yield _finding(r, "consult", {"no_p": (*base, without, "p"), "yes_p": (*base, with_, "p")},
                   subject=(items["consult"]["question"], "いない"), no="いない", yes="いる")


KINDS: tuple[Callable[[dict[str, Any]], Iterator[Finding | None]], ...] = (
    _lonely, _often, _sexes, _smalltown, _season, _standout, _consult)


def key_findings(results: dict[str, Any]) -> list[Finding]:
    """The town's main findings (at most :data:`MOST`), from its results (results.json)."""
    if not results.get("loneliness"):
        return []
    found: list[Finding] = []
    for kind in KINDS:
        for f in kind(results):
            if f is not None and (f.subject is None or f.subject not in {
                    g.subject for g in found}):
                found.append(f)
    return found[:MOST]
