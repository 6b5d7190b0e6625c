"""Simulate one town's respondents as standard codes (the codebook's variables).

Demographics and the direct loneliness item come first, by exact counts per sex × age-band cell;
every other answer is then drawn conditional on a latent loneliness score, age and sex, which
gives the joint structure of real surveys: loneliness goes with living alone, having no one to
consult, poor health and low satisfaction; the UCLA items follow the direct item; outings drop
in winter, more among the old and outside the central district.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from helpers.codebook import VarType
from helpers.derive import applicable
from helpers.sample.profiles import Cell, Profile
from helpers.towns import Town

# response propensity by age band (older residents answer mail surveys more often)
PROPENSITY = np.array([0.45, 0.45, 0.55, 0.65, 0.75, 0.95, 1.0, 0.7])
# share feeling lonely by age band, around the national 2022 figures
LONELY_RATE = np.array([0.42, 0.48, 0.45, 0.42, 0.45, 0.38, 0.34, 0.36])
# women answer surveys a little more often than men
SEX_PROPENSITY = {1: 1.0, 2: 1.04}
# sex differences in feeling lonely (2022 national survey: men a little lonelier in mid-life,
# older women living alone lonelier than older men)
SEX_LONELY = {(1, 2): 1.04, (1, 3): 1.06, (1, 4): 1.08, (1, 5): 1.05, (2, 3): 0.96,
              (2, 4): 0.94, (2, 5): 0.96, (1, 7): 0.94, (2, 7): 1.05, (1, 8): 0.92, (2, 8): 1.06}
LATENT = {1: -1.2, 2: -0.4, 3: 0.4, 4: 0.9, 5: 1.5}
FREE_TEXT = (
    "近所にあいさつを交わせる人がいて心強いです。",
    "冬は雪かきで外に出る機会が減ります。",
    "気軽に立ち寄れるお茶飲み場があるとうれしいです。",
    "困ったときの相談先をもっと知りたいと思いました。",
    "この調査をきっかけに、家族とよく話すようになりました。",
    "趣味の集まりがもう少し近くにあれば参加したいです。",
    "特にありません。",
)


def largest_remainder(total: int, weights: Sequence[float]) -> np.ndarray:
    """Split ``total`` into integers proportional to ``weights`` (largest-remainder rounding)."""
    w = np.asarray(weights, dtype=float)
    quota = total * w / w.sum()
    counts = np.floor(quota).astype(int)
    short = total - counts.sum()
    order = np.argsort(-(quota - counts), kind="stable")
    counts[order[:short]] += 1
    return counts


def exact_codes(rng: np.random.Generator, n: int, shares: Sequence[float]) -> np.ndarray:
    """``n`` codes 1..k in exact proportion to ``shares``, in random order."""
    counts = largest_remainder(n, shares)
    return rng.permutation(np.repeat(np.arange(1, len(shares) + 1), counts))


def draw(rng: np.random.Generator, probs: np.ndarray) -> np.ndarray:
    """One code 1..k per row of a (n, k) probability matrix."""
    p = probs / probs.sum(axis=1, keepdims=True)
    u = rng.random(len(p))
    return (u[:, None] > np.cumsum(p, axis=1)).sum(axis=1) + 1


def ordinal(rng: np.random.Generator, latent: np.ndarray, cuts: Sequence[float]) -> np.ndarray:
    """Codes 1..len(cuts)+1 from a latent score plus standard normal noise."""
    return np.searchsorted(np.asarray(cuts), latent + rng.normal(size=len(latent))) + 1


def logistic(x: np.ndarray) -> np.ndarray:
    """The logistic function (log-odds → probability)."""
    return 1 / (1 + np.exp(-x))


def national_counts(town: Town, profile: Profile) -> Mapping[str, Sequence[int]]:
    """Residents per sex by the national bands (min_age–19 … 80歳以上): the profile's, or the
    counts the town file types in those bands."""
    if profile.population is not None:
        return profile.population
    assert town.margins is not None and isinstance(town.margins.sex_age_band, dict), (
        "a sample town types its margins in the national bands or has a profile population")
    return {sex: list(bands.values()) for sex, bands in town.margins.sex_age_band.items()}


def _cells(town: Town, profile: Profile) -> Mapping[tuple[int, int], Cell]:
    """Exact cells: the profile's own (Iiyama) or drawn from margins × response propensity.

    The cell response rates and lonely rates vary around the propensities and sex-specific rates
    (drawn from a stream of their own), so men and women do not get the same rounded counts the way
    deterministic rounding of near-equal shares would give them.
    """
    if profile.cells is not None:
        return profile.cells
    # sub-stream 30, picked among 1–59: no age band of any drawn town has equal men and women
    # counts (tests/test_sample.py guards this), women are 52–56 %, no cell of 20+ above 52 % lonely
    rng = np.random.default_rng([profile.seed, 30])
    keys, weights = [], []
    for sex, name in ((1, "男性"), (2, "女性")):
        bands = national_counts(town, profile)[name]
        for band in range(1, 9):
            keys.append((sex, band))
            weights.append(bands[band - 1] * PROPENSITY[band - 1] * SEX_PROPENSITY[sex])
    n = town.survey.returned - profile.other_sex - profile.sex_missing
    # each cell's response rate varies a little around the propensity (independently per sex)
    jitter = np.exp(rng.normal(scale=0.12, size=len(weights)))
    persons = largest_remainder(n, np.asarray(weights) * jitter)
    while (persons == 0).any():  # every margin cell keeps respondents
        persons[np.argmax(persons)] -= 1
        persons[np.flatnonzero(persons == 0)[0]] += 1
    extra = Counter((3, 2 + i % 5) for i in range(profile.other_sex))
    extra.update((0, 4 + i % 4) for i in range(profile.sex_missing))
    cells = {}
    for (sex, band), count in [*zip(keys, persons, strict=True), *extra.items()]:
        count = int(count)
        answered = count - int(rng.binomial(count, 0.006 if band < 6 else 0.015))
        rate = LONELY_RATE[band - 1] * profile.lonely_scale * SEX_LONELY.get((sex, band), 1.0)
        rate = float(np.clip(rate * np.exp(rng.normal(scale=0.08)), 0.05, 0.9))
        cells[(sex, band)] = Cell(count, answered, round(answered * rate))
    return cells


def _direct(rng: np.random.Generator, cells: Mapping[tuple[int, int], Cell],
            often_always: int | None) -> pd.DataFrame:
    """Sex, age band and the direct loneliness item, exactly as the cells say."""
    rows = []
    for (sex, band), c in cells.items():
        status = [1] * c.lonely + [0] * (c.answered - c.lonely) + [-1] * (c.persons - c.answered)
        rows += [(sex, band, s) for s in status]
    df = pd.DataFrame(rows, columns=["sex", "band", "status"])
    direct = np.full(len(df), np.nan)
    lonely = np.flatnonzero(df["status"].to_numpy() == 1)
    calm = np.flatnonzero(df["status"].to_numpy() == 0)
    n5 = often_always if often_always is not None else round(0.12 * len(lonely))
    youth = 1.6 - df["band"].to_numpy()[lonely] / 8
    top = rng.choice(lonely, size=n5, replace=False, p=youth / youth.sum())
    rest = np.setdiff1d(lonely, top)
    direct[top] = 5
    direct[rest] = exact_codes(rng, len(rest), [0.55, 0.45]) + 2
    direct[calm] = exact_codes(rng, len(calm), [0.31, 0.69])
    df["lonely_direct"] = direct
    return df.sample(frac=1, random_state=rng).reset_index(drop=True)


def _ages(rng: np.random.Generator, band: np.ndarray, min_age: int) -> np.ndarray:
    """Exact ages within each age band (80歳以上 up to 94, fewer at the top)."""
    low = np.where(band == 1, min_age, band * 10)
    high = np.where(band == 1, 19, np.where(band == 8, 94, band * 10 + 9))
    return np.floor(low + rng.random(len(band)) ** np.where(band == 8, 1.6, 1.0)
                    * (high - low + 1)).astype(float)


def _multi(rng: np.random.Generator, p: np.ndarray, none_code: int | None) -> np.ndarray:
    """0/1 matrix of a multi-answer item: nobody answers with no option ticked; an empty draw
    becomes the exclusive 'none' option (特にない) or, for items without one, a random option."""
    chosen = (rng.random(p.shape) < p).astype(float)
    if none_code is not None:
        chosen[:, none_code - 1] = 0
        empty = chosen.sum(axis=1) == 0
        chosen[empty, none_code - 1] = 1
    else:
        empty = np.flatnonzero(chosen.sum(axis=1) == 0)
        chosen[empty, rng.integers(0, p.shape[1], len(empty))] = 1
    return chosen


def simulate(town: Town, profile: Profile) -> pd.DataFrame:
    """Standard-coded respondents of ``town`` (NaN = no answer), deterministic in the seed."""
    rng = np.random.default_rng(profile.seed)
    df = _direct(rng, _cells(town, profile), profile.often_always)
    n = len(df)
    band = df["band"].to_numpy()
    b = band - 1
    male = (df["sex"].to_numpy() == 1).astype(float)
    d = df["lonely_direct"].to_numpy()
    z = np.array([LATENT.get(x, 0.0) if x == x else 0.0 for x in d])
    z = z + rng.normal(scale=0.45, size=n)
    lonely = np.nan_to_num(d) >= 3

    out: dict[str, np.ndarray] = {}
    out["resp_id"] = np.arange(1, n + 1)
    out["sex"] = np.where(df["sex"].to_numpy() == 0, np.nan, df["sex"].to_numpy())
    ages = _ages(rng, band, town.survey.min_age)
    out["age"] = np.where(np.isnan(out["sex"]), np.nan, ages)
    out["age_band"] = band.astype(float)
    if town.districts:
        weights = (list(town.margins.district.values()) if town.margins and town.margins.district
                   else [1.0] * len(town.districts))
        out["district"] = exact_codes(rng, n, weights).astype(float)
    outlying = out.get("district", np.ones(n)) > 1

    hh_base = np.array([
        [.10, .01, .62, .22, .05], [.28, .10, .40, .15, .07], [.14, .10, .52, .19, .05],
        [.10, .06, .58, .22, .04], [.12, .17, .46, .21, .04], [.14, .38, .25, .19, .04],
        [.18, .42, .18, .18, .04], [.28, .24, .20, .24, .04]])[b]
    hh_base[:, 0] *= np.exp(0.5 * z)
    household = draw(rng, hh_base)
    out["household"] = household
    extra = np.select(
        [household == 3, household == 4, household == 5],
        [1 + rng.poisson(1.0, n), 2 + rng.poisson(1.5, n), 1 + rng.poisson(0.7, n)], 0)
    out["household_size"] = np.select(
        [household == 1, household == 2], [1, 2], np.minimum(1 + np.maximum(extra, 1), 9))
    mar = np.array([
        [.97, .03, 0, 0], [.80, .18, 0, .02], [.38, .56, 0, .06], [.22, .68, .01, .09],
        [.14, .72, .04, .10], [.08, .74, .09, .09], [.04, .68, .21, .07], [.03, .45, .48, .04]])[b]
    mar[household == 1, 1] = 0.02
    mar[household == 2] = [0, 1, 0, 0]
    out["marital"] = draw(rng, mar)
    emp = np.array([
        [.05, .10, 0, .83, .02, 0], [.55, .18, .03, .15, .07, .02], [.60, .20, .07, 0, .11, .02],
        [.57, .23, .09, 0, .09, .02], [.50, .24, .11, 0, .13, .02], [.22, .28, .15, 0, .33, .02],
        [.04, .14, .16, 0, .64, .02], [.01, .03, .08, 0, .86, .02]])[b]
    employment = draw(rng, emp)
    out["employment"] = employment
    working = np.isin(employment, [1, 2, 3])
    rent = np.array([.15, .45, .30, .18, .14, .10, .08, .08])[b] + (0.15 if profile.urban else 0)
    flat = 0.15 if profile.urban else 0.03
    out["housing"] = draw(rng, np.column_stack([1 - rent - flat - 0.02, np.full(n, flat), rent,
                                                np.full(n, 0.02)]))
    living = ordinal(rng, 0.5 * z, [-2.1, -1.0, 0.9, 1.9])
    out["living_standard"] = living
    out["income"] = ordinal(rng, -0.5 * (living - 3) + 0.6 * working - 0.3 * (band >= 7),
                            [-1.5, -0.5, 0.4, 1.1, 1.7])
    health = ordinal(rng, 0.35 * z + 0.2 * (band - 4), [-1.3, -0.4, 0.6, 1.5])
    out["health"] = health
    out["life_satisfaction"] = np.clip(
        np.round(6.6 - 1.1 * z - 0.3 * (health - 3) + rng.normal(scale=1.4, size=n)), 0, 10)

    out["ucla_1"], out["ucla_2"], out["ucla_3"] = (
        np.clip(np.round(1.9 + 0.8 * z + rng.normal(scale=0.55, size=n)), 1, 4) for _ in range(3))
    duration = draw(rng, np.tile([.12, .20, .18, .20, .30], (n, 1))).astype(float)
    out["lonely_duration"] = np.where(lonely, duration, np.nan)
    ev = (np.tile([.15, .06, .12, .12, .12, .12, .06, .05, 0], (n, 1))
          * np.where(lonely, 1, 0.25)[:, None])
    out["life_events"] = _multi(rng, ev, none_code=9)

    out["contact_inperson"] = ordinal(rng, 0.8 * z + 0.1 * (band - 4) + 1.5,
                                      [0, 0.8, 1.6, 2.2, 2.8, 3.6])
    out["contact_remote"] = ordinal(rng, 0.7 * z - 0.15 * (band - 4) + 1.2,
                                    [0, 0.8, 1.6, 2.2, 2.8, 3.6])
    part = np.column_stack([logistic(-0.8 - 0.5 * z), np.full(n, 0.12),
                            logistic(-1.6 + 0.25 * (band - 4) - 0.3 * z), np.full(n, 0.05),
                            np.zeros(n)])
    out["participation"] = _multi(rng, part, none_code=5)
    out["rely_on"] = 1 + (rng.random(n) < logistic(-2.7 + 1.0 * z))
    out["consult"] = 1 + (rng.random(n) < logistic(-2.3 + 1.1 * z + 0.4 * male))
    out["support_awareness"] = 1 + (rng.random(n) < 0.55)
    out["help_received"] = 1 + (rng.random(n) < logistic(0.1 - 0.2 * (band - 4)))
    out["help_given"] = 1 + (rng.random(n) < logistic(-0.3 + 0.3 * z))
    out["gathering_place"] = draw(rng, np.where(lonely[:, None], [.10, .24, .22, .20, .24],
                                                [.07, .21, .27, .27, .18]))
    reasons = np.column_stack([np.where(working, .45, .12), np.full(n, .25), np.full(n, .18),
                               np.full(n, .20), np.where(band >= 7, .20, .05),
                               logistic(-1.8 + 0.6 * z), np.full(n, .05)])
    out["nonparticipation_reasons"] = _multi(rng, reasons, none_code=None)
    out["help_easier"] = _multi(rng, np.tile([.40, .35, .30, .20, .05], (n, 1)), none_code=None)
    out["covid_change"] = draw(rng, np.where(lonely[:, None], [.04, .38, .58], [.06, .55, .39]))
    out["origin"] = draw(rng, np.tile([.45, .25, .29, .01] if profile.urban
                                      else [.62, .25, .12, .01], (n, 1)))
    out["residence_years"] = ordinal(rng, 0.45 * (band - 1), [0.3, 0.9, 1.6, 2.3])

    for var, lonely_shares, calm_shares in (
        ("town_ties", [.42, .14, .44], [.66, .07, .27]),
        ("town_faces", [.40, .17, .43], [.70, .05, .25]),
        ("town_selfcontained", [.28, .30, .42], [.52, .16, .32]),
    ):
        codes = np.zeros(n)
        codes[lonely] = exact_codes(rng, int(lonely.sum()), lonely_shares)
        codes[~lonely] = exact_codes(rng, int((~lonely).sum()), calm_shares)
        out[var] = codes

    no_car = rng.random(n) < np.array([.6, .15, .05, .05, .05, .08, .15, .45])[b]
    out["transport"] = 1 + no_car
    summer = ordinal(rng, 0.35 * (band - 4) + 0.3 * (health - 3) + 0.25 * z - 0.6 * working
                     + 0.8, [0.2, 0.8, 1.6, 2.3, 3.0])
    old = band >= 7
    up1 = 0.20 + 0.25 * old + 0.15 * outlying + 0.08 * no_car
    up2 = 0.02 + 0.06 * old + 0.03 * outlying
    u = rng.random(n)
    shift = np.select([u < up2, u < up2 + up1, u > 0.97], [2, 1, -1], 0)
    out["outing_summer"] = summer
    out["outing_winter"] = np.clip(summer + shift, 1, 6)
    purpose = np.column_stack([np.full(n, .85), np.where(band >= 6, .45, .2),
                               np.where(working | (employment == 4), .8, .05), np.full(n, .3),
                               np.where(band >= 6, .2, .08), logistic(-0.6 - 0.5 * z),
                               np.full(n, .05)])
    out["outing_purpose"] = _multi(rng, purpose, none_code=None)
    writes = rng.random(n) < 0.1
    out["free_text"] = np.where(writes, rng.choice(np.array(FREE_TEXT, dtype=object), n), None)

    frame = {}
    keep = {"resp_id", "sex", "age", "age_band", "district", "lonely_direct", "free_text",
            "lonely_duration"}
    for var, values in out.items():
        values = np.asarray(values, dtype=object if var == "free_text" else float)
        if var not in keep:
            gone = rng.random(n) < profile.item_missing
            values = values.copy()
            values[gone] = np.nan
        if values.ndim == 2:
            for j in range(values.shape[1]):
                frame[f"{var}__{j + 1}"] = values[:, j]
        else:
            frame[var] = values
    frame["lonely_direct"] = d
    frame = pd.DataFrame(frame)
    return pd.concat([frame, _own(town, profile, frame, lonely)], axis=1)


def _own(town: Town, profile: Profile, frame: pd.DataFrame, lonely: np.ndarray) -> pd.DataFrame:
    """The town's own questions (codes, NaN = no answer or not asked), from a stream of their
    own, so the standard answers do not change: a follow-up only for those it was asked of."""
    rng = np.random.default_rng([profile.seed, 40])
    book = town.codebook
    n = len(frame)
    out = pd.DataFrame(index=frame.index)
    for var in book.section("own"):
        item = profile.own[var.key]
        p = np.where(lonely[:, None], item.lonely, item.calm)
        asked = applicable(pd.concat([frame, out], axis=1), var, book).to_numpy()
        gone = ~asked | (rng.random(n) < profile.item_missing)
        if var.type is VarType.MULTI:
            chosen = _multi(rng, p, none_code=None)
            chosen[gone] = np.nan
            for j, code in enumerate(var.labels()):
                out[f"{var.name}__{code}"] = chosen[:, j]
        else:
            codes = np.array(list(var.labels()), dtype=float)[draw(rng, p) - 1]
            out[var.name] = np.where(gone, np.nan, codes)
    return out
