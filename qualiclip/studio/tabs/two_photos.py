"""The Two photos tab: which of two shots is better (both gauges, the difference in words, both photos in one
before/after slider, both photos' maps).

It has images of its own (the main image is hidden while it is shown) and clears and compares them itself.
"""
from __future__ import annotations

import gradio as gr

from ..callbacks import TWO_PHOTOS_TAB
from ..inputs import checked_image
from . import DISPLAY_FORMAT, Page, TabParts, before_after, raw_result

LABEL = TWO_PHOTOS_TAB


def build(page: Page, tab: gr.Tab) -> TabParts:
    """Both photos with their gauges, the verdict, both in one slider, the maps and the result; a new photo clears
    them and compares again."""
    gr.Markdown("Which of two shots is better? Add both: their scores, the difference, and "
                "what pulls each one up or down (Grad-CAM of its score).")
    with gr.Row():
        with gr.Column(min_width=160):
            photo_a = checked_image(label="Photo A", sources=["upload", "clipboard"], elem_id="photo-a", height=240)
            gauge_a = gr.HTML(elem_id="gauge-a")
        with gr.Column(min_width=160):
            photo_b = checked_image(label="Photo B", sources=["upload", "clipboard"], elem_id="photo-b", height=240)
            gauge_b = gr.HTML(elem_id="gauge-b")
    verdict = gr.Markdown(elem_id="two-verdict")
    pair = before_after("Photo A | Photo B (drag to compare)", "two-slider")
    gallery = gr.Gallery(label="Heatmaps: towards good, towards bad (A, then B)", columns=2, format=DISPLAY_FORMAT,
                         interactive=False, elem_id="two-maps")
    outputs = [gauge_a, gauge_b, verdict, gallery, pair, raw_result()]
    photos, wire = [photo_a, photo_b], page.endpoints.wire
    cleared = wire([photo_a.change, photo_b.change], lambda: dict.fromkeys(outputs), outputs=outputs, queue=False,
                   show_progress="hidden")
    compared = wire(cleared.then, page.handlers.compare_two_photos, page.bookings.two_photos, inputs=photos,
                    outputs=outputs, api_name="two_photos", quiet_outputs=True)
    wire(compared.failure, page.handlers.two_photos_error, inputs=photos, outputs=verdict, heavy=True)
    return TabParts()
