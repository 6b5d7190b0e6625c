"""The escaping boundary (helpers.escape): each target's own renderer shows the user's characters.

Every check renders with the real thing — CommonMark (markdown-it, as JupyterLab), Pandoc and
Quarto (as the site), matplotlib, rich, Typst, Python's HTML parser and csv reader — and compares
the text it shows with the string the user typed.
"""

from __future__ import annotations

import csv
import html
import io
import json
import re
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import matplotlib
import pandas as pd
import pytest
from markdown_it import MarkdownIt
from rich.console import Console

from helpers import escape
from helpers.build import quarto

HOSTILE = [
    "飯山市<script>alert(1)</script>",
    '<img src=x onerror="alert(1)">',
    "A*B地区",
    "_下線_ と __太字__ と **太字**",
    "`code` と ```fence```",
    "[link](javascript:alert(1)) ![画像](x.png)",
    "#見出し",
    "a|b",
    "$x^2$ と $$y$$",
    "@cite と [@key]",
    "{.red} と {{ var }}",
    "~sub~ ^sup^ ~~del~~",
    "back\\slash \\* \\",
    "&amp; &lt;b&gt; &#36;",
    "<!-- comment",
    "{{< env HOME >}}",
    "{{{< meta title >}}} と >}} と {{</* x */>}}",
    '=HYPERLINK("http://example.invalid","x")',
    "1. 番号 2) 番号",
    "- リスト + リスト",
    "> 引用",
    "::: {.callout} :::",
    "https://example.invalid/?a=1&b=2",
    "--- -- ... 'q' \"q\"",
    "<https://example.invalid>",
    "[red]赤[/red] [/]",
    "% %{x} %{y:.1f}",
    "飯山市",
]
NO_QUARTO = pytest.mark.skipif(quarto.find_quarto() is None, reason="Quarto not found")


def _quarto(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(quarto.find_quarto()), *args], capture_output=True, text=True, cwd=cwd, check=False
    )


class _Text(HTMLParser):
    """Text of an HTML fragment and the elements it has."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.text: list[str] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _parse(fragment: str) -> _Text:
    parser = _Text()
    parser.feed(fragment)
    parser.close()
    return parser


@pytest.mark.parametrize("text", HOSTILE)
def test_markdown_shows_the_characters_in_commonmark(text: str) -> None:
    rendered = MarkdownIt("commonmark").render(escape.md(text))
    page = _parse(rendered)
    assert page.tags == ["p"], rendered
    assert "".join(page.text).strip() == text


def test_markdown_shows_the_characters_in_pandoc_paragraphs_and_pipe_tables() -> None:
    if quarto.find_quarto() is None:
        pytest.skip("Quarto (and its Pandoc) not found")
    rows = "\n".join(f"| {escape.md(t)} | x |" for t in HOSTILE)
    doc = "\n\n".join(escape.md(t) for t in HOSTILE) + f"\n\n| a | b |\n|---|---|\n{rows}\n"
    proc = subprocess.run(
        [str(quarto.find_quarto()), "pandoc", "-f", "markdown", "-t", "json"],
        input=doc, capture_output=True, text=True, check=True,
    )
    blocks = json.loads(proc.stdout)["blocks"]

    def plain(inlines: list[dict]) -> str:
        kinds = {i["t"] for i in inlines}
        assert kinds <= {"Str", "Space"}, kinds  # no emphasis, link, code, math, raw HTML
        return "".join(i["c"] if i["t"] == "Str" else " " for i in inlines)

    paragraphs, table = blocks[:-1], blocks[-1]
    assert [b["t"] for b in paragraphs] == ["Para"] * len(HOSTILE)
    assert [plain(b["c"]) for b in paragraphs] == HOSTILE
    assert table["t"] == "Table"
    body = table["c"][4][0][3]  # the table body's rows
    cells = [row[1][0][4][0]["c"] for row in body]  # first cell's Plain inlines of each row
    assert [plain(c) for c in cells] == HOSTILE


@pytest.mark.slow
@NO_QUARTO
def test_quarto_shows_titles_and_text_as_typed(tmp_path: Path) -> None:
    """Quarto reads front matter as Markdown and then runs shortcodes on it: ``meta`` defuses both
    (unescaped, 「{{< env HOME >}}」 would print the build machine's home folder)."""
    import yaml

    title = " ".join(HOSTILE)
    front = {"title": escape.meta(title), "subtitle": escape.meta("{{< env HOME >}}")}
    body = "\n\n".join(f"::: {{.case}}\n{escape.md(t)}\n:::" for t in HOSTILE)
    (tmp_path / "page.qmd").write_text(
        "---\n" + yaml.safe_dump(front, allow_unicode=True) + "---\n\n" + body + "\n",
        encoding="utf-8",
    )
    proc = _quarto("render", "page.qmd", "--to", "html", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    page = (tmp_path / "page.html").read_text(encoding="utf-8")
    h1 = re.search(r'<h1 class="title">(.*?)</h1>', page, re.S).group(1)
    assert "".join(_parse(h1).text) == title
    assert set(_parse(h1).tags) <= {"span"}  # the empty spans that split {{< and >}}
    assert html.unescape(re.search(r"<title>(.*?)</title>", page).group(1)).startswith(title)
    subtitle = re.search(r'<p class="subtitle[^"]*">(.*?)</p>', page, re.S).group(1)
    assert "".join(_parse(subtitle).text) == "{{< env HOME >}}"
    cases = re.findall(r'<div class="case">\s*(.*?)\s*</div>', page, re.S)
    assert [_parse(c).tags for c in cases] == [["p"]] * len(HOSTILE)
    assert ["".join(_parse(c).text) for c in cases] == HOSTILE


@pytest.mark.parametrize("text", HOSTILE)
def test_html_is_text_in_content_and_attributes(text: str) -> None:
    page = _parse(f"<p title=\"{escape.html(text)}\">{escape.html(text)}</p>")
    assert page.tags == ["p"]
    assert "".join(page.text) == text


def test_html_table_escapes_cells_and_headers() -> None:
    frame = pd.DataFrame({HOSTILE[0]: [HOSTILE[1], 12, "—"], "地区": [HOSTILE[2], "x", "y"]})
    page = _parse(escape.html_table(frame).to_html())
    assert set(page.tags) <= {"style", "table", "thead", "tbody", "tr", "th", "td"}
    text = [t.strip() for t in page.text if t.strip()]
    assert text[:2] == [HOSTILE[0], "地区"]
    assert text[2:] == [HOSTILE[1], HOSTILE[2], "12", "x", "—", "y"]  # no index column


@pytest.mark.parametrize("text", HOSTILE)
def test_plotly_text_has_no_tags_or_tex_and_decodes_to_the_characters(text: str) -> None:
    out = escape.plotly(text)
    assert "<" not in out and ">" not in out and "$" not in out
    assert html.unescape(out) == text  # plotly decodes &lt; &gt; &amp; and numeric entities


def test_matplotlib_draws_the_characters_not_mathtext(tmp_path: Path) -> None:
    import matplotlib.pyplot as plt
    import matplotlib_fontja  # noqa: F401  (registers IPAexGothic)

    with matplotlib.rc_context({"svg.fonttype": "none", "font.family": "IPAexGothic"}):
        fig = plt.figure()
        for i, text in enumerate(HOSTILE):
            fig.text(0, i / len(HOSTILE), escape.mpl(text))
        fig.savefig(tmp_path / "t.svg")
        plt.close(fig)
    svg = (tmp_path / "t.svg").read_text(encoding="utf-8")
    shown = [html.unescape(t) for t in re.findall(r"<text[^>]*>(.*?)</text>", svg, re.S)]
    assert sorted(shown) == sorted(HOSTILE)


def test_rich_prints_the_characters() -> None:
    out = Console(record=True, width=500, file=io.StringIO())
    for text in HOSTILE:
        out.print("[bold red]error:[/]", escape.console(text), soft_wrap=True)
    assert out.export_text().splitlines() == [f"error: {t}" for t in HOSTILE]


@NO_QUARTO
def test_typst_shows_the_characters(tmp_path: Path) -> None:
    cases = ", ".join(f"[{escape.typst(t)}]" for t in HOSTILE)
    (tmp_path / "t.typ").write_text(
        f"#let cases = ({cases},)\n"
        "#let plain(c) = if c.has(\"text\") { c.text } else if c == [ ] { \" \" }"
        " else if c.has(\"children\") { c.children.map(plain).join() }"
        " else { panic(\"markup: \" + repr(c.func())) }\n"
        "#metadata(cases.map(plain)) <out>\n",
        encoding="utf-8",
    )
    proc = _quarto("typst", "query", "t.typ", "<out>", "--field", "value", "--one", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    shown = json.loads(proc.stdout or proc.stderr)  # (Quarto's typst prints on stderr)
    assert shown == HOSTILE


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ('=HYPERLINK("http://example.invalid","x")', '\'=HYPERLINK("http://example.invalid","x")'),
        ("+1+cmd|' /C calc'!A0", "'+1+cmd|' /C calc'!A0"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1:A2)", "'@SUM(A1:A2)"),
        ("\t=1+1", "'\t=1+1"),
        ("\r=1+1", "'\r=1+1"),
        ("＝１＋１", "'＝１＋１"),
        ("-3", "-3"),
        ("+1.5", "+1.5"),
        ("－３", "－３"),
        ("-", "-"),
        ("男性", "男性"),
        ("a=1", "a=1"),
        (12, 12),
        (None, None),
    ],
)
def test_formula_safe(cell: object, expected: object) -> None:
    assert escape.formula_safe(cell) == expected


def test_csv_cells_read_back_as_text() -> None:
    frame = pd.DataFrame(
        {"=cmd": ["=1+1", "男性"], "row": [2, 3], "q": pd.Categorical(["@x", "y"])}
    )
    text = escape.csv_cells(frame).to_csv(index=False)
    rows = list(csv.reader(io.StringIO(text)))
    assert rows == [["'=cmd", "row", "q"], ["'=1+1", "2", "'@x"], ["男性", "3", "y"]]
    assert list(frame["q"]) == ["@x", "y"]  # the frame itself is not changed
