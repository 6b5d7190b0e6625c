"""The synthetic sample surveys: determinism, town files, and BRIEF §5 computed from the raw files.

The Iiyama figures are computed here independently, with plain pandas on the two raw files, as a
user would (not with the cleaning pipeline, not with the generator's internals).
"""

from __future__ import annotations

import itertools
import unicodedata

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf
from scipy import stats

from helpers import paths
from helpers.ages import national_bands
from helpers.errors import UserError
from helpers.sample import generate, generate_all, sample_towns
from helpers.sample.layouts import variant
from helpers.sample.profiles import PROFILES
from helpers.sample.respondents import largest_remainder, simulate
from helpers.towns import load_town

TOWNS = ["iiyama", "suzaka", "kitakyushu", "tsuruoka", "tsukumi", "noboribetsu"]
IIYAMA = paths.DATA_RAW / "iiyama"
MAIL = {"sex": "問1 性別", "age": "問2 年齢", "district": "問3 居住地区",
        "household": "問7 世帯の状況",
        "summer": "問15 外出頻度（春～秋）", "winter": "問16 外出頻度（冬）",
        "ties": "問27(1) 地域・社会とのつながり", "faces": "問27(2) 顔の見える関係性",
        "selfcontained": "問27(3) 市内で生活が完結", "direct": "問28 孤独感",
        "ucla1": "問29(1) 人とのつきあいがない"}
WEB = {"sex": "q01_sex", "age": "q02_age", "district": "q03_area", "household": "q07_household",
       "summer": "q15_outing_summer", "winter": "q16_outing_winter", "ties": "q27_1",
       "faces": "q27_2", "selfcontained": "q27_3", "direct": "q28_lonely", "ucla1": "q29_1"}
DIRECT = {"決してない": 1, "ほとんどない": 2, "たまにある": 3, "時々ある": 4,
          "しばしばある・常にある": 5}
OUTING = {"ほぼ毎日": 1, "週に4~5日": 2, "週に2~3日": 3, "週に1日程度": 4, "月に1~3日": 5,
          "ほとんど外出しない": 6}
BANDS = ["19歳以下", "20代", "30代", "40代", "50代", "60代", "70代", "80歳以上"]
UCLA = {"決してない": 1, "ほとんどない": 2, "時々ある": 3, "常にある": 4}


def _norm(value: object) -> str:
    """Spelling normalisation a user would do: NFKC, no spaces, one slash style."""
    if not isinstance(value, str):
        return ""
    text = unicodedata.normalize("NFKC", value).replace(" ", "")
    return text.replace("/", "・")


@pytest.fixture(scope="module")
def iiyama() -> pd.DataFrame:
    mail = pd.read_excel(IIYAMA / "飯山市_郵送回答_合成データ.xlsx", sheet_name="回答データ",
                         dtype=str)
    web = pd.read_csv(IIYAMA / "飯山市_Web回答_合成データ.csv", dtype=str, keep_default_na=False)
    parts = [pd.DataFrame({k: raw[c].map(_norm) for k, c in cols.items()}).assign(mode=mode)
             for raw, cols, mode in ((mail, MAIL, "郵送"), (web, WEB, "Web"))]
    df = pd.concat(parts, ignore_index=True)
    df["sex"] = df["sex"].replace({"男": "男性", "女": "女性"})
    df["direct"] = df["direct"].map(DIRECT)
    df["lonely"] = df["direct"] >= 3
    age = pd.to_numeric(df["age"], errors="coerce")
    df["band"] = pd.cut(age, [0, 20, 30, 40, 50, 60, 70, 80, 200], right=False, labels=BANDS)
    for col in ("summer", "winter"):
        df[col] = df[col].map(OUTING)
    df["ucla1"] = df["ucla1"].map(UCLA)
    return df


@pytest.fixture(scope="module")
def answered(iiyama: pd.DataFrame) -> pd.DataFrame:
    return iiyama[iiyama["direct"].notna()]


@pytest.mark.parametrize("town", TOWNS)
def test_generation_is_byte_identical_to_committed_files(town, tmp_path):
    written = generate(town, tmp_path / town)
    committed = sorted(p.name for p in (paths.DATA_RAW / town).iterdir())
    assert sorted(p.name for p in written) == committed
    for path in written:
        assert path.read_bytes() == (paths.DATA_RAW / town / path.name).read_bytes(), path.name


@pytest.mark.parametrize("town", TOWNS)
def test_town_file_loads_and_names_existing_files(town):
    spec = load_town(town)
    assert spec.synthetic
    assert "合成" in spec.margins.source
    for source in spec.sources:
        assert (paths.DATA_RAW / town / source.file).is_file()


@pytest.mark.parametrize("town", TOWNS)
def test_folder_is_labelled_synthetic(town):
    folder = paths.DATA_RAW / town
    readme = (folder / "README.md").read_text(encoding="utf-8")
    assert "合成データ" in readme and "not real" in readme
    assert f"seed {PROFILES[town].seed}" in readme
    data_files = [p for p in folder.iterdir() if p.name != "README.md"]
    assert data_files and all("合成" in p.name for p in data_files)
    assert all(p.stat().st_size < 1_000_000 for p in data_files)


@pytest.mark.parametrize("town", TOWNS)
def test_every_margin_cell_has_respondents(town):
    spec = load_town(town)
    frame = simulate(spec, PROFILES[town])
    bands = national_bands(spec.survey.min_age, spec.survey.max_age).labels  # as simulated
    counts = frame.groupby(["sex", "age_band"]).size()
    for sex, name in ((1, "男性"), (2, "女性")):
        for band, label in enumerate(bands, start=1):
            assert counts.get((sex, band), 0) > 0, (name, label)
    lonely = (frame["lonely_direct"] >= 3).sum() / frame["lonely_direct"].notna().sum()
    assert 0.33 < lonely < 0.45


@pytest.mark.parametrize("town", [t for t in TOWNS if t != "iiyama"])
def test_men_and_women_do_not_share_cell_counts(town):
    """Drawn towns: no age band where men and women have the same persons, or the same lonely
    and not-lonely counts (an artifact of rounding near-equal shares the same way for both)."""
    frame = simulate(load_town(town), PROFILES[town])
    answered = frame[frame["lonely_direct"].notna()]
    persons = frame.groupby(["sex", "age_band"]).size()
    lonely = answered.groupby(["sex", "age_band"])["lonely_direct"].agg(
        lambda s: ((s >= 3).sum(), (s < 3).sum()))
    same = [band for band in range(1, 9)
            if persons[(1, band)] == persons[(2, band)] or lonely[(1, band)] == lonely[(2, band)]]
    assert not same, same
    rates = (answered["lonely_direct"] >= 3).groupby(
        [answered["sex"], answered["age_band"]]).mean()
    assert not np.allclose(rates.loc[1].to_numpy(), rates.loc[2].to_numpy(), atol=0.02)
    women = (frame["sex"] == 2).sum() / frame["sex"].isin([1, 2]).sum()
    assert 0.5 < women < 0.6


def test_iiyama_response_counts(iiyama):
    assert len(iiyama) == 643
    assert (iiyama["mode"] == "Web").sum() == 116


def test_iiyama_lonely_rates_by_sex_and_age(answered):
    rate = answered.groupby(["sex", "band"], observed=True)["lonely"].mean() * 100
    men, women = rate["男性"], rate["女性"]
    assert round(men["20代"], 1) == 50.0
    assert men.idxmax() == "20代" and (men.drop("20代") < 50.0).all()
    assert round(women["40代"], 1) == 42.1
    assert women.idxmax() == "40代"
    all_women = answered.loc[answered["sex"] == "女性", "lonely"].mean() * 100
    assert round(women["40代"] - all_women, 1) == 9.3
    assert women["30代"] > all_women + 5


def test_iiyama_key_cells_have_valid_answers(iiyama):
    key = iiyama[iiyama["sex"].isin(["男性", "女性"]) & iiyama["band"].isin(["20代", "40代"])]
    assert key["direct"].notna().all()


def test_iiyama_often_always_below_national(answered):
    share = (answered["direct"] == 5).mean() * 100
    assert 4.0 <= share <= 4.7


@pytest.mark.parametrize("item", ["ties", "faces", "selfcontained"])
def test_iiyama_small_town_groups_feel_lonelier(answered, item):
    overall = answered["lonely"].mean()
    groups = answered[answered[item].isin(["良いと思う", "良くないと思う", "どちらともいえない"])]
    by_group = groups.groupby(item)["lonely"].mean()
    assert by_group["良くないと思う"] > overall + 0.05
    assert by_group["どちらともいえない"] > overall + 0.03
    assert by_group["良いと思う"] < overall
    assert stats.chi2_contingency(pd.crosstab(groups[item], groups["lonely"]))[1] < 0.001
    data = groups[groups["sex"].isin(["男性", "女性"]) & groups["band"].notna()
                  & (groups["household"] != "")].assign(
        y=lambda d: d["lonely"].astype(int),
        notgood=lambda d: (d[item] != "良いと思う").astype(int),
        band=lambda d: d["band"].astype(str))
    fit = smf.logit("y ~ notgood + C(sex) + C(band) + C(household)", data=data).fit(disp=0)
    assert np.exp(fit.params["notgood"]) > 1.5
    assert fit.pvalues["notgood"] < 0.001


def test_iiyama_winter_outings_drop(iiyama):
    pairs = iiyama.dropna(subset=["summer", "winter"])
    assert stats.wilcoxon(pairs["summer"], pairs["winter"]).pvalue < 0.001
    assert pairs["winter"].mean() > pairs["summer"].mean()
    less = pairs["winter"] > pairs["summer"]
    old = pairs["band"].isin(["70代", "80歳以上"])
    assert less[old].mean() > less[~old].mean() + 0.1
    outlying = pairs["district"] != "飯山"
    assert less[outlying].mean() > less[~outlying].mean() + 0.05


def test_iiyama_ucla_follows_direct_item(answered):
    both = answered.dropna(subset=["ucla1"])
    assert stats.spearmanr(both["direct"], both["ucla1"])[0] > 0.4


def test_iiyama_districts_proportional_to_population(iiyama):
    population = load_town("iiyama").margins.district
    total = sum(population.values())
    counts = iiyama["district"].value_counts()
    assert set(counts.index) == set(population)
    for district, pop in population.items():
        assert abs(counts[district] - 643 * pop / total) <= 2, district


def test_label_variants_normalise_back(codebook):
    rng = np.random.default_rng(1)
    labels = [lab for v in codebook.all if isinstance(v.codes, dict) for lab in v.codes.values()]
    for label in labels * 3:
        spelled = variant(label, rng)
        assert spelled != label
        assert _norm(spelled) == _norm(label)


def test_largest_remainder_keeps_the_total():
    assert largest_remainder(10, [1, 1, 1]).tolist() == [4, 3, 3]
    assert largest_remainder(643, [5, 3, 2]).sum() == 643


def test_unknown_town_is_a_user_error_and_writes_nothing(tmp_path):
    with pytest.raises(UserError, match="sample towns: iiyama"):
        generate_all(tmp_path, ["iiyama", "atlantis"])
    assert not any(tmp_path.iterdir())
    assert sample_towns() == sorted(TOWNS)


def test_cli_sample_writes_a_town_and_reports_mistakes(tmp_path):
    from typer.testing import CliRunner

    from helpers.cli import app

    runner = CliRunner()
    ok = runner.invoke(app, ["sample", "tsukumi", "--out", str(tmp_path)])
    assert ok.exit_code == 0, ok.output
    assert (tmp_path / "tsukumi" / "津久見市_アンケート_合成データ.csv").is_file()
    bad = runner.invoke(app, ["sample", "atlantis", "--out", str(tmp_path)])
    assert bad.exit_code == 2
    assert "atlantis" in bad.output and "Traceback" not in bad.output


def test_tsukumi_population_file_adds_up_to_the_profile_and_the_town():
    """The 住民基本台帳 export by single year of age, read as a user would."""
    table = pd.read_csv(paths.DATA_RAW / "tsukumi" / "津久見市_年齢別人口_合成データ.csv",
                        encoding="cp932")
    rows = table[table["年齢"] != "総数"].reset_index(drop=True)  # 0歳 … 99歳, 100歳以上
    edges = [18, 20, 30, 40, 50, 60, 70, 80, 101]
    for sex, column in (("男性", "男"), ("女性", "女")):
        by_band = tuple(int(rows[column][a:b].sum()) for a, b in itertools.pairwise(edges))
        assert by_band == PROFILES["tsukumi"].population[sex]
        assert int(table.loc[table["年齢"] == "総数", column].iloc[0]) == rows[column].sum()
    assert rows[["男", "女"]].to_numpy().sum() == load_town("tsukumi").survey.population


def test_tsukumi_follow_up_is_blank_where_it_was_not_asked():
    raw = pd.read_csv(paths.DATA_RAW / "tsukumi" / "津久見市_アンケート_合成データ.csv",
                      encoding="cp932", dtype=str, keep_default_na=False)
    asked = raw["地域活動への参加"].str.strip().isin(["以前は参加していたが、今はしていない",
                                              "参加したことはない"])
    answered = raw["参加していない理由"] != ""
    assert (answered & ~asked).sum() == 1  # the anomaly the README names
    assert answered[asked].mean() > 0.95
    assert set(raw["性別"].str.strip()) >= {"その他・回答しない"}


def test_a_hostile_town_file_stays_text_in_the_sample_readme(tmp_path):
    """The town's names, title, districts and file names are shown as typed, never as markup
    (rendered as GitHub renders Markdown: CommonMark with tables)."""
    from markdown_it import MarkdownIt

    from helpers.sample.generator import _district_table, readme

    town = load_town("iiyama")
    hostile = {"ja": "<script>飯山</script>", "en": "[x](javascript:alert(1))", "title": "`a`|*b*",
               "district": "<img src=x onerror=alert(1)>|地区", "file": "a``b <i>.csv"}
    town = town.model_copy(update={
        "name": town.name.model_copy(update={"ja": hostile["ja"], "en": hostile["en"]}),
        "survey": town.survey.model_copy(update={"title": hostile["title"]}),
        "districts": [hostile["district"], *town.districts[1:]],
    })
    frame = pd.DataFrame({"district": [1, 2, 2]})
    text = readme(town, PROFILES["iiyama"], [tmp_path / hostile["file"]], [],
                  _district_table(town, frame))
    page = MarkdownIt("commonmark").enable("table").render(text)
    assert "<script" not in page and "<img" not in page and "<i>" not in page
    assert 'href="javascript' not in page and "<em>b</em>" not in page
    assert page.count("<tr>") == 1 + len(town.districts)  # the "|" split no row
    plain = page.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"').replace(
        "&amp;", "&")
    for value in hostile.values():
        assert value in plain, value
