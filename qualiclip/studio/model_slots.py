"""Which models the app runs on: one :class:`Studio`, loaded at start-up and shared by every request.

Production order: the official QualiCLIP weights, else the bundled offline model (with a banner
saying why). A checkpoint path (``app.py`` reads it from ``$QUALICLIP_STUDIO_WEIGHTS``) replaces all
of that with one model; the tests start the app that way on a tiny random model. Nothing falls back
to a random model silently: without any usable weights the app refuses to start with a message
naming the fixes.

Models whose CLIP weights are equal share one CLIP module (:class:`SharedTowers`): the four QualiCLIP+
slots run on one checkpoint with four prompt files, so they hold one CLIP instead of four, in CPU
memory and, on ZeroGPU, in what every cold worker moves onto its GPU.

On a CPU (not CUDA, not ZeroGPU) each model, once loaded, switches to ONNX Runtime in the background
(:class:`~qualiclip.onnx.background.BackgroundExports`): it serves on torch at once, and from ONNX
Runtime (its image tower up to 1.4x faster on 2 cores; docs/onnx.md) when its export, cached per
weights hash, is ready. A failed export leaves it on torch. ``QUALICLIP_STUDIO_ONNX=0`` turns the switch off.
"""
from __future__ import annotations

import importlib
import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import open_clip
import torch

from qualiclip import MODELS, CheckpointError, QualiCLIPError, QualityScorer, WeightsUnavailableError, load_model
from qualiclip.model_registry import OFFLINE_MODEL
from qualiclip.onnx.backend import SessionScorer
from qualiclip.onnx.background import BackgroundExports, runtime_installed
from qualiclip.scoring import default_device

from .gpu import on_zero_gpu
from .switches import switched_on

LOG = logging.getLogger("qualiclip.studio")
WEIGHTS_ENV = "QUALICLIP_STUDIO_WEIGHTS"
#: Set to 0 (or false, off, no) to keep the app's models on torch on a CPU.
ONNX_ENV = "QUALICLIP_STUDIO_ONNX"
#: Longer side (px) images are scored at on CPU: about a second per RN50 forward on 2 cores.
CPU_MAX_SIDE = 768
#: On a GPU, a cap that only guards memory (the official code scores at native resolution).
GPU_MAX_SIDE = 2048
OFFICIAL = "qualiclip"
BASELINE = "clip-iqa"
OFFLINE = OFFLINE_MODEL
#: pyiqa's QualiCLIP+ models (QualiCLIP with prompts tuned on a MOS dataset), in registry order.
QUALICLIP_PLUS = tuple(key for key, spec in MODELS.items() if spec.prompt_learner is not None)
#: Models shown side by side (Compare tab, sweeps), in this order.
COMPARED = (OFFICIAL, BASELINE, OFFLINE, *QUALICLIP_PLUS)


def public_reason(error: QualiCLIPError) -> str:
    """Why a model is unavailable, in words that reveal nothing about the server."""
    if isinstance(error, WeightsUnavailableError):
        return "its weights are not on this server and could not be downloaded (no internet access?)."
    if isinstance(error, CheckpointError):
        return "its weights file is not a usable checkpoint."
    return "it could not be loaded."


def same_weights(one: torch.nn.Module, other: torch.nn.Module) -> bool:
    """True when both modules hold equal parameters and buffers (same names, shapes, dtypes, devices, values)."""
    mine, theirs = one.state_dict(), other.state_dict()
    return mine.keys() == theirs.keys() and all(
        a.shape == b.shape and a.dtype == b.dtype and a.device == b.device for a, b in
        zip(mine.values(), (theirs[k] for k in mine))) and all(torch.equal(a, theirs[k]) for k, a in mine.items())


class SharedTowers:
    """Gives a model the CLIP of an earlier one whose weights are equal (thread-safe), so each distinct
    CLIP is held once. Scores are unchanged: the modules are equal and inference never modifies them."""

    def __init__(self) -> None:
        self._clips: list[open_clip.CLIP] = []
        self._lock = threading.Lock()

    def adopt(self, model: QualityScorer) -> QualityScorer:
        """``model``, now sharing the CLIP of an equal earlier one if there is one."""
        with self._lock:
            twin = next((clip for clip in self._clips if same_weights(clip, model.clip)), None)
            if twin is None:
                self._clips.append(model.clip)
            else:
                model.use_clip(twin)
        return model


class ModelSlot:
    """A model of the Compare tab and the sweeps: loaded (once) when first needed, or the reason it cannot be.

    ``reason`` is the plain sentence users see; ``detail`` is the full error (URLs, cache paths) for
    the server's log and start-up messages only. A slot made with ``model`` or ``reason`` is
    resolved already; one made with ``load`` calls it on the first :meth:`resolve`.
    """

    def __init__(self, key: str, title: str, model: QualityScorer | None = None, reason: str | None = None,
                 detail: str | None = None, load: Callable[[], QualityScorer] | None = None) -> None:
        self.key, self.title = key, title
        self.model, self.reason, self.detail = model, reason, detail
        self._load = load
        self._lock = threading.Lock()

    @property
    def resolved(self) -> bool:
        """True once the slot holds a model or a reason (nothing left to load)."""
        return self._load is None

    def resolve(self) -> ModelSlot:
        """Load the model if that has not been tried yet; unavailable weights become the reason."""
        with self._lock:
            if self._load is not None:
                try:
                    self.model = self._load()
                except QualiCLIPError as err:
                    LOG.warning("model %s unavailable: %s", self.key, err)
                    self.reason, self.detail = public_reason(err), str(err)
                self._load = None
        return self


@dataclass(frozen=True)
class Studio:
    """The model every tab uses, the banner explaining it, and the slots of the models compared side by side."""

    primary: QualityScorer
    banner: str
    slots: tuple[ModelSlot, ...]


def default_max_side() -> int:
    """:data:`CPU_MAX_SIDE` on CPU, :data:`GPU_MAX_SIDE` on CUDA."""
    return GPU_MAX_SIDE if default_device().type == "cuda" else CPU_MAX_SIDE


def onnx_switch_wanted() -> bool:
    """True when the app's models should switch to ONNX Runtime: on a CPU, off ZeroGPU, unless
    ``$QUALICLIP_STUDIO_ONNX`` says no."""
    return (default_device().type == "cpu" and not on_zero_gpu()
            and switched_on(ONNX_ENV))


class OnnxSwitch:
    """Makes each loaded model switch to ONNX Runtime in the background, when :func:`onnx_switch_wanted`."""

    def __init__(self) -> None:
        wanted, installed = onnx_switch_wanted(), runtime_installed()
        if wanted and not installed:
            LOG.info("models stay on torch: ONNX Runtime is not installed (pip install '.[onnx]')")
        self.exports = BackgroundExports() if wanted and installed else None

    def __call__(self, model: QualityScorer, key: str, weights: str | Path | None = None) -> QualityScorer:
        """``model`` (``load_model(key, weights)``), as a :class:`SessionScorer` being switched, or unchanged."""
        if self.exports is None:
            return model
        switching = SessionScorer.of(model)
        self.exports.submit(switching, key, weights)
        return switching


def registry_slot(key: str, max_side: int | None, towers: SharedTowers,
                  switch: Callable[[QualityScorer, str], QualityScorer]) -> ModelSlot:
    """An unresolved slot for ``MODELS[key]``: its weights are found (or downloaded) on first use, its
    CLIP shared through ``towers`` with any equal one, and it is handed to ``switch`` (an :class:`OnnxSwitch`)."""
    return ModelSlot(key, MODELS[key].title, load=lambda: switch(towers.adopt(load_model(key, max_side=max_side)), key))


def load_studio(weights: str | Path | None = None, max_side: int | None = None, lazy: bool | None = None) -> Studio:
    """Load the app's models: only ``weights`` (a checkpoint) if given, else the registry's.

    The primary model loads now (the official one, else the bundled offline model); with ``lazy``,
    models only the Compare tab needs (e.g. the CLIP-IQA baseline, a 400 MB download) load on
    first use. ``lazy`` defaults to True except on ZeroGPU, where every model must be placed at
    start-up (on cuda, in the main thread: ``spaces`` packs them at launch and each worker unpacks
    them), and where the heatmaps' Grad-CAM module is imported now rather than inside every cold
    worker's GPU time. On a CPU each model switches to ONNX Runtime once its background export is
    ready (:class:`OnnxSwitch`; see the module docstring).
    """
    max_side = max_side or default_max_side()
    lazy = not on_zero_gpu() if lazy is None else lazy
    if on_zero_gpu():
        importlib.import_module("qualiclip.explain.core")
    switch = OnnxSwitch()
    if weights:
        model = switch(load_model(weights=weights, max_side=max_side), OFFICIAL, weights)
        slot = ModelSlot("custom", f"Custom weights ({Path(weights).name})", model=model)
        return Studio(model, f"**Weights:** custom checkpoint `{Path(weights).name}`.", (slot,))
    towers = SharedTowers()
    slots = tuple(registry_slot(key, max_side, towers, switch) for key in COMPARED)
    by_key = {slot.key: slot for slot in slots}
    official, offline = by_key[OFFICIAL].resolve(), by_key[OFFLINE]
    if not lazy:
        for slot in slots:
            slot.resolve()
    if official.model is not None:
        return Studio(official.model, "**Weights:** official QualiCLIP checkpoint (Agnolucci et al.).", slots)
    if offline.resolve().model is not None:
        banner = ("**Weights: bundled offline model**, trained here without the paper's data, so its scores "
                  f"differ from QualiCLIP's. Official QualiCLIP: {official.reason}")
        return Studio(offline.model, banner, slots)
    raise RuntimeError(
        "No QualiCLIP weights are available, so the app cannot start.\n"
        f"- official: {official.detail}\n- bundled offline model: {offline.detail}\n"
        f"Set {WEIGHTS_ENV}=PATH to a checkpoint to start anyway."
    )

