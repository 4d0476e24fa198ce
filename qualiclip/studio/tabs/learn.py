"""The Learn tab: how the loaded model computes its score and how QualiCLIP learned it, with a plot of
the similarity to one pair's prompts across the levels of a distortion."""
from __future__ import annotations

import gradio as gr

from .. import live_training, page_text, robustness
from ..callbacks import learn_columns
from . import DISPLAY_FORMAT, Page, TabParts, dataframe, index_dropdown

LABEL = "Learn"
LATEX = [{"left": "$$", "right": "$$", "display": True}, {"left": "$", "right": "$", "display": False}]


def build(page: Page, tab: gr.Tab) -> TabParts:
    """The explanation, the distortion and pair choices, the plot and its numbers, wired."""
    studio = page.studio
    gr.Markdown(page_text.learn_markdown(studio.primary, page_text.primary_spec(studio)), elem_id="learn-text",
                latex_delimiters=LATEX)
    with gr.Row():
        degradation = gr.Dropdown(robustness.degradation_choices(), value="gaussian_blur", label="Distortion type",
                                  min_width=200)
        pair = index_dropdown(page.pair_choices, value=0, label="Prompt pair", min_width=200)
        button = gr.Button("Plot for this image", variant="primary")
    plot = gr.LinePlot(x="level", y="cosine similarity", color="prompt", label="Similarity with each prompt vs level")
    table = dataframe(learn_columns(studio.primary.prompt_pairs[0]), label="Numbers", interactive=False)
    page.endpoints.wire(button.click, page.handlers.learn_similarities, page.bookings.learn,
                        inputs=[page.image, degradation, pair], outputs=[plot, table], api_name="similarities")
    trained = training(page)
    return TabParts(dict.fromkeys([plot, table, *trained]))


def training(page: Page) -> list:
    """"Watch it learn": a few training steps on the main image, in a throw-away copy, wired; its outputs."""
    gr.Markdown(page_text.TRAINING_MARKDOWN, elem_id="training-text")
    with gr.Row():
        steps = gr.Slider(0, live_training.APP_MAX_STEPS, value=live_training.DEFAULT_STEPS, step=1,
                          label="Training steps", elem_id="training-steps", min_width=200)
        button = gr.Button("Train on this photo", variant="primary", elem_id="training-button")
    summary = gr.Markdown(elem_id="training-summary")
    crops = gr.Image(label="The two crops (A on top, B below), levels 1-5 left to right", interactive=False,
                     format=DISPLAY_FORMAT, elem_id="training-crops")
    with gr.Row():
        losses = dataframe(live_training.LOSS_TABLE, label="Losses before and after", interactive=False,
                           elem_id="training-losses")
        history = gr.LinePlot(x="step", y="value", color="loss", label="Every loss at every step",
                              elem_id="training-history")
    similarities = dataframe(live_training.SIMILARITY_TABLE, interactive=False, elem_id="training-similarities",
                             label="Mean cosine similarity with the positive and the negative prompts, per crop and level")
    result = gr.JSON(label="Result (before and after)", elem_id="training-result")
    outputs = [crops, losses, similarities, history, summary, result]
    page.endpoints.wire(button.click, page.handlers.training_step, page.bookings.training_step,
                        inputs=[page.image, steps], outputs=outputs, api_name="training_step")
    return outputs
