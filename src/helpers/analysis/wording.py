"""The report's Japanese wording, kept in templates: one per section
(``helpers/analysis/templates/<section>.md.j2``, jinja2), so that people who do not program can
review and edit it. Code computes the records; a template says them.

Each template defines macros (``summary``, ``details``, …) called with the section's published
records. Macros are called from code, not from each other (a macro's output would be
escaped again). In a template, every value is text from the data or a town file and is escaped for
Markdown (``helpers.escape.md``) unless a filter formats it as a number:

- ``pct``: a published percentage, 「32.8%」; ``ci``: a record's interval, 「（95%信頼区間 …）」;
- ``people``: a count of respondents, 「643人」; ``p``: a p-value, 「p<0.001」;
- ``points(a, b)``: the difference of two percentages, 「9.3ポイント」 (``gap``: its size,
  without a sign, for 「…より 9.3ポイント低く」); ``num(d)``: a number
  with ``d`` decimals (half up); ``quoted``: labels as 「a」「b」; ``listed``: labels joined by 、.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from helpers import escape
from helpers.stats import fmt_ci, fmt_n, fmt_p, fmt_percent, fmt_points, points, round_half_up


def _finalize(value: Any, markdown: bool = True) -> str:
    if isinstance(value, bool) or value is None:
        raise TypeError(f"a template printed {value!r}: format it or test it instead")
    if isinstance(value, str) and not isinstance(value, Markup) and markdown:
        return escape.md(value)
    return str(value)


def _ci(record: dict[str, Any], suffix: str = "") -> Markup:
    return Markup(fmt_ci(record.get(f"lo{suffix}"), record.get(f"hi{suffix}")))


def _num(value: float, digits: int = 1) -> Markup:
    return Markup(f"{round_half_up(float(value), digits):,.{digits}f}")


@cache
def environment(markdown: bool = True) -> Environment:
    """The templates' environment (``StrictUndefined``: a misspelt field is an error); with
    ``markdown=False`` for plain text (alt text, captions), values are not escaped."""

    def text(x: Any) -> str:
        return escape.md(x) if markdown and not isinstance(x, Markup) else str(x)

    env = Environment(
        loader=PackageLoader("helpers.analysis", "templates"),
        undefined=StrictUndefined,
        finalize=lambda v: _finalize(v, markdown),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
        autoescape=False,
    )
    env.filters.update(
        pct=lambda v: Markup(fmt_percent(v)),
        ci=_ci,
        people=lambda n: Markup(fmt_n(n)),
        p=lambda v: Markup(fmt_p(v)),
        points=lambda a, b: Markup(fmt_points(a, b)),
        gap=lambda a, b: Markup(fmt_points(abs(points(a, b)), 0)),
        num=_num,
        quoted=lambda labels: Markup("".join(f"「{text(x)}」" for x in labels)),
        listed=lambda labels, sep="、": Markup(sep.join(text(x) for x in labels)),
    )
    return env


def say(section: str, part: str, plain: bool = False, **fields: Any) -> str:
    """Macro ``part`` of ``templates/<section>.md.j2`` filled with ``fields``, as Markdown.

    ``plain=True``: plain text (values not escaped for Markdown). Paragraphs are separated by
    blank lines; the lines of one paragraph are joined without a
    space (a line break inside Japanese text would show as a stray space), except list items
    (lines starting with 「- 」), which stay on lines of their own.
    """
    macro = getattr(environment(not plain).get_template(f"{section}.md.j2").module, part)
    paragraphs = []
    for block in str(macro(**fields)).split("\n\n"):
        lines = [line.strip() for line in block.splitlines() if line.strip()]
        text = ""
        for line in lines:
            text += ("\n" if text and line.startswith("- ") else "") + line
        if text:
            paragraphs.append(text)
    return "\n\n".join(paragraphs)
