"""The main image and what a new one does: the left column (image, score, band key, examples, limits)
and the upload event every image tab shares.

A new image clears what every tab declared stale (:func:`~qualiclip.studio.tabs.stale_outputs`), then
one call (:meth:`Callbacks.analyse_upload`, one GPU call on ZeroGPU) fills the tabs' upload parts; on
failure the reason is said once, in place of the Score and Robustness gauges. Opening a tab with inputs
of its own hides the column.
"""
from __future__ import annotations

import gradio as gr
from gradio.blocks import Block

from . import EXAMPLES_DIR, page_text
from .gpu import on_zero_gpu
from .inputs import checked_image
from .model_slots import Studio
from .tabs import Page, TabParts, stale_outputs
from .formatting import NO_SCORE_HTML, band_key

EXAMPLES = sorted(str(p) for p in EXAMPLES_DIR.glob("*.jpg"))


def main_column(studio: Studio) -> tuple[gr.Column, gr.Image, gr.HTML]:
    """The left column: the image (upload, paste, webcam), its score, the band key, the examples, the limits."""
    with gr.Column(scale=2) as column:
        image = checked_image(label="Image", sources=["upload", "clipboard", "webcam"], elem_id="input-image")
        gauge = gr.HTML(NO_SCORE_HTML, label="Score", elem_id="score-gauge")
        gr.HTML(band_key(), elem_id="band-key-block")
        gr.Examples(EXAMPLES, inputs=image, label="Examples (click one)",
                    example_labels=page_text.example_labels(EXAMPLES, studio))
        with gr.Accordion("Limits", open=False):
            gr.Markdown(page_text.LIMITS_MARKDOWN)
    return column, image, gauge


def upload_settings(page: Page, parts: dict[str, TabParts]) -> list[Block]:
    """The upload event's inputs after the image, in :meth:`Callbacks.analyse_upload`'s order: the tabs'
    settings, then the tab shown."""
    return [*(i for part in parts.values() if part.upload is not None for i in part.upload.inputs), page.shown_tab]


def start_example_results(page: Page, parts: dict[str, TabParts]) -> None:
    """Compute every example's upload results with the page's starting settings, in the background
    (:mod:`~qualiclip.studio.example_results`); nothing on ZeroGPU, where no GPU is there to do it."""
    if not on_zero_gpu():
        page.handlers.examples.start(page.handlers.analyse_upload, EXAMPLES,
                                     tuple(block.value for block in upload_settings(page, parts)))


def wire_main_image(page: Page, column: gr.Column, tabs: gr.Tabs, parts: dict[str, TabParts]) -> None:
    """The upload event (see the module docstring) and the tab selector's events."""
    handlers, wire, image = page.handlers, page.endpoints.wire, page.image
    stale = stale_outputs(parts)
    uploads = [part.upload for part in parts.values() if part.upload is not None]
    cleared = wire(image.change, lambda: stale, outputs=list(stale), queue=False, show_progress="hidden")
    scored = wire(cleared.then, handlers.analyse_upload, page.bookings.upload,
                  inputs=[image, *upload_settings(page, parts)], outputs=[o for part in uploads for o in part.outputs],
                  quiet_outputs=True, optional_input=True)
    cards = [page.gauge, *(part.error_card for part in uploads if part.error_card is not None)]
    wire(scored.failure, handlers.input_error, inputs=image, outputs=cards, heavy=True)
    wire(tabs.select, handlers.selected_tab, outputs=page.shown_tab)
    wire(tabs.select, handlers.main_image_shown, outputs=column, queue=False)
