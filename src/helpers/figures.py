"""One visual theme for every report figure: static (matplotlib/seaborn) and interactive (plotly).

Every figure function returns a :class:`Chart`: the figure plus a Japanese caption that says what
the figure shows and on how many respondents it rests. Figures draw published values only
(percentages with one decimal, from ``helpers.analysis.publish``): bars whose value is missing
(hidden to protect respondents) are not drawn, a "—" marks their place and the caption says why;
the chart data inside a page (plotly) hold no number a table does not show. Labels, titles and
captions are text: they pass ``helpers.escape`` on the way into plotly, matplotlib or Markdown.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from typing import Any

import matplotlib.pyplot as plt
import matplotlib_fontja
import numpy as np
import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
import seaborn as sns
from matplotlib.figure import Figure

from helpers import escape
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
    pio.templates["tsunagari"] = go.layout.Template(
        layout={
            "colorway": PALETTE,
            "font": {"family": PLOTLY_FONT, "size": 13},
            "hoverlabel": {"font": {"family": PLOTLY_FONT}},
        }
    )
    pio.templates.default = "plotly_white+tsunagari"


@dataclass
class Chart:
    """A figure and its caption (what it shows, its n, what was left out)."""

    figure: Figure | go.Figure
    caption: str

    def show(self) -> None:
        """Display the figure and its caption in a notebook."""
        from IPython.display import Markdown, display

        if isinstance(self.figure, go.Figure):
            self.figure.show()
        else:
            display(self.figure)
            plt.close(self.figure)
        display(Markdown(f"*{escape.md(self.caption)}*"))


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


def _caption(what: str, n: int, ci: bool, suppressed: int, min_cell: int) -> str:
    text = f"図：{what}（回答者 n = {n:,}）。"
    if ci:
        text += "棒は割合、線は95%信頼区間。"
    if suppressed:
        text += (
            f"{suppressed}区分は、回答者保護のため表示していません（{SUPPRESSED}：{min_cell}人未満"
            "の区分と、計算で人数が分かってしまう区分）。"
        )
    return text


def _error(a: pd.Series, b: pd.Series) -> list[float | None]:
    """Error-bar lengths a − b of published percentages, rounded as published (no float tails)."""
    return [None if pd.isna(u) or pd.isna(v) else round_half_up(u - v, 1)
            for u, v in zip(a, b, strict=True)]


def _draw_static(
    data: pd.DataFrame, title: str, reference: float | None, reference_label: str
) -> Figure:
    xs = list(dict.fromkeys(data["x"]))
    hues = list(dict.fromkeys(data["hue"]))
    width = 0.8 / len(hues)
    fig, ax = plt.subplots(figsize=(max(6.0, 0.45 * len(xs) * len(hues) + 2.5), 4.2))
    top = float(np.nanmax([data["value"].max(), data["hi"].max(), reference or 0, 1]))
    for i, hue in enumerate(hues):
        part = data[data["hue"] == hue].set_index("x").reindex(xs)
        pos = np.arange(len(xs)) - 0.4 + width * (i + 0.5)
        shown = part["value"].notna().to_numpy()
        ax.bar(pos[shown], part["value"][shown], width * 0.92, color=PALETTE[i % 8],
               label=escape.mpl(hue))
        if part["lo"].notna().any():
            err = np.vstack(
                [part["value"] - part["lo"], part["hi"] - part["value"]]
            )[:, shown]
            ax.errorbar(pos[shown], part["value"][shown], yerr=err, fmt="none", ecolor="#333333",
                        capsize=2.5, linewidth=1)
        else:
            for p, v in zip(pos[shown], part["value"][shown], strict=True):
                ax.text(p, v + top * 0.01, f"{v:.1f}", ha="center", va="bottom", fontsize=8)
        for p in pos[~shown]:
            ax.text(p, top * 0.02, SUPPRESSED, ha="center", va="bottom", color="#555555")
    if reference is not None:
        ax.axhline(reference, color=OKABE_ITO["black"], linestyle="--", linewidth=1,
                   label=escape.mpl(reference_label))
    ax.set_xticks(np.arange(len(xs)), [escape.mpl(_wrap(x, 10 if len(xs) <= 4 else 6)) for x in xs])
    ax.set_ylim(0, top * 1.15)
    ax.set_ylabel("割合（%）")
    ax.set_xlabel("")
    ax.set_title(escape.mpl(title))
    if len(hues) > 1 or reference is not None:
        ax.legend(frameon=False, fontsize=9, loc="upper center", bbox_to_anchor=(0.5, -0.16),
                  ncol=2 if max(len(h) for h in hues) < 12 else 1)
    fig.tight_layout()
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
    draw = _draw_interactive if interactive else _draw_static
    figure = draw(data, title, reference, reference_label)
    caption = _caption(what, n, ci is not None, int(data["value"].isna().sum()), min_cell)
    return Chart(figure, caption)
