"""Switch torch scorers to ONNX Runtime once their export is ready, without waiting for it: :class:`BackgroundExports`.

What the app does on a CPU: its models start on torch and serve at once; a background thread exports
each (or finds its file in the cache: :func:`~qualiclip.onnx.backend.cached_export`, once per weights
hash) and attaches the file's session (:meth:`~qualiclip.onnx.backend.SessionScorer.attach`), after
which the model scores, and computes the trunk the heatmaps start from, in ONNX Runtime. Exports run
one at a time in daemon threads (an interpreter that exits does not wait for one; the file is renamed
into place only when complete). An export that fails is logged and leaves its model on torch.
"""
from __future__ import annotations

import importlib.util
import logging
import threading
from concurrent.futures import Future
from pathlib import Path

from ..loading import weights_paths
from ..scoring import QualityScorer
from .backend import SessionScorer, cached_export
from .export import weights_licence, weights_sha256

LOG = logging.getLogger("qualiclip.onnx")
#: What an export and its session need (the ``onnx`` extra).
NEEDED = ("onnxruntime", "onnx")


def runtime_installed() -> bool:
    """True when the ``onnx`` extra is installed (checked without importing it)."""
    return all(importlib.util.find_spec(name) is not None for name in NEEDED)


def export_for(scorer: QualityScorer, model: str, weights: str | Path | None = None,
               folder: Path | None = None) -> Path:
    """The cached ONNX file of ``scorer``, loaded as ``load_model(model, weights)`` (exported first if need be).

    The key and the metadata are those of ``load_model(..., backend="onnxruntime")``: the SHA-256 of the
    model's weights files, and their licence (the model's own unless ``weights`` names another file).
    """
    paths = weights_paths(model, weights)
    return cached_export(scorer, weights_sha256(paths), weights_licence(model, weights is None), folder)


class BackgroundExports:
    """Exports scorers in background threads, one at a time, and attaches each one's session when its file is ready."""

    def __init__(self, folder: Path | None = None) -> None:
        self.folder = folder
        self._one_at_a_time = threading.Lock()

    def submit(self, scorer: SessionScorer, model: str, weights: str | Path | None = None) -> Future[Path]:
        """Export ``scorer`` (see :func:`export_for`) in the background and attach it; returns at once.

        The future gives the file once the scorer runs on it, or the error that left it on torch (logged).
        """
        done: Future[Path] = Future()
        threading.Thread(target=self._switch, args=(scorer, model, weights, done), daemon=True,
                         name=f"onnx-export-{scorer.name}").start()
        return done

    def _switch(self, scorer: SessionScorer, model: str, weights: str | Path | None, done: Future[Path]) -> None:
        try:
            with self._one_at_a_time:
                path = export_for(scorer, model, weights, self.folder)
                scorer.attach(path)
        except Exception as error:  # noqa: BLE001 - any failure leaves the model on torch, the app serving
            LOG.warning("%s stays on torch: its ONNX Runtime switch failed (%s: %s)", scorer.name,
                        type(error).__name__, error)
            done.set_exception(error)
        else:
            LOG.info("%s now scores with ONNX Runtime (%s)", scorer.name, path)
            done.set_result(path)
