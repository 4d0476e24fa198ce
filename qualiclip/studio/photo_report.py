"""The Robustness tab's report over a reviewer's photos: its limits, its table and its summary.

The report itself is the library's (:func:`qualiclip.evaluation.robustness_report.robustness_report`,
the code of ``qualiclip eval-synthetic``); here is what the app adds: how much one request may
compute (:data:`MAX_PHOTOS`, :data:`MAX_SCORED_MEGAPIXELS`, sized so its GPU booking stays under
the long cap of :mod:`qualiclip.studio.bookings`), the table a visitor reads and a summary in words.
"""
from __future__ import annotations

import pandas as pd

from qualiclip.degradations import ALL_LEVELS
from qualiclip.evaluation.robustness_report import RobustnessReport, report_types

from .formatting import Column
from .robustness import type_label

#: Most photos one report takes.
MAX_PHOTOS = 20
#: Most megapixels one report scores (photos' megapixels x types x models x levels): the time it takes.
MAX_SCORED_MEGAPIXELS = 60.0
#: Decimals the table shows (the CSV keeps six).
TABLE_DECIMALS = 4
#: The report table's columns, with their widths on the page.
REPORT_TABLE = [Column("model", "150px"), Column("distortion", "230px"), Column("spearman", "90px"),
                Column("monotone fraction", "110px"), Column("pairwise accuracy", "110px"), Column("photos", "70px")]


def limits_text(max_side: int | None) -> str:
    """The limits in words, with what one 3:2 photo at the app's scoring size costs (for the UI)."""
    text = (f"Limits: at most {MAX_PHOTOS} photos and {MAX_SCORED_MEGAPIXELS:.0f} megapixels scored per report "
            f"(photos x types x models x {len(ALL_LEVELS)} levels; every available model is in the report).")
    if max_side:
        width, height, all_types = max_side, max_side * 2 // 3, len(report_types())
        text += (f" Photos are scored with their longer side at most {max_side} px: one {width}x{height} photo "
                 f"with all {all_types} types is {width * height / 1e6 * all_types * len(ALL_LEVELS):.0f} MP per "
                 "model; choose a few types to compare several models or photos.")
    return text


def report_table(report: RobustnessReport, titles: dict[str, str]) -> pd.DataFrame:
    """One row per model and type (then the model's ``overall``), as :data:`REPORT_TABLE`; models by ``titles``."""
    rows = [[titles.get(row.model, row.model), "overall" if row.distortion == "overall" else type_label(row.distortion),
             row.spearman, row.monotone_fraction, row.pairwise_accuracy, row.images] for row in report.rows]
    table = pd.DataFrame(rows, columns=[column.name for column in REPORT_TABLE])
    return table.round(TABLE_DECIMALS)


def summary(report: RobustnessReport, titles: dict[str, str]) -> str:
    """Per model: the overall Spearman and monotone fraction, and the types whose score falls least reliably."""
    lines = []
    for model in report.records:
        rows = [row for row in report.rows if row.model == model]
        overall = next(row for row in rows if row.distortion == "overall")
        typed = sorted((row for row in rows if row.distortion != "overall"), key=lambda row: row.spearman)
        weakest = ", ".join(f"{type_label(row.distortion)} ({row.spearman:.2f})"
                            for row in [row for row in typed if row.monotone_fraction < 1][:3])
        line = (f"**{titles.get(model, model)}**: mean Spearman(level, score) {overall.spearman:.3f} over "
                f"{len(typed)} type{'s' * (len(typed) != 1)}; {overall.monotone_fraction:.0%} of the photos' series "
                "fall monotonically.")
        lines.append(line + (f" Least reliable: {weakest}." if weakest else ""))
    return "\n\n".join(lines)
