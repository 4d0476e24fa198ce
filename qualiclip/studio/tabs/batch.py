"""The Batch tab: many files scored into one sortable table, and its CSV. It has inputs of its own."""
from __future__ import annotations

import gradio as gr

from .. import batch
from ..callbacks import BATCH_TAB
from . import Page, TabParts, dataframe, download_buttons

LABEL = BATCH_TAB


def build(page: Page, tab: gr.Tab) -> TabParts:
    """The files, the button, the order and the results table with its CSV, wired."""
    files = gr.File(file_count="multiple", label="Image files", type="filepath")
    button = gr.Button("Score all files", variant="primary")
    order = gr.Radio(list(batch.ORDERS), label="Order of the results", elem_id="batch-order")
    table = dataframe(batch.table_columns(page.studio.primary.prompt_pairs), label="Results", interactive=False,
                      wrap=True, elem_id="batch-table")
    [csv_file] = download_buttons("Download CSV")
    wire = page.endpoints.wire
    scored = wire(button.click, page.handlers.batch_score, page.bookings.batch, inputs=files,
                  outputs=[table, csv_file], api_name="batch")
    for trigger in (order.change, scored.success):
        wire(trigger, batch.sorted_table, inputs=[table, order], outputs=table, queue=False)
    return TabParts()
