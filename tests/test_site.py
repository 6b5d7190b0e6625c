"""Staging the website: generated pages, cleaned notebooks, the Quarto project; one real render."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml

from helpers.build import quarto
from helpers.build.site import (
    TABLE_CLASSES,
    Page,
    codebook_page,
    count,
    index_page,
    methods_page,
    prefecture_anchor,
    prepare_notebook,
    rate_with_ci,
    site_config,
    stage_site,
    town_intro,
)
from helpers.codebook import Codebook
from helpers.towns import load_town

SITE_SRC = Path(__file__).parents[1] / "site"


def _executed_notebook(path: Path, front: str | None = None) -> Path:
    """An executed notebook as papermill leaves it: stderr, a heading and a sentence shown by
    the code, a pandas table."""
    cells = [] if front is None else [{"cell_type": "raw", "metadata": {}, "source": front}]
    cells += [
        {"cell_type": "markdown", "metadata": {"tags": ["title"]}, "source": ["# 旧題\n"]},
        {"cell_type": "markdown", "metadata": {}, "source": ["## 孤独感\n", "本文\n"]},
        {
            "cell_type": "code",
            "metadata": {},
            "execution_count": 1,
            "source": ["fig.show()  # SECRET-CODE"],
            "outputs": [
                {"output_type": "stream", "name": "stderr", "text": ["UserWarning: noisy\n"]},
                {"output_type": "stream", "name": "stdout", "text": ["printed\n"]},
                {
                    "output_type": "display_data",
                    "metadata": {},
                    "data": {"text/markdown": ["## 1. 孤独感の割合\n", "\n", "割合は32.8%です。"],
                             "text/plain": ["<IPython.core.display.Markdown object>"]},
                },
                {
                    "output_type": "execute_result",
                    "metadata": {},
                    "execution_count": 1,
                    "data": {"text/html": ["<table><tr><td>1</td></tr></table>"]},
                },
            ],
        },
    ]
    nb = {"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    path.write_text(json.dumps(nb), encoding="utf-8")
    return path


def _results(path: Path, n: int = 643, lonely_n: int = 640) -> Path:
    est = {"p": 34.9, "lo": 31.3, "hi": 38.6, "n": lonely_n, "x": 223}  # published: in %
    results = {
        "town": "iiyama",
        "min_cell": 10,
        "n": n,
        "response_rate": 42.9,
        "headline": {"lonely": est, "often_always": {**est, "p": 4.4, "lo": 3.1, "hi": 6.3}},
    }
    path.write_text(json.dumps(results), encoding="utf-8")
    return path


def test_numbers_follow_the_disclosure_rule() -> None:
    est = {"p": 32.8, "lo": 29.0, "hi": 36.7, "n": 320}
    assert rate_with_ci(est, 10) == "32.8%（29.0～36.7%）"
    assert rate_with_ci({**est, "n": 9}, 10) == "—"
    assert rate_with_ci({**est, "p": None}, 10) == "—"
    assert rate_with_ci(None, 10) == "—"
    assert [count(n, 10) for n in (0, 3, 10, 2178, None)] == ["0", "—", "10", "2,178", "—"]


def test_prepare_notebook_cleans_outputs_and_sets_the_title(tmp_path: Path) -> None:
    src = _executed_notebook(tmp_path / "in.ipynb", "---\ntitle: old\nauthor: 市\n---")
    dest = tmp_path / "out" / "iiyama.ipynb"
    prepare_notebook(src, dest, {"title": "飯山市（長野県）"}, "[Excel](x.xlsx)\n")
    nb = json.loads(dest.read_text(encoding="utf-8"))
    front = yaml.safe_load("".join(nb["cells"][0]["source"]).strip("-\n"))
    assert front == {"title": "飯山市（長野県）", "author": "市"}
    assert nb["cells"][1]["cell_type"] == "markdown" and "x.xlsx" in "".join(
        nb["cells"][1]["source"]
    )
    kinds = [c["cell_type"] for c in nb["cells"]]
    assert kinds == ["raw", "markdown", "markdown", "code", "markdown", "code"]
    assert "旧題" not in json.dumps(nb, ensure_ascii=False)  # replaced by the front matter
    before, heading, after = nb["cells"][3:]
    text = json.dumps(before["outputs"], ensure_ascii=False)
    assert "noisy" not in text
    assert [o.get("name") for o in before["outputs"] if o["output_type"] == "stream"] == ["stdout"]
    assert "".join(heading["source"]) == "## 1. 孤独感の割合\n"  # a section of the page
    outputs = after["outputs"]
    assert after["source"] == []
    assert "".join(outputs[0]["data"]["text/markdown"]) == "割合は32.8%です。"
    assert all("text/html" not in o.get("data", {}) for o in outputs)  # no require.js from Quarto
    assert f'<table class="{TABLE_CLASSES}">' in "".join(outputs[1]["data"]["text/markdown"])


def test_index_lists_published_and_failed_towns(tmp_path: Path) -> None:
    iiyama, tsukumi, suzaka = (load_town(t) for t in ("iiyama", "tsukumi", "suzaka"))
    pages = [
        Page("iiyama", iiyama, tmp_path / "i.ipynb", _results(tmp_path / "r.json"), tmp_path / "x"),
        Page("suzaka", suzaka, tmp_path / "s.ipynb", _results(tmp_path / "s.json", 8, 8), None),
        Page("tsukumi", tsukumi, error="ConfigError: 列「性別」がありません"),
        Page("broken", None, error="config/towns/broken.yml: invalid parameter file"),
    ]
    text = index_page(pages)
    assert "towns/iiyama.html" in text and "飯山市" in text and "34.9%（31.3～38.6%）" in text
    assert "downloads/iiyama_%E9%9B%86%E8%A8%88%E8%A1%A8.xlsx" in text
    suzaka_row = next(line for line in text.splitlines() if "towns/suzaka.html" in line)
    assert "34.9%" not in suzaka_row and suzaka_row.count("—") >= 3  # n = 8: suppressed
    assert "towns/tsukumi.html" not in text
    assert "津久見市（大分県）：作成に失敗しました" in text and "列「性別」がありません" in text
    assert "broken：作成に失敗しました" in text
    assert "(compare.html)" in text and "compare.html" not in index_page(pages, compare=False)


def test_codebook_page_lists_every_variable_and_who_asked_it(codebook: Codebook) -> None:
    towns = [load_town(t) for t in ("iiyama", "suzaka")]
    text = codebook_page(codebook, towns)
    for v in codebook.all:
        assert f"`{v.name}`" in text
    faces = next(line for line in text.splitlines() if "`town_faces`" in line)
    asked = [t.name.ja for t in towns if "town_faces" in t.variables()]
    assert asked and all(name in faces for name in asked)
    free = next(line for line in text.splitlines() if "`free_text`" in line)
    assert "非公開" in free


def test_codebook_page_lists_the_towns_own_questions_and_whom_they_asked(codebook) -> None:
    text = codebook_page(codebook, [load_town("iiyama"), load_town("tsukumi")])
    own = text.split("## 市町村独自の設問")[1]
    reasons = next(line for line in own.splitlines() if "`tsukumi_activity_reasons`" in line)
    assert "津久見市" in reasons and "複数回答" in reasons and "1 どのような活動があるか" in reasons
    assert "で「以前は参加していたが、今はしていない」「参加したことはない」と答えた人" in reasons
    activity = next(line for line in own.splitlines() if "`tsukumi_activity`" in line)
    assert activity.endswith("| 全員 |")


def test_methods_page_is_filled_from_codebook_and_towns(codebook: Codebook) -> None:
    template = (SITE_SRC / "methods.qmd").read_text(encoding="utf-8")
    towns = [load_town(t) for t in ("iiyama", "tsukumi")]
    text = methods_page(template, codebook, towns, {})
    assert "${" not in text
    assert "「たまにある」、「時々ある」、「しばしばある・常にある」" in text
    assert "飯山市 10人" in text and "合成データ" in text
    assert "- 飯山市：18～19歳、20～29歳、" in text  # the national bands from its min_age
    assert "- 津久見市：18～29歳、30～39歳、" in text  # its own
    assert codebook["ucla_1"].question in text
    # nothing was computed: the page claims no weighting and no model
    assert "集計結果がありません" in text and "重み付けの推計を示した市町村はありません" in text


def _computed(folder: Path, town: str, drop: tuple[str, ...] = ()) -> dict:
    """results.json of a cleaned sample town, analysed without the ``drop`` columns."""
    from helpers.analysis import analyse_town, build_results
    from helpers.dataset import load_survey

    df = load_survey(town, processed_dir=folder).drop(columns=list(drop))
    return json.loads(json.dumps(build_results(analyse_town(df, load_town(town)))))


def _inference_part(text: str) -> str:
    return text.split("## 信頼区間と検定")[1].split("## 少人数")[0]


def test_methods_page_says_what_was_computed(codebook: Codebook, cleaned) -> None:
    template = (SITE_SRC / "methods.qmd").read_text(encoding="utf-8")
    iiyama = load_town("iiyama")
    results = _computed(cleaned("iiyama"), "iiyama")
    text = _inference_part(methods_page(template, codebook, [iiyama], {"iiyama": results}))
    w = results["weighting"]
    assert f"| 飯山市 | あり | 性別×年代・地区 | {w['n']:,}人 |" in text
    assert "| 線形化法（レイキングを考慮） |" in text and "Rao–Scott" in text
    assert "世帯の状況（基準「単身世帯」）" in text
    faces = results["smalltown"]["items"]["town_faces"]["models"]
    assert faces["weighted"]["n"] is None  # it would count the 3 left out of the weighting
    counts = f"{faces['unweighted']['n']:,}人／—"
    assert f"近所の人と顔の見える関係性が築きやすいこと（「良いと思う」）：{counts}" in text


def test_methods_page_claims_no_household_adjustment_without_household(
    codebook: Codebook, cleaned
) -> None:
    template = (SITE_SRC / "methods.qmd").read_text(encoding="utf-8")
    results = _computed(cleaned("iiyama"), "iiyama", drop=("household",))
    text = _inference_part(methods_page(template, codebook, [load_town("iiyama")],
                                        {"iiyama": results}))
    assert "性別（基準「男性」）・年代（基準「18～19歳」） |" in text
    assert "世帯" not in text
    for item in results["smalltown"]["items"].values():
        assert item["adjusted_for"] == ["sex", "age_band"]
        assert all("世帯" not in model["text"] for model in item["models"].values())


def test_site_config_renders_only_staged_pages_and_lists_no_town(tmp_path: Path) -> None:
    render = ["index.qmd", "towns/iiyama.ipynb", "methods.qmd", "codebook.qmd"]
    config = yaml.safe_load(site_config(render, tmp_path / "stage", tmp_path / "out"))
    assert config["project"]["render"] == render
    assert config["project"]["output-dir"] == "../out"
    assert config["lang"] == "ja" and config["execute"]["enabled"] is False
    navbar = config["website"]["navbar"]["left"]
    assert [i["href"] for i in navbar] == ["index.html", "methods.html", "codebook.html"]
    assert navbar[0]["text"] == "市町村一覧"  # no comparison was staged: no link to it
    # the configuration every page is rendered with is the same for 1 town or 1,741
    many = [*render[:1], *(f"towns/t{i}.ipynb" for i in range(1741)), "compare.ipynb",
            *render[2:]]
    config["project"].pop("render")
    bigger = yaml.safe_load(site_config(many, tmp_path / "stage", tmp_path / "out"))
    assert bigger["project"].pop("render") == many
    assert [i["href"] for i in bigger["website"]["navbar"]["left"]] == [
        "index.html", "compare.html", "methods.html", "codebook.html"]
    bigger["website"]["navbar"]["left"].pop(1)
    assert bigger == config


def test_prefecture_anchors_depend_on_the_prefecture_alone() -> None:
    assert [prefecture_anchor(p) for p in ("北海道", "長野県", "大分県", "沖縄県")] == [
        "pref-01", "pref-20", "pref-44", "pref-47"]
    other = prefecture_anchor("長野")  # not one of the 47 as written: an id of its own
    assert re.fullmatch(r"pref-[0-9a-f]{10}", other) and other == prefecture_anchor("長野")
    assert len({other, prefecture_anchor(IMG), prefecture_anchor("長野 ")}) == 3


def test_index_groups_towns_by_prefecture_in_code_order(tmp_path: Path) -> None:
    results = _results(tmp_path / "r.json")
    odd = load_town("suzaka").model_copy(update={"id": "odd", "prefecture": "長野"})
    towns = [load_town(t) for t in ("tsukumi", "iiyama", "noboribetsu", "suzaka")] + [odd]
    text = index_page([Page(t.id, t, tmp_path / f"{t.id}.ipynb", results) for t in towns])
    headings = re.findall(r"^### (.+) \{#(pref-\w+) \.prefecture\}$", text, re.M)
    assert headings == [("北海道", "pref-01"), ("長野県", "pref-20"), ("大分県", "pref-44"),
                        ("長野", prefecture_anchor("長野"))]
    # each group's table holds its towns, in the order given; captions are numbered in order
    groups = re.split(r"^### ", text, flags=re.M)[1:]
    rows = [re.findall(r"<a href='towns/(\w+)\.html'>", g) for g in groups]
    assert rows == [["noboribetsu"], ["iiyama", "suzaka"], ["tsukumi"], ["odd"]]
    captions = re.findall(r"<caption id='tbl-towns-(\d)'>(表\d)　(\S+)の市町村の主な数値", text)
    assert captions == [("1", "表1", "北海道"), ("2", "表2", "長野県"), ("3", "表3", "大分県"),
                        ("4", "表4", "長野")]
    jump = re.search(r"<nav class='prefecture-nav' aria-label='都道府県から探す'>(.*?)</nav>",
                     text, re.S)
    assert jump and re.findall(r"<li><a href='#(pref-\w+)'>(\S+?)</a>（(\d)）</li>", jump[1]) == [
        (a, name, str(len(r))) for (name, a), r in zip(headings, rows, strict=True)]
    assert "5市町村の報告があります（4都道府県）" in text
    # the filter: labelled, its count announced, hidden until its script shows it
    assert ("<div class='town-filter' hidden><label for='town-filter'>" in text
            and "id='town-filter'" in text and "role='status'" in text)
    assert "<script src='town-list.js' defer></script>" in text


def test_index_of_one_prefecture_has_no_jump_list(tmp_path: Path) -> None:
    results = _results(tmp_path / "r.json")
    pages = [Page(t, load_town(t), tmp_path / f"{t}.ipynb", results) for t in ("iiyama", "suzaka")]
    text = index_page(pages)
    assert "prefecture-nav" not in text
    assert re.findall(r"^### .+$", text, re.M) == ["### 長野県 {#pref-20 .prefecture}"]
    assert "2市町村の報告があります（1都道府県）" in text


def test_a_town_page_links_back_to_its_prefecture_in_the_list(tmp_path: Path) -> None:
    town = load_town("tsukumi")
    intro = town_intro(Page("tsukumi", town, tmp_path / "t.ipynb"))
    crumbs = _html(intro)
    assert [t for t in crumbs.tags if t.startswith("<a ")] == [
        "<a href='../index.html'>", "<a href='../index.html#pref-44'>"]
    assert "".join(crumbs.text).split("\n")[1] == "市町村一覧 › 大分県の市町村"
    assert "<nav class='town-breadcrumb' aria-label='パンくずリスト'>" in intro
    assert "{#pref-44 .prefecture}" in index_page([Page("tsukumi", town, tmp_path / "t.ipynb")])
    hostile = _hostile_town()
    page = _html(town_intro(Page("iiyama", hostile, tmp_path / "i.ipynb")))
    _no_user_elements(page)
    assert f"{IMG}の市町村" in "".join(page.text)


@pytest.mark.slow
@pytest.mark.skipif(quarto.find_quarto() is None, reason="Quarto not found (PATH, $QUARTO)")
def test_quarto_renders_the_staged_site_without_code(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    nb = _executed_notebook(tmp_path / "iiyama.ipynb")
    (tmp_path / "iiyama_集計表.xlsx").write_bytes(b"PK fake")
    printed = tmp_path / "print" / "iiyama.qmd"
    printed.parent.mkdir()
    printed.write_text("---\ntitle: 飯山市\nformat:\n  typst:\n    papersize: a4\n"
                       "    mainfont: Noto Sans CJK JP\n---\n\n## 主な結果\n\n32.8%\n",
                       encoding="utf-8")
    page = Page(
        "iiyama",
        load_town("iiyama"),
        nb,
        _results(tmp_path / "r.json"),
        tmp_path / "iiyama_集計表.xlsx",
        print_source=printed,
    )
    out = tmp_path / "site"
    monkeypatch.setenv("TSUNAGARI_SITE_URL", "https://example.org/tsunagari")
    stage = stage_site([page], nb, tmp_path / "stage", out)
    quarto.render(quarto.find_quarto(), stage, tmp_path / "quarto.log")
    town = (out / "towns" / "iiyama.html").read_text(encoding="utf-8")
    assert 'lang="ja"' in town and "<title>飯山市（長野県）" in town
    assert "SECRET-CODE" not in town and "noisy" not in town  # code hidden, stderr dropped
    assert "plotly" not in town and "require.min.js" not in town  # no chart library
    assert (out / "downloads" / "iiyama_集計表.xlsx").exists()
    assert (out / "pdf" / "iiyama.pdf").read_bytes()[:4] == b"%PDF"  # rendered with the site
    assert 'href="../pdf/iiyama.pdf"' in town
    assert 'id="toc-title"' in town and "<h2 id=\"toc-title\"" not in town
    locations = re.findall(r"<loc>([^<]+)</loc>", (out / "sitemap.xml").read_text("utf-8"))
    assert locations and all(u.startswith("https://example.org/tsunagari/") for u in locations)
    for name in ("index", "compare", "methods", "codebook"):
        assert (out / f"{name}.html").exists()
    assert "飯山市" in (out / "search.json").read_text(encoding="utf-8")
    # the home page: the town in its prefecture's section, the filter's script beside it
    index = (out / "index.html").read_text(encoding="utf-8")
    assert re.search(r'<section id="pref-20" class="[^"]*\bprefecture\b', index)
    assert '<script src="town-list.js" defer' in index and (out / "town-list.js").is_file()
    assert '<a href="../index.html#pref-20">長野県の市町村</a>' in town
    navbar = re.search(r'<nav class="navbar.*?</nav>', town, re.S)[0]  # the brand, then 4 pages
    assert re.findall(r'href="([^"]+)"', navbar) == [f"../{name}.html" for name in (
        "index", "index", "compare", "methods", "codebook")]


# --- user strings are text ---

SCRIPT = "飯山市<script>alert(1)</script>"
IMG = '<img src=x onerror="alert(1)">'
SPECIALS = "A*B地区_x_ `c` [l](u) | #h {{< env HOME >}}"


def _hostile_town():
    """The Iiyama parameter set with hostile strings wherever a town file holds free text."""
    from helpers.towns import Names

    town = load_town("iiyama")
    survey = town.survey.model_copy(update={"title": f"{SPECIALS} 調査", "target": IMG,
                                            "sampling": "=1+1 $x$"})
    return town.model_copy(update={"name": Names(ja=SCRIPT, en="x"), "prefecture": IMG,
                                   "survey": survey})


class _Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self.tags.append(self.get_starttag_text())

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _html(text: str) -> _Elements:
    page = _Elements()
    page.feed(text)
    return page


def _no_user_elements(page: _Elements) -> None:
    for hostile in (SCRIPT, IMG, SPECIALS):
        assert not [t for t in page.tags if t in hostile], page.tags


def test_index_shows_hostile_names_as_text(tmp_path: Path) -> None:
    town = _hostile_town()
    pages = [Page("iiyama", town, tmp_path / "i.ipynb", _results(tmp_path / "r.json"), None),
             Page("failed", town, error=f"ConfigError: 列「{IMG}」がありません")]
    text = index_page(pages)
    page = _html(text)
    _no_user_elements(page)
    shown = "".join(page.text)
    assert f"{SCRIPT}（合成データ）" in shown and IMG in shown
    assert f"列「{IMG}」がありません" in shown


def _markdown(text: str) -> _Elements:
    from markdown_it import MarkdownIt

    return _html(MarkdownIt("commonmark", {"html": True}).enable("table").render(text))


def test_methods_and_codebook_pages_show_hostile_strings_as_text(codebook: Codebook) -> None:
    town = _hostile_town()
    template = (SITE_SRC / "methods.qmd").read_text(encoding="utf-8")
    model = {"n": 600, "terms": [
        {"variable": "town_faces", "name": "顔の見える関係", "reference": "<b>良い</b>"},
        {"variable": "district", "name": "地区", "reference": SPECIALS}]}
    results = {
        "iiyama": {"min_cell": 10, "weighting": {"applied": False, "reason": f"理由 {IMG}"},
                   "smalltown": {"items": {"town_faces": {"question": "顔*の*見える",
                                                          "models": {"unweighted": model}}}}},
    }
    methods = _markdown(methods_page(template, codebook, [town, load_town("tsukumi")], results))
    _no_user_elements(methods)
    shown = "".join(methods.text)
    assert f"{SCRIPT}（{IMG}）" in shown  # the survey table's first cell
    for text in (IMG, "=1+1 $x$", f"{SCRIPT} 10人", f"なし（理由 {IMG}）",
                 f"地区（基準「{SPECIALS}」）", "顔*の*見える（「<b>良い</b>」）：600人"):
        assert text in shown, text
    book = _markdown(codebook_page(codebook, [town]))
    _no_user_elements(book)
    faces = next(r for r in book.text if "town_faces" in r)
    assert faces and SCRIPT in "".join(book.text)


def test_front_matter_and_intro_hold_escaped_titles(tmp_path: Path) -> None:
    from helpers import escape

    town = _hostile_town()
    nb = _executed_notebook(tmp_path / "iiyama.ipynb")
    page = Page("iiyama", town, nb, _results(tmp_path / "r.json"), None)
    stage = stage_site([page], None, tmp_path / "stage", tmp_path / "out")
    staged = json.loads((stage / "towns" / "iiyama.ipynb").read_text(encoding="utf-8"))
    front = yaml.safe_load("".join(staged["cells"][0]["source"]).strip("-\n"))
    assert front["title"] == escape.meta(f"{SCRIPT}（{IMG}）")
    assert front["subtitle"] == escape.meta(f"{SPECIALS} 調査（合成データ）")
    assert "{{<" not in front["subtitle"].replace("\\", "")  # no shortcode for Quarto to run
    intro = "".join(staged["cells"][1]["source"])
    assert intro.startswith("```{=html}") and escape.html(IMG) in intro and IMG not in intro
