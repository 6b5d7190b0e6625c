"""The built website in a real browser (Playwright driving Debian's Chromium), offline.

The sample towns' site is built from the test run's own cleaned data (the ``built_site``
fixture: ``tsunagari build`` into the run's folder) and every page is opened on a phone
(390×844) and a desktop (1280×800). Every request outside the local server is blocked, so a
chart or script that needs the internet shows up as a console error. On every page at both
sizes: no console error, axe-core (npm, ``node_modules/axe-core``) finds no serious or critical
violation, the first view weighs at most 2 MB (printed), nothing but a table's own container
scrolls sideways, no text is set narrower than two characters per line, chart text is at least
11 px, and every chart states its finding (alt text) and links its data (CSV). Screenshots of
the index and Iiyama at both sizes go to reports/screenshots/ for review.

A hostile town file (script, img onerror, Markdown specials, a formula, a shortcode, and a raw
file that climbs out of its folder) is built end to end in a throwaway project — clean, report,
site — and its pages must show the literal text, with no dialog and no injected element.
"""

from __future__ import annotations

import functools
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from helpers import paths
from helpers.build import quarto
from helpers.build.pipeline import Layout, Options, build
from helpers.build.site import prefecture_anchor
from helpers.towns import list_towns, load_town

CHROMIUM = Path("/usr/bin/chromium")
AXE = paths.ROOT / "node_modules" / "axe-core" / "axe.min.js"
SHOTS = paths.REPORTS / "screenshots"
WEIGHTS = paths.REPORTS / "page-weights"
ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
SIZES = {"phone": (390, 844), "desktop": (1280, 800)}
PAGES = ["index", "compare", "methods", "codebook", *(f"towns/{t}" for t in list_towns())]
SCREENSHOTS = {"index", "towns/iiyama"}
#: The first view of a page may load at most this many bytes (uncompressed).
BUDGET = 2_000_000
#: Chart text on screen is at least this many CSS pixels.
MIN_CHART_TEXT = 11


def _missing() -> str | None:
    if quarto.find_quarto() is None:
        return "Quarto not found (PATH, $QUARTO): the site cannot be rendered"
    if not CHROMIUM.exists():
        return f"Chromium not installed at {CHROMIUM} (apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed"
    if not AXE.exists():
        return f"axe-core not installed at {AXE} (npm install)"
    return None


pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(_missing() is not None, reason=_missing() or ""),
]


def _serve(site: Path) -> Iterator[str]:
    """Serve ``site`` on a local port while the generator is open; yield its URL."""

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

    handler = functools.partial(Quiet, directory=str(site))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def base_url(built_site: Path) -> Iterator[str]:
    yield from _serve(built_site)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield b
        b.close()


@contextmanager
def _open(browser: object, base_url: str, size: tuple[int, int] = (1280, 900)) -> Iterator[object]:
    """A page that may load only from the local server; its console errors and any dialog
    (alert, confirm) are collected, the dialogs dismissed."""
    context = browser.new_context(viewport={"width": size[0], "height": size[1]}, locale="ja-JP")
    page = context.new_page()
    page.errors = []
    page.dialogs = []
    page.on("console", lambda m: m.type == "error" and page.errors.append(m.text))
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    page.on("dialog", lambda d: (page.dialogs.append(d.message), d.dismiss()))
    page.route(
        "**/*", lambda r: r.continue_() if r.request.url.startswith(base_url) else r.abort()
    )
    try:
        yield page
    finally:
        context.close()


@pytest.fixture
def page(browser: object, base_url: str) -> Iterator[object]:
    with _open(browser, base_url) as page:
        yield page


def _shot(page: object, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


#: What a reader's screen shows, measured in the page: bytes of the first view, elements wider
#: than the screen outside a table's container, text narrower than two characters per line,
#: charts without alt text or data link, and the smallest chart text on screen (px).
MEASURE = r"""() => {
  const entries = [...performance.getEntriesByType("navigation"),
                   ...performance.getEntriesByType("resource")];
  const bytes = entries.reduce((sum, e) => sum + (e.decodedBodySize || 0), 0);
  const width = document.documentElement.clientWidth;
  const visible = el => { const r = el.getBoundingClientRect();
    return r.width > 0 && r.height > 0 && getComputedStyle(el).visibility !== "hidden"; };
  const outside = [...document.querySelectorAll("main *, header *, footer *")]
    .filter(el => visible(el) && !el.closest(".table-scroll, details:not([open])")
                  && el.getBoundingClientRect().right > width + 1)
    .map(el => el.tagName + "." + el.className).slice(0, 5);
  const narrow = [...document.querySelectorAll("main p, main li, main td, main th, main caption,"
                                               + " main figcaption, main h1, main h2")]
    .filter(el => visible(el) && el.textContent.trim().length > 1
                  && el.clientWidth < 2 * parseFloat(getComputedStyle(el).fontSize))
    .map(el => el.textContent.trim().slice(0, 20)).slice(0, 5);
  const figures = [...document.querySelectorAll("figure.chart")];
  const bare = figures.filter(f => !(f.querySelector("img") || {}).alt
                                   || !f.querySelector("a.chart-data[href^='data:text/csv']"))
    .map(f => f.id);
  let smallest = Infinity;
  for (const f of figures) {
    const img = f.querySelector("img");
    if (!visible(img)) continue;
    const svg = atob(img.currentSrc.split(",")[1]);
    const box = svg.match(/viewBox="0 0 ([\d.]+) /);
    const sizes = [...svg.matchAll(/font-size: ([\d.]+)px/g)].map(m => parseFloat(m[1]));
    if (box && sizes.length) smallest = Math.min(smallest,
        Math.min(...sizes) * img.getBoundingClientRect().width / parseFloat(box[1]));
  }
  return {bytes, scroll: document.scrollingElement.scrollWidth - width, outside, narrow,
          figures: figures.length, bare, smallest};
}"""


def _axe(page: object) -> list[str]:
    """Serious and critical accessibility violations that axe-core finds in the page."""
    page.add_script_tag(path=str(AXE))
    found = page.evaluate("""async () => {
      const r = await axe.run(document, {resultTypes: ["violations"]});
      return r.violations.filter(v => v.impact === "serious" || v.impact === "critical")
        .map(v => v.id + " (" + v.impact + "): " + v.nodes.slice(0, 3).map(n => n.target)
             .join(" | "));
    }""")
    return list(found)


@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize("name", PAGES)
def test_every_page_on_every_screen(browser, base_url: str, name: str, size: str) -> None:
    with _open(browser, base_url, SIZES[size]) as page:
        page.goto(base_url + f"{name}.html", wait_until="networkidle")
        measured = page.evaluate(MEASURE)
        smallest = f"{measured['smallest']:.1f} px" if measured["figures"] else "—"
        WEIGHTS.mkdir(parents=True, exist_ok=True)  # printed at the end of the run (conftest)
        (WEIGHTS / f"{name.replace('/', '-')}-{size}.txt").write_text(
            f"{name:18s} {size:8s} {measured['bytes'] / 1e6:5.2f} MB  {measured['figures']:2d} "
            f"charts, smallest chart text {smallest}\n", encoding="utf-8")
        if name in SCREENSHOTS:
            _shot(page, f"{name.replace('/', '-')}-{size}")
        assert page.errors == []
        assert measured["bytes"] <= BUDGET
        assert measured["scroll"] <= 0 and measured["outside"] == [], measured
        assert measured["narrow"] == [], measured["narrow"]
        assert measured["bare"] == []
        if measured["figures"]:
            assert measured["smallest"] >= MIN_CHART_TEXT
        assert _axe(page) == []


def test_index_lists_every_town(page: object, base_url: str, built_site: Path) -> None:
    page.goto(base_url + "index.html", wait_until="networkidle")
    assert page.evaluate("document.documentElement.lang") == "ja"
    text = page.inner_text("main")
    assert "市町村一覧" in text
    for t in list_towns():
        assert load_town(t).name.ja in text
    published = sorted(p.stem for p in (built_site / "towns").glob("*.html"))
    links = page.eval_on_selector_all("table.town-list a", "els => els.map(e => e.href)")
    pages = sorted(m[1] for h in links if (m := re.search(r"/towns/(\w+)\.html$", h)))
    assert pages == published == sorted(list_towns())
    for xlsx in (h for h in links if h.endswith(".xlsx")):
        response = page.request.get(xlsx)
        assert response.ok and response.body()[:2] == b"PK"  # the Excel download is served
    assert page.errors == []


@pytest.mark.parametrize("town", list_towns())
def test_town_page_opens_with_its_main_points_and_offers_its_pdf(page: object, base_url: str,
                                                                  town: str) -> None:
    page.goto(base_url + f"towns/{town}.html", wait_until="networkidle")
    assert load_town(town).name.ja in page.inner_text("h1")
    headings = page.locator("main h2").all_inner_texts()
    assert headings[:2] == ["主な結果", "この報告について"]
    assert all(h.split(".")[0] == str(i) for i, h in enumerate(headings[2:-1], start=1))
    toc = page.locator("#TOC a").all_inner_texts()
    assert "主な結果" in toc  # headings are sections (table of contents, search)
    assert page.locator("pre.sourceCode, div.sourceCode").count() == 0  # code is hidden
    assert page.locator("script[src*='plotly']").count() == 0  # no chart library
    assert page.locator("details.details").count() == len(headings) - 3
    pdf = page.locator("a.download[href$='.pdf']")
    response = page.request.get(pdf.get_attribute("href") and
                                base_url + f"pdf/{town}.pdf")
    assert pdf.count() == 1 and response.ok and response.body()[:4] == b"%PDF"
    assert page.errors == []


def test_search_finds_pages(page: object, base_url: str) -> None:
    page.goto(base_url + "index.html", wait_until="networkidle")
    box = page.locator("#quarto-search input, input.aa-Input").first
    box.click()
    box.fill("顔の見える")
    page.wait_for_selector(".aa-Item", timeout=10_000)
    _shot(page, "search")
    titles = page.locator(".search-result-title, .search-result-section").all_inner_texts()
    assert titles and not any("集計はありません" in t for t in titles)
    assert page.errors == []


@pytest.mark.parametrize("town", list_towns())
def test_search_and_the_list_reach_every_town_from_another_page(page: object, base_url: str,
                                                                town: str) -> None:
    """The site is assembled from shards (a cold build renders its pages on every worker): from
    the comparison page, the search finds the town's page by its name; the navigation bar's
    「市町村一覧」 leads to the town under its prefecture, and the town page leads back there."""
    t = load_town(town)
    page.goto(base_url + "compare.html", wait_until="networkidle")
    navbar = page.eval_on_selector_all("nav.navbar a[href]", "els => els.map(e => e.href)")
    assert len(navbar) == 5 and not any("/towns/" in h for h in navbar)  # no town, at any scale
    box = page.locator("#quarto-search input, input.aa-Input").first
    box.click()
    box.fill(t.name.ja)
    page.wait_for_selector(".aa-Item", timeout=10_000)
    found = page.eval_on_selector_all(".aa-Item a[href]", "els => els.map(e => e.href)")
    assert any(f"/towns/{town}.html" in h for h in found), found
    page.keyboard.press("Escape")
    page.get_by_role("link", name="市町村一覧", exact=True).first.click()
    page.wait_for_load_state("networkidle")
    group = page.locator(f"section#{prefecture_anchor(t.prefecture)}")
    assert group.locator("h3").inner_text() == t.prefecture
    group.locator(f"a[href$='towns/{town}.html']").click()
    page.wait_for_load_state("networkidle")
    assert t.name.ja in page.inner_text("h1")
    back = page.get_by_role("navigation", name="パンくずリスト")
    assert back.inner_text() == f"市町村一覧 › {t.prefecture}の市町村"
    back.get_by_role("link", name=f"{t.prefecture}の市町村").click()
    page.wait_for_load_state("networkidle")
    assert page.url.split("#") == [base_url, prefecture_anchor(t.prefecture)]  # index.html
    assert group.locator(f"a[href$='towns/{town}.html']").is_visible()
    assert page.errors == []


@pytest.mark.parametrize("size", list(SIZES))
def test_the_list_of_towns_filters_by_name_and_prefecture(browser, base_url: str,
                                                          size: str) -> None:
    """The filter is found by its label, typed into from the keyboard, and says how many towns
    it found; prefectures without a match are hidden, with their entry in the jump list."""
    towns = {t: load_town(t) for t in list_towns()}
    with _open(browser, base_url, SIZES[size]) as page:
        page.goto(base_url + "index.html", wait_until="networkidle")
        box = page.get_by_label("市町村名・都道府県名で絞り込む")
        status = page.get_by_role("status")
        rows = page.locator("table.town-list tbody tr")

        def shown() -> list[str]:
            links = rows.locator("th a").evaluate_all(
                "els => els.filter(e => e.offsetParent).map(e => e.href)")
            return sorted(re.search(r"/towns/(\w+)\.html$", h)[1] for h in links)

        assert shown() == sorted(towns) and status.inner_text() == f"全{len(towns)}市町村"
        box.focus()
        page.keyboard.type("飯山")
        assert shown() == ["iiyama"]
        assert status.inner_text() == f"1市町村が見つかりました（全{len(towns)}市町村）"
        visible = page.locator("section.prefecture:visible h3").all_inner_texts()
        assert visible == ["長野県"]
        jumps = page.locator(".prefecture-nav li:visible a").all_inner_texts()
        assert jumps == ["長野県"]
        _shot(page, f"index-filter-{size}")
        box.fill("長野県")
        assert shown() == sorted(t for t, town in towns.items() if town.prefecture == "長野県")
        box.fill("ＩＩＹＡＭＡ")  # full-width, upper case: the town's id
        assert shown() == ["iiyama"]
        box.fill("存在しない町")
        assert shown() == [] and "当てはまる市町村はありません" in status.inner_text()
        assert page.locator("section.prefecture:visible").count() == 0
        box.fill("")
        assert shown() == sorted(towns)
        assert page.errors == []


# --- a hostile town file, end to end: clean → report → site → browser ---

HOSTILE_NAME = '=HYPERLINK("http://example.invalid","x")飯山市<script>alert(1)</script>'
HOSTILE_PREFECTURE = "長野県</title><script>alert(2)</script>"
HOSTILE_TITLE = "A*B_C_ `x` [l](javascript:alert(3)) {{< env HOME >}} >}} 調査"
HOSTILE_DISTRICTS = {
    "飯山": "飯山<script>alert(4)</script>",
    "秋津": "秋津*地区*",
    "木島": "木島_x_ [y](javascript:alert(5))",
    "瑞穂": "=1+1瑞穂",
    "柳原": "柳原 $x$ | #h",
    "外様": '<img src=x onerror="alert(6)">外様',
    "太田": "{{< env HOME >}}太田",
}
TRAVERSAL_NAME = '<img src=x onerror="alert(7)">町'


def _hostile_project(root: Path) -> Layout:
    """A throwaway project: Iiyama's raw files under a hostile town file, a town whose raw file
    climbs out of its folder (it must be refused), and Tsukumi as it is (for the comparison)."""
    import shutil

    import yaml

    for name in ("codebook.yml", "national_reference.yml"):
        (root / "config" / "towns").mkdir(parents=True, exist_ok=True)
        shutil.copy(paths.CONFIG / name, root / "config" / name)
    shutil.copytree(paths.raw_dir("iiyama"), root / "data" / "raw" / "hostile")
    shutil.copytree(paths.raw_dir("tsukumi"), root / "data" / "raw" / "tsukumi")
    shutil.copy(paths.TOWNS / "tsukumi.yml", root / "config" / "towns")
    (root / "data" / "raw" / "traversal").mkdir()
    town = yaml.safe_load((paths.TOWNS / "iiyama.yml").read_text(encoding="utf-8"))
    town.update(id="hostile", name={"ja": HOSTILE_NAME, "en": "x"}, prefecture=HOSTILE_PREFECTURE)
    town["survey"].update(title=HOSTILE_TITLE, target="<b>満18歳以上</b>の市民 &amp;",
                          sampling="@SUM(1) | 無作為抽出")
    town["districts"] = [HOSTILE_DISTRICTS.get(d, d) for d in town["districts"]]
    town["margins"]["district"] = {HOSTILE_DISTRICTS.get(d, d): n
                                   for d, n in town["margins"]["district"].items()}
    for source in town["sources"]:
        source.setdefault("labels", {})["district"] = HOSTILE_DISTRICTS
    dump = lambda data: yaml.safe_dump(data, allow_unicode=True, sort_keys=False)  # noqa: E731
    (root / "config" / "towns" / "hostile.yml").write_text(dump(town), encoding="utf-8")
    mail = town["sources"][0]["file"]
    town.update(id="traversal", name={"ja": TRAVERSAL_NAME, "en": "y"})
    town["sources"] = [{**town["sources"][0], "file": f"../hostile/{mail}"}]
    (root / "config" / "towns" / "traversal.yml").write_text(dump(town), encoding="utf-8")
    return Layout(raw=root / "data" / "raw", processed=root / "data" / "processed",
                  towns_config=root / "config" / "towns", build=root / "build",
                  reports=root / "reports")


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> tuple[Layout, object]:
    """The hostile project, built (the kernels read the project root from TSUNAGARI_ROOT)."""
    root = tmp_path_factory.mktemp("hostile")
    layout = _hostile_project(root)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TSUNAGARI_ROOT", str(root))
        mp.delenv("TSUNAGARI_PROCESSED")  # the hostile project's own data/processed
        summary = build(Options(workers=1), layout)
    return layout, summary


@pytest.fixture(scope="module")
def hostile_url(hostile: tuple[Layout, object]) -> Iterator[str]:
    yield from _serve(hostile[0].site)


#: Elements a user string could have become: none may exist.
INJECTED = """() => ({
  scripts: [...document.scripts].filter(s => /^alert\\(\\d\\)$/.test(s.textContent.trim())).length,
  handlers: document.querySelectorAll("[onerror], [onload], [onmouseover]").length,
  links: document.querySelectorAll("a[href^='javascript:']").length,
  images: document.querySelectorAll("img[src='x']").length,
})"""
NONE_INJECTED = {"scripts": 0, "handlers": 0, "links": 0, "images": 0}


def _visit(page: object, url: str) -> str:
    """Open ``url``; check that nothing ran or was injected; return the main text."""
    page.goto(url, wait_until="networkidle")
    assert page.dialogs == [] and page.errors == []
    assert page.evaluate(INJECTED) == NONE_INJECTED
    return page.inner_text("main")


def test_hostile_town_builds_and_its_traversal_twin_is_refused(hostile) -> None:
    layout, summary = hostile
    assert set(summary.failed) == {"traversal"}, summary.failed
    reason = summary.failed["traversal"]
    assert "sources[0] → file: 「../hostile/" in reason
    assert "outside the town's raw-data folder" in reason
    assert not (layout.processed / "traversal").exists()  # nothing was read or written
    assert summary.site.startswith("rendered") and summary.audit == "passed"
    assert summary.breaches == []


def test_hostile_town_page_shows_what_the_user_typed(browser, hostile, hostile_url) -> None:
    with _open(browser, hostile_url) as page:
        text = _visit(page, hostile_url + "towns/hostile.html")
        _shot(page, "hostile-town")
        heading = f"{HOSTILE_NAME}（{HOSTILE_PREFECTURE}）"
        assert page.inner_text("h1.title") == heading
        assert page.title().startswith(heading)
        assert page.inner_text("p.subtitle") == f"{HOSTILE_TITLE}（合成データ）"  # no shortcode ran
        assert f"調査：{HOSTILE_PREFECTURE}{HOSTILE_NAME}「{HOSTILE_TITLE}」" in text
        assert "調査対象：<b>満18歳以上</b>の市民 &amp;（@SUM(1) | 無作為抽出）" in text
        page.eval_on_selector_all("details", "els => els.forEach(e => e.open = true)")
        text = page.inner_text("main")
        for district in HOSTILE_DISTRICTS.values():
            assert district in text  # in the district tables, and the sentences name some
        alts = page.eval_on_selector_all("figure.chart img", "els => els.map(e => e.alt)")
        assert any(d in a for d in HOSTILE_DISTRICTS.values() for a in alts)  # alt text is text
        back = page.get_by_role("navigation", name="パンくずリスト").inner_text()
        assert back == f"市町村一覧 › {HOSTILE_PREFECTURE}の市町村"


@pytest.mark.parametrize("name", ["index", "compare", "methods", "codebook"])
def test_hostile_town_on_the_other_pages(browser, hostile_url, name: str) -> None:
    with _open(browser, hostile_url) as page:
        text = _visit(page, hostile_url + f"{name}.html")
        _shot(page, f"hostile-{name}")
        assert HOSTILE_NAME in text
        if name == "index":
            assert f"{TRAVERSAL_NAME}（{HOSTILE_PREFECTURE}）：作成に失敗しました" in text
            groups = page.locator("section.prefecture h3").all_inner_texts()
            assert groups == ["大分県", HOSTILE_PREFECTURE]  # the 47 in code order, then others
            assert "sources[0] → file: 「../hostile/" in text
        if name == "compare":
            alts = page.eval_on_selector_all("figure.chart img", "els => els.map(e => e.alt)")
            assert any(HOSTILE_NAME in a for a in alts)  # the charts' alt text, as typed
        if name == "methods":  # cells of a Markdown pipe table
            assert f"{HOSTILE_NAME}（{HOSTILE_PREFECTURE}）\t<b>満18歳以上</b>の市民 &amp;\t" \
                   "@SUM(1) | 無作為抽出、郵送・Web" in text


def test_hostile_town_search_shows_the_text(browser, hostile_url) -> None:
    with _open(browser, hostile_url) as page:
        _visit(page, hostile_url + "index.html")
        box = page.locator("#quarto-search input, input.aa-Input").first
        box.click()
        box.fill("HYPERLINK")
        page.wait_for_selector(".aa-Item", timeout=10_000)
        _shot(page, "hostile-search")
        titles = page.locator(".search-result-title").all_inner_texts()
        assert any(HOSTILE_NAME in t for t in titles), titles
        assert page.dialogs == [] and page.evaluate(INJECTED) == NONE_INJECTED


def test_hostile_workbook_holds_strings_not_formulas(hostile) -> None:
    from openpyxl import load_workbook

    layout, _ = hostile
    book = load_workbook(layout.site / "downloads" / "hostile_集計表.xlsx")
    cells = [c for ws in book.worksheets for row in ws.iter_rows() for c in row
             if c.value is not None]
    assert {c.data_type for c in cells} <= {"s", "n"}  # "f" would be a formula
    assert book["注記"]["A1"].value == f"{HOSTILE_NAME}「{HOSTILE_TITLE}」　集計表"
    assert "=1+1瑞穂" in {c.value for c in cells}


def test_audit_fails_the_hostile_site_with_a_planted_name(hostile, tmp_path: Path) -> None:
    from helpers.build.audit import UserText, audit_text

    layout, _ = hostile
    user = UserText.from_town_files(layout.towns_config)
    assert audit_text([layout.site], user) == []
    page = (layout.site / "towns" / "hostile.html").read_text(encoding="utf-8")
    planted = re.sub(r'(<h1 class="title">).*?(</h1>)', lambda m: m[1] + HOSTILE_NAME + m[2],
                     page, count=1, flags=re.S)
    assert planted != page
    (tmp_path / "hostile.html").write_text(planted, encoding="utf-8")
    found = audit_text([tmp_path], user)
    assert found and {b.kind for b in found} == {"user text as markup"}
    assert any("written into the page unescaped" in b.detail for b in found)
