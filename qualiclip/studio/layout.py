"""The app's UI: :func:`build_demo` lays out the Gradio Blocks and wires events to :class:`Callbacks`.

Layout and wiring only; what happens on each event lives in :mod:`qualiclip.studio.callbacks` and below.
Building a demo loads nothing: it is given a :class:`Studio` (the models), so tests build one on a
tiny model and ``app.py`` on the real ones.
"""
from __future__ import annotations

import gradio as gr

from qualiclip.prompts import CLIP_IQA_ATTRIBUTE_PAIRS

from . import EXAMPLES_DIR, batch, content, custom_prompts
from .bookings import Bookings
from .callbacks import ROBUSTNESS_TAB, SCORE_TAB, Callbacks, compare_columns
from .explanations import ALL_PAIRS, METHOD_CHOICES, colour_scale_html
from .gpu import gpu_call, gpu_call_for_input, on_zero_gpu
from .inputs import MAX_UPLOAD_MB, checked_image
from .model_slots import Studio
from .public_errors import quiet
from .robustness import LEVEL_COLUMNS, SWEEP_COLUMNS, degradation_choices, level_key
from .views import NO_SCORE_HTML, SCORING_HTML, band_key, pair_chart_label

EXAMPLES = sorted(str(p) for p in EXAMPLES_DIR.glob("*.jpg"))
#: Model-running requests that run at once, all endpoints together (one queue for the model).
MODEL_CONCURRENCY = 2
MODEL_QUEUE = {"concurrency_id": "model", "concurrency_limit": MODEL_CONCURRENCY}
#: Requests waiting at most on ZeroGPU (Gradio would make it 1 there: a second visitor refused).
ZERO_GPU_QUEUE_SIZE = 256
#: Format of the pictures the app sends (heatmaps, previews): JPEG encodes several times faster than
#: Gradio's default WebP at a third of PNG's size.
DISPLAY_FORMAT = "jpeg"
#: A session's heatmaps (kept for re-blending) are dropped after this long.
SESSION_STATE_TTL_S = 900
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
/* Outputs of the callbacks that run by themselves on a new image: their error is said once, in place of the
   score (Callbacks.input_error), so Gradio's "Error" pills would only cover it. */
:is(#score-gauge, #pair-plot, #good-map, #bad-map, #good-caption, #bad-caption, #original-gauge, #degraded-gauge,
    #degraded-image, #gauge-a, #gauge-b, #two-verdict, #two-maps) [data-testid="status-tracker"]:has(.error)
    {display: none !important;}
@media (max-width: 640px) {
  #input-image {height: 240px !important;}
  #weights-banner {font-size: 0.85em;}
}
"""


def build_demo(studio: Studio) -> gr.Blocks:
    """The whole app for ``studio``'s models: every tab, every event, the queue configured."""
    handlers = Callbacks(studio)
    pairs = studio.primary.prompt_pairs
    pair_choices = [(f"{pos} vs {neg}", i) for i, (pos, neg) in enumerate(pairs)]
    with gr.Blocks(title="QualiCLIP Studio", delete_cache=CACHE_CLEANUP) as demo:
        gr.Markdown(content.HEADER)
        gr.Markdown(studio.banner, elem_id="weights-banner")
        with gr.Row():
            with gr.Column(scale=2) as image_column:
                image = checked_image(label="Image", sources=["upload", "clipboard", "webcam"],
                                      elem_id="input-image")
                gauge = gr.HTML(NO_SCORE_HTML, label="Score", elem_id="score-gauge")
                gr.HTML(band_key(), elem_id="band-key-block")
                gr.Examples(EXAMPLES, inputs=image, label="Examples (click one)",
                            example_labels=content.example_labels(EXAMPLES, studio))
                with gr.Accordion("Limits", open=False):
                    gr.Markdown(content.LIMITS_MARKDOWN)
            with gr.Column(scale=3):
                shown_tab = gr.State(SCORE_TAB)
                with gr.Tabs(elem_id="tabs", overflow_behavior="wrap") as tabs:
                    with gr.Tab(SCORE_TAB):
                        pair_plot = gr.BarPlot(x="pair", y="probability", y_lim=[0, 1], x_label_angle=-30,
                                               sort=[pair_chart_label(p) for p in pairs],
                                               label="P(positive prompt) per antonym pair", height=300,
                                               elem_id="pair-plot")
                        with gr.Accordion("Raw result", open=False):
                            result_json = gr.JSON(label="Result")
                        gr.Markdown("### What pulls the score up or down?")
                        with gr.Row():
                            method = gr.Radio(METHOD_CHOICES, value="gradcam", label="Method", min_width=240)
                            pair = gr.Dropdown([("All pairs (the score)", ALL_PAIRS), *pair_choices],
                                               value=ALL_PAIRS, label="Prompt pair", min_width=240)
                        opacity = gr.Slider(0, 1, value=0.5, step=0.05, label="Heatmap opacity", elem_id="opacity")
                        with gr.Row():
                            with gr.Column(min_width=160):
                                good_map = gr.Image(label="Towards good", interactive=False, format=DISPLAY_FORMAT,
                                                    elem_id="good-map")
                                good_caption = gr.Markdown(elem_id="good-caption")
                            with gr.Column(min_width=160):
                                bad_map = gr.Image(label="Towards bad", interactive=False, format=DISPLAY_FORMAT,
                                                   elem_id="bad-map")
                                bad_caption = gr.Markdown(elem_id="bad-caption")
                        gr.HTML(colour_scale_html())
                        maps = gr.State(time_to_live=SESSION_STATE_TTL_S)
                        with gr.Accordion("Your own prompt pairs", open=False):
                            refusal = custom_prompts.refusal(studio)
                            custom_text = gr.Textbox(
                                lines=3, max_lines=custom_prompts.MAX_PAIRS, placeholder=custom_prompts.EXAMPLE,
                                label=f"One antonym pair per line: positive {custom_prompts.SEPARATOR} negative",
                                info=refusal or "Scored with this model's text tower, from the image already analysed.")
                            gr.Examples([[custom_prompts.format_pairs(CLIP_IQA_ATTRIBUTE_PAIRS)],
                                         *([custom_prompts.format_pairs([pair])] for pair in CLIP_IQA_ATTRIBUTE_PAIRS)],
                                        inputs=custom_text, label="CLIP-IQA's attribute pairs (click to fill in)",
                                        example_labels=["All six", *map(pair_chart_label, CLIP_IQA_ATTRIBUTE_PAIRS)])
                            custom_button = gr.Button("Score with these pairs", interactive=refusal is None)
                            custom_gauge = gr.HTML(elem_id="custom-gauge")
                            custom_plot = gr.BarPlot(x="pair", y="probability", y_lim=[0, 1], x_label_angle=-30,
                                                     label="P(positive prompt) per pair of yours", height=260)
                            custom_json = gr.JSON(label="Result")
                    with gr.Tab(ROBUSTNESS_TAB) as robustness_tab:
                        with gr.Row():
                            degradation = gr.Dropdown(degradation_choices(), value="gaussian_blur",
                                                      label="Distortion type", min_width=240)
                            level = gr.Slider(0, 5, value=3, step=1, label="Level (0 = original)",
                                              elem_id="level-slider", min_width=240)
                        levels = gr.Markdown(level_key("gaussian_blur"), elem_id="level-key")
                        with gr.Row():
                            original_gauge = gr.HTML(elem_id="original-gauge", min_width=160)
                            degraded_gauge = gr.HTML(elem_id="degraded-gauge", min_width=160)
                        degraded_image = gr.Image(label="Degraded image", interactive=False, format=DISPLAY_FORMAT,
                                                  elem_id="degraded-image")
                        with gr.Row():
                            every_type = gr.Checkbox(label="Sweep every type (about 25x longer)")
                            sweep_button = gr.Button("Sweep levels 0-5 with every model", variant="primary")
                        sweep_summary = gr.Markdown(elem_id="sweep-summary")
                        sweep_plot = gr.Plot(label="Score vs level (one panel per distortion group)",
                                             elem_id="sweep-plot")
                        sweep_table = gr.Dataframe(label="Scores per level", headers=SWEEP_COLUMNS, interactive=False,
                                                   elem_id="sweep-table",
                                                   column_widths=["270px", "160px", "90px", "90px", *["70px"] * len(LEVEL_COLUMNS)])
                        with gr.Row():
                            sweep_csv = gr.DownloadButton("Download table (CSV)", size="sm")
                            sweep_png = gr.DownloadButton("Download plot (PNG)", size="sm")
                    with gr.Tab("Two photos"):
                        gr.Markdown("Which of two shots is better? Add both: their scores, the difference, and "
                                    "what pulls each one up or down (Grad-CAM of its score).")
                        with gr.Row():
                            with gr.Column(min_width=160):
                                photo_a = checked_image(label="Photo A", sources=["upload", "clipboard"],
                                                        elem_id="photo-a", height=240)
                                gauge_a = gr.HTML(elem_id="gauge-a")
                            with gr.Column(min_width=160):
                                photo_b = checked_image(label="Photo B", sources=["upload", "clipboard"],
                                                        elem_id="photo-b", height=240)
                                gauge_b = gr.HTML(elem_id="gauge-b")
                        two_verdict = gr.Markdown(elem_id="two-verdict")
                        two_gallery = gr.Gallery(label="Heatmaps: towards good, towards bad (A, then B)", columns=2,
                                                 format=DISPLAY_FORMAT, interactive=False, elem_id="two-maps")
                    with gr.Tab("Batch"):
                        files = gr.File(file_count="multiple", label="Image files", type="filepath")
                        batch_button = gr.Button("Score all files", variant="primary")
                        batch_order = gr.Radio(list(batch.ORDERS), label="Order of the results", elem_id="batch-order")
                        batch_table = gr.Dataframe(
                            label="Results", headers=batch.columns(pairs),
                            interactive=False, wrap=True, elem_id="batch-table",
                            datatype=["markdown", "str", "number", "str", "str", *["number"] * len(pairs)],
                            column_widths=["72px", "160px", "80px", "100px", "220px", *["100px"] * len(pairs)])
                        csv_file = gr.DownloadButton("Download CSV", size="sm")
                    with gr.Tab("Compare"):
                        gr.Markdown("The same image under every model this app knows. "
                                    "Below, what pulls each model's score towards good and towards bad. "
                                    "QualiCLIP+ rows score with pyiqa's formula (cosines x about 50, not 100).")
                        compare_button = gr.Button("Compare on this image", variant="primary")
                        compare_table = gr.Dataframe(
                            label="Models", headers=compare_columns(pairs), interactive=False, wrap=True,
                            column_widths=["200px", "100px", "70px", "90px", "200px", *["100px"] * len(pairs)])
                        compare_summary = gr.Markdown(elem_id="compare-summary")
                        compare_csv = gr.DownloadButton("Download table (CSV)", size="sm")
                        compare_gallery = gr.Gallery(label="Heatmaps per model (Grad-CAM of its score)", columns=2,
                                                     format=DISPLAY_FORMAT, interactive=False)
                    with gr.Tab("Learn"):
                        gr.Markdown(content.learn_markdown(studio.primary, content.primary_spec(studio)),
                                    elem_id="learn-text", latex_delimiters=[
                                        {"left": "$$", "right": "$$", "display": True},
                                        {"left": "$", "right": "$", "display": False}])
                        with gr.Row():
                            learn_degradation = gr.Dropdown(degradation_choices(), value="gaussian_blur",
                                                            label="Distortion type", min_width=200)
                            learn_pair = gr.Dropdown(pair_choices, value=0, label="Prompt pair", min_width=200)
                            learn_button = gr.Button("Plot for this image", variant="primary")
                        learn_plot = gr.LinePlot(x="level", y="cosine similarity", color="prompt",
                                                 label="Similarity with each prompt vs level")
                        learn_table = gr.Dataframe(label="Numbers", interactive=False, headers=[
                            "level", "sim(positive)", "sim(negative)", "P(positive)", "score"])

        # Model-running handlers go through gpu_call (on ZeroGPU one GPU call each, booking what its work
        # needs, the analysis cache kept in the main process); a new endpoint wraps its handler the same way:
        # on_gpu(handlers.x, bookings.x). An upload is one call: score, both maps, and the robustness preview
        # only while that tab is shown (decided here, without booking a GPU; a removed image clears the outputs
        # without one). /score and /heatmaps stay for API users.
        bookings, queue = Bookings(studio), model_queue()

        def on_gpu(handler, duration):
            return gpu_call(handler, duration, handlers.analyses)

        # The page says an upload's error once, in place of the score (handlers.input_error): quiet.
        analyse_upload = quiet(gpu_call_for_input(handlers.analyse_upload, bookings.upload, handlers.analyses))
        # What a new image makes stale: every output computed from the previous one, cleared before it is scored.
        stale = {gauge: SCORING_HTML, **dict.fromkeys([
            pair_plot, result_json, good_map, bad_map, good_caption, bad_caption, maps, degraded_image,
            original_gauge, degraded_gauge, sweep_summary, sweep_plot, sweep_table, sweep_csv, sweep_png,
            compare_table, compare_summary, compare_csv, compare_gallery, custom_gauge, custom_plot, custom_json,
            learn_plot, learn_table])}
        heatmap_io = dict(inputs=[image, method, pair, opacity],
                          outputs=[good_map, bad_map, good_caption, bad_caption, maps])
        score_outputs, preview_outputs = [gauge, pair_plot, result_json], [degraded_image, original_gauge,
                                                                           degraded_gauge]
        cleared = image.change(lambda: stale, outputs=list(stale), queue=False, show_progress="hidden",
                               api_visibility="private")
        scored = cleared.then(analyse_upload, inputs=[*heatmap_io["inputs"], degradation, level, shown_tab],
                              outputs=[*score_outputs, *heatmap_io["outputs"], *preview_outputs],
                              api_visibility="private", **queue)
        scored.failure(handlers.input_error, inputs=image, outputs=[gauge, degraded_gauge], api_visibility="private",
                       **queue)
        score_api = gr.Button(visible=False)  # /score for API users; the page scores through the upload event
        score_api.click(on_gpu(handlers.score_image, bookings.score), inputs=image, outputs=score_outputs,
                        api_name="score", **queue)
        gr.on([method.change, pair.change], on_gpu(handlers.explain_image, bookings.heatmaps), **heatmap_io,
              api_name="heatmaps", **queue)
        tabs.select(handlers.selected_tab, outputs=shown_tab, api_visibility="private")
        tabs.select(handlers.main_image_shown, outputs=image_column, queue=False, api_visibility="private")
        opacity.change(handlers.reblend, inputs=[maps, opacity], outputs=[good_map, bad_map],
                       trigger_mode="always_last", api_visibility="private")
        gr.on([robustness_tab.select, degradation.change, level.change],
              on_gpu(handlers.robustness_preview, bookings.preview), inputs=[image, degradation, level],
              outputs=preview_outputs, trigger_mode="always_last", api_name="robustness", **queue)
        degradation.change(level_key, inputs=degradation, outputs=levels, queue=False, api_visibility="private")
        sweep_button.click(on_gpu(handlers.sweep_image, bookings.sweep), inputs=[image, degradation, every_type],
                           outputs=[sweep_plot, sweep_table, sweep_summary, sweep_csv, sweep_png], api_name="sweep",
                           **queue)
        batch_scored = batch_button.click(on_gpu(handlers.batch_score, bookings.batch), inputs=files,
                                          outputs=[batch_table, csv_file], api_name="batch", **queue)
        order_io = dict(fn=batch.sorted_table, inputs=[batch_table, batch_order], outputs=batch_table, queue=False,
                        api_visibility="private")
        batch_order.change(**order_io)
        batch_scored.success(**order_io)
        compare_button.click(on_gpu(handlers.compare_models, bookings.compare), inputs=image,
                             outputs=[compare_table, compare_gallery, compare_summary, compare_csv],
                             api_name="compare", **queue)
        custom_button.click(on_gpu(handlers.score_custom_pairs, bookings.score), inputs=[image, custom_text],
                            outputs=[custom_gauge, custom_plot, custom_json], api_name="custom_pairs", **queue)
        learn_button.click(on_gpu(handlers.learn_similarities, bookings.learn),
                           inputs=[image, learn_degradation, learn_pair], outputs=[learn_plot, learn_table],
                           api_name="similarities", **queue)
        two_outputs = [gauge_a, gauge_b, two_verdict, two_gallery]
        two_compared = gr.on([photo_a.change, photo_b.change], lambda: dict.fromkeys(two_outputs),
                             outputs=two_outputs, queue=False, show_progress="hidden", api_visibility="private"
                             ).then(on_gpu(handlers.compare_two_photos, bookings.two_photos), inputs=[photo_a, photo_b],
                                    outputs=two_outputs, api_name="two_photos", **queue)
        two_compared.failure(handlers.two_photos_error, inputs=[photo_a, photo_b], outputs=two_verdict,
                             api_visibility="private", **queue)
    if on_zero_gpu():
        demo.queue(max_size=ZERO_GPU_QUEUE_SIZE)
    return demo


def model_queue() -> dict:
    """Concurrency of the model events: off ZeroGPU one bounded group (:data:`MODEL_QUEUE`: memory and
    cores are the Space's own); on ZeroGPU no app-level cap, since ZeroGPU's scheduler queues the GPU
    work itself (and tells the visitor)."""
    return {"concurrency_limit": None} if on_zero_gpu() else MODEL_QUEUE


def launch(demo: gr.Blocks, **options) -> tuple:
    """Start the server with the app's CSS and upload limit; ``options`` go to ``demo.launch``.

    ``show_error=False``: only ``gr.Error`` messages (written for people) reach the client.
    """
    return demo.launch(css=CSS, show_error=False, max_file_size=f"{MAX_UPLOAD_MB}mb", **options)
