"""The Learn tab: how the loaded model computes its score and how QualiCLIP learned it, with a plot of
the similarity to one pair's prompts across the levels of a distortion."""
from __future__ import annotations

import gradio as gr

from .. import page_text, robustness
from ..callbacks import learn_columns
from . import Page, TabParts, dataframe, index_dropdown

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
    return TabParts(dict.fromkeys([plot, table]))
