"""Section 1 回答の状況: who answered, how, and how the respondents compare with the population."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from markupsafe import Markup

from helpers.analysis.common import DISTRIBUTION, TOTAL, Table, distribution, has
from helpers.analysis.context import Context, Weighting
from helpers.analysis.publish import Publication
from helpers.analysis.wording import say
from helpers.figures import Chart, bar_chart
from helpers.stats import SEX_AGE, add_sex_age, percent, sex_age_margins

TITLE = "回答の状況"
UNIVERSE = "all"  # every valid respondent


@dataclass
class Response:
    """Counts by mode, sex, age band and district; sample against population shares."""

    distributed: int
    returned: int
    response_rate: float
    by: dict[str, Table]
    weighting: Weighting
    min_cell: int
    sexes: tuple[str, ...]  # the sexes of the population margins
    unknown_age: int  # respondents of those sexes without an age band (never shown)

    def tables(self) -> list[Table]:
        return list(self.by.values())

    def links(self, pub: Publication) -> None:
        """Respondents of the sex × age table (and those weighted) plus the other sexes and
        the rest left out are everyone: a reader can subtract, so the other sexes are protected
        too, and the number weighted is published only when it gives nobody away. Each sex and
        district counts, among its respondents, those of the loneliness tables."""
        for var, table, rows in (("sex", "lonely_by_sex_age", lambda g: (g, TOTAL)),
                                 ("district", "lonely_by_district", lambda g: (g,))):
            for labels in self.by[var].rows() if var in self.by else []:
                inner = (table, rows(labels[0]), "n")
                if labels != (TOTAL,) and inner in pub.ledger:
                    pub.within(pub.key(self.by[var], labels, "count"), inner)
        if "sex" not in self.by:
            return
        sex = self.by["sex"]
        everyone = pub.key(sex, (TOTAL,), "count")
        others = [pub.key(sex, r, "count") for r in sex.rows()
                  if r != (TOTAL,) and r[0] not in self.sexes]
        if "sex_age" in self.by:
            unknown = pub.latent(("sex_age", "unknown age"), self.unknown_age)
            pub.sum(everyone, [pub.key(self.by["sex_age"], (TOTAL,), "count"), *others, unknown])
        w = self.weighting
        if w.applied and w.n:
            left_out = pub.ledger.value(everyone) - w.n - sum(map(pub.ledger.value, others))
            weighted = pub.ledger.cell(("weighting", "n"), w.n)
            pub.sum(everyone, [weighted, *others, pub.latent(("weighting", "left out"), left_out)])
            pub.after(lambda shown: setattr(w, "shown_n", shown(weighted)))

    @property
    def n(self) -> int | None:
        """Number of valid respondents (the 全体 of the tables)."""
        total = self.by["mode"].total()
        return None if total is None else total["count"]

    def to_json(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "distributed": self.distributed,
            "returned": self.returned,
            "response_rate": percent(self.response_rate),
            "tables": {k: t.to_json() for k, t in self.by.items()},
        }

    def text(self) -> str:
        return say("response", "summary", distributed=self.distributed, returned=self.returned,
                   rate=percent(self.response_rate), n=self.n,
                   modes=self.by["mode"].parts().to_dict("records") if "mode" in self.by else [])

    def details(self) -> str:
        return say("response", "details", weighting=Markup(self.weighting.text()),
                   population=any(k in self.by for k in ("sex_age", "district")))

    def charts(self, interactive: bool = False) -> list[Chart]:
        if "age_band" not in self.by:
            return []
        return [
            bar_chart(
                self.by["age_band"].parts(), "age_band", value="share", ci=None,
                title="回答者の年代構成", what="回答者の年代別構成比", n=self.n or 0,
                min_cell=self.min_cell, interactive=interactive,
            )
        ]


def _with_population(table: pd.DataFrame, var: str, population: dict[str, float]) -> pd.DataFrame:
    total = sum(population.values())
    shares = [1.0 if v == TOTAL else population.get(str(v), np.nan) / total for v in table[var]]
    return table.assign(pop_share=shares)


def analyse_response(ctx: Context) -> Response:
    """Section 1 for a town: counts and shares of the respondents, response rate."""
    df, town = ctx.df, ctx.town
    names = {"mode": "回答方法別の回答者数", "sex": "性別の回答者数",
             "age_band": "年代別の回答者数"}
    if has(df, "mode"):  # a mode the survey did not offer and nobody used is no row (Web 0人)
        unused = [m for m in df["mode"].cat.categories
                  if m not in town.survey.modes and not (df["mode"] == m).any()]
        df = df.assign(mode=df["mode"].cat.remove_categories(unused))
    by = {var: Table(var, title, distribution(df, var, no_answer=True), DISTRIBUTION,
                     universe=UNIVERSE)
          for var, title in names.items() if has(df, var)}
    margins, unknown_age, sexes = town.population, 0, ()
    if margins is not None and has(df, "sex") and has(df, "age_band"):
        pop = sex_age_margins(margins.sex_age_band)
        sexes = tuple(margins.sex_age_band)
        of_sexes = df["sex"].astype(str).isin(sexes)
        unknown_age = int((of_sexes & df["age_band"].isna()).sum())
        data = add_sex_age(df[of_sexes & df["age_band"].notna()])
        data[SEX_AGE] = data[SEX_AGE].cat.set_categories(
            [c for c in data[SEX_AGE].cat.categories if c in pop])
        by["sex_age"] = Table("sex_age", "性別×年代の回答者構成と人口構成",
                              _with_population(distribution(data, SEX_AGE), SEX_AGE, pop),
                              DISTRIBUTION)
    if has(df, "district"):
        table = distribution(df, "district", no_answer=True)
        if margins is not None and margins.district:
            table = _with_population(table, "district", dict(margins.district))
        by["district"] = Table("district", "地区別の回答者数", table, DISTRIBUTION,
                               universe=UNIVERSE)
    return Response(
        distributed=town.survey.distributed,
        returned=town.survey.returned,
        response_rate=town.survey.response_rate,
        by=by,
        weighting=ctx.weighting,
        min_cell=ctx.min_cell,
        sexes=sexes,
        unknown_age=unknown_age,
    )

