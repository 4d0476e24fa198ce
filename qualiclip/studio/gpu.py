"""GPU calls on Hugging Face ZeroGPU, and the same code run in-process everywhere else.

On ZeroGPU (``SPACES_ZERO_GPU=true``, the ``spaces`` package imported at start-up) every call of a
function decorated with ``spaces.GPU`` runs in a worker process forked from the main one: its
arguments and its result are pickled, and nothing the call changes (a cache, an attribute) reaches
the main process or the next call. :func:`gpu_call` is the one way the app runs model code there:

    gradio_fn = gpu_call(handlers.score_image, bookings.score, handlers.analyses)

- ``duration`` is a callable given the handler's own arguments; it returns the seconds to book (see
  :mod:`qualiclip.studio.bookings`; ZeroGPU multiplies them by its ``duration_factor`` and checks
  the product against the visitor's daily quota).
- ``carry`` (optional, e.g. the app's :class:`~qualiclip.studio.analysis.AnalysisCache`) is what the
  main process keeps between calls: before a call it picks the CPU data the call can reuse
  (:meth:`Carry.handed`), the worker adopts it, and what the call computed comes back with the
  result (:meth:`Carry.fresh`) for the main process to keep (:meth:`Carry.keep`). So ``/score`` then
  ``/heatmaps`` run the image tower once even though they run in two processes.
- Only ``gr.Error`` crosses the process boundary with its text (``spaces`` turns any other exception
  into "ZeroGPU worker error"): handlers are :func:`~qualiclip.studio.public_errors.guarded`.

Off ZeroGPU :func:`gpu_call` returns the handler unchanged (same process, same objects, the carry is
simply shared), so every environment runs one code path. ``SPACES_ZERO_GPU`` set without an
importable ``spaces`` stops the app at start-up instead of silently running on the CPU.
"""
from __future__ import annotations

import functools
import os
from typing import Any, Callable, Protocol, TypeVar

ZERO_GPU_ENV = "SPACES_ZERO_GPU"


def zero_gpu_requested() -> bool:
    """True when the environment says this is a ZeroGPU Space (``SPACES_ZERO_GPU``, as ``spaces`` reads it)."""
    return os.environ.get(ZERO_GPU_ENV, "").lower() in ("1", "t", "true")


if zero_gpu_requested():
    try:
        import spaces  # before any model is built: it turns on ZeroGPU's CUDA emulation
    except ImportError as _err:
        raise RuntimeError(
            f"{ZERO_GPU_ENV} is set, so this is a ZeroGPU Space, but the `spaces` package cannot be imported "
            f"({_err}). On a Space the platform installs it; elsewhere unset {ZERO_GPU_ENV} or "
            "`pip install spaces` (see requirements-dev.txt)."
        ) from _err
else:
    spaces = None

Handler = TypeVar("Handler", bound=Callable)
Duration = Callable[..., float]


class Carry(Protocol):
    """What the main process keeps between GPU calls (see the module docstring)."""

    def handed(self, args: tuple) -> Any: ...
    def adopt(self, handed: Any) -> None: ...
    def fresh(self, handed: Any) -> Any: ...
    def keep(self, handed: Any, fresh: Any) -> None: ...


def on_zero_gpu() -> bool:
    """True on a ZeroGPU Space (``SPACES_ZERO_GPU`` set and ``spaces`` imported)."""
    return spaces is not None


def gpu_call(handler: Handler, duration: Duration, carry: Carry | None = None) -> Handler:
    """``handler`` as one ZeroGPU call booking ``duration(*args, **kwargs)`` seconds; unchanged off ZeroGPU."""
    if spaces is None:
        return handler

    def in_worker(handed: Any, *args, **kwargs):
        if carry is None:
            return handler(*args, **kwargs), None
        carry.adopt(handed)
        return handler(*args, **kwargs), carry.fresh(handed)

    on_gpu = spaces.GPU(in_worker, duration=lambda handed, *args, **kwargs: duration(*args, **kwargs))

    @functools.wraps(handler)
    def in_main(*args, **kwargs):
        handed = carry.handed(args) if carry is not None else None
        result, fresh = on_gpu(handed, *args, **kwargs)
        if carry is not None:
            carry.keep(handed, fresh)
        return result

    in_main.gpu_handler = handler  # type: ignore[attr-defined]  # which handler runs on the GPU (tests)
    return in_main  # type: ignore[return-value]


def gpu_call_for_input(handler: Handler, duration: Duration, carry: Carry | None = None) -> Handler:
    """:func:`gpu_call` for a handler whose first argument is its one input (the upload's image): a call
    without it (the visitor removed the image) runs ``handler`` in this process, booking no GPU, since
    all it does then is clear its outputs."""
    on_gpu = gpu_call(handler, duration, carry)
    if on_gpu is handler:
        return handler

    @functools.wraps(handler)
    def run(item: Any, *args, **kwargs):
        return handler(item, *args, **kwargs) if item is None else on_gpu(item, *args, **kwargs)

    run.gpu_handler = handler  # type: ignore[attr-defined]
    return run  # type: ignore[return-value]
