"""Figure helpers: one theme, Japanese text that renders, Okabe–Ito colours, captions with n."""

from __future__ import annotations

import base64
import re
import warnings

import matplotlib
import numpy as np
import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
import pytest
from matplotlib.colors import to_hex

from helpers import figures


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    return pd.DataFrame({
        "sex": ["男性", "男性", "男性", "女性", "女性", "女性"],
        "age_band": ["20代", "30代", "80歳以上"] * 2,
        "n": [20, 30, 5, 19, 25, 40],
        "p": [50.0, 30.0, np.nan, 42.1, 35.0, 20.0],  # published percentages
        "lo": [30.0, 15.0, np.nan, 23.0, 20.0, 10.0],
        "hi": [70.0, 50.0, np.nan, 63.1, 55.0, 35.0],
    })


def _bars(fig) -> list:
    return [p for p in fig.axes[0].patches if p.get_height() > 0]


def test_theme_sets_japanese_font_and_palette():
    figures.set_theme()
    assert matplotlib.rcParams["font.family"][0] == figures.FONT
    assert [to_hex(c).upper() for c in matplotlib.rcParams["axes.prop_cycle"].by_key()["color"]][
        :3] == [c.upper() for c in figures.PALETTE[:3]]
    assert "tsunagari" in pio.templates.default
    assert list(pio.templates["tsunagari"].layout.colorway) == figures.PALETTE


def test_static_chart_draws_only_published_bars(table, tmp_path):
    figures.set_theme()
    chart = figures.bar_chart(table, "age_band", hue="sex", title="性別・年代別 孤独感",
                              what="性別・年代別の孤独感がある人の割合", n=139, min_cell=10)
    bars = _bars(chart.figure)
    assert len(bars) == 5  # the suppressed 80歳以上 men are not drawn
    assert sorted(round(b.get_height(), 1) for b in bars) == [20.0, 30.0, 35.0, 42.1, 50.0]
    colours = {to_hex(b.get_facecolor()).upper() for b in bars}
    assert colours == {figures.OKABE_ITO["blue"], figures.OKABE_ITO["vermillion"]}
    assert "n = 139" in chart.caption and "1区分は、回答者保護のため" in chart.caption
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "Glyph … missing from font" would fail here
        chart.figure.savefig(tmp_path / "chart.png")
    assert (tmp_path / "chart.png").stat().st_size > 10_000


def test_caption_without_suppression_or_ci(table):
    full = table.dropna()
    chart = figures.bar_chart(full, "age_band", hue="sex", ci=None, title="t", what="分布",
                              n=1234, min_cell=10)
    assert chart.caption == "分布（回答者 n = 1,234）。"


def test_interactive_chart_has_one_trace_per_group(table):
    chart = figures.bar_chart(table, "age_band", hue="sex", title="t", what="w", n=139,
                              min_cell=10, reference=33.0, reference_label="全体",
                              interactive=True)
    fig = chart.figure
    assert isinstance(fig, go.Figure)
    assert [t.name for t in fig.data] == ["男性", "女性"]
    men = fig.data[0]
    assert list(men.y[:2]) == [50.0, 30.0] and np.isnan(men.y[2])
    assert list(men.text) == ["", "", figures.SUPPRESSED]
    assert [t.marker.color for t in fig.data] == figures.PALETTE[:2]
    assert fig.layout.shapes[0].y0 == pytest.approx(33.0)
    women = fig.data[1].error_y
    assert list(women.array[:1]) == [21.0] and list(women.arrayminus[:1]) == [19.1]  # no 20.99…


HOSTILE = {"<b>北</b>地区": 30.0, "$x$地区": 40.0, "A*B地区": 50.0}  # short: no line wrap


def _hostile_table() -> pd.DataFrame:
    return pd.DataFrame({"district": list(HOSTILE), "group": ["<b>群</b>"] * 3,
                         "p": list(HOSTILE.values())})


def test_static_chart_labels_show_the_characters(tmp_path):
    """Tick labels and legend are drawn as typed ($…$ would otherwise be mathtext), in both the
    wide and the narrow drawing; the title is the caption's (HTML-escaped on the page)."""
    import html
    import re

    figures.set_theme()
    chart = figures.bar_chart(_hostile_table(), "district", hue="group", ci=None,
                              title="$地区$別", what="w", n=100, min_cell=10,
                              reference=20.0, reference_label="$全体$")
    for layout in (figures.WIDE, figures.NARROW):
        texts = [html.unescape(t) for t in re.findall(r"<text[^>]*>(.*?)</text>",
                                                      chart.svg(layout), re.S)]
        for label in (*HOSTILE, "<b>群</b>", "$全体$"):  # (a long label may wrap)
            assert label in texts or label in "".join(texts), (layout, label)
    assert "$地区$別" in html.unescape(chart.html(1))


def test_interactive_chart_labels_are_plotly_text():
    """Plotly reads a subset of HTML in labels: every user string reaches it escaped, and the
    hover label takes the trace's (escaped) name rather than raw text."""
    import html

    chart = figures.bar_chart(_hostile_table(), "district", hue="group", ci=None,
                              title="<i>題</i>", what="w", n=100, min_cell=10,
                              reference=20.0, reference_label="<u>全体</u>", interactive=True)
    fig = chart.figure
    bars = fig.data[0]
    assert [html.unescape(x) for x in bars.x] == list(HOSTILE)
    assert all("<" not in x and "$" not in x for x in bars.x)
    assert html.unescape(bars.name) == "<b>群</b>" and "<" not in bars.name
    assert bars.hovertemplate == "%{x}: %{y:.1f}%<extra>%{fullData.name}</extra>"
    assert html.unescape(fig.layout.title.text) == "<i>題</i>" and "<" not in fig.layout.title.text
    assert fig.layout.annotations[0].text == "&lt;u&gt;全体&lt;/u&gt;"


def _long_labels(label: str) -> pd.DataFrame:
    return pd.DataFrame({"x": [f"{label}{i}" for i in range(4)], "p": [12.5, 40.0, 87.5, 100.0]})


def _drawn_text(svg: str) -> str:
    import html
    import re

    return "".join(html.unescape(t) for t in re.findall(r"<text[^>]*>(.*?)</text>", svg, re.S))


@pytest.mark.parametrize("label", ["A", "区分", "とても長い区分の名前が続いて折り返される"])
def test_narrow_drawing_fits_a_phone_whatever_its_labels(label):
    """The plot area takes the room its labels leave: the narrow drawing is about
    NARROW["width"] wide (3.8 in = 365 px) for one-letter and wrapped long labels alike, and no
    label is cut off (the box the SVG is saved with holds every label and value)."""
    figures.set_theme()
    chart = figures.bar_chart(_long_labels(label), "x", ci=None, title="t", what="w", n=100,
                              min_cell=10, reference=50.0, reference_label="全体")
    width, _ = figures._svg_size(chart.svg(figures.NARROW))
    assert 330 <= width <= 375, width
    fig = chart.draw(figures.NARROW)
    box, area = fig.get_tightbbox(), fig.bbox_inches  # content vs plot area (inches)
    assert box.width > area.width and box.x0 < 0  # the labels lie beside the plot area…
    svg = chart.svg(figures.NARROW)
    m = re.search(r'viewBox="0 0 ([\d.]+) ([\d.]+)"', svg)
    pad = 2 * matplotlib.rcParams["savefig.pad_inches"] * 72
    assert float(m[1]) == pytest.approx(box.width * 72 + pad, abs=4)  # …and in the SVG
    assert float(m[2]) == pytest.approx(box.height * 72 + pad, abs=4)
    for text in ("100.0", "87.5", "全体", label[:10]):
        assert text in _drawn_text(svg)


def test_chart_draws_on_demand_and_lays_out_once(monkeypatch):
    """A chart draws nothing until its SVG or figure is asked for; each layout is drawn once,
    with one pass to find its box and one to write it (no tight_layout), and the printed
    report's SVG is the page's."""
    from matplotlib.figure import Figure

    figures.set_theme()
    draws = {"figures": 0, "draw": 0, "tight_layout": 0}
    plot_area = figures._plot_area

    def counted_area(*args):
        draws["figures"] += 1
        return plot_area(*args)

    def counter(name, method):
        def counted(self, *args, **kwargs):
            draws[name] += 1
            return method(self, *args, **kwargs)
        return counted

    monkeypatch.setattr(figures, "_plot_area", counted_area)
    monkeypatch.setattr(Figure, "draw", counter("draw", Figure.draw))
    monkeypatch.setattr(Figure, "tight_layout", counter("tight_layout", Figure.tight_layout))
    chart = figures.bar_chart(_long_labels("区分"), "x", ci=None, title="t", what="w", n=100,
                              min_cell=10)
    assert chart.alt and chart.data is not None and draws["figures"] == 0
    page = chart.html(1)
    assert draws == {"figures": 2, "draw": 4, "tight_layout": 0}
    assert chart.svg() in base64.b64decode(page.split("base64,")[2].split('"')[0]).decode()
    assert draws["draw"] == 4


def _counting_drawings(monkeypatch) -> dict[str, int]:
    drawn = {"figures": 0}
    plot_area = figures._plot_area

    def counted(*args):
        drawn["figures"] += 1
        return plot_area(*args)

    monkeypatch.setattr(figures, "_plot_area", counted)
    return drawn


def _chart(values=(12.5, 40.0, 87.5, 100.0), cache=None) -> figures.Chart:
    table = pd.DataFrame({"x": ["甲", "乙", "丙", "丁"], "p": list(values)})
    chart = figures.bar_chart(table, "x", ci=None, title="t", what="w", n=100, min_cell=10)
    chart.cache = cache
    return chart


def test_svg_cache_reads_back_what_it_drew(tmp_path, monkeypatch):
    """A chart of the same data drawn again with a cache folder is read back, byte for byte;
    other data, another layout or another theme is drawn; an entry that was damaged (cut short,
    edited, not UTF-8) is drawn again and replaced, never used."""
    figures.set_theme()
    drawn = _counting_drawings(monkeypatch)
    plain = _chart().svg(figures.NARROW)
    first = _chart(cache=tmp_path).svg(figures.NARROW)
    assert first == plain and drawn["figures"] == 2
    assert _chart(cache=tmp_path).svg(figures.NARROW) == plain and drawn["figures"] == 2
    entries = list(tmp_path.rglob("*.svg"))
    assert len(entries) == 1

    assert _chart((12.5, 40.0, 87.5, 99.9), cache=tmp_path).svg(figures.NARROW) != plain
    assert _chart(cache=tmp_path).svg(figures.WIDE) != plain
    assert drawn["figures"] == 4 and len(list(tmp_path.rglob("*.svg"))) == 3
    with matplotlib.rc_context({"xtick.labelsize": 20}):
        _chart(cache=tmp_path).svg(figures.NARROW)
    assert drawn["figures"] == 5

    entry = entries[0]
    good = entry.read_bytes()
    for damaged in (good[: len(good) // 2], good.replace(b"87.5", b"78.5"), b"\xff\xfe" + good,
                    b""):
        entry.write_bytes(damaged)
        before = drawn["figures"]
        assert _chart(cache=tmp_path).svg(figures.NARROW) == plain
        assert drawn["figures"] == before + 1 and entry.read_bytes() == good
    assert not [p for p in tmp_path.rglob("*") if p.name.endswith(".tmp")]
