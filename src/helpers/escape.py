"""The one escaping boundary: text from users becomes markup only through this module.

Town files, code sheets and raw exports are written outside the project, and their strings (town
and district names, titles, labels, vendor values quoted in messages) reach Markdown, HTML, Quarto
front matter, charts, Typst, the console and spreadsheets. Whatever such a string contains, the
reader sees the characters the user typed: never an element, a formula, emphasis or a shortcode.
Each target has one function here; nothing else puts a user string into markup.

- ``md``: Markdown (notebook text, generated pages, pipe-table cells; Pandoc and CommonMark):
  every ASCII punctuation character backslash-escaped, line breaks made spaces; ``md_row``: a
  pipe-table row of such cells;
- ``meta``: Quarto metadata (front matter, navbar): ``md``, and the shortcode delimiters
  ``{{<`` ``>}}`` split (Quarto runs shortcodes on parsed metadata: 「{{< env HOME >}}」 in a
  title would print an environment variable);
- ``html``: HTML text and attribute values (``& < > " '``); ``html_table``: a data frame as a
  notebook's HTML table, cells and headers escaped;
- ``plotly``: titles, legends, tick and hover labels (``& < >`` and the ``$`` of LaTeX, as
  entities plotly decodes);
- ``mpl``: matplotlib text (``$`` would start mathtext);
- ``typst``: Typst markup, for the PDF report (every ASCII punctuation character escaped);
- ``console``: rich console messages (the string becomes a ``Text``, never read as markup);
- ``formula_safe``, ``csv_cells``: spreadsheet cells (a leading ``= + - @``, tab or CR gets a
  leading ``'``, as OWASP's CSV-injection guidance recommends).

The report's own wording is not escaped: it may hold markup on purpose. Every value that comes
from a town file, a code sheet, a raw file or the data (names, titles, answer labels) is escaped
where it enters markup, and only there, so it is never escaped twice.
"""

from __future__ import annotations

import html as _html
import re
import unicodedata
from collections.abc import Iterable
from typing import TYPE_CHECKING

from rich.text import Text

if TYPE_CHECKING:
    import pandas as pd
    from pandas.io.formats.style import Styler

#: Every ASCII punctuation character: each may be backslash-escaped in Pandoc's Markdown, in
#: CommonMark and in Typst, and then stands for itself.
_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")
#: Quarto's shortcode delimiters after Markdown escaping (it looks for them in parsed metadata).
_SHORTCODE = re.compile(r"(\\\{\\\{)(\\<)|(\\>)(\\\}\\\})")
#: Characters a spreadsheet reads as the start of a formula (OWASP "CSV injection"), and their
#: full-width forms (to be safe with Japanese input conversion).
_FORMULA_START = tuple("=+-@\t\r＝＋－＠")
#: Cells that start like a formula but cannot be one: a number (-3, +1.5e3) or a lone dash.
_NOT_A_FORMULA = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?|-+")


def _backslashed(text: object) -> str:
    """The text on one line (a line break would end a block), every ASCII punctuation character
    backslash-escaped."""
    return _PUNCTUATION.sub(r"\\\1", " ".join(str(text).splitlines()))


def md(text: object) -> str:
    r"""A user string as Markdown text that renders as exactly these characters.

    >>> print(md("A*B地区 [1] <b>"))
    A\*B地区 \[1\] \<b\>
    """
    return _backslashed(text)


def md_row(cells: Iterable[object]) -> str:
    r"""A Markdown pipe-table row, every cell (names, values, numbers) shown as typed.

    >>> print(md_row(["a|b", 3, "<i>"]))
    | a\|b | 3 | \<i\> |
    """
    return "| " + " | ".join(md(cell) for cell in cells) + " |"


def md_code(text: object) -> str:
    """A user string (a file name) as a Markdown code span showing exactly these characters, on
    one line: fenced by one backtick more than its longest run of backticks (CommonMark).

    >>> print(md_code("a`b"))
    ``a`b``
    """
    text = " ".join(str(text).splitlines())
    fence = "`" * (max(map(len, re.findall("`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def meta(text: object) -> str:
    """A user string for Quarto metadata (a page's title, a navbar entry): Markdown text in which
    Quarto finds no shortcode (an empty span splits ``{{<`` and ``>}}``)."""
    return _SHORTCODE.sub(lambda m: "[]{}".join(g for g in m.groups() if g), md(text))


def html(text: object) -> str:
    """A user string as HTML text or a quoted attribute value."""
    return _html.escape(str(text), quote=True)


def html_table(frame: pd.DataFrame) -> Styler:
    """A table for a notebook's HTML output, without its index; cells and headers are text."""
    return (
        frame.style.hide(axis="index")
        .format(escape="html")
        .format_index(escape="html", axis=1)
    )


def plotly(text: object) -> str:
    """A user string for a plotly title, legend, axis or hover label (plotly reads a subset of
    HTML and, with MathJax on the page, LaTeX between ``$``)."""
    return _html.escape(str(text), quote=False).replace("$", "&#36;")


def mpl(text: object) -> str:
    """A user string for matplotlib text (two ``$`` would start mathtext)."""
    return str(text).replace("$", r"\$")


def typst(text: object) -> str:
    """A user string as Typst markup text (for the PDF report)."""
    return _backslashed(text)


def console(text: object) -> Text:
    """A user string for a rich console message, as a ``Text`` (a ``str`` would be read as rich
    markup: ``[red]`` as a style, ``[/]`` as an error). Print it beside markup:
    ``err.print("[bold red]error:[/]", console(message))``."""
    return Text(str(text))


def formula_safe(value: object) -> object:
    """A spreadsheet cell that cannot start a formula: text starting with ``= + - @``, tab or CR
    gets a leading ``'`` (numbers such as ``-3`` and a lone dash stay as they are).

    >>> formula_safe("=1+1"), formula_safe("@SUM(A1)"), formula_safe("-3"), formula_safe("-")
    ("'=1+1", "'@SUM(A1)", '-3', '-')
    """
    if not isinstance(value, str) or not value.startswith(_FORMULA_START):
        return value
    if _NOT_A_FORMULA.fullmatch(unicodedata.normalize("NFKC", value).strip()):
        return value
    return "'" + value


def csv_cells(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` for writing as CSV, every text cell passed through ``formula_safe``."""
    from pandas.api.types import is_bool_dtype, is_numeric_dtype

    out = frame.copy()
    for col in out.columns:
        if not (is_numeric_dtype(out[col]) or is_bool_dtype(out[col])):
            out[col] = out[col].astype(object).map(formula_safe)
    out.columns = [formula_safe(c) for c in out.columns]
    return out
