"""The app's tabs, one module each: it lays out its components, wires its own events and says what it needs
from the rest of the page.

A tab module has ``LABEL`` (its title) and ``build(page: Page, tab: gr.Tab) -> TabParts``, called inside its
``gr.Tab``.
It wires its events with ``page.endpoints.wire`` (errors, quiet outputs, GPU call, carry: one place,
:mod:`qualiclip.studio.endpoints`) and returns a :class:`TabParts`: the outputs a new main image makes
stale (with the value that clears each) and its share of the upload event, if any. Adding a tab is one
new module here and its name in :data:`TAB_MODULES`.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any, Sequence

import gradio as gr
from gradio.blocks import Block

from ..bookings import Bookings
from ..callbacks import Callbacks
from ..endpoints import Endpoints
from ..model_slots import Studio
from ..formatting import Column

#: Format of the pictures the app sends (heatmaps, previews): JPEG encodes several times faster than
#: Gradio's default WebP at a third of PNG's size.
DISPLAY_FORMAT = "jpeg"
#: A session's heatmaps (kept for re-blending) are dropped after this long.
SESSION_STATE_TTL_S = 900
#: The tab modules, in the order the tabs are shown.
TAB_MODULES: tuple[str, ...] = (
    "score",
    "robustness",
    "two_photos",
    "batch",
    "compare",
    "learn",
)


@dataclass(frozen=True)
class Page:
    """What every tab may use: the models, the handlers and how to wire them, and the shared components."""

    studio: Studio
    handlers: Callbacks
    bookings: Bookings
    endpoints: Endpoints
    #: The main image (left column) every image tab works on, and the score gauge under it.
    image: gr.Image
    gauge: gr.HTML
    #: The label of the tab shown (a session state the tab selector keeps).
    shown_tab: gr.State

    @property
    def pair_choices(self) -> list[tuple[str, int]]:
        """The primary model's prompt pairs as dropdown choices (label, index)."""
        return [(f"{pos} vs {neg}", i) for i, (pos, neg) in enumerate(self.studio.primary.prompt_pairs)]


@dataclass(frozen=True)
class UploadPart:
    """A tab's share of the upload event (:mod:`qualiclip.studio.main_image`): the inputs it adds to
    :meth:`Callbacks.analyse_upload`'s arguments and the outputs it fills, in that handler's order, and
    the output that says an unusable upload's reason in place (:meth:`Callbacks.input_error`), if any."""

    inputs: Sequence[Block]
    outputs: Sequence[Block]
    error_card: Block | None = None


@dataclass(frozen=True)
class TabParts:
    """What a tab declares to the page."""

    #: Every output computed from the main image, with the value a new image clears it to.
    stale: dict[Block, Any] = field(default_factory=dict)
    upload: UploadPart | None = None


def tab_modules() -> list[ModuleType]:
    """The modules of :data:`TAB_MODULES`, in order."""
    return [importlib.import_module(f"{__name__}.{name}") for name in TAB_MODULES]


def build_tabs(page: Page) -> tuple[gr.Tabs, dict[str, TabParts]]:
    """Every tab of :data:`TAB_MODULES` in one ``gr.Tabs``, and what each declared, by label."""
    parts = {}
    with gr.Tabs(elem_id="tabs", overflow_behavior="wrap") as tabs:
        for module in tab_modules():
            with gr.Tab(module.LABEL) as tab:
                parts[module.LABEL] = module.build(page, tab)
    return tabs, parts


def stale_outputs(parts: dict[str, TabParts]) -> dict[Block, Any]:
    """What a new main image clears, from every tab's declaration."""
    return {output: value for tab in parts.values() for output, value in tab.stale.items()}


def index_dropdown(choices: Sequence[tuple[str, int]], **options: Any) -> gr.Dropdown:
    """A ``gr.Dropdown`` of whole-number choices whose API schema says so: Gradio declares every dropdown a
    string, so an MCP caller sending 0 would be refused by the schema and one sending "0" by the dropdown.
    (This instance's ``api_info`` replaced, not a subclass: gradio writes a ``.pyi`` stub next to every module
    that defines a component class.)"""
    dropdown = gr.Dropdown(list(choices), **options)
    schema = {"type": "integer", "enum": [value for _, value in dropdown.choices]}
    dropdown.api_info = lambda: schema
    return dropdown


def before_after(label: str, elem_id: str) -> gr.ImageSlider:
    """An output showing two pictures in one frame, split by a handle the visitor drags to compare them: the
    handler returns a (before, after) pair (``callbacks.SliderPair``)."""
    return gr.ImageSlider(label=label, interactive=False, format=DISPLAY_FORMAT, elem_id=elem_id)


def raw_result() -> gr.JSON:
    """A tab's result as data (what an API or MCP caller reads), in a closed accordion."""
    with gr.Accordion("Raw result", open=False):
        return gr.JSON(label="Result")


def dataframe(columns: Sequence[Column], **options: Any) -> gr.Dataframe:
    """A ``gr.Dataframe`` whose headers, widths and datatypes all come from ``columns`` (the handler's own)."""
    widths = [column.width for column in columns]
    return gr.Dataframe(headers=[column.name for column in columns], datatype=[column.datatype for column in columns],
                        column_widths=widths if all(widths) else None, **options)


def download_buttons(*labels: str) -> list[gr.DownloadButton]:
    """Small download buttons side by side, one per label (a result's CSV, its figure's PNG)."""
    with gr.Row():
        return [gr.DownloadButton(label, size="sm") for label in labels]
