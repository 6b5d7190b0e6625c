"""Report sections (BRIEF §6): one module per section, each returning a result that the report
notebook shows (text, figures, tables) and that goes into results.json and the Excel tables.

Typical use (what ``notebooks/municipal_report.ipynb`` does)::

    report = analyse_town(load_survey("iiyama"), load_town("iiyama"))
    report.show("smalltown")
    write_outputs(report, out_dir)
"""

from helpers.analysis.common import Options, Table
from helpers.analysis.context import Context, prepare
from helpers.analysis.report import SECTIONS, Report, analyse_town
from helpers.analysis.results import (
    DisclosureError,
    build_results,
    write_json,
    write_outputs,
)

__all__ = [
    "SECTIONS",
    "Context",
    "DisclosureError",
    "Options",
    "Report",
    "Table",
    "analyse_town",
    "build_results",
    "prepare",
    "write_json",
    "write_outputs",
]
