"""Section 7 市独自の設問: the town's own questions (its parameter file's ``questions:``).

For each question, among the respondents it was asked of (a follow-up only of those whose
answer led to it; the others are not applicable, 非該当, and are left out, which is not the same
as not answering): the distribution of its answers, and its relation to loneliness — the
lonely rate by answer with 95 % intervals, a chi-square test with Cramér's V (and the weighted
Rao–Scott test). A multi-answer question gives the share choosing each option and the lonely
rate of those who chose it and of those who did not, with a test per option; a number question
its mean and median for those who feel lonely and those who do not (Kruskal–Wallis with ε²).
Every table passes the publication boundary like the other sections'.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from helpers.analysis.common import (
    DISTRIBUTION,
    GROUPS,
    RATES,
    TOTAL,
    Items,
    Table,
    all_groups_shown,
    chi_square_test,
    distribution,
    has,
    rao_scott_test,
    rates,
)
from helpers.analysis.context import Context
from helpers.analysis.loneliness import UNIVERSE
from helpers.analysis.publish import Publication, published_record
from helpers.analysis.response import UNIVERSE as EVERYONE
from helpers.analysis.wording import say
from helpers.codebook import Codebook, Variable, VarType
from helpers.derive import applicable
from helpers.figures import Chart, bar_chart
from helpers.stats import Design, compare_groups, proportion

TITLE = "{kind}独自の設問"
CHOSE, NOT_CHOSEN = "選んだ", "選ばなかった"
LONELY, NOT_LONELY = "孤独感あり", "孤独感なし"


def kind_of(name: str) -> str:
    """市, 町, 村 or 区 as the municipality's name ends (市町村 when it says none)."""
    return name[-1] if name and name[-1] in "市町村区" else "市町村"


@dataclass
class OwnQuestion:
    """One own question: who was asked, its answers, and loneliness by answer."""

    var: Variable
    asked_of: str | None  # the condition in words, for a follow-up
    answers: Table  # distribution (single), share choosing each option (multi), summary (number)
    lonely: Table | None  # lonely rate by answer (single, multi); None for a number
    tests: dict[str, dict[str, Any] | None]  # test key → record (chi-square, Rao–Scott, …)
    min_cell: int

    def tables(self) -> list[Table]:
        return [t for t in (self.answers, self.lonely) if t is not None]

    def links(self, pub: Publication) -> None:
        """Counts shown twice are one count: every option row of a multi-answer question has
        the same respondents, and so has each option's 全体 of the lonely table; those are
        among the respondents answering the question; a number's groups add up to its 全体
        with those who left the loneliness question blank. (A single answer's tables share
        the 全体 of their universes: all respondents, and those answering the loneliness
        question.)"""
        var, answers, lonely = self.var, self.answers, self.lonely
        if var.type is VarType.MULTI:
            rows = answers.rows()
            for r in rows[1:]:
                pub.same(pub.key(answers, rows[0], "n"), pub.key(answers, r, "n"))
            assert lonely is not None
            totals = [r for r in lonely.rows() if r[1] == TOTAL]
            for column in ("n", "x", "y"):
                for r in totals[1:]:
                    pub.same(pub.key(lonely, totals[0], column), pub.key(lonely, r, column))
            pub.within(pub.key(answers, rows[0], "n"), pub.key(lonely, totals[0], "n"))
            for (option,) in rows:
                pub.within(pub.key(answers, (option,), "x"), pub.key(lonely, (option, CHOSE),
                                                                       "n"))
        elif var.type is VarType.NUMBER:
            total, *groups = answers.rows()
            keys = [pub.key(answers, g, "n") for g in groups]
            rest = pub.ledger.value(pub.key(answers, total, "n")) - sum(
                map(pub.ledger.value, keys))
            pub.sum(pub.key(answers, total, "n"),
                    [*keys, *([pub.latent(("own", var.name, "rest"), rest)] if rest else [])])

    def test(self, name: str) -> dict[str, Any] | None:
        """A test, published only when every group it compares is."""
        record = self.tests.get(name)
        if record is None:
            return None
        if self.var.type is VarType.MULTI and self.lonely is not None:
            option = name.split(":", 1)[1]
            rows = self.lonely.records()
            figures = [r["p"] for r in rows if r["answer"] == option and r["choice"] != TOTAL]
            shown = len(figures) == 2 and all(p is not None for p in figures)
        else:
            shown = all_groups_shown(self.lonely if self.lonely is not None else self.answers)
        return published_record(record) if shown else None

    def to_json(self) -> dict[str, Any]:
        return {
            "question": self.var.question,
            "type": self.var.type.value,
            "asked_of": self.asked_of,
            "answers": self.answers.to_json(),
            "lonely": None if self.lonely is None else self.lonely.to_json(),
            "tests": {name: self.test(name) for name in self.tests},
        }

    def fields(self) -> dict[str, Any]:
        """The question's published figures for the wording (``templates/own.md.j2``)."""
        out: dict[str, Any] = {"question": self.var.question, "asked_of": self.asked_of,
                               "type": self.var.type.value, "tests": self._tests()}
        if self.var.type is VarType.NUMBER:
            rows = {r["answer"]: r for r in self.answers.records()}
            total = rows.get(TOTAL, {})
            lonely, calm = rows.get(LONELY, {}), rows.get(NOT_LONELY, {})
            shown = lonely.get("mean") is not None and calm.get("mean") is not None
            return out | {"total": total if total.get("mean") is not None else None,
                          "lonely": lonely if shown else None, "calm": calm}
        if self.var.type is VarType.MULTI:
            rows = self.answers.parts().to_dict("records")
            by: dict[str, dict[str, Any]] = {}
            for r in (self.lonely.records() if self.lonely is not None else []):
                by.setdefault(r["answer"], {})[r["choice"]] = r
            options = [{"option": o, "chose": g.get(CHOSE, {}).get("p"),
                        "other": g.get(NOT_CHOSEN, {}).get("p")} for o, g in by.items()]
            return out | {
                "shares": [r for r in rows if pd.notna(r["p"])],
                "n": next((r["n"] for r in rows if pd.notna(r["n"])), None),
                "options": [o for o in options if None not in (o["chose"], o["other"])],
                "hidden": [o["option"] for o in options if None in (o["chose"], o["other"])],
            }
        assert self.lonely is not None
        return out | {
            "shares": self.answers.parts().to_dict("records"),
            "n": (self.answers.total() or {}).get("count"),
            "rates": [r for r in self.lonely.parts().to_dict("records") if pd.notna(r["p"])],
            "overall": (self.lonely.total() or {}).get("p"),
        }

    def _tests(self) -> list[dict[str, Any]]:
        """The published tests, each with its kind (and option, for a multi-answer one)."""
        out = []
        for name in self.tests:
            record = self.test(name)
            if record is not None:
                kind, _, option = name.partition(":")
                out.append({**record, "kind": kind, "option": option})
        return out

    def charts(self, interactive: bool = False) -> list[Chart]:
        name = self.var.question
        if self.var.type is VarType.MULTI:
            n = next((r["n"] for r in self.answers.records() if r["n"] is not None), 0)
            return [bar_chart(self.answers.parts(), "answer", title=f"{name}（選んだ人の割合）",
                              what=f"「{name}」で各選択肢を選んだ人の割合", n=n,
                              min_cell=self.min_cell, interactive=interactive)]
        if self.lonely is None:
            return []
        total = self.lonely.total() or {}
        return [bar_chart(self.lonely.parts(), "answer",
                          title=f"{name}：回答別 孤独感がある人の割合",
                          what=f"「{name}」の回答別の孤独感がある人の割合",
                          n=total.get("n") or 0, min_cell=self.min_cell,
                          reference=total.get("p"), reference_label="回答者全体",
                          interactive=interactive)]


@dataclass
class Own(Items):
    """Results of section 7: one entry per own question."""

    items: list[OwnQuestion]
    kind: str  # 市, 町, 村 … as the town's name ends

    def text(self) -> str:
        return say("own", "summary", kind=self.kind, questions=[q.fields() for q in self.items])

    def details(self) -> str:
        return say("own", "details", questions=[q.fields() for q in self.items])

    def to_json(self) -> dict[str, Any]:
        return {"questions": {q.var.name: q.to_json() for q in self.items}}

    def charts(self, interactive: bool = False) -> list[Chart]:
        return [c for q in self.items for c in q.charts(interactive)]


def asked_of(var: Variable, book: Codebook) -> str | None:
    """「問…で「…」と答えた人」: who a follow-up question was asked of (None: everyone)."""
    if var.asked_if is None:
        return None
    parent = book[var.asked_if.variable]
    answers = "」「".join(parent.labels()[c] for c in var.asked_if.codes)
    return f"「{parent.question}」で「{answers}」と答えた人"


def _lonely_label(df: pd.DataFrame) -> pd.Series:
    values = df["lonely"].astype("boolean").map({True: LONELY, False: NOT_LONELY})
    return pd.Series(pd.Categorical(values, categories=[LONELY, NOT_LONELY]), index=df.index)


def _single(ctx: Context, var: Variable, asked: pd.DataFrame, universes: bool
            ) -> OwnQuestion:
    data = asked.assign(answer=asked[var.name])
    short = var.question
    answers = Table(f"{var.name}", f"「{short}」の回答", distribution(
        data, "answer", ctx.design, no_answer=True), DISTRIBUTION,
        universe=EVERYONE if universes else None)
    lonely = Table(f"{var.name}_lonely", f"「{short}」の回答別 孤独感がある人の割合",
                   rates(data, "lonely", ["answer"], ctx.design), RATES,
                   universe=UNIVERSE if universes else None, flag="lonely")
    tests = {"chi_square": chi_square_test(data, "answer", "lonely"),
             "rao_scott": rao_scott_test(data, "answer", "lonely", ctx.design, ctx.min_cell)}
    return OwnQuestion(var, asked_of(var, ctx.town.codebook), answers, lonely, tests,
                       ctx.min_cell)


def _choices(data: pd.DataFrame, var: Variable, design: Design | None) -> pd.DataFrame:
    """Each option: respondents answering the question (n), choosing it (x), the share."""
    rows = []
    for label, column in zip(var.labels().values(), var.columns(), strict=True):
        flag = data[column].astype("boolean")
        est = proportion(flag)
        row = {"answer": label, "n": est.n, "x": est.x, "p": est.p, "lo": est.lo, "hi": est.hi}
        if design is not None:
            west = proportion(flag, design)
            row |= {"p_weighted": west.p, "lo_weighted": west.lo, "hi_weighted": west.hi,
                    "n_weighted": west.n, "x_weighted": west.x}
        rows.append(row)
    return pd.DataFrame(rows)


def _multi(ctx: Context, var: Variable, asked: pd.DataFrame) -> OwnQuestion:
    columns = var.columns()
    data = asked[asked[columns].notna().any(axis=1)]  # answered: chose at least one option
    frames, tests = [], {}
    for label, column in zip(var.labels().values(), columns, strict=True):
        chose = data[column].astype("Float64").map({1.0: CHOSE, 0.0: NOT_CHOSEN})
        part = data.assign(choice=pd.Categorical(chose, categories=[CHOSE, NOT_CHOSEN]))
        table = rates(part, "lonely", ["choice"], ctx.design)
        table.insert(0, "answer", label)
        frames.append(table)
        tests[f"chi_square:{label}"] = chi_square_test(part, "choice", "lonely")
    short = var.question
    answers = Table(f"{var.name}", f"「{short}」で各選択肢を選んだ人の割合（いくつでも）",
                    _choices(data, var, ctx.design), RATES)
    lonely = Table(f"{var.name}_lonely", f"「{short}」の選択肢別 孤独感がある人の割合",
                   pd.concat(frames, ignore_index=True), RATES, labels=("answer", "choice"),
                   flag="lonely")
    return OwnQuestion(var, asked_of(var, ctx.town.codebook), answers, lonely, tests,
                       ctx.min_cell)


def _number(ctx: Context, var: Variable, asked: pd.DataFrame) -> OwnQuestion:
    data = asked[asked[var.name].notna()]
    data = data.assign(group=_lonely_label(data))
    rows = [{"answer": TOTAL, "n": len(data), "mean": data[var.name].astype(float).mean(),
             "median": data[var.name].astype(float).median()}]
    test = None
    try:
        res = compare_groups(data, var.name, "group", min_cell=0)
        rows += [{"answer": r.group, "n": r.n, "mean": r.mean, "median": r.median}
                 for r in res.summary.itertuples()]
        test = {"test": res.test, "statistic": res.statistic, "p_value": res.p,
                "effect": res.effect, "effect_name": res.effect_name}
    except ValueError:
        pass
    answers = Table(f"{var.name}", f"「{var.question}」の平均と中央値", pd.DataFrame(rows),
                    GROUPS)
    return OwnQuestion(var, asked_of(var, ctx.town.codebook), answers, None,
                       {"kruskal_wallis": test}, ctx.min_cell)


def analyse_own(ctx: Context) -> Own | None:
    """Section 7, or None when the town has no own questions with answers."""
    book = ctx.town.codebook
    df = ctx.df
    if not has(df, "lonely"):
        return None
    questions = []
    for var in book.section("own"):
        if not any(c in df and df[c].notna().any() for c in var.columns()):
            continue
        asked = df[applicable(df, var, book).to_numpy()]
        if var.type is VarType.NUMBER:
            questions.append(_number(ctx, var, asked))
        elif var.type is VarType.MULTI:
            questions.append(_multi(ctx, var, asked))
        else:
            questions.append(_single(ctx, var, asked, universes=var.asked_if is None))
    return Own(questions, kind_of(ctx.town.name.ja)) if questions else None
