"""Generation parameters of the six synthetic sample towns (BRIEF §3, §5).

The layout of each town's raw files (file names, columns, label variants) lives in its parameter
file ``config/towns/<id>.yml``; a :class:`Profile` adds what a parameter file does not say: the
seed, the respondent counts, how the vendor writes missing answers and which anomalies the sample
carries.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal

Anomaly = Literal["duplicate_rows", "impossible_age", "household_mismatch", "totals_row",
                  "satisfaction_out_of_range", "follow_up_not_asked"]


@dataclass(frozen=True)
class Cell:
    """Exact respondent counts of one sex × age-band cell: persons, answering the direct
    loneliness item, and feeling lonely (direct item code 3, 4 or 5)."""

    persons: int
    answered: int
    lonely: int


@dataclass(frozen=True)
class Style:
    """How one vendor writes one raw file."""

    blanks: tuple[str, ...] = ("",)
    number_blank: str = ""
    fullwidth_numbers: float = 0.0
    variants: float = 0.0
    vendor_codes: Mapping[str, Mapping[int, int]] = field(default_factory=dict)
    missing_code: Mapping[str, int] = field(default_factory=dict)
    #: columns the town file does not map: a timestamp, a tract code, or (after the mapped
    #: columns) a question the report does not use, given by its answers
    extra_columns: Mapping[str, Literal["timestamp", "tract"] | tuple[str, ...]] = field(
        default_factory=dict)


@dataclass(frozen=True)
class OwnItem:
    """How a town's own question is answered: the answer shares (single, ordinal) or option
    chances (multi) of respondents who do not feel lonely and of those who do."""

    calm: tuple[float, ...]
    lonely: tuple[float, ...]


@dataclass(frozen=True)
class Profile:
    """Everything the generator needs beyond the town's parameter file."""

    seed: int
    lonely_scale: float = 1.0
    item_missing: float = 0.015
    other_sex: int = 0
    sex_missing: int = 0
    cells: Mapping[tuple[int, int], Cell] | None = None
    often_always: int | None = None
    web: int = 0
    urban: bool = False
    styles: tuple[Style, ...] = (Style(),)
    anomalies: tuple[Anomaly, ...] = ()
    notes: str = ""
    own: Mapping[str, OwnItem] = field(default_factory=dict)
    #: residents per sex by the national bands (min_age–19 … 80歳以上), written as the town's
    #: population file by single year of age (when its margins name one)
    population: Mapping[str, tuple[int, ...]] | None = None


def _cells(men: list[tuple[int, int, int]], women: list[tuple[int, int, int]],
           other: Mapping[tuple[int, int], tuple[int, int, int]]) -> Mapping[tuple[int, int], Cell]:
    """Cells keyed by (sex code, age-band code); sex code 0 = sex not answered."""
    out = {(1, band): Cell(*c) for band, c in enumerate(men, start=1)}
    out |= {(2, band): Cell(*c) for band, c in enumerate(women, start=1)}
    out |= {key: Cell(*c) for key, c in other.items()}
    return MappingProxyType(out)


# Iiyama (BRIEF §5), constructed by exact counts: men 20s 10/20 = 50.0 % (highest among men);
# women 40s 16/38 = 42.1 % (highest among women), all women 109/332 = 32.8 % (difference 9.3);
# women 30s 13/32 = 40.6 %; しばしばある・常にある 28 of 637 answering = 4.4 %.
IIYAMA_CELLS = _cells(
    men=[(6, 6, 2), (20, 20, 10), (28, 28, 12), (40, 40, 16), (45, 45, 17), (62, 62, 20),
         (65, 64, 21), (34, 33, 12)],
    women=[(7, 7, 2), (22, 22, 9), (32, 32, 13), (38, 38, 16), (48, 48, 17), (68, 68, 19),
           (70, 68, 18), (50, 49, 15)],
    other={(3, 2): (1, 1, 1), (3, 3): (1, 1, 0), (3, 5): (1, 1, 0),
           (0, 6): (2, 2, 1), (0, 7): (2, 1, 1), (0, 8): (1, 1, 0)},
)

_MAIL_JA = Style(blanks=("", "", "無回答"), fullwidth_numbers=0.15)

PROFILES: Mapping[str, Profile] = MappingProxyType({
    "iiyama": Profile(
        seed=20231207,
        cells=IIYAMA_CELLS,
        often_always=28,
        web=116,
        styles=(
            _MAIL_JA,
            Style(variants=0.3, extra_columns={"submitted_at": "timestamp"}),
        ),
        notes=(
            "- 郵送 (mail): paper forms keyed into Excel, Japanese headers (「問1 性別」) and "
            "answer labels; no answer is a blank cell or 「無回答」; some ages in full-width "
            "digits (「３５」); multi-answer items as one cell joined with 「、」; free text in "
            "自由記述.\n"
            "- Web: the web form's UTF-8 CSV export with other column names (q01_sex …), label "
            "variants (full-/half-width, spaces, ･, 「しばしばある/常にある」, 男/女, あり/なし), "
            "multi-answer items as one 0/1 column per option, and a timestamp column "
            "(submitted_at, ignored)."
        ),
    ),
    "suzaka": Profile(
        seed=20230106,
        sex_missing=3,
        other_sex=2,
        styles=(
            Style(
                number_blank="99",
                vendor_codes={
                    "lonely_direct": {5: 1, 4: 2, 3: 3, 2: 4, 1: 5},
                    "health": {1: 5, 2: 4, 3: 3, 4: 2, 5: 1},
                    "covid_change": {1: 3, 2: 2, 3: 1},
                },
                missing_code={"income": 99, "age": 999},
            ),
        ),
        anomalies=("duplicate_rows",),
        notes=(
            "- One CSV in Shift_JIS (cp932) with question codes as headers (F1 …, Q1, Q15_1 …) and "
            "the vendor's numeric codes, which differ from the national codes for some items "
            "(Q1 孤独感, Q7 コロナ, Q8 健康 run the other way); no answer = 9 (99 for income and "
            "numbers, 999 for age); multi-answer items as 0/1 columns.\n"
            "- The labels are in a separate code sheet (須坂市_コード表_合成データ.xlsx: "
            "設問番号, コード, 選択肢)."
        ),
    ),
    "kitakyushu": Profile(
        seed=20230703,
        lonely_scale=1.05,
        sex_missing=8,
        other_sex=6,
        urban=True,
        item_missing=0.012,
        styles=(
            Style(missing_code={"income": 99}, extra_columns={"調査区": "tract"}),
        ),
        anomalies=("satisfaction_out_of_range",),
        notes=(
            "- One UTF-8 CSV with BOM; answers as the national form's codes (no answer = 9, income "
            "99, blank numbers); age only as bands (「20～29歳」), mapped onto age_band; ward "
            "codes 1–7 in the order of districts:; 回答方法 1 = 郵送, 2 = Web; multi-answer items "
            "as 0/1 columns; a survey-tract column 調査区 (ignored)."
        ),
    ),
    "tsuruoka": Profile(
        seed=20240115,
        lonely_scale=0.95,
        sex_missing=4,
        other_sex=2,
        styles=(Style(blanks=("無回答", "無回答", "不明", ""), number_blank="不明"),),
        anomalies=("totals_row",),
        notes=(
            "- One Excel workbook: a title row and a blank row above the header (header on row 3), "
            "answer labels, no answer as 無回答, 不明 or blank, outing purposes as 0/1 columns, "
            "free text in 自由意見, and an extra 注記 sheet."
        ),
    ),
    "tsukumi": Profile(
        seed=20231002,
        sex_missing=2,
        other_sex=1,
        styles=(Style(blanks=("無回答", ""), fullwidth_numbers=0.05, variants=0.1,
                      extra_columns={"広報つくみを読んでいるか": ("毎号読む", "時々読む",
                                                                "読まない")}),),
        anomalies=("impossible_age", "household_mismatch", "follow_up_not_asked"),
        own={
            "activity": OwnItem(calm=(0.40, 0.22, 0.38), lonely=(0.22, 0.28, 0.50)),
            "activity_reasons": OwnItem(calm=(0.24, 0.16, 0.30, 0.06, 0.30, 0.24, 0.04),
                                        lonely=(0.30, 0.30, 0.44, 0.18, 0.22, 0.20, 0.05)),
        },
        population={"男性": (150, 520, 610, 840, 930, 1260, 1230, 720),
                    "女性": (140, 470, 580, 830, 960, 1350, 1450, 1420)},
        notes=(
            "- One CSV in Shift_JIS (cp932) with Japanese headers and answer labels; no answer as "
            "無回答 or blank; いる（ある）/いない（ない） for the support items; the questionnaire "
            "printed その他・回答しない for the third sex answer (the town's wording). No UCLA "
            "items, no season or small-town items: the report must show those sections as not "
            "asked.\n"
            "- Two questions of the town's own (not in the codebook): 地域活動への参加 and, "
            "asked only of those not taking part, 参加していない理由 (several answers joined "
            "with 「、」; blank where not asked); and 広報つくみを読んでいるか, a question the "
            "report does not use (not_used:).\n"
            "- The population by sex and single year of age (住民基本台帳, cp932) for "
            "weighting: 津久見市_年齢別人口_合成データ.csv; the report uses the town's bands "
            "18～29歳 … 80歳以上.\n"
            "- Small town: many sex × age cells have fewer than 10 respondents."
        ),
    ),
    "noboribetsu": Profile(
        seed=20221107,
        sex_missing=3,
        other_sex=2,
        item_missing=0.012,
        styles=(
            Style(
                vendor_codes={"living_standard": {1: 5, 2: 4, 3: 3, 4: 2, 5: 1}},
                missing_code={"age": 999, "household_size": 99, "income": 99},
            ),
        ),
        anomalies=("impossible_age",),
        notes=(
            "- One SPSS file (.sav) from the vendor: variable names (F1 …, Q1 …) with the "
            "question texts as variable labels, numeric codes with value labels on the "
            "vendor's own numbering (F9 暮らし向き runs the other way: 1 = 大変苦しい … "
            "5 = 大変ゆとりがある), "
            "the vendor's wording 男/女/答えたくない and 幌別地区 …; no answer = 9, declared as "
            "missing in the file (999 for age, 99 for household size and income); 回答方法 "
            "1 = 郵送, 2 = Web; multi-answer items as 0/1 variables; winter and summer outings "
            "(snow country); free text in Q17."
        ),
    ),
})
