"""The app's page: :func:`build_demo` composes the main image column and the tabs; :func:`launch` serves it.

Composition only: each tab lays out and wires itself (:mod:`qualiclip.studio.tabs`), every handler goes
through :mod:`qualiclip.studio.endpoints`, and what happens on each event lives in
:mod:`qualiclip.studio.callbacks` and below.
Building a demo loads nothing: it is given a :class:`Studio` (the models), so tests build one on a
tiny model and ``app.py`` on the real ones.
"""
from __future__ import annotations


import gradio as gr

from . import page_text
from .bookings import Bookings
from .callbacks import SCORE_TAB, Callbacks
from .endpoints import Endpoints
from .gpu import on_zero_gpu
from .inputs import MAX_UPLOAD_MB
from .main_image import main_column, start_example_results, wire_main_image
from .model_slots import Studio
from .switches import switched_on
from .tabs import Page, build_tabs

#: Set to 0 (or false/no/off) to serve no MCP: by default the app is also an MCP server (see :func:`launch`).
MCP_ENV = "QUALICLIP_STUDIO_MCP"
#: Requests waiting at most on ZeroGPU (Gradio would make it 1 there: a second visitor refused).
ZERO_GPU_QUEUE_SIZE = 256
#: Uploads and generated files are deleted from Gradio's cache after an hour (checked every 10 min).
CACHE_CLEANUP = (600, 3600)
CSS = """
#weights-banner {background: var(--color-accent-soft); padding: 0.4em 1em; border-radius: 8px;}
.qc-gauge {padding: 0.5em 0;}
.qc-score-value {font-size: 2.4em; font-weight: 700;}
.qc-label {font-size: 1.3em; margin-left: 0.4em;}
.qc-bar {height: 12px; background: var(--neutral-200); border-radius: 6px; overflow: hidden; margin-top: 0.3em;}
.qc-bar > div {height: 100%;}
.qc-caption {color: var(--body-text-color-subdued); margin-top: 0.3em;}
.qc-error {border-left: 4px solid #c0392b; padding: 0.5em 0.8em; background: var(--background-fill-secondary);}
/* The band key reads as part of the score above it: no gap or padding between the two. */
#band-key-block {margin-top: calc(-1 * var(--layout-gap));}
#score-gauge .html-container {padding-bottom: 0;}
#band-key-block .html-container {padding-top: 0;}
.qc-scale {display: flex; align-items: center; gap: 0.5em; font-size: 0.9em;}
.qc-scale-bar {flex: 1; height: 10px; border-radius: 5px; max-width: 320px;}
/* Quiet outputs (endpoints.QUIET_CLASS), of the handlers that run by themselves on a new image: their error is
   said once, in place of the score (Callbacks.input_error), so Gradio's "Error" pills would only cover it. */
.qc-quiet [data-testid="status-tracker"]:has(.error) {display: none !important;}
@media (max-width: 640px) {
  #input-image {height: 240px !important;}
  #weights-banner {font-size: 0.85em;}
}
"""


def build_demo(studio: Studio, example_results: bool = False) -> gr.Blocks:
    """The whole app for ``studio``'s models: the main image column, every tab of :mod:`qualiclip.studio.tabs`
    (each wiring its own events), the upload event they share, and the queue configured. With
    ``example_results``, the examples' results are computed in the background from now on
    (:func:`~qualiclip.studio.main_image.start_example_results`)."""
    handlers = Callbacks(studio)
    with gr.Blocks(title="QualiCLIP Studio", delete_cache=CACHE_CLEANUP) as demo:
        gr.Markdown(page_text.HEADER)
        gr.Markdown(studio.banner, elem_id="weights-banner")
        with gr.Row():
            column, image, gauge = main_column(studio)
            with gr.Column(scale=3):
                page = Page(studio, handlers, Bookings(studio), Endpoints(handlers), image, gauge,
                            shown_tab=gr.State(SCORE_TAB))
                tabs, parts = build_tabs(page)
        wire_main_image(page, column, tabs, parts)
    if example_results:
        start_example_results(page, parts)
    if on_zero_gpu():
        demo.queue(max_size=ZERO_GPU_QUEUE_SIZE)
    return demo


def mcp_requested() -> bool:
    """Whether to serve MCP: yes unless ``$QUALICLIP_STUDIO_MCP`` (:data:`MCP_ENV`) says 0, false, no or off."""
    return switched_on(MCP_ENV)


def launch(demo: gr.Blocks, **options) -> tuple:
    """Start the server with the app's CSS and upload limit; ``options`` go to ``demo.launch``.

    ``show_error=False``: only ``gr.Error`` messages (written for people) reach the client. Unless
    :func:`mcp_requested` says no, the app is also an MCP server (streamable HTTP at ``/gradio_api/mcp/``):
    every public endpoint is a tool of its name (:func:`qualiclip.studio.endpoints.as_tool`). Without the
    ``mcp`` package (``pip install "gradio[mcp]"``) Gradio says so at start-up and serves the rest.
    """
    options.setdefault("mcp_server", mcp_requested())
    return demo.launch(css=CSS, show_error=False, max_file_size=f"{MAX_UPLOAD_MB}mb", **options)
