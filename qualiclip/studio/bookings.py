"""How many seconds of GPU each model-running callback books on ZeroGPU, computed from its work.

ZeroGPU multiplies a booking by its ``duration_factor`` (1.5 on current cards) and refuses it when
the product exceeds the visitor's remaining daily quota (2 min unauthenticated); shorter bookings
also queue with higher priority. So each callback books what its work needs, with a margin:
a cold worker's start (CUDA context, weights onto the GPU), then forward passes per megapixel
scored. The interactive calls (upload, preview, custom pairs, Learn) are capped at
:data:`QUICK_CAP_S` (30 s after the x1.5); sweeps, comparisons and batches grow with image size x
types x models, or files x pixels, up to :data:`LONG_CAP_S`. The unit costs are estimates for a
ZeroGPU slice (no GPU was measured here), generous on purpose: a call that outlives its booking
may be aborted.
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Sequence

from PIL import Image

from qualiclip.degradations import ALL_LEVELS, DEGRADATIONS
from qualiclip.evaluation.robustness_report import report_work
from qualiclip.training.live_demo import DEMO_CONFIG

from .analysis import is_file
from .live_training import DEFAULT_STEPS
from .model_slots import Studio

#: A cold worker: fork, CUDA context, the models' weights moved onto the GPU.
COLD_START_S = 4.0
#: One image-tower forward per megapixel scored (RN50 takes tens of ms on a GPU: a wide margin).
FORWARD_S_PER_MP = 0.5
#: Heatmaps of one image cost about this many forwards (trunk reused; the pool's backward and rendering).
MAPS_FORWARDS = 3
#: Degrading one level of one type per megapixel on the CPU (sweeps and Learn degrade in the GPU call).
DEGRADE_S_PER_MP = 0.3
#: A training step of the Learn tab costs about this many forwards of its crops (forward and backward).
TRAIN_STEP_FORWARDS = 3
QUICK_CAP_S, LONG_CAP_S, MIN_S = 20, 60, 5
#: Megapixels assumed when an image's size cannot be read (the call will report the image as unusable).
UNKNOWN_MP = 1.0


def seconds(estimate: float, cap: int) -> int:
    """``estimate`` plus the cold start, rounded up, within [MIN_S, cap]."""
    return int(min(cap, max(MIN_S, math.ceil(COLD_START_S + estimate))))


class Bookings:
    """The ``duration`` callables of :func:`~qualiclip.studio.gpu.gpu_call`, one per callback, for ``studio``."""

    def __init__(self, studio: Studio) -> None:
        self.max_side = studio.primary.max_side
        self.models = len(studio.slots)

    def megapixels(self, image: Any) -> float:
        """Megapixels ``image`` is scored at (its header read, capped by the model's ``max_side``)."""
        if not is_file(image):
            return UNKNOWN_MP
        try:
            with Image.open(image) as opened:
                width, height = opened.size
        except (OSError, SyntaxError, ValueError, Image.DecompressionBombError):
            return UNKNOWN_MP
        scale = min(1.0, self.max_side / max(width, height)) if self.max_side else 1.0
        return width * height * scale * scale / 1e6

    def score(self, image: Any, *_: Any, **__: Any) -> int:
        return seconds(FORWARD_S_PER_MP * self.megapixels(image), QUICK_CAP_S)

    def heatmaps(self, image: Any, *_: Any, **__: Any) -> int:
        return seconds((1 + MAPS_FORWARDS) * FORWARD_S_PER_MP * self.megapixels(image), QUICK_CAP_S)

    def preview(self, image: Any, *_: Any, **__: Any) -> int:
        return seconds(2 * FORWARD_S_PER_MP * self.megapixels(image), QUICK_CAP_S)

    def upload(self, image: Any, *_: Any, **__: Any) -> int:
        """Score, both maps and perhaps the preview: one call."""
        return seconds((2 + MAPS_FORWARDS) * FORWARD_S_PER_MP * self.megapixels(image), QUICK_CAP_S)

    def two_photos(self, first: Any, second: Any, *_: Any, **__: Any) -> int:
        """Both photos analysed, each with its two maps: one call."""
        work = (1 + MAPS_FORWARDS) * FORWARD_S_PER_MP * (self.megapixels(first) + self.megapixels(second))
        return seconds(work, QUICK_CAP_S)

    def learn(self, image: Any, *_: Any, **__: Any) -> int:
        levels = len(ALL_LEVELS)
        return seconds(levels * (FORWARD_S_PER_MP + DEGRADE_S_PER_MP) * self.megapixels(image), QUICK_CAP_S)

    def sweep(self, image: Any, degradation: str, every_type: bool, *_: Any, **__: Any) -> int:
        types = len(DEGRADATIONS) if every_type else 1
        per_type = len(ALL_LEVELS) * (DEGRADE_S_PER_MP + self.models * FORWARD_S_PER_MP)
        return seconds(types * per_type * self.megapixels(image), LONG_CAP_S)

    def compare(self, image: Any, *_: Any, **__: Any) -> int:
        return seconds(self.models * (1 + MAPS_FORWARDS) * FORWARD_S_PER_MP * self.megapixels(image), LONG_CAP_S)

    def batch(self, files: Sequence[str] | None, *_: Any, **__: Any) -> int:
        total = sum(self.megapixels(Path(f)) for f in files or ())
        return seconds(FORWARD_S_PER_MP * total, LONG_CAP_S)

    def robustness_report(self, files: Sequence[str] | None, types: Sequence[str] | None = None, *_: Any,
                          **__: Any) -> int:
        """The report's work (:func:`~qualiclip.evaluation.robustness_report.report_work`) at the unit costs
        above; within :data:`LONG_CAP_S` for any report its limits allow (a test checks)."""
        try:
            work = report_work([Path(f) for f in files or ()], list(types or ()), self.models, self.max_side)
        except ValueError:  # unknown types: the call refuses them at once
            return MIN_S
        return seconds(work.seconds(FORWARD_S_PER_MP, DEGRADE_S_PER_MP), LONG_CAP_S)

    def training_step(self, image: Any, steps: float = DEFAULT_STEPS, *_: Any, **__: Any) -> int:
        """Degrading the crops once, measuring them twice, and per step a forward and a backward (about two
        forwards) of every crop; within :data:`QUICK_CAP_S` up to the app's most steps (a test checks)."""
        crops = 2 * DEMO_CONFIG.num_levels * DEMO_CONFIG.crop_size ** 2 / 1e6
        work = crops * (DEGRADE_S_PER_MP + (2 + TRAIN_STEP_FORWARDS * max(0, int(steps))) * FORWARD_S_PER_MP)
        return seconds(work, QUICK_CAP_S)
