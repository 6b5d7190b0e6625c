"""Section 1 回答の状況: who answered, how, and how the respondents compare with the population."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from markupsafe import Markup

from helpers.analysis.common import (
    DISTRIBUTION,
    NO_ANSWER,
    RATES,
    TOTAL,
    Table,
    distribution,
    has,
)
from helpers.analysis.context import Context, Weighting
from helpers.analysis.publish import Publication
from helpers.analysis.wording import say
from helpers.figures import Chart, bar_chart
from helpers.stats import SEX_AGE, add_sex_age, percent, sex_age_label, sex_age_margins

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
        too, and the number weighted is published only when it gives nobody away. Each group of
        the profile counts, among its respondents, those of the rate tables by its variable."""
        for table in pub.tables:
            if table.kind == RATES:
                self._within(pub, table)
        if "sex" not in self.by:
            return
        sex = self.by["sex"]
        everyone = pub.key(sex, (TOTAL,), "count")
        others = [pub.key(sex, r, "count") for r in sex.rows()
                  if r != (TOTAL,) and r[0] not in self.sexes]
        if "sex_age" in self.by:
            unknown = pub.latent(("sex_age", "unknown age"), self.unknown_age)
            pub.sum(everyone, [pub.key(self.by["sex_age"], (TOTAL,), "count"), *others, unknown])
            self._link_age_bands(pub)
        w = self.weighting
        if w.applied and w.n:
            left_out = pub.ledger.value(everyone) - w.n - sum(map(pub.ledger.value, others))
            weighted = pub.ledger.cell(("weighting", "n"), w.n)
            pub.sum(everyone, [weighted, *others, pub.latent(("weighting", "left out"), left_out)])
            pub.after(lambda shown: setattr(w, "shown_n", shown(weighted)))

    def _link_age_bands(self, pub: Publication) -> None:
        """Each age band's respondents are those of the sex × age table in that band plus the
        band's other sexes (and those who did not say), a count never shown and protected: a
        reader subtracts. The age-band counts go first when one must be hidden (the sex × age
        table breaks them down)."""
        if "age_band" not in self.by:
            return
        sex_age = self.by["sex_age"]
        shown = set(sex_age.rows())
        for (band,) in self.by["age_band"].rows():
            parts = [pub.key(sex_age, (label,), "count") for label in
                     (sex_age_label(s, band) for s in self.sexes) if (label,) in shown]
            if band in (TOTAL, NO_ANSWER) or not parts:
                continue
            outer = pub.key(self.by["age_band"], (band,), "count")
            rest = pub.ledger.value(outer) - sum(map(pub.ledger.value, parts))
            pub.sum(outer, [*parts, pub.latent(("sex_age", "other sexes", band), rest,
                                               protected=True)])
            pub.ledger.expendable(outer)

    def _within(self, pub: Publication, table: Table) -> None:
        """Each group of the profile counts the respondents of the rate table's rows inside it
        (a sex × age table's: its sex, its sex × age band, its age band over every sex); see
        ``Publication.within``. A sex or a district shows its part as its own count when
        nobody of it skipped the question; an age band or a sex × age band is only bounded."""
        rows = [r for r in table.rows() if (table.key, r, "n") in pub.ledger]

        def link(var: str, group: str, inner: list[tuple[str, ...]], merge: bool) -> None:
            outer = (var, (group,), "count")
            if var in self.by and group not in (TOTAL, NO_ANSWER) and outer in pub.ledger and inner:
                pub.within(outer, *((table.key, r, "n") for r in inner), merge=merge)

        if table.label_columns == ("sex", "age_band"):
            for sex, band in rows:
                if TOTAL in (sex, band):
                    link("sex", sex, [(sex, band)] if band == TOTAL else [], merge=True)
                else:
                    link("sex_age", sex_age_label(sex, band), [(sex, band)], merge=False)
            for band in dict.fromkeys(band for sex, band in rows if TOTAL not in (sex, band)):
                link("age_band", band, [r for r in rows if r[1] == band and r[0] != TOTAL],
                     merge=False)
        elif len(table.label_columns) == 1:
            var = table.label_columns[0]
            for (group,) in rows:
                link(var, group, [(group,)], merge=var != "age_band")

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

