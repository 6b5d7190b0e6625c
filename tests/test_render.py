"""Rendering the site in shards and only the pages that changed: the assembled site is the site
one ``quarto render`` of the whole staged project makes (pages, search entries, links)."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
import yaml

from helpers import paths
from helpers.build import quarto
from helpers.build.pipeline import Layout, Options, build
from helpers.build.render import (
    SITEMAP_HEAD,
    merge_search,
    merge_sitemap,
    page_sources,
    plan,
    split,
)

FIND_QUARTO = quarto.find_quarto
URL = "https://example.org/tsunagari/"


def _entry(href: str, text: str = "") -> dict:
    return {"objectID": href, "href": href, "title": href, "section": "", "text": text}


def test_search_index_keeps_pages_not_rendered_and_drops_lost_sections() -> None:
    pages = ["index.qmd", "towns/a.ipynb", "towns/b.ipynb"]
    earlier = [_entry("towns/b.html"), _entry("towns/a.html"), _entry("towns/a.html#gone"),
               _entry("index.html", "old"), _entry("towns/removed.html")]
    new = [[_entry("towns/a.html", "new")], [_entry("index.html", "new")]]
    merged = merge_search(earlier, new, pages, ["towns/a.ipynb", "index.qmd"])
    assert [e["href"] for e in merged] == ["index.html", "towns/a.html", "towns/b.html"]
    assert [e["text"] for e in merged[:2]] == ["new", "new"]


def test_sitemap_keeps_earlier_dates_of_pages_not_rendered() -> None:
    def url(page: str, date: str) -> str:
        return f"<url>\n    <loc>{URL}{page}</loc>\n    <lastmod>{date}</lastmod>\n  </url>"

    earlier = SITEMAP_HEAD + f"  {url('index.html', 'old')}\n  {url('towns/a.html', 'old')}\n"
    earlier += "</urlset>\n"
    shard = SITEMAP_HEAD + f"  {url('towns/a.html', 'new')}\n</urlset>\n"
    merged = merge_sitemap(earlier, [shard], ["index.qmd", "towns/a.ipynb"], ["towns/a.ipynb"],
                           URL)
    assert merged == (SITEMAP_HEAD + f"  {url('index.html', 'old')}\n"
                      f"  {url('towns/a.html', 'new')}\n</urlset>\n")


def _stage(tmp_path: Path, sizes: dict[str, int]) -> Path:
    stage = tmp_path / "stage"
    for page, size in sizes.items():
        (stage / page).parent.mkdir(parents=True, exist_ok=True)
        (stage / page).write_bytes(b"x" * size)
    config = {"project": {"type": "website", "render": list(sizes)}}
    (stage / "_quarto.yml").write_text(yaml.safe_dump(config), encoding="utf-8")
    (stage / "styles.css").write_text("a {}", encoding="utf-8")
    return stage


def test_shards_share_the_cost_and_keep_render_order(tmp_path: Path) -> None:
    sizes = {"index.qmd": 10, "towns/a.ipynb": 900_000, "towns/b.ipynb": 500_000,
             "towns/c.ipynb": 450_000, "pdf/a.qmd": 1_000}
    stage = _stage(tmp_path, sizes)
    (stage / "pdf" / "a_figures").mkdir()
    (stage / "pdf" / "a_figures" / "f.svg").write_bytes(b"y" * 600_000)
    assert page_sources(stage, "pdf/a.qmd")[1].name == "f.svg"
    # costs (PAGE_COST + bytes): a 1.1 M, pdf/a 0.801 M, b 0.7 M, c 0.65 M, index 0.2 M; each
    # onto the lighter shard: a | pdf, b | c → 1.75 M | 1.501 M, index → 1.75 M | 1.701 M
    shards = split(stage, list(sizes), 2)
    assert shards == [["towns/a.ipynb", "towns/c.ipynb"],
                      ["index.qmd", "towns/b.ipynb", "pdf/a.qmd"]]
    assert split(stage, ["index.qmd"], 4) == [["index.qmd"]]
    # at most two pages a shard: a third shard; each page onto the lightest shard with room
    # (a | pdf | b, then c → b's (0.7 M < 0.801 M), index → pdf's: b's shard is full)
    assert split(stage, list(sizes), 2, most=2) == [
        ["towns/a.ipynb"], ["index.qmd", "pdf/a.qmd"], ["towns/b.ipynb", "towns/c.ipynb"]]


def test_a_second_quarto_process_only_for_enough_pages() -> None:
    from helpers.build.render import MIN_SHARD_PAGES, shard_count

    pages = [f"towns/t{i}.ipynb" for i in range(3 * MIN_SHARD_PAGES)]
    assert shard_count(pages[:4], 2) == 1  # one town changed: its page, PDF, home, methods
    assert shard_count(pages[:2 * MIN_SHARD_PAGES - 1], 2) == 1
    assert shard_count(pages[:2 * MIN_SHARD_PAGES], 2) == 2
    assert shard_count(pages, 2) == 2 and shard_count(pages, 8) == 3
    assert shard_count([], 2) == 1


def test_plan_renders_changed_pages_and_everything_when_a_shared_file_changed(
    tmp_path: Path,
) -> None:
    stage = _stage(tmp_path, {"index.qmd": 1, "towns/a.ipynb": 2, "towns/b.ipynb": 3})
    site, state = tmp_path / "site", tmp_path / "render.json"
    first = plan(stage, site, state, None)
    assert first.cold and first.render == first.pages
    site.mkdir()
    (site / "index.html").write_text("")
    first.save(state, stage)
    assert plan(stage, site, state, None).render == []
    (stage / "towns" / "b.ipynb").write_bytes(b"changed")
    again = plan(stage, site, state, None)
    assert not again.cold and again.render == ["towns/b.ipynb"]
    # a page staged after planning (the comparison, once its notebook has run): rendered, its
    # key taken when the plan is saved
    (stage / "towns" / "a.ipynb").unlink()
    later = plan(stage, site, state, None, later=["towns/a.ipynb"])
    assert not later.cold and later.render == ["towns/a.ipynb", "towns/b.ipynb"]
    (stage / "towns" / "a.ipynb").write_bytes(b"new")
    later.save(state, stage)
    assert plan(stage, site, state, None).render == []
    (stage / "styles.css").write_text("a { color: red }", encoding="utf-8")
    assert plan(stage, site, state, None).cold


def _set_pages(stage: Path, pages: list[str], **website: object) -> None:
    config = yaml.safe_load((stage / "_quarto.yml").read_text(encoding="utf-8"))
    config["project"]["render"] = pages
    config["website"] = website
    (stage / "_quarto.yml").write_text(yaml.safe_dump(config), encoding="utf-8")


def test_plan_adds_and_removes_pages_without_rendering_the_others(tmp_path: Path) -> None:
    """The list of pages is not shared (no page shows it): a page added is rendered alone, a
    page removed is rendered nowhere and its outputs go; the configuration without the list is
    shared."""
    stage = _stage(tmp_path, {"index.qmd": 1, "towns/a.ipynb": 2, "towns/b.ipynb": 3})
    site, state = tmp_path / "site", tmp_path / "render.json"
    site.mkdir()
    (site / "index.html").write_text("")
    _set_pages(stage, ["index.qmd", "towns/a.ipynb", "towns/b.ipynb"], title="つながり")
    plan(stage, site, state, None).save(state, stage)
    (stage / "towns" / "c.ipynb").write_bytes(b"new town")
    _set_pages(stage, ["index.qmd", "towns/a.ipynb", "towns/b.ipynb", "towns/c.ipynb"],
               title="つながり")
    added = plan(stage, site, state, None)
    assert not added.cold and added.render == ["towns/c.ipynb"] and added.removed == []
    added.save(state, stage)
    (stage / "towns" / "b.ipynb").unlink()
    _set_pages(stage, ["index.qmd", "towns/a.ipynb", "towns/c.ipynb"], title="つながり")
    removed = plan(stage, site, state, None)
    assert not removed.cold and removed.render == [] and removed.removed == ["towns/b.ipynb"]
    assert removed.pages == ["index.qmd", "towns/a.ipynb", "towns/c.ipynb"]
    removed.save(state, stage)
    _set_pages(stage, ["index.qmd", "towns/a.ipynb", "towns/c.ipynb"], title="つながり２")
    assert plan(stage, site, state, None).cold  # the rest of the configuration is on every page


# --- the real render ---


def _normalised(path: Path) -> bytes:
    """A file's bytes; a PDF without its creation and modification dates."""
    data = path.read_bytes()
    if path.suffix == ".pdf":
        data = re.sub(rb"D:\d{14}Z|\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", b"DATE", data)
    return data


def _site(site: Path) -> dict[str, bytes]:
    return {f.relative_to(site).as_posix(): _normalised(f) for f in sorted(site.rglob("*"))
            if f.is_file() and f.name not in ("search.json", "sitemap.xml")}


def _search(site: Path) -> list[str]:
    entries = json.loads((site / "search.json").read_text(encoding="utf-8"))
    return sorted(json.dumps(e, ensure_ascii=False, sort_keys=True) for e in entries)


def _sitemap(site: Path) -> list[str]:
    return sorted(re.findall(r"<loc>([^<]*)</loc>", (site / "sitemap.xml").read_text("utf-8")))


def _broken_links(site: Path) -> list[str]:
    """Links between the site's own files that lead nowhere."""
    broken = []
    for page in site.rglob("*.html"):
        for href in re.findall(r'href="([^"#?]+)', page.read_text(encoding="utf-8")):
            if not re.match(r"^(\w+:|/)", href) and not (page.parent / href).resolve().exists():
                broken.append(f"{page.relative_to(site)} → {href}")
    return broken


def _single_render(stage: Path, out: Path) -> Path:
    """One ``quarto render`` of the whole staged project into ``out`` (the reference)."""
    project = out.with_name(out.name + "-project")
    shutil.copytree(stage, project, ignore=shutil.ignore_patterns(".quarto"))
    config = yaml.safe_load((project / "_quarto.yml").read_text(encoding="utf-8"))
    config["project"]["output-dir"] = str(out)
    (project / "_quarto.yml").write_text(yaml.safe_dump(config, allow_unicode=True), "utf-8")
    quarto.render(FIND_QUARTO(), project, out.with_suffix(".log"))
    return out


def _same_site(site: Path, reference: Path) -> None:
    assembled, single = _site(site), _site(reference)
    assert sorted(assembled) == sorted(single)
    assert [f for f in single if assembled[f] != single[f]] == []
    assert _search(site) == _search(reference)
    assert _sitemap(site) == _sitemap(reference)
    assert _broken_links(site) == []


@pytest.mark.slow
@pytest.mark.skipif(FIND_QUARTO() is None, reason="Quarto not found (PATH, $QUARTO)")
def test_sharded_then_incremental_render_equals_one_render(
    build_layout, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    layout: Layout = build_layout(("iiyama", "suzaka", "tsukumi"))
    monkeypatch.setattr(quarto, "find_quarto", FIND_QUARTO)
    monkeypatch.setenv("TSUNAGARI_SITE_URL", URL)
    cold = build(Options(workers=2), layout)
    assert cold.exit_code == 0, (cold.failed, cold.messages)
    assert cold.site.startswith("rendered every page in 2 shards")
    _same_site(layout.site, _single_render(layout.build / "site", tmp_path / "single-cold"))

    before = {f: (f.stat().st_ino, f.read_bytes()) for f in layout.site.rglob("*") if f.is_file()}
    town = layout.towns_config / "suzaka.yml"
    text = town.read_text(encoding="utf-8")
    town.write_text(text.replace("title: 須坂市 孤独・孤立に関する実態調査（合成データ）",
                                 "title: 須坂市 孤独・孤立に関する調査（合成データ）")
                    .replace("returned: 799", "returned: 801"), encoding="utf-8")
    one = build(Options(workers=2), layout)
    assert one.exit_code == 0 and list(one.towns) == ["suzaka"], (one.failed, one.messages)
    after = {f: (f.stat().st_ino, f.read_bytes()) for f in layout.site.rglob("*") if f.is_file()}
    assert sorted(after) == sorted(before)
    changed = sorted(f.relative_to(layout.site).as_posix() for f in after
                     if after[f][1] != before[f][1])
    # the town's page (its subtitle), its workbook (written again), the methods page (returns),
    # the search index, the sitemap (the two pages' dates)
    assert changed == ["downloads/suzaka_集計表.xlsx", "methods.html", "search.json",
                       "sitemap.xml", "towns/suzaka.html"]
    assert one.site.startswith("rendered 2 of 7 pages in 1 shard "), one.site  # too few for 2
    page_files = [f for f in after if f.suffix == ".html" and f.relative_to(layout.site)
                  .as_posix() not in changed]
    assert page_files and all(after[f][0] == before[f][0] for f in page_files)  # not rewritten
    search = (layout.site / "search.json").read_text(encoding="utf-8")
    assert "801（" in search and "799（" not in search  # the methods page's new entry
    _same_site(layout.site, _single_render(layout.build / "site", tmp_path / "single-one"))

    nothing = build(Options(workers=2), layout)
    assert nothing.site == "up to date" and nothing.towns == {}

    # a town added: its page, and the pages that show every town, nothing else
    shutil.copy(paths.TOWNS / "tsuruoka.yml", layout.towns_config / "tsuruoka.yml")
    (layout.raw / "tsuruoka").mkdir()
    (layout.raw / "tsuruoka" / "export.csv").write_text("id,sex\ntsuruoka-1,1\n", "utf-8")
    before = _files(layout.site)
    added = build(Options(workers=2), layout)
    assert added.exit_code == 0 and list(added.towns) == ["tsuruoka"], added.messages
    assert added.site.startswith("rendered 5 of 8 pages"), added.site
    after = _files(layout.site)
    assert sorted(set(after) - set(before)) == ["downloads/tsuruoka_集計表.xlsx",
                                                "towns/tsuruoka.html"]
    assert _changed(before, after) == ["codebook.html", "compare.html", "index.html",
                                       "methods.html", "search.json", "sitemap.xml"]
    assert _same_inodes(before, after, ["towns/iiyama.html", "towns/suzaka.html",
                                        "towns/tsukumi.html"])
    _same_site(layout.site, _single_render(layout.build / "site", tmp_path / "single-added"))

    # a town removed: its page and its entries go, the pages that show every town change
    (layout.towns_config / "suzaka.yml").unlink()
    before = after
    removed = build(Options(workers=2), layout)
    assert removed.exit_code == 0, removed.messages
    assert removed.site.startswith("rendered 4 of 7 pages"), removed.site
    after = _files(layout.site)
    assert sorted(set(before) - set(after)) == ["downloads/suzaka_集計表.xlsx",
                                                "towns/suzaka.html"]
    assert set(after) <= set(before) and "suzaka" not in json.dumps(_search(layout.site))
    assert _same_inodes(before, after, ["towns/iiyama.html", "towns/tsukumi.html",
                                        "towns/tsuruoka.html"])
    _same_site(layout.site, _single_render(layout.build / "site", tmp_path / "single-removed"))


def _files(site: Path) -> dict[str, tuple[int, bytes]]:
    return {f.relative_to(site).as_posix(): (f.stat().st_ino, f.read_bytes())
            for f in site.rglob("*") if f.is_file()}


def _changed(before: dict[str, tuple[int, bytes]], after: dict[str, tuple[int, bytes]]) -> list:
    return sorted(f for f in set(before) & set(after) if before[f][1] != after[f][1])


def _same_inodes(before: dict, after: dict, files: list[str]) -> bool:
    """The files were not written again: the earlier site's files, hard-linked."""
    return all(before[f][0] == after[f][0] and before[f][1] == after[f][1] for f in files)


# --- the audit of an incremental build ---


def test_audit_reads_again_only_files_changed_or_checked_with_other_secrets(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from helpers.build import audit as audit_module
    from helpers.build.audit import Passed, Secrets, audit

    site = tmp_path / "site"
    (site / "towns").mkdir(parents=True)
    for town in ("a", "b"):
        (site / "towns" / f"{town}.html").write_text(f"<p>{town}: 回答者 643人</p>", "utf-8")
    read = []
    real = audit_module.audit_html
    monkeypatch.setattr(audit_module, "audit_html",
                        lambda f, *args: read.append(f.stem) or real(f, *args))
    secrets = Secrets.from_values([], ["IY-0417"])
    passed = Passed(tmp_path / "passed.json")
    assert audit([site], secrets, 10, passed=passed) == [] and read == ["a", "b"]
    passed.save()
    (site / "towns" / "b.html").write_text("<p>IY-0417 さん</p>", encoding="utf-8")

    def again(secrets: Secrets) -> list:
        read.clear()
        passed = Passed(tmp_path / "passed.json")
        found = audit([site], secrets, 10, passed=passed)
        passed.save()
        return found

    assert [b.kind for b in again(secrets)] == ["respondent ID"] and read == ["b"]
    assert [b.kind for b in again(secrets)] == ["respondent ID"] and read == ["b"]  # not passed
    assert again(Secrets.from_values([], ["IY-0418"])) == [] and read == ["a", "b"]
    assert again(Secrets.from_values([], ["IY-0418"])) == [] and read == []


def test_render_code_is_not_report_code() -> None:
    """A change of the render code renders the site again, not every town's report."""
    from helpers.build.pipeline import report_code

    names = {p.relative_to(Layout().code).as_posix() for p in report_code(Layout())}
    assert "build/render.py" not in names and "analysis/document.py" in names


@pytest.mark.slow
@pytest.mark.skipif(FIND_QUARTO() is None, reason="Quarto not found (PATH, $QUARTO)")
def test_a_failed_comparison_is_left_out_of_a_site_rendered_while_it_ran(
    build_layout, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The other pages render while the comparison runs, with its page in the menu; when it
    fails, the site is rendered again without it (the menu of every page changes): the site
    one render without a comparison makes."""
    layout: Layout = build_layout(("iiyama", "suzaka"))
    nb = json.loads(layout.compare.read_text(encoding="utf-8"))
    nb["cells"].append({"cell_type": "code", "metadata": {}, "outputs": [],
                        "execution_count": None, "source": "raise ValueError('比較できません')"})
    failing = tmp_path / "compare.ipynb"
    failing.write_text(json.dumps(nb), encoding="utf-8")
    layout = Layout(**{**layout.__dict__, "compare": failing})
    monkeypatch.setattr(quarto, "find_quarto", FIND_QUARTO)
    monkeypatch.setenv("TSUNAGARI_SITE_URL", URL)
    summary = build(Options(workers=2), layout)
    assert summary.compare == "failed" and summary.exit_code == 1
    assert "比較できません" in " ".join(summary.messages)
    assert summary.site.startswith("rendered every page in 1 shard "), summary.site
    assert not (layout.site / "compare.html").exists()
    pages = sorted(layout.site.rglob("*.html"))
    assert pages and not [p for p in pages if "compare.html" in p.read_text("utf-8")]
    stage = yaml.safe_load((layout.build / "site" / "_quarto.yml").read_text(encoding="utf-8"))
    assert "compare.ipynb" not in stage["project"]["render"]
    single = _single_render(layout.build / "site", tmp_path / "single")
    assert _site(layout.site) == _site(single) and _search(layout.site) == _search(single)
    assert _sitemap(layout.site) == _sitemap(single)
