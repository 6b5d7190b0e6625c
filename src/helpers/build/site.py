"""Stage the Quarto website: generated pages plus the executed notebooks, ready to render.

The project's ``_quarto.yml`` and ``site/`` hold the committed configuration and page sources.
``stage_site`` copies them into ``build/site/`` with the pages generated for this build:

- ``index.qmd``: every town with its key figures (from ``results.json``), grouped by prefecture
  with a filter, links to its page and its Excel tables, and the towns whose build failed, with
  the reason: the way to reach a town at any number of towns (the navigation bar lists none);
- ``towns/<id>.ipynb`` and ``compare.ipynb``: the executed notebooks, titled from the parameter
  file, with stderr and warnings dropped (their charts are static SVG: no chart library loads);
- ``pdf/<id>.qmd``: each town's printed report (written by its report notebook), which the same
  render turns into ``pdf/<id>.pdf`` (Typst, A4), linked from the town's page;
- ``methods.qmd`` (the ``site/methods.qmd`` template filled in) and ``codebook.qmd``, both from
  ``config/codebook.yml`` and the town parameter files.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from string import Template
from typing import Any
from urllib.parse import quote

import yaml

from helpers import escape, paths
from helpers.analysis.document import page_subtitle, page_title
from helpers.codebook import Codebook, VarType, load_codebook
from helpers.stats.disclosure import rule_text
from helpers.stats.format import fmt_ci, fmt_pct, fmt_percent, fmt_period, percent
from helpers.towns import Town, town_labels

QUARTO_YML = paths.ROOT / "_quarto.yml"
SITE_SRC = paths.ROOT / "site"
SUPPRESSED = "—"
#: Classes Quarto's table processing would give a notebook's table (it is off: too slow).
TABLE_CLASSES = "caption-top table table-sm table-striped small"


@dataclass(frozen=True)
class Page:
    """A town as the site shows it: its parameters and, when its build worked, its outputs.

    ``town`` is None when the parameter file itself is invalid (then ``error`` says why).
    """

    id: str
    town: Town | None
    notebook: Path | None = None
    results: Path | None = None
    xlsx: Path | None = None
    error: str | None = None
    print_source: Path | None = None  # the printed report's Quarto source (pdf/<id>.qmd)


def xlsx_name(town_id: str) -> str:
    """File name of a town's Excel tables (the report notebook's contract)."""
    return f"{town_id}_集計表.xlsx"


# --- numbers (as published in results.json: percentages with one decimal) ---


def rate_with_ci(est: Mapping[str, Any] | None, min_cell: int) -> str:
    """「32.8%（29.1～36.7%）」, or "—" when the estimate is hidden or its base n < min_cell."""
    if not est or est.get("p") is None or (est.get("n") or 0) < min_cell:
        return SUPPRESSED
    ci = fmt_ci(est.get("lo"), est.get("hi")).replace("95%信頼区間 ", "")
    return fmt_percent(est["p"]) + ci


def count(n: int | None, min_cell: int) -> str:
    """A count as published: 0 or at least ``min_cell``, else "—"."""
    if n is None or 0 < n < min_cell:
        return SUPPRESSED
    return f"{n:,}"


# --- notebooks ---


def _clean_output(out: dict[str, Any]) -> dict[str, Any] | None:
    """An output as published, or None to drop it (stderr, errors, scripts).

    HTML outputs become Markdown outputs holding a raw HTML block: Quarto adds require.js and
    jQuery from a CDN to any page with ``text/html`` outputs, which would break offline viewing.
    Their tables without a class get ``TABLE_CLASSES``.
    """
    kind = out.get("output_type")
    if kind == "error" or (kind == "stream" and out.get("name") == "stderr"):
        return None
    data = out.get("data")
    if not data:
        return out
    if "text/html" in data:
        page = "".join(data["text/html"])
        page = re.sub(r"<table(?![^>]*\bclass=)", f'<table class="{TABLE_CLASSES}"', page)
    elif "application/javascript" in data:
        return None
    else:
        return out
    return {**out, "data": {"text/markdown": _lines(f"```{{=html}}\n{page}\n```\n")}}


def _lines(text: str) -> list[str]:
    """Notebook source or output text as a list of lines (Quarto joins them without newlines)."""
    return text.splitlines(keepends=True)


def scrolling(table: str, name: str) -> str:
    """A Markdown (pipe) table in a container that scrolls sideways on a narrow screen, named
    ``name`` for screen readers and reachable with the keyboard."""
    return (f'::: {{.table-scroll role="region" tabindex="0" aria-label="{escape.html(name)}"}}\n'
            f"{table}\n:::")


_HEADING = re.compile(r"(#{1,6} [^\n]+)\n*")


def _promote_headings(cells: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Headings that a code cell displays (``display(Markdown("## …"))``) become Markdown cells
    of their own, so that Quarto makes them sections (table of contents, search); the outputs
    after a heading go on in a new code cell without source (code is hidden)."""
    out: list[dict[str, Any]] = []
    for cell in cells:
        if cell.get("cell_type") != "code":
            out.append(cell)
            continue
        current = {**cell, "outputs": []}
        out.append(current)
        for output in cell.get("outputs", []):
            text = "".join((output.get("data") or {}).get("text/markdown", ""))
            m = _HEADING.match(text)
            if not m:
                current["outputs"].append(output)
                continue
            out.append({"cell_type": "markdown", "metadata": {}, "source": _lines(m[1] + "\n")})
            current = {"cell_type": "code", "metadata": {}, "execution_count": None,
                       "source": [], "outputs": []}
            out.append(current)
            rest = text[m.end():]
            if rest.strip():
                current["outputs"].append({**output, "data": {"text/markdown": _lines(rest)}})
    return out


def _front_matter(cell: dict[str, Any] | None) -> dict[str, Any]:
    if cell is None or cell.get("cell_type") != "raw":
        return {}
    text = "".join(cell.get("source", "")).strip()
    if not text.startswith("---"):
        return {}
    loaded = yaml.safe_load(text.strip("-\n"))
    return loaded if isinstance(loaded, dict) else {}


def prepare_notebook(
    src: Path, dest: Path, meta: Mapping[str, Any], intro: str | None = None
) -> None:
    """Copy an executed notebook as a site page.

    ``meta`` is merged into its front matter (a raw YAML cell, created first if missing), and
    replaces the notebook's own title cell (tagged ``title``); ``intro`` is a Markdown cell
    placed after it. Outputs are cleaned by ``_clean_output``.
    """
    nb = json.loads(src.read_text(encoding="utf-8"))
    cells = nb.get("cells", [])
    first = cells[0] if cells else None
    front = _front_matter(first)
    if front:
        cells = cells[1:]
    front.update(meta)
    if "title" in meta:  # the notebook's own H1 (a cell tagged "title") would repeat the title
        cells = [c for c in cells if "title" not in c.get("metadata", {}).get("tags", [])]
    for cell in cells:
        if cell.get("cell_type") == "code":
            cell["outputs"] = [o for o in map(_clean_output, cell.get("outputs", [])) if o]
    cells = _promote_headings(cells)
    head = [
        {
            "cell_type": "raw",
            "metadata": {},
            "source": _lines(
                "---\n" + yaml.safe_dump(front, allow_unicode=True, sort_keys=False) + "---\n"
            ),
        }
    ]
    if intro:
        head.append({"cell_type": "markdown", "metadata": {}, "source": _lines(intro)})
    nb["cells"] = head + cells
    nb.setdefault("metadata", {}).pop("widgets", None)
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_text(json.dumps(nb, ensure_ascii=False), encoding="utf-8")


def town_intro(page: Page) -> str:
    """The Markdown placed at the top of a town page: the way back to the list of towns (its
    prefecture's group on the home page), then the download links of its printed report (PDF)
    and its Excel tables, those that exist.

    (The report notebook itself says when its data are synthetic; the subtitle says it too.)
    """
    assert page.town is not None
    prefecture = page.town.prefecture
    back = ("```{=html}\n<nav class='town-breadcrumb' aria-label='パンくずリスト'>"
            "<a href='../index.html'>市町村一覧</a> › "
            f"<a href='../index.html#{prefecture_anchor(prefecture)}'>"
            f"{escape.html(prefecture)}の市町村</a></nav>\n```\n")
    links = []
    if page.print_source is not None:
        links.append(f"[印刷用の報告（PDF、A4）](../pdf/{quote(page.id)}.pdf)"
                     "{.btn .btn-primary .download}")
    if page.xlsx is not None:
        links.append(f"[集計表（Excel）](../downloads/{quote(xlsx_name(page.id))})"
                     "{.btn .btn-outline-primary .download}")
    return back + ("\n" + "\n".join(links) + "\n" if links else "")


# --- generated pages ---


def _read_results(path: Path | None) -> dict[str, Any]:
    if path is None:
        return {}
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return {}


#: The prefectures in the order of their codes (JIS X 0401), the order of the home page's groups.
PREFECTURES = (
    "北海道", "青森県", "岩手県", "宮城県", "秋田県", "山形県", "福島県", "茨城県", "栃木県",
    "群馬県", "埼玉県", "千葉県", "東京都", "神奈川県", "新潟県", "富山県", "石川県", "福井県",
    "山梨県", "長野県", "岐阜県", "静岡県", "愛知県", "三重県", "滋賀県", "京都府", "大阪府",
    "兵庫県", "奈良県", "和歌山県", "鳥取県", "島根県", "岡山県", "広島県", "山口県", "徳島県",
    "香川県", "愛媛県", "高知県", "福岡県", "佐賀県", "長崎県", "熊本県", "大分県", "宮崎県",
    "鹿児島県", "沖縄県",
)  # fmt: skip
#: The columns of the home page's tables of towns (all but the first and last hold numbers).
INDEX_COLUMNS = ("市町村", "回答者数", "回収率", "孤独感がある（重み付けなし、95%信頼区間）",
                 "孤独感がある（重み付け）", "しばしば・常にある（重み付けなし）", "集計表")


def prefecture_anchor(prefecture: str) -> str:
    """The id of a prefecture's group on the home page: ``pref-20`` (its code) for 長野県, an id
    made from the name itself for any other spelling. It depends on nothing else, so a town page
    links to its group whatever other towns the site has."""
    if prefecture in PREFECTURES:
        return f"pref-{PREFECTURES.index(prefecture) + 1:02d}"
    return "pref-" + hashlib.sha256(prefecture.encode("utf-8")).hexdigest()[:10]


def by_prefecture(pages: Iterable[Page]) -> dict[str, list[Page]]:
    """Published towns grouped by prefecture: the 47 in code order, then other spellings by
    name; the towns of a group in the order given."""
    groups: dict[str, list[Page]] = {}
    for p in pages:
        if p.error is None and p.town is not None:
            groups.setdefault(p.town.prefecture, []).append(p)
    rank = {name: i for i, name in enumerate(PREFECTURES)}
    return {k: groups[k] for k in sorted(groups, key=lambda k: (rank.get(k, len(rank)), k))}


def _town_row(p: Page, label: str) -> str:
    """A town's row of the home page: its name (linked), key figures and Excel download."""
    r = _read_results(p.results)
    t = p.town
    assert t is not None
    mc = int(r.get("min_cell") or t.report.min_cell)
    headline = r.get("headline") or {}
    weighted = (r.get("headline_weighted") or {}).get("lonely")
    rate = r.get("response_rate", percent(t.survey.response_rate))
    name = escape.html(label) + ("（合成データ）" if t.synthetic else "")
    xlsx = f"<a href='downloads/{quote(xlsx_name(t.id))}'>Excel</a>" if p.xlsx is not None else "—"
    weighted_text = (rate_with_ci(weighted, 0) if weighted and weighted.get("p") is not None
                     else "重み付けなし")
    return (
        f"<tr><th scope='row'><a href='towns/{t.id}.html'>{name}</a></th>"
        f"<td class='num'>{count(r.get('n'), mc)}</td><td class='num'>{fmt_percent(rate)}</td>"
        f"<td class='num'>{rate_with_ci(headline.get('lonely'), mc)}</td>"
        f"<td class='num'>{weighted_text}</td>"
        f"<td class='num'>{rate_with_ci(headline.get('often_always'), mc)}</td>"
        f"<td>{xlsx}</td></tr>"
    )


def index_page(pages: Iterable[Page], compare: bool = True) -> str:
    """The home page: the published towns by prefecture (a jump list to each prefecture when
    there are several, a filter by name), a link to the comparison page when there is one, and
    a list of the failed towns.

    Its size grows with the towns; no other page's does (the navigation bar lists no town).
    """
    pages = list(pages)
    failed = [p for p in pages if p.error is not None]
    groups = by_prefecture(pages)
    labels = _labels(p for group in groups.values() for p in group)
    numeric = INDEX_COLUMNS[1:-1]
    head = "".join(f"<th scope='col'{' class=num' if c in numeric else ''}>{c}</th>"
                   for c in INDEX_COLUMNS)
    n_towns = sum(map(len, groups.values()))
    text = [
        "---",
        "title: 孤独・孤立に関する実態調査　市町村別の報告",
        "---",
        "",
        "市町村が行った孤独・孤立に関する住民調査の結果を、市町村ごとのページと比較のページにまとめています。"
        "「孤独感がある」は、直接質問で「たまにある」「時々ある」「しばしばある・常にある」と答えた人の割合です"
        "（[調査と集計の方法](methods.html)）。",
        "",
        "::: {.synthetic-note}",
        "このサイトの例示の市町村の数値は**合成データ（架空の回答）**によるもので、実際の調査結果ではありません。",
        ":::",
        "",
        "## 市町村一覧",
        "",
        f"{n_towns:,}市町村の報告があります（{len(groups):,}都道府県）。市町村名から各市町村のページへ"
        "進みます。報告の本文は、上の検索欄でも探せます。",
        "",
        "```{=html}",
        "<div class='town-filter' hidden><label for='town-filter'>市町村名・都道府県名で絞り込む"
        "</label><input type='search' id='town-filter' class='form-control' autocomplete='off' "
        "aria-describedby='town-filter-status'>"
        "<p id='town-filter-status' role='status' aria-live='polite'></p></div>",
        "<script src='town-list.js' defer></script>",
    ]
    if len(groups) > 1:
        text += ["<nav class='prefecture-nav' aria-label='都道府県から探す'><ul>",
                 *(f"<li><a href='#{prefecture_anchor(pref)}'>{escape.html(pref)}</a>"
                   f"（{len(group):,}）</li>" for pref, group in groups.items()),
                 "</ul></nav>"]
    text.append("```")
    for k, (pref, group) in enumerate(groups.items(), start=1):
        text += [
            "",
            f"### {escape.meta(pref)} {{#{prefecture_anchor(pref)} .prefecture}}",
            "",
            "```{=html}",
            "<div class='table-scroll' role='region' tabindex='0' "
            f"aria-labelledby='tbl-towns-{k}'>",
            f"<table class='table table-sm town-list'><caption id='tbl-towns-{k}'>表{k}　"
            f"{escape.html(pref)}の市町村の主な数値</caption><thead><tr>{head}</tr></thead><tbody>",
            *(_town_row(p, labels[p.id]) for p in group),
            "</tbody></table></div>",
            "```",
        ]
    if compare:
        text += ["", "[市町村の比較](compare.html)を見る。"]
    if failed:
        text += ["", "## 今回作成できなかった市町村", "", "```{=html}", "<ul class='failed-towns'>"]
        for p in failed:
            reason = escape.html(" ".join(str(p.error).split()))
            name = f"{p.town.name.ja}（{p.town.prefecture}）" if p.town else p.id
            text.append(
                f"<li><span class='town-failed'>{escape.html(name)}：作成に失敗しました</span>"
                f"　理由：<code>{reason}</code></li>"
            )
        text += ["</ul>", "```"]
    return "\n".join(text) + "\n"


def _labels(pages: Iterable[Page]) -> dict[str, str]:
    """Town id → its name on the site, with the prefecture where two towns share a name."""
    return town_labels((p.town.id, p.town.name.ja, p.town.prefecture)
                       for p in pages if p.town is not None)


def _codes_text(var: Any) -> str:
    if var.codes == "town":
        return {"district": "市町村ごとの地区",
                "age_band": "市町村ごとの年齢区分（調査と集計の方法を参照）"}.get(var.name,
                                                                          "市町村ごと")
    if var.type in {VarType.NUMBER} and var.range:
        return f"{var.range[0]:g}～{var.range[1]:g}"
    return "　".join(f"{code} {label}" for code, label in var.labels().items())


TYPE_JA = {
    VarType.SINGLE: "単一回答",
    VarType.MULTI: "複数回答",
    VarType.ORDINAL: "単一回答（順序）",
    VarType.NUMBER: "数値",
    VarType.TEXT: "自由記述",
    VarType.ID: "番号",
    VarType.FLAG: "該当・非該当",
}
SECTION_JA = {
    "response": "回答",
    "attributes": "回答者の属性",
    "loneliness": "孤独感",
    "isolation": "孤立・つながり・支援",
    "wellbeing": "健康・生活満足度",
    "smalltown": "まちでの生活",
    "season": "季節と外出",
}


def codebook_page(book: Codebook, towns: Iterable[Town]) -> str:
    """The questionnaire page: every standard variable, its answers and which towns asked it."""
    towns = list(towns)
    out = [
        "---",
        "title: 調査票（コードブック）",
        "---",
        "",
        "この報告で使う標準の質問項目です。"
        "各市町村の質問はこの項目に対応付けて集計しています。"
        "「非公開」の項目（自由記述・回答者番号・正確な年齢）は報告に含めません。",
    ]
    for section, title in SECTION_JA.items():
        variables = book.section(section)
        if not variables:
            continue
        rows = ["| 変数 | 質問 | 回答の形式 | 選択肢 | 質問した市町村 |", "|---|---|---|---|---|"]
        for v in variables:
            if v.is_derived:
                asked = "（集計で作成）"
            else:
                asked = "、".join(t.name.ja for t in towns if v.name in t.variables()) or "—"
            kind = TYPE_JA[v.type] + ("・非公開" if v.restricted else "")
            cells = [v.question, kind, _codes_text(v), asked]
            rows.append(f"| `{v.name}` | " + " | ".join(map(escape.md, cells)) + " |")
        out += ["", f"## {title}", "", scrolling("\n".join(rows), f"{title}の質問項目")]
    return "\n".join(out + _own_questions(towns)) + "\n"


def _own_questions(towns: list[Town]) -> list[str]:
    """The section of the towns' own questions, with whom each follow-up was asked of."""
    rows = []
    for t in towns:
        book = t.codebook
        for v in book.section("own"):
            cells = [t.name.ja, v.question, TYPE_JA[v.type], _codes_text(v),
                     _asked_of(v, book)]
            rows.append(f"| `{v.name}` | " + " | ".join(map(escape.md, cells)) + " |")
    if not rows:
        return []
    table = "\n".join(["| 変数 | 市町村 | 質問 | 回答の形式 | 選択肢 | 回答の対象 |",
                       "|---|---|---|---|---|---|", *rows])
    return ["", "## 市町村独自の設問", "",
            "市町村が独自に尋ねた質問です。市町村のページの「独自の設問」の節で"
            "集計しています。", "",
            scrolling(table, "市町村独自の設問")]


def _asked_of(var: Any, book: Codebook) -> str:
    """「問…で「…」と答えた人」 for a follow-up question, 「全員」 otherwise."""
    if var.asked_if is None:
        return "全員"
    parent = book[var.asked_if.variable]
    answers = "」「".join(parent.labels()[c] for c in var.asked_if.codes)
    return f"「{parent.question}」で「{answers}」と答えた人"


#: How the standard errors of a town's weighted estimates were computed (results.json
#: ``weighting.variance``, set in ``helpers.analysis.context``).
VARIANCE_JA = {
    "linearization-calibrated": "線形化法（レイキングを考慮）",
    "linearization-fixed-weights": "線形化法（重みを固定：調整が収束せず）",
}
NO_RESULTS = "集計結果がありません（作成に失敗しました）"


def _weighting_table(towns: list[Town], results: Mapping[str, Mapping[str, Any]]) -> str:
    """Each town's weighting as computed: margins, respondents, effective n, variance method."""
    rows = [
        "| 市町村 | 重み付け | 合わせた人口構成 | 対象 | 有効標本数 | 重み付けの推計の標準誤差 |",
        "|---|---|---|---|---|---|",
    ]
    names = town_labels((t.id, t.name.ja, t.prefecture) for t in towns)
    for t in towns:
        w = results.get(t.id, {}).get("weighting")
        if not w:
            cells = [NO_RESULTS, "—", "—", "—", "—"]
        elif not w["applied"]:
            cells = [f"なし（{escape.md(w['reason'])}）", "—", "—", "—", "—"]
        else:  # the numbers weighted are hidden when they would give the few left out away
            n = SUPPRESSED if w["n"] is None else f"{w['n']:,}人"
            n_eff = SUPPRESSED if w["n_eff"] is None else f"{w['n_eff']:,.0f}"
            cells = ["あり", "・".join(w["margin_names"]), n, n_eff, VARIANCE_JA[w["variance"]]]
        rows.append(f"| {escape.md(names[t.id])} | " + " | ".join(cells) + " |")
    return "\n".join(rows)


def _variance_text(towns: list[Town], results: Mapping[str, Mapping[str, Any]]) -> str:
    """How weighted intervals, tests and models were computed, for the methods used."""
    used = {(results.get(t.id, {}).get("weighting") or {}).get("variance") for t in towns}
    if not used - {None}:
        return "重み付けの推計を示した市町村はありません。"
    text = (
        "**重み付けの推計の標準誤差**　重み付けの割合・検定・オッズ比の標準誤差は、テイラー"
        "線形化法で計算しています（有限母集団修正なし）。"
    )
    if "linearization-calibrated" in used:
        text += (
            "レイキングで人口構成に合わせた重みでは、人口構成に合わせたことで推計のばらつきが"
            "小さくなる分を、合わせた区分への回帰の残差によって考慮しています（R の survey "
            "パッケージで rake した設計と同じ計算で、同じ数値になることをテストで確認しています）。"
        )
    if "linearization-fixed-weights" in used:
        text += "重みの調整が収束しなかった市町村では、重みを固定したものとして計算しています。"
    return text + (
        "重み付けの割合の95%信頼区間はロジット変換した区間（t分布、自由度は回答者数−1）で、"
        "重み付けの割合が0%または100%の区分では有効標本数にもとづくWilson法の区間です。"
        "重み付けのクロス集計の検定はRao–Scottの補正（二次補正のF検定）によるもので、効果量の"
        "クラメールのVは補正後のカイ二乗統計量から計算しています。重み付けのオッズ比は、重みを"
        "付けたロジスティック回帰（準二項分布）によるもので、信頼区間と検定はt分布（自由度は"
        "モデルの対象の人数−係数の数）によります。重み付けの集計の対象は、上の表の「対象」の"
        "回答者（人口構成に合わせた区分がすべて分かり、その区分が人口構成にある人）です。"
    )


def _covariates(item: str, model: Mapping[str, Any]) -> str:
    """「性別（基準「男性」）・年代（基準「19歳以下」）」: a model's adjustment variables."""
    return "・".join(f"{escape.md(t['name'])}（基準「{escape.md(t['reference'])}」）"
                     for t in model["terms"] if t["variable"] != item) or "なし"


def _people(n: int | None, min_cell: int) -> str:
    """「615人」, or "—" when the count is hidden."""
    shown = count(n, min_cell)
    return shown if shown == SUPPRESSED else f"{shown}人"


def _models_table(towns: list[Town], results: Mapping[str, Mapping[str, Any]]) -> str:
    """Each town's adjusted models as computed: adjustment variables with their reference
    levels, and the respondents in each model (unweighted / weighted)."""
    rows = [
        "| 市町村 | 調整した変数（基準の区分） "
        "| 項目（基準の区分）：モデルの対象（重み付けなし／重み付け） |",
        "|---|---|---|",
    ]
    names = town_labels((t.id, t.name.ja, t.prefecture) for t in towns)
    for t in towns:
        r = results.get(t.id)
        items = ((r or {}).get("smalltown") or {}).get("items") or {}
        town = escape.md(names[t.id])
        if r is None:
            rows.append(f"| {town} | {NO_RESULTS} | — |")
            continue
        if not items:
            rows.append(f"| {town} | この分析の項目を尋ねていません | — |")
            continue
        mc = int(r["min_cell"])
        adjusted: list[str] = []
        targets = []
        for item, entry in items.items():
            models = entry.get("models") or {}
            for model in models.values():
                text = _covariates(item, model)
                if text not in adjusted:
                    adjusted.append(text)
            ref = next((tm["reference"] for m in models.values() for tm in m["terms"]
                        if tm["variable"] == item), None)
            shown = "／".join(_people(models[k]["n"], mc) for k in ("unweighted", "weighted")
                             if k in models)
            name = escape.md(entry["question"]) + (f"（「{escape.md(ref)}」）" if ref else "")
            targets.append(f"{name}：{shown or 'モデルを推定できませんでした'}")
        rows.append(f"| {town} | {'／'.join(adjusted) or '—'} | {'<br>'.join(targets)} |")
    return "\n".join(rows)


def _age_bands_text(towns: list[Town]) -> str:
    """Each town's age bands (its ``age_bands:``, or the national ones from its min_age)."""
    lines = ["市町村ごとに、その調査票の年齢区分で、調査票に区分がなければ国の"
             "調査と同じ10歳刻み（最年少の区分は調査対象の下限年齢から）で集計しています。", ""]
    lines += [f"- {escape.md(t.name.ja)}：{'、'.join(map(escape.md, t.bands.labels))}"
              for t in towns]
    return "\n".join(lines)


def methods_page(
    template: str,
    book: Codebook,
    towns: Iterable[Town],
    results: Mapping[str, Mapping[str, Any]],
) -> str:
    """Fill ``site/methods.qmd`` from the codebook, the town parameter files and what was
    computed for each town (``results``: town id → its results.json)."""
    towns = list(towns)
    names = town_labels((t.id, t.name.ja, t.prefecture) for t in towns)
    mins = {t.report.min_cell for t in towns}
    one_min_cell = mins.pop() if len(mins) == 1 else None
    direct = book["lonely_direct"]
    rule = book["lonely"].derive
    lonely_codes = rule.codes if rule and rule.codes else []
    labels = direct.labels()
    ucla = book["ucla_band"]
    synthetic = [escape.md(t.name.ja) for t in towns if t.synthetic]
    surveys = [
        "| 市町村 | 対象 | 方法 | 期間 | 配布数 | 回収数（回収率） |",
        "|---|---|---|---|---|---|",
    ]
    for t in towns:
        s = t.survey
        where, how = f"{t.name.ja}（{t.prefecture}）", f"{s.sampling}、{'・'.join(s.modes)}"
        surveys.append(
            f"| {escape.md(where)} | {escape.md(s.target)} | {escape.md(how)} | "
            f"{fmt_period(s.start, s.end)} | {s.distributed:,} | "
            f"{s.returned:,}（{fmt_pct(s.response_rate)}） |"
        )
    values = {
        "synthetic": (
            "このサイトの次の市町村の数値は、実際の調査の設計と公表値をもとに作った"
            f"**合成データ（架空の回答）**によるものです：{'、'.join(synthetic)}。"
            "実在の回答者の回答ではありません。実際の調査データに置き換えると、同じ手順で報告が作られます。"
            if synthetic
            else "このサイトの数値はすべて実際の調査データによるものです。"
        ),
        "surveys": scrolling("\n".join(surveys), "市町村ごとの調査の概要"),
        "lonely_question": escape.md(direct.question),
        "lonely_labels": "、".join(f"「{escape.md(labels[c])}」" for c in lonely_codes),
        "often_label": escape.md(labels[max(labels)]),
        "ucla_items": "\n".join(f"- {escape.md(book[f'ucla_{i}'].question)}" for i in (1, 2, 3)),
        "ucla_bands": "区分：" + "、".join(map(escape.md, ucla.labels().values())) + "。",
        "age_bands": _age_bands_text(towns),
        "weighting": scrolling(_weighting_table(towns, results), "市町村ごとの重み付け"),
        "variance": _variance_text(towns, results),
        "models": scrolling(_models_table(towns, results), "市町村ごとの調整したモデル"),
        "min_cells": "、".join(f"{escape.md(names[t.id])} {t.report.min_cell}人" for t in towns),
        "rule": "\n".join(f"- {line}" for line in rule_text(one_min_cell)),
    }
    return Template(template).substitute(values)


# --- the project ---


def site_url() -> str:
    """Where the site is published: ``$TSUNAGARI_SITE_URL``, else ``website: site-url`` of
    ``_quarto.yml`` (ending in /), or "" when neither is set."""
    config = yaml.safe_load(QUARTO_YML.read_text(encoding="utf-8"))
    url = os.environ.get("TSUNAGARI_SITE_URL") or config["website"].get("site-url") or ""
    return url if not url or url.endswith("/") else url + "/"


def site_config(render: list[str], stage: Path, out_dir: Path) -> str:
    """``_quarto.yml`` for the staged project: output dir, render list, site address, and a
    navigation bar without the pages not staged (no comparison when it failed)."""
    config = yaml.safe_load(QUARTO_YML.read_text(encoding="utf-8"))
    config["project"]["output-dir"] = os.path.relpath(out_dir, stage)
    config["website"]["site-url"] = site_url()
    config["project"]["render"] = render
    config["website"]["navbar"]["left"] = [
        {**i, "href": html_name(i["href"])} if "href" in i else i
        for i in config["website"]["navbar"]["left"] if i.get("href", render[0]) in render
    ]
    return yaml.safe_dump(config, allow_unicode=True, sort_keys=False)


def html_name(page: str) -> str:
    """The address of a page of the site: ``towns/x.ipynb`` → ``towns/x.html``.

    Pages link to each other by these addresses (never by their sources), so that a page reads
    the same whichever other pages are rendered with it (``helpers.build.render``).
    """
    return str(Path(page).with_suffix(".html").as_posix())


#: The comparison page's source in the staged project.
COMPARE_PAGE = "compare.ipynb"


def stage_compare(compare: Path, stage: Path) -> None:
    """Stage the executed comparison notebook as the site's comparison page."""
    meta = {"title": "市町村の比較"}  # the notebook labels synthetic data
    prepare_notebook(compare, stage / COMPARE_PAGE, meta)


def stage_site(
    pages: list[Page], compare: Path | None, stage: Path, out_dir: Path,
    compare_later: bool = False,
) -> Path:
    """Write the complete Quarto project for this build into ``stage`` (emptied first).

    With ``compare_later`` the comparison page is listed but not staged: ``stage_compare``
    stages it once the comparison notebook has run (the other pages render meanwhile)."""
    shutil.rmtree(stage, ignore_errors=True)
    stage.mkdir(parents=True)
    book = load_codebook()
    towns = [p.town for p in pages if p.town is not None]
    for src in SITE_SRC.rglob("*"):
        if src.is_file() and src.name != "methods.qmd":
            dest = stage / src.relative_to(SITE_SRC)
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest)
    template = (SITE_SRC / "methods.qmd").read_text(encoding="utf-8")
    results = {p.id: _read_results(p.results) for p in pages if p.results is not None}
    (stage / "methods.qmd").write_text(
        methods_page(template, book, towns, {k: v for k, v in results.items() if v}),
        encoding="utf-8",
    )
    (stage / "codebook.qmd").write_text(codebook_page(book, towns), encoding="utf-8")
    (stage / "index.qmd").write_text(index_page(pages, compare is not None), encoding="utf-8")
    (stage / "downloads").mkdir()
    render = ["index.qmd"]
    for p in pages:
        if p.error is not None or p.notebook is None or p.town is None:
            continue
        meta = {"title": escape.meta(page_title(p.town)),
                "subtitle": escape.meta(page_subtitle(p.town))}
        prepare_notebook(p.notebook, stage / "towns" / f"{p.town.id}.ipynb", meta, town_intro(p))
        if p.xlsx is not None:
            shutil.copy2(p.xlsx, stage / "downloads" / xlsx_name(p.town.id))
        render.append(f"towns/{p.town.id}.ipynb")
        if p.print_source is not None:
            shutil.copytree(p.print_source.parent, stage / "pdf", dirs_exist_ok=True)
            render.append(f"pdf/{p.print_source.name}")
    if compare is not None:
        if not compare_later:
            stage_compare(compare, stage)
        render.append(COMPARE_PAGE)
    render += ["methods.qmd", "codebook.qmd"]
    (stage / "_quarto.yml").write_text(site_config(render, stage, out_dir), encoding="utf-8")
    return stage
