"""The Score tab: per-pair probabilities, the raw result, the heatmaps (method, pair, opacity) and your own pairs.

The score itself sits under the main image (:mod:`qualiclip.studio.main_image`); the upload event fills it,
this tab's chart and result, and both heatmaps (this tab's :class:`~qualiclip.studio.tabs.UploadPart`).
"""
from __future__ import annotations

import gradio as gr

from qualiclip.prompts import CLIP_IQA_ATTRIBUTE_PAIRS

from .. import custom_prompts
from ..callbacks import SCORE_TAB
from ..explanations import ALL_PAIRS, METHOD_CHOICES, colour_scale_html
from ..formatting import SCORING_HTML, pair_chart_label
from . import (
    DISPLAY_FORMAT,
    SESSION_STATE_TTL_S,
    Page,
    TabParts,
    UploadPart,
    index_dropdown,
    raw_result,
)

LABEL = SCORE_TAB


def build(page: Page, tab: gr.Tab) -> TabParts:
    """The tab's components and events; the chart, result and heatmaps are filled by the upload event."""
    pairs = page.studio.primary.prompt_pairs
    pair_plot = gr.BarPlot(x="pair", y="probability", y_lim=[0, 1], x_label_angle=-30,
                           sort=[pair_chart_label(p) for p in pairs], label="P(positive prompt) per antonym pair",
                           height=300, elem_id="pair-plot")
    result_json = raw_result()
    gr.Markdown("### What pulls the score up or down?")
    with gr.Row():
        method = gr.Radio(METHOD_CHOICES, value="gradcam", label="Method", min_width=240)
        pair = index_dropdown([("All pairs (the score)", ALL_PAIRS), *page.pair_choices], value=ALL_PAIRS,
                              label="Prompt pair", min_width=240)
    opacity = gr.Slider(0, 1, value=0.5, step=0.05, label="Heatmap opacity", elem_id="opacity")
    maps_outputs = heatmaps()
    custom_outputs = custom_pairs(page)
    score_outputs = [page.gauge, pair_plot, result_json]
    handlers, wire = page.handlers, page.endpoints.wire
    maps_inputs, (*shown_maps, maps) = [page.image, method, pair, opacity], maps_outputs
    # /score and /heatmaps for API and MCP callers; the page scores through the upload event, and its heatmap
    # choices also keep the maps (a session state: an MCP tool cannot return one) for re-blending.
    score_api, heatmaps_api = gr.Button(visible=False), gr.Button(visible=False)
    wire(score_api.click, handlers.score_image, page.bookings.score, inputs=page.image, outputs=score_outputs,
         api_name="score", quiet_outputs=True)
    wire(heatmaps_api.click, handlers.heatmaps, page.bookings.heatmaps, inputs=maps_inputs, outputs=shown_maps,
         api_name="heatmaps")
    wire([method.change, pair.change], handlers.explain_image, page.bookings.heatmaps, inputs=maps_inputs,
         outputs=maps_outputs, quiet_outputs=True)
    good_map, bad_map, *_ = shown_maps
    wire(opacity.change, handlers.reblend, inputs=[maps, opacity], outputs=[good_map, bad_map],
         trigger_mode="always_last")
    stale = {page.gauge: SCORING_HTML, **dict.fromkeys([pair_plot, result_json, *maps_outputs, *custom_outputs])}
    return TabParts(stale, UploadPart([method, pair, opacity], [*score_outputs, *maps_outputs]))


def heatmaps() -> list:
    """Both heatmaps with their captions, the colour key, and the session's maps (kept for re-blending)."""
    with gr.Row():
        with gr.Column(min_width=160):
            good_map = gr.Image(label="Towards good", interactive=False, format=DISPLAY_FORMAT, elem_id="good-map")
            good_caption = gr.Markdown(elem_id="good-caption")
        with gr.Column(min_width=160):
            bad_map = gr.Image(label="Towards bad", interactive=False, format=DISPLAY_FORMAT, elem_id="bad-map")
            bad_caption = gr.Markdown(elem_id="bad-caption")
    gr.HTML(colour_scale_html())
    return [good_map, bad_map, good_caption, bad_caption, gr.State(time_to_live=SESSION_STATE_TTL_S)]


def custom_pairs(page: Page) -> list:
    """The accordion scoring the upload with pairs of one's own, wired; its outputs."""
    with gr.Accordion("Your own prompt pairs", open=False):
        refusal = custom_prompts.refusal(page.studio)
        text = gr.Textbox(lines=3, max_lines=custom_prompts.MAX_PAIRS, placeholder=custom_prompts.EXAMPLE,
                          label=f"One antonym pair per line: positive {custom_prompts.SEPARATOR} negative",
                          info=refusal or "Scored with this model's text tower, from the image already analysed.")
        gr.Examples([[custom_prompts.format_pairs(CLIP_IQA_ATTRIBUTE_PAIRS)],
                     *([custom_prompts.format_pairs([pair])] for pair in CLIP_IQA_ATTRIBUTE_PAIRS)],
                    inputs=text, label="CLIP-IQA's attribute pairs (click to fill in)",
                    example_labels=["All six", *map(pair_chart_label, CLIP_IQA_ATTRIBUTE_PAIRS)])
        button = gr.Button("Score with these pairs", interactive=refusal is None)
        outputs = [gr.HTML(elem_id="custom-gauge"),
                   gr.BarPlot(x="pair", y="probability", y_lim=[0, 1], x_label_angle=-30,
                              label="P(positive prompt) per pair of yours", height=260),
                   gr.JSON(label="Result")]
    page.endpoints.wire(button.click, page.handlers.score_custom_pairs, page.bookings.score,
                        inputs=[page.image, text], outputs=outputs, api_name="custom_pairs")
    return outputs
