"""The one way a handler becomes what an event runs: :class:`Endpoints`, used by every tab to wire its events.

Each wrapper below is applied here and nowhere else, always in this order (innermost first):

1. **errors** (:func:`~qualiclip.studio.public_errors.guarded`): anything but a ``gr.Error`` is logged and
   becomes one plain sentence. Innermost, so on ZeroGPU it runs in the GPU worker and only ``gr.Error``
   crosses the process boundary.
2. **the GPU call and its booking** (:func:`~qualiclip.studio.gpu.gpu_call`), for model-running handlers
   only: on ZeroGPU one GPU call booking ``booking(*args)`` seconds (:mod:`qualiclip.studio.bookings`);
   the handler itself elsewhere. With ``optional_input``, a call without its first input (the visitor
   removed the image) runs here, booking nothing, since all it does is clear its outputs.
3. **the carry** (the app's :class:`~qualiclip.studio.analysis.AnalysisCache`): what the GPU call reuses
   and brings back, so one upload is decoded and analysed once across calls and processes.
4. **quiet outputs** (:func:`~qualiclip.studio.public_errors.quiet`), for the handlers that run by
   themselves on a new image: their ``gr.Error`` raises no pop-up (API callers still get it) and their
   outputs are marked :data:`QUIET_CLASS`, whose error pill the page's CSS hides; the page says the
   error once, in place, from the message noted here (``Callbacks.refusals``: no second decode).
   Outermost, so the flag is set and the message noted in the main process.

Model-running events share one queue (:func:`model_queue`). Events without an ``api_name`` are private (the
UI's own: re-blending, sorting, tab switches); an event with one is public: an endpoint of the HTTP API
(``gradio_client``) and, when the app serves MCP (``layout.launch``), a tool of that name (:func:`as_tool`).
"""
from __future__ import annotations

from typing import Any, Callable, Sequence

import gradio as gr
from gradio.blocks import Block

from .callbacks import Callbacks
from .gpu import Duration, gpu_call, gpu_call_for_input, on_zero_gpu
from .public_errors import guarded, quiet

#: Model-running requests that run at once, all endpoints together (one queue for the model).
MODEL_CONCURRENCY = 2
MODEL_QUEUE = {"concurrency_id": "model", "concurrency_limit": MODEL_CONCURRENCY}
#: The class of quiet outputs: the page hides their error pills (see ``layout.CSS``).
QUIET_CLASS = "qc-quiet"
Trigger = Callable[..., Any]


def model_queue() -> dict:
    """Concurrency of the model events: off ZeroGPU one bounded group (:data:`MODEL_QUEUE`: memory and
    cores are the Space's own); on ZeroGPU no app-level cap, since ZeroGPU's scheduler queues the GPU
    work itself (and tells the visitor)."""
    return {"concurrency_limit": None} if on_zero_gpu() else MODEL_QUEUE


def as_tool(fn: Callable, api_name: str) -> Callable:
    """``fn`` (a wrapper made here, never the handler itself) named ``api_name``: Gradio names an endpoint's MCP
    tool after its function, and the wrappers keep the handler's name, signature and docstring
    (``functools.wraps``), so the tool is called like the endpoint and is described (what it does, each
    parameter, each result) by the handler's docstring (its ``Args:`` and ``Returns:`` sections)."""
    fn.__name__ = api_name
    return fn


def mark_quiet(outputs: Sequence[Block]) -> None:
    """Give each of ``outputs`` :data:`QUIET_CLASS` (once)."""
    for output in outputs:
        if QUIET_CLASS not in output.elem_classes:
            output.elem_classes.append(QUIET_CLASS)


class Endpoints:
    """Wraps and wires the handlers of one page (see the module docstring for the order)."""

    def __init__(self, handlers: Callbacks) -> None:
        self.carry, self.refusals = handlers.analyses, handlers.refusals

    def endpoint(self, handler: Callable, booking: Duration | None = None, *, quiet_errors: bool = False,
                 optional_input: bool = False) -> Callable:
        """``handler`` with the layers of the module docstring: errors, then (with a ``booking``) the GPU
        call and the carry, then (with ``quiet_errors``) quiet."""
        wrapped = guarded(handler)
        if booking is not None:
            wrapped = (gpu_call_for_input if optional_input else gpu_call)(wrapped, booking, self.carry)
        return quiet(wrapped, self.refusals) if quiet_errors else wrapped

    def wire(self, trigger: Trigger | Sequence[Trigger], handler: Callable, booking: Duration | None = None, *,
             inputs: Block | Sequence[Block] | None = None, outputs: Block | Sequence[Block] | None = None,
             api_name: str | None = None, quiet_outputs: bool = False, optional_input: bool = False,
             heavy: bool | None = None, **options: Any) -> Any:
        """Run ``handler``'s :meth:`endpoint` on ``trigger`` (an event such as ``button.click`` or a
        dependency's ``.then``; several events: ``gr.on``); returns the event's dependency.

        With a ``booking`` the handler runs the model; it and any other ``heavy`` one (one that decodes
        images) wait in the model queue. Without ``api_name`` the event is private. With ``quiet_outputs``
        the handler is quiet and its outputs are marked so.
        """
        fn = self.endpoint(handler, booking, quiet_errors=quiet_outputs, optional_input=optional_input)
        if api_name:
            fn = as_tool(fn, api_name)
        if quiet_outputs:
            mark_quiet(outputs if isinstance(outputs, Sequence) else [outputs])
        visibility = {"api_name": api_name} if api_name else {"api_visibility": "private"}
        queue = model_queue() if (booking is not None if heavy is None else heavy) else {}
        if isinstance(trigger, Sequence):
            return gr.on(list(trigger), fn, inputs=inputs, outputs=outputs, **visibility, **queue, **options)
        return trigger(fn, inputs=inputs, outputs=outputs, **visibility, **queue, **options)
