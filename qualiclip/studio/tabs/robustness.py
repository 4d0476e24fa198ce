"""The Robustness tab: the image degraded at one level (the preview), and sweeps of every level with every model.

The preview is part of the upload event while this tab is shown (its :class:`~qualiclip.studio.tabs.UploadPart`),
and runs by itself when the tab is opened or the type or level changes.
"""
from __future__ import annotations

import gradio as gr

from .. import photo_report as reports
from .. import robustness
from ..callbacks import ROBUSTNESS_TAB
from . import Page, TabParts, UploadPart, before_after, dataframe, download_buttons, raw_result

LABEL = ROBUSTNESS_TAB


def build(page: Page, tab: gr.Tab) -> TabParts:
    """The preview (type, level, both gauges, original and degraded in one slider, the result) and the sweep, wired."""
    with gr.Row():
        degradation = gr.Dropdown(robustness.degradation_choices(), value="gaussian_blur", label="Distortion type",
                                  min_width=240)
        level = gr.Slider(0, 5, value=3, step=1, label="Level (0 = original)", elem_id="level-slider", min_width=240)
    levels = gr.Markdown(robustness.level_key("gaussian_blur"), elem_id="level-key")
    with gr.Row():
        original_gauge = gr.HTML(elem_id="original-gauge", min_width=160)
        degraded_gauge = gr.HTML(elem_id="degraded-gauge", min_width=160)
    pair = before_after("Original | degraded (drag to compare)", "degraded-slider")
    preview_outputs = [pair, original_gauge, degraded_gauge, raw_result()]
    page.endpoints.wire([tab.select, degradation.change, level.change], page.handlers.robustness_preview,
                        page.bookings.preview, inputs=[page.image, degradation, level], outputs=preview_outputs,
                        trigger_mode="always_last", api_name="robustness", quiet_outputs=True)
    page.endpoints.wire(degradation.change, robustness.level_key, inputs=degradation, outputs=levels, queue=False)
    sweep_outputs = sweep(page, degradation)
    photo_report(page)
    upload = UploadPart([degradation, level], preview_outputs, error_card=degraded_gauge)
    return TabParts(dict.fromkeys([*preview_outputs, *sweep_outputs]), upload)


def sweep(page: Page, degradation: gr.Dropdown) -> list:
    """The sweep of every level with every model (one type or all), wired; its outputs."""
    with gr.Row():
        every_type = gr.Checkbox(label="Sweep every type (about 25x longer)")
        button = gr.Button("Sweep levels 0-5 with every model", variant="primary")
    summary = gr.Markdown(elem_id="sweep-summary")
    plot = gr.Plot(label="Score vs level (one panel per distortion group)", elem_id="sweep-plot")
    table = dataframe(robustness.SWEEP_TABLE, label="Scores per level", interactive=False, elem_id="sweep-table")
    csv, png = download_buttons("Download table (CSV)", "Download plot (PNG)")
    page.endpoints.wire(button.click, page.handlers.sweep_image, page.bookings.sweep,
                        inputs=[page.image, degradation, every_type], outputs=[plot, table, summary, csv, png],
                        api_name="sweep")
    return [summary, plot, table, csv, png]


def photo_report(page: Page) -> None:
    """The robustness report over the visitor's own photos (inputs of its own: the main image is not used), wired."""
    with gr.Accordion("Robustness report over your photos", open=False, elem_id="report-section"):
        gr.Markdown("Degrade each of your photos at levels 0-5 of every chosen type and score each with every "
                    "model: does the score fall with the level? The numbers are those of `qualiclip eval-synthetic` "
                    "on the same photos (in this order), types and seed.\n\n"
                    + reports.limits_text(page.studio.primary.max_side))
        files = gr.File(file_count="multiple", label="Your photos", type="filepath", elem_id="report-files")
        with gr.Row():
            types = gr.Dropdown(robustness.degradation_choices(), value=[], multiselect=True, min_width=240,
                                label="Distortion types (none chosen: all 24)", elem_id="report-types")
            seed = gr.Number(0, precision=0, label="Seed", min_width=100)
        button = gr.Button("Build the report", variant="primary")
        summary = gr.Markdown(elem_id="report-summary")
        plot = gr.Plot(label="Mean score vs level, +-1 sd over the photos (one panel per type)", show_label=False,
                       elem_id="report-plot")  # the label would cover the figure's legend
        table = dataframe(reports.REPORT_TABLE, label="Per model and type", interactive=False, elem_id="report-table")
        csv, png = download_buttons("Download report (CSV)", "Download figure (PNG)")
    page.endpoints.wire(button.click, page.handlers.robustness_report, page.bookings.robustness_report,
                        inputs=[files, types, seed], outputs=[plot, table, summary, csv, png],
                        api_name="robustness_report")
