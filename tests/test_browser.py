"""The built website in a real browser (Playwright driving Debian's Chromium), offline.

Uses the site `make report` built (reports/site/) when there is one, otherwise builds a small
site from the throwaway notebooks. Every request outside the local server is blocked, so a chart
or script that needs the internet shows up as a console error. Screenshots go to
reports/screenshots/ for review.
"""

from __future__ import annotations

import functools
import re
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from helpers import paths
from helpers.build import quarto
from helpers.build.pipeline import Layout, Options, build
from helpers.towns import list_towns, load_town

CHROMIUM = Path("/usr/bin/chromium")
FIXTURES = Path(__file__).parent / "fixtures" / "build"
SHOTS = paths.REPORTS / "screenshots"
ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip


def _missing() -> str | None:
    if quarto.find_quarto() is None:
        return "Quarto not found (PATH, $QUARTO): the site cannot be rendered"
    if not CHROMIUM.exists():
        return f"Chromium not installed at {CHROMIUM} (apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed"
    return None


pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(_missing() is not None, reason=_missing() or ""),
]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    built = paths.REPORTS / "site"
    if (built / "index.html").exists():
        return built
    tmp = tmp_path_factory.mktemp("site")
    layout = Layout(
        notebook=FIXTURES / "report.ipynb",
        compare=FIXTURES / "compare.ipynb",
        build=tmp / "build",
        reports=tmp / "reports",
        processed=tmp / "processed",
        clean=False,
    )
    summary = build(Options(), layout)
    assert summary.exit_code == 0, summary
    return layout.site


@pytest.fixture(scope="module")
def base_url(site: Path) -> Iterator[str]:
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(site))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser: object, base_url: str) -> Iterator[object]:
    """A page that may load only from the local server; its console errors are collected."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="ja-JP")
    page = context.new_page()
    page.errors = []
    page.on("console", lambda m: m.type == "error" and page.errors.append(m.text))
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    page.route(
        "**/*", lambda r: r.continue_() if r.request.url.startswith(base_url) else r.abort()
    )
    yield page
    context.close()


def _shot(page: object, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_index_lists_every_town(page: object, base_url: str, site: Path) -> None:
    page.goto(base_url + "index.html", wait_until="networkidle")
    _shot(page, "index")
    assert page.evaluate("document.documentElement.lang") == "ja"
    text = page.inner_text("main")
    assert "市町村一覧" in text
    for t in list_towns():
        assert load_town(t).name.ja in text
    published = sorted(p.stem for p in (site / "towns").glob("*.html"))
    links = page.eval_on_selector_all("table.town-list a", "els => els.map(e => e.href)")
    pages = sorted(m[1] for h in links if (m := re.search(r"/towns/(\w+)\.html$", h)))
    assert pages == published
    for xlsx in (h for h in links if h.endswith(".xlsx")):
        response = page.request.get(xlsx)
        assert response.ok and response.body()[:2] == b"PK"  # the Excel download is served
    assert page.errors == []


def test_town_page_shows_its_charts(page: object, base_url: str, site: Path) -> None:
    town = sorted(p.stem for p in (site / "towns").glob("*.html"))[0]
    page.goto(base_url + f"towns/{town}.html", wait_until="networkidle")
    page.wait_for_selector(".js-plotly-plot .main-svg", timeout=15_000)
    _shot(page, f"town-{town}")
    assert page.locator(".js-plotly-plot").count() >= 1
    assert page.locator("script[src$='plotly.min.js']").count() == 1
    assert load_town(town).name.ja in page.inner_text("h1")
    assert page.locator("pre.sourceCode, div.sourceCode").count() == 0  # code is hidden
    assert page.errors == []


@pytest.mark.parametrize("name", ["compare", "methods", "codebook"])
def test_other_pages_render_without_errors(page: object, base_url: str, name: str) -> None:
    page.goto(base_url + f"{name}.html", wait_until="networkidle")
    if name == "compare":
        page.wait_for_selector(".js-plotly-plot .main-svg", timeout=15_000)
    _shot(page, name)
    assert re.search(r"[\u3040-\u30ff\u4e00-\u9fff]{4}", page.inner_text("main"))
    assert page.errors == []


def test_search_finds_pages(page: object, base_url: str) -> None:
    page.goto(base_url + "index.html", wait_until="networkidle")
    box = page.locator("#quarto-search input, input.aa-Input").first
    box.click()
    box.fill("孤独感")
    page.wait_for_selector(".aa-Item", timeout=10_000)
    _shot(page, "search")
    assert page.locator(".aa-Item").count() >= 1
    assert page.errors == []
