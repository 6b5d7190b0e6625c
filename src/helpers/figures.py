"""One visual theme for every report figure: static (matplotlib/seaborn) and interactive (plotly).

Every figure function returns a :class:`Chart`: the figure plus a Japanese caption that says what
the figure shows and on how many respondents it rests, a text alternative that states its finding
(:attr:`Chart.alt`) and the published values it draws (:attr:`Chart.data`, offered as CSV). On
the website a chart is a static SVG drawn twice, wide (vertical bars) and narrow (horizontal bars,
for phones, text at least 12 px), chosen by the browser (:meth:`Chart.html`); the PDF report
uses the wide drawing (:meth:`Chart.svg`). Figures draw published values only
(percentages with one decimal, from ``helpers.analysis.publish``): bars whose value is missing
(hidden to protect respondents) are not drawn, a "—" marks their place and the caption says why;
the chart data inside a page (plotly) hold no number a table does not show. Labels, titles and
captions are text: they pass ``helpers.escape`` on the way into plotly, matplotlib or Markdown.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import io
import re
import textwrap
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import matplotlib
import matplotlib.pyplot as plt
import matplotlib_fontja
import numpy as np
import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
import seaborn as sns
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.textpath import text_to_path

from helpers import escape
from helpers.build.manifest import Hasher, versions, write_atomic
from helpers.stats.format import round_half_up

#: Okabe–Ito colour-blind-safe palette (Okabe & Ito 2008), in the order the figures use it.
OKABE_ITO: dict[str, str] = {
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "bluish_green": "#009E73",
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "reddish_purple": "#CC79A7",
    "yellow": "#F0E442",
    "black": "#000000",
}
PALETTE: list[str] = list(OKABE_ITO.values())
FONT = "IPAexGothic"
PLOTLY_FONT = f"{FONT}, 'Noto Sans JP', 'Hiragino Sans', Meiryo, sans-serif"
SUPPRESSED = "—"


def set_theme() -> None:
    """Apply the project theme to matplotlib/seaborn and make it plotly's default template."""
    sns.set_theme(style="whitegrid", palette=PALETTE, font=FONT, rc={"figure.dpi": 110})
    matplotlib_fontja.japanize()
    plt.rcParams["axes.unicode_minus"] = False
    plt.rcParams["savefig.bbox"] = "tight"  # a drawing's labels lie around its plot area
    pio.templates["tsunagari"] = go.layout.Template(
        layout={
            "colorway": PALETTE,
            "font": {"family": PLOTLY_FONT, "size": 13},
            "hoverlabel": {"font": {"family": PLOTLY_FONT}},
        }
    )
    pio.templates.default = "plotly_white+tsunagari"


#: Width (inches) and font sizes (pt) of the two drawings: the narrow one is shown at about its
#: natural width on a phone (1 pt = 1.33 px: 9.5 pt is 12.7 px), the wide one at 0.8–1.2 times
#: its width on larger screens; the browser test checks that chart text is at least 11 px on
#: screen.
WIDE = {"width": 7.5, "font": 10.5, "tick": 10.5, "legend": 10}
NARROW = {"width": 3.8, "font": 9.5, "tick": 9.5, "legend": 9.5}
#: Room (inches) a drawing keeps around its plot area besides its category labels: the value
#: axis's ticks and title at the left of vertical bars, or the margins and the last value tick
#: beside rows.
AXIS_ROOM, ROW_ROOM = 0.9, 0.5
#: Screens at most this wide get the narrow drawing.
NARROW_MEDIA = "(max-width: 767.98px)"
#: Fonts the browser uses for a chart's text (matplotlib writes only its own font's name).
SVG_FONTS = ("'Hiragino Sans', 'Hiragino Kaku Gothic ProN', 'Yu Gothic', Meiryo, "
             "'Noto Sans CJK JP', 'Noto Sans JP', 'IPAexGothic', sans-serif")


@dataclass
class Chart:
    """A figure: its title, caption (what it shows, its n, what was left out), text alternative
    (its finding), the published values it draws (``data``, Japanese headers) and how to draw
    it (``draw(layout)``, layout :data:`WIDE` or :data:`NARROW`), or its ``interactive``
    (plotly) figure. A static chart's ``key`` says what its drawings show (data, reference);
    with a ``cache`` folder, a drawing made before is read back rather than drawn again."""

    caption: str
    title: str = ""
    alt: str = ""
    data: pd.DataFrame | None = None
    draw: Callable[[dict[str, float]], Figure] | None = None
    interactive: go.Figure | None = None
    key: str = ""
    cache: Path | None = None
    _svgs: dict[int, str] = field(default_factory=dict, repr=False)

    @cached_property
    def figure(self) -> Figure | go.Figure:
        """The plotly figure, or the wide drawing (drawn on first use)."""
        return self.interactive if self.draw is None else self.draw(WIDE)

    def show(self) -> None:
        """Display the figure and its caption in a notebook."""
        from IPython.display import Markdown, display

        if isinstance(self.figure, go.Figure):
            self.figure.show()
        else:
            display(self.figure)
        display(Markdown(f"*{escape.md(self.caption)}*"))

    def svg(self, layout: dict[str, float] = WIDE) -> str:
        """The static figure as SVG, its text as text (small, selectable; the page's fonts, and
        the PDF's: Typst sets it in Noto CJK). Drawn once per layout (its box, the plot area and
        every label around it, is found as it is saved), or read from the ``cache`` folder
        (:func:`_cached`)."""
        key = id(layout)
        if key not in self._svgs:
            def draw() -> str:
                return self._svg(layout)

            if self.cache is None or not self.key:
                self._svgs[key] = draw()
            else:
                shape = ("narrow" if layout is NARROW else "wide", sorted(layout.items()))
                name = Hasher("svg").text(self.key).text(_drawing_code()).text(repr(shape)).key()
                self._svgs[key] = _cached(self.cache / name[:2] / f"{name}.svg", draw)
        return self._svgs[key]

    def _svg(self, layout: dict[str, float]) -> str:
        figure = self.figure if layout is WIDE or self.draw is None else self.draw(layout)
        buffer = io.StringIO()
        with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "tsunagari"}):
            figure.savefig(buffer, format="svg", metadata={"Date": None}, bbox_inches="tight")
        return re.sub(r"font-family: '[^']*'", f"font-family: {SVG_FONTS}", buffer.getvalue())

    def csv(self) -> str:
        """The published values drawn, as CSV text (UTF-8 with BOM for Excel), formula-safe."""
        frame = escape.csv_cells(self.data if self.data is not None else pd.DataFrame())
        return "\ufeff" + frame.to_csv(index=False)

    def html(self, number: int) -> str:
        """The figure for a web page: ``<figure>`` with the wide and narrow SVG (the browser picks
        one), the finding as alt text, the caption and a link to the data as CSV."""
        wide, narrow = self.svg(WIDE), self.svg(NARROW)
        size = _svg_size(wide)
        csv = base64.b64encode(self.csv().encode("utf-8")).decode("ascii")
        name = f"図{number}_{_UNSAFE_FILENAME.sub('_', self.title)}.csv"
        return (
            f'<figure class="chart" id="fig-{number}">'
            f'<picture><source media="{NARROW_MEDIA}" srcset="{_data_uri(narrow)}" '
            f'width="{_svg_size(narrow)[0]}" height="{_svg_size(narrow)[1]}">'
            f'<img src="{_data_uri(wide)}" alt="{escape.html(self.alt)}" width="{size[0]}" '
            f'height="{size[1]}" decoding="async"></picture>'
            f"<figcaption><span class=\"fig-title\">図{number}　{escape.html(self.title)}</span>"
            f"{escape.html(self.caption)} "
            f'<a class="chart-data" href="data:text/csv;charset=utf-8;base64,{csv}" '
            f'download="{escape.html(name)}">図{number}のデータ（CSV）</a></figcaption></figure>'
        )


#: The matplotlib settings that shape a drawing (the theme), by prefix.
_DRAWING_SETTINGS = ("axes.", "errorbar.", "figure.", "font.", "grid.", "hatch.", "legend.",
                     "lines.", "markers.", "mathtext.", "patch.", "path.", "savefig.", "svg.",
                     "text.", "xtick.", "ytick.")


@functools.cache
def _drawing_source() -> str:
    return (Hasher("drawing code").files([Path(__file__), Path(escape.__file__)])
            .text(versions(("matplotlib", "matplotlib-fontja", "seaborn"))).key())


def _drawing_code() -> str:
    """What draws a chart besides its data: this module and the escaping (their source), the
    versions of matplotlib, its Japanese font and seaborn, and the theme in force."""
    theme = sorted((k, repr(v)) for k, v in matplotlib.rcParams.items()
                   if k.startswith(_DRAWING_SETTINGS))
    return _drawing_source() + repr(theme)


def _cached(path: Path, draw: Callable[[], str]) -> str:
    """The SVG stored at ``path``, or ``draw()`` stored there (atomically). An entry is a line
    with the SHA-256 of the SVG that follows it: an entry that cannot be read or does not match
    its checksum is drawn again and replaced, never used."""
    try:
        digest, svg = path.read_bytes().split(b"\n", 1)
        if hashlib.sha256(svg).hexdigest().encode() == digest:
            return svg.decode("utf-8")
    except (OSError, ValueError):  # missing, unreadable, no checksum line, not UTF-8
        pass
    svg = draw()
    data = svg.encode("utf-8")
    write_atomic(path, hashlib.sha256(data).hexdigest().encode() + b"\n" + data)
    return svg


_UNSAFE_FILENAME = re.compile(r'[\\/:*?"<>|\s]+')


def _data_uri(svg: str) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")


def _svg_size(svg: str) -> tuple[int, int]:
    """The SVG's size in CSS pixels (matplotlib writes points)."""
    m = re.search(r'width="([\d.]+)pt" height="([\d.]+)pt"', svg)
    return (round(float(m[1]) * 4 / 3), round(float(m[2]) * 4 / 3)) if m else (0, 0)


def _wrap(label: Any, width: int) -> str:
    return "\n".join(textwrap.wrap(str(label), width)) or str(label)


def _tidy(
    table: pd.DataFrame, x: str, value: str, hue: str | None, ci: tuple[str, str] | None
) -> pd.DataFrame:
    """Long frame: x, hue, value, lo, hi (published %), missing value = hidden."""

    def column(col: str | None) -> np.ndarray:
        if col is None:
            return np.full(len(table), np.nan)
        return pd.to_numeric(table[col], errors="coerce").astype(float).to_numpy()

    lo, hi = ci or (None, None)
    return pd.DataFrame({
        "x": table[x].astype(str).to_numpy(),
        "hue": table[hue].astype(str).to_numpy() if hue else "",
        "value": column(value), "lo": column(lo), "hi": column(hi),
    })


def say_caption(what: str, n: int, suppressed: int, min_cell: int, ci: bool = True,
                dots: bool = False) -> str:
    """A chart's caption (``templates/figures.md.j2``): what, n, how to read it, what is hidden."""
    from helpers.analysis.wording import say

    return say("figures", "caption", what=what, n=n, ci=ci, dots=dots, suppressed=suppressed,
               min_cell=min_cell, plain=True)


def _alt(data: pd.DataFrame, what: str, reference: float | None, reference_label: str) -> str:
    """The chart's finding in words: per series, the highest and lowest shown bar."""
    from helpers.analysis.wording import say

    series = []
    for hue, part in data.groupby("hue", sort=False):
        shown = part.dropna(subset=["value"])
        if shown.empty:
            continue
        top, low = shown.loc[shown["value"].idxmax()], shown.loc[shown["value"].idxmin()]
        series.append({"name": hue, "top": top["x"], "top_value": top["value"],
                       "low": low["x"], "low_value": low["value"], "bars": len(shown)})
    return say("figures", "alt", what=what, series=series, reference=reference,
               reference_label=reference_label, plain=True)


def _error(a: pd.Series, b: pd.Series) -> list[float | None]:
    """Error-bar lengths a − b of published percentages, rounded as published (no float tails)."""
    return [None if pd.isna(u) or pd.isna(v) else round_half_up(u - v, 1)
            for u, v in zip(a, b, strict=True)]


def _loose(ax: Any) -> None:
    """Room between the lines of a wrapped legend label: the browser draws the SVG's text in
    its own Japanese font, whose lines are taller than matplotlib's."""
    for text in ax.get_legend().get_texts():
        text.set_linespacing(1.6)


def _plot_area(width: float, height: float) -> tuple[Figure, Any]:
    """A figure that is its plot area (inches, at least one wide): ticks, labels and legend are
    drawn around it and kept by the box the SVG is saved with (``bbox_inches="tight"``), so a
    drawing needs no layout pass of its own and nothing is cut off, however long its labels."""
    fig, ax = plt.subplots(figsize=(max(width, 1.0), height))
    fig.subplots_adjust(left=0, right=1, bottom=0, top=1)
    plt.close(fig)  # drawn on demand (SVG, notebook display), never shown by a notebook backend
    return fig, ax


def _beside(labels: list[str], layout: dict[str, float]) -> float:
    """The plot area's width (inches) beside row labels: what the drawing's width leaves."""
    font = FontProperties(size=layout["tick"])
    widest = max(text_to_path.get_text_width_height_descent(line, font, ismath=False)[0]
                 for label in labels for line in label.split("\n"))
    return layout["width"] - widest / 72 - ROW_ROOM


def _draw_static(
    data: pd.DataFrame, reference: float | None, reference_label: str,
    layout: dict[str, float] = WIDE,
) -> Figure:
    """Bars of ``data``: vertical in the wide layout, horizontal (one line per bar, labels on
    the left, readable on a phone) in the narrow one. The title is the caption's, not drawn."""
    xs = list(dict.fromkeys(data["x"]))
    hues = list(dict.fromkeys(data["hue"]))
    width = 0.8 / len(hues)
    narrow = layout is NARROW
    bars = len(xs) * len(hues)
    labels = [escape.mpl(_wrap(x, 10 if narrow else (10 if len(xs) <= 4 else 6))) for x in xs]
    fig, ax = (_plot_area(_beside(labels, layout), 0.4 + 0.3 * bars) if narrow else
               _plot_area(layout["width"] - AXIS_ROOM, 3.2))
    top = float(np.nanmax([data["value"].max(), data["hi"].max(), reference or 0, 1]))
    bar = ax.barh if narrow else ax.bar
    for i, hue in enumerate(hues):
        part = data[data["hue"] == hue].set_index("x").reindex(xs)
        pos = np.arange(len(xs)) - 0.4 + width * (i + 0.5)
        shown = part["value"].notna().to_numpy()
        bar(pos[shown], part["value"][shown], width * 0.92, color=PALETTE[i % 8],
            label=escape.mpl(_wrap(hue, 12) if narrow else hue))
        if part["lo"].notna().any():
            err = np.vstack([part["value"] - part["lo"], part["hi"] - part["value"]])[:, shown]
            where = {"xerr" if narrow else "yerr": err}
            ax.errorbar(*((part["value"][shown], pos[shown]) if narrow else
                          (pos[shown], part["value"][shown])), **where, fmt="none",
                        ecolor="#333333", capsize=2.5, linewidth=1)
        else:
            for p, v in zip(pos[shown], part["value"][shown], strict=True):
                if narrow:
                    ax.text(v + top * 0.01, p, f"{v:.1f}", va="center", fontsize=layout["tick"])
                else:
                    ax.text(p, v + top * 0.01, f"{v:.1f}", ha="center", va="bottom",
                            fontsize=layout["tick"])
        for p in pos[~shown]:
            if narrow:
                ax.text(top * 0.02, p, SUPPRESSED, va="center", color="#555555")
            else:
                ax.text(p, top * 0.02, SUPPRESSED, ha="center", va="bottom", color="#555555")
    if reference is not None:
        line = ax.axvline if narrow else ax.axhline
        line(reference, color=OKABE_ITO["black"], linestyle="--", linewidth=1,
             label=escape.mpl(reference_label))
    if narrow:
        ax.set_yticks(np.arange(len(xs)), labels, fontsize=layout["tick"])
        ax.invert_yaxis()
        ax.set_xlim(0, top * 1.15)
        ax.tick_params(axis="x", labelsize=layout["tick"])
    else:
        ax.set_xticks(np.arange(len(xs)), labels, fontsize=layout["tick"])
        ax.set_ylim(0, top * 1.15)
        ax.set_ylabel("割合（%）", fontsize=layout["font"])
        ax.tick_params(axis="y", labelsize=layout["tick"])
    ax.set_xlabel("割合（%）" if narrow else "", fontsize=layout["font"])
    if len(hues) > 1 or reference is not None:
        long = max(len(h) for h in hues) >= 12 or (narrow and len(hues) > 2)
        if narrow:
            ax.legend(frameon=False, fontsize=layout["legend"], loc="lower left",
                      bbox_to_anchor=(0, 1.0), ncol=1 if long else 2)
        else:
            ax.legend(frameon=False, fontsize=layout["legend"], loc="upper center",
                      bbox_to_anchor=(0.5, -0.12), ncol=1 if long else 2)
        _loose(ax)
    return fig


def _draw_interactive(
    data: pd.DataFrame, title: str, reference: float | None, reference_label: str
) -> go.Figure:
    fig = go.Figure()
    for i, (hue, part) in enumerate(data.groupby("hue", sort=False)):
        has_ci = part["lo"].notna().any()
        extra = "%{fullData.name}" if hue else ""  # the trace's (escaped) name, not raw text
        fig.add_bar(
            x=part["x"].map(escape.plotly),
            y=part["value"],
            name=escape.plotly(hue) or "割合",
            marker_color=PALETTE[i % 8],
            error_y={"type": "data", "symmetric": False,
                     "array": _error(part["hi"], part["value"]),
                     "arrayminus": _error(part["value"], part["lo"]), "visible": bool(has_ci)},
            text=[SUPPRESSED if pd.isna(v) else "" for v in part["value"]],
            textposition="outside",
            hovertemplate=f"%{{x}}: %{{y:.1f}}%<extra>{extra}</extra>",
        )
    if reference is not None:
        fig.add_hline(y=reference, line_dash="dash", line_color=OKABE_ITO["black"],
                      annotation_text=escape.plotly(reference_label),
                      annotation_position="top left")
    fig.update_layout(title=escape.plotly(title), barmode="group", yaxis_title="割合（%）",
                      xaxis_title=None, showlegend=data["hue"].nunique() > 1,
                      margin={"t": 60, "b": 40})
    return fig


def bar_chart(
    table: pd.DataFrame,
    x: str,
    *,
    value: str = "p",
    hue: str | None = None,
    ci: tuple[str, str] | None = ("lo", "hi"),
    title: str,
    what: str,
    n: int,
    min_cell: int,
    reference: float | None = None,
    reference_label: str = "全体",
    interactive: bool = False,
) -> Chart:
    """Bars of published percentages (``value``, 0–100) by ``x`` (and ``hue``), with CIs if given.

    Missing values are hidden cells: no bar, a "—" in its place, and a note in the caption.
    ``reference`` (a published percentage) draws a dashed line (e.g. the overall rate) labelled
    ``reference_label``.
    """
    data = _tidy(table, x, value, hue, ci)
    caption = say_caption(what, n, int(data["value"].isna().sum()), min_cell, ci is not None)
    if interactive:
        return Chart(caption, title,
                     interactive=_draw_interactive(data, title, reference, reference_label))
    keep = ["x", *(["hue"] if hue else []), "value", *(["lo", "hi"] if ci else [])]
    return _static(_draw_static, data[keep], caption, title, what, reference, reference_label)


#: Headers of a chart's data (CSV).
DATA_HEADERS = {"x": "区分", "hue": "系列", "value": "割合（%）", "lo": "95%信頼区間 下限（%）",
                "hi": "95%信頼区間 上限（%）"}


def _static(
    drawing: Callable[..., Figure], data: pd.DataFrame, caption: str, title: str, what: str,
    reference: float | None, reference_label: str,
) -> Chart:
    """A static chart of ``data`` (its columns are the chart's data) drawn by ``drawing``."""
    full = data.reindex(columns=["x", "hue", "value", "lo", "hi"])
    full["hue"] = data.get("hue", "")
    shown = data.astype(object).where(data.notna(), SUPPRESSED).rename(columns=DATA_HEADERS)

    def draw(layout: dict[str, float]) -> Figure:
        return drawing(full, reference, reference_label, layout)

    key = (Hasher("chart").text(drawing.__name__)
           .text(full.to_json(orient="split", double_precision=15))
           .text(repr((reference, reference_label))).key())
    return Chart(caption, title, _alt(full, what, reference, reference_label), shown, draw,
                 key=key)


def _draw_dots(
    data: pd.DataFrame, reference: float | None, reference_label: str,
    layout: dict[str, float] = WIDE,
) -> Figure:
    """Dots with interval lines, one row per ``x`` (top to bottom), one colour per ``hue``
    (offset within the row); hidden values are a "—" at the left."""
    xs = list(dict.fromkeys(data["x"]))
    hues = list(dict.fromkeys(data["hue"]))
    step = 0.7 / max(len(hues), 1)
    labels = [escape.mpl(_wrap(x, 10)) for x in xs]
    fig, ax = _plot_area(_beside(labels, layout), 0.4 + 0.22 * len(xs) * max(len(hues), 2))
    top = float(np.nanmax([data["value"].max(), data["hi"].max(), reference or 0, 1]))
    for i, hue in enumerate(hues):
        part = data[data["hue"] == hue].set_index("x").reindex(xs)
        pos = np.arange(len(xs)) - 0.35 + step * (i + 0.5)
        shown = part["value"].notna().to_numpy()
        colour = PALETTE[i % 8]
        ax.hlines(pos[shown], part["lo"][shown], part["hi"][shown], color=colour, linewidth=1.2)
        ax.plot(part["value"][shown], pos[shown], "o", color=colour, markersize=5,
                label=escape.mpl(_wrap(hue, 12) if layout is NARROW else hue))
        for p in pos[~shown]:
            ax.text(top * 0.01, p, SUPPRESSED, va="center", color="#555555",
                    fontsize=layout["tick"])
    if reference is not None:
        ax.axvline(reference, color=OKABE_ITO["black"], linestyle="--", linewidth=1,
                   label=escape.mpl(reference_label))
    ax.set_yticks(np.arange(len(xs)), labels, fontsize=layout["tick"])
    ax.invert_yaxis()
    ax.set_xlim(0, top * 1.1)
    ax.set_xlabel("割合（%）", fontsize=layout["font"])
    ax.tick_params(axis="x", labelsize=layout["tick"])
    ax.legend(frameon=False, fontsize=layout["legend"], loc="lower left", bbox_to_anchor=(0, 1.0),
              ncol=1 if layout is NARROW else 3)
    _loose(ax)
    return fig


def dot_chart(
    table: pd.DataFrame,
    y: str,
    *,
    hue: str,
    title: str,
    what: str,
    n: int,
    min_cell: int,
    reference: float | None = None,
    reference_label: str = "全体",
) -> Chart:
    """A dot plot of published percentages ``p`` with their intervals ``lo``–``hi``: one row
    per ``y``, one colour per ``hue`` (e.g. towns), for comparing many groups at a glance."""
    data = _tidy(table, y, "p", hue, ("lo", "hi"))
    caption = say_caption(what, n, int(data["value"].isna().sum()), min_cell, dots=True)
    return _static(_draw_dots, data, caption, title, what, reference, reference_label)
