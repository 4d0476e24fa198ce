"""The Compare tab: the main image under every model this app knows, with each model's heatmaps."""
from __future__ import annotations

import gradio as gr

from ..callbacks import compare_table_columns
from . import DISPLAY_FORMAT, Page, TabParts, dataframe, download_buttons

LABEL = "Compare"


def build(page: Page, tab: gr.Tab) -> TabParts:
    """The button, the table, the line on unavailable models, the CSV and the heatmaps, wired."""
    gr.Markdown("The same image under every model this app knows. "
                "Below, what pulls each model's score towards good and towards bad. "
                "QualiCLIP+ rows score with pyiqa's formula (cosines x about 50, not 100).")
    button = gr.Button("Compare on this image", variant="primary")
    table = dataframe(compare_table_columns(page.studio.primary.prompt_pairs), label="Models", interactive=False,
                      wrap=True)
    summary = gr.Markdown(elem_id="compare-summary")
    [csv] = download_buttons("Download table (CSV)")
    gallery = gr.Gallery(label="Heatmaps per model (Grad-CAM of its score)", columns=2, format=DISPLAY_FORMAT,
                         interactive=False)
    page.endpoints.wire(button.click, page.handlers.compare_models, page.bookings.compare, inputs=page.image,
                        outputs=[table, gallery, summary, csv], api_name="compare")
    return TabParts(dict.fromkeys([table, summary, csv, gallery]))
