"""One forward pass per uploaded image: its decoded pixels, trunk features and score, kept for every tab.

An upload triggers several callbacks (score, heatmaps, robustness preview...) and API users send
the same image again with each call. :class:`AnalysisCache` keys an image by its content (a hash
of the file's bytes) and keeps a few recent :class:`Analysis` records, so the image is decoded and
its image-tower trunk run once; the heatmaps start from the trunk (a pool-only backward) and the
robustness preview reuses the original's score. Everything read from a record equals what the
uncached path computes, bit for bit (on the backend the model runs on then: a model that switches to
ONNX Runtime, see :mod:`qualiclip.studio.model_slots`, gives the torch numbers within 1e-5).

The cache lives in the main process. On ZeroGPU each model-running call runs in a forked worker, so
the cache is the call's :class:`~qualiclip.studio.gpu.Carry`: before a call, :meth:`AnalysisCache.handed`
picks the records of the call's image files (a file not seen yet is decoded here, outside the GPU
window), as numpy arrays (:class:`Carried`: CPU data only, so no CUDA tensor can cross); the worker
adopts them, and the trunk and scores of what it analysed come back (:meth:`AnalysisCache.fresh`)
for the main process to keep. What crosses is bounded by the model's ``max_side``: the prepared
pixels (float32, 3 x H x W) and the trunk in the dtype it was computed in (fp16 under CUDA autocast,
so already half the bytes and exact; float32 on CPU, never narrowed, since the heatmaps would change).
The main process keeps at most :data:`CACHED_ANALYSES` records and :data:`CACHE_MAX_BYTES` bytes.
"""
from __future__ import annotations

import hashlib
import os
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from qualiclip import PreparedImage, QualityScorer
from qualiclip.imaging import ImageInput
from qualiclip.scoring import BatchScores

from .inputs import load_input

#: Records kept per cache: one upload's callbacks run back to back; a few sessions interleave.
CACHED_ANALYSES = 4
#: Bytes of pixels and trunk features the main process keeps at most (the oldest records go first).
CACHE_MAX_BYTES = 256 << 20
_HASH_CHUNK = 1 << 20


@dataclass(frozen=True)
class Analysis:
    """An image as scored: prepared pixels, the tower's trunk features (1, C, h, w) and its scores."""

    image: PreparedImage
    trunk: torch.Tensor
    scores: BatchScores

    @property
    def score(self) -> float:
        return float(self.scores.scores[0])

    @property
    def nbytes(self) -> int:
        """Bytes of pixels, trunk features and scores held."""
        return sum(t.numel() * t.element_size() for t in (self.image.pixels, self.trunk, *self.scores))


@dataclass(frozen=True)
class Carried:
    """What crosses between the main process and a GPU worker for one image: numpy arrays only.

    ``trunk`` and ``scores`` are None for an image only decoded so far (the worker analyses it).
    """

    pixels: np.ndarray
    original_size: tuple[int, int]
    frames: int
    trunk: np.ndarray | None = None
    scores: tuple[np.ndarray, ...] | None = None
    #: The trunk's dimension order in memory (channels-last for ResNet towers), restored on arrival:
    #: kernels on another layout round differently.
    trunk_order: tuple[int, ...] = ()

    @classmethod
    def of(cls, image: PreparedImage, analysis: Analysis | None = None, pixels: bool = True) -> Carried:
        """``image`` (its pixels left out unless ``pixels``) and, if given, ``analysis``'s trunk and scores."""
        if analysis is None:
            return cls(image.pixels.numpy() if pixels else np.empty(0, np.float32), image.original_size, image.frames)
        trunk = analysis.trunk.detach().cpu()
        order = tuple(sorted(range(trunk.dim()), key=lambda dim: -trunk.stride(dim)))
        return cls(image.pixels.numpy() if pixels else np.empty(0, np.float32), image.original_size, image.frames,
                   trunk.permute(order).contiguous().numpy(), tuple(t.numpy() for t in analysis.scores), order)

    def with_pixels_of(self, other: Carried) -> Carried:
        """This record with ``other``'s pixels (what the main process decoded before the call)."""
        return Carried(other.pixels, other.original_size, other.frames, self.trunk, self.scores, self.trunk_order)

    def prepared(self) -> PreparedImage:
        return PreparedImage(torch.from_numpy(self.pixels), self.original_size, self.frames)

    def analysis(self, model: QualityScorer, device: torch.device | None = None) -> Analysis:
        """The record (trunk on ``device``, CPU by default), the trunk run now if it did not come along."""
        if self.trunk is None or self.scores is None:
            return analyse(model, self.prepared())
        scores = BatchScores(*(torch.from_numpy(s) for s in self.scores))
        trunk = torch.from_numpy(self.trunk).permute(tuple(np.argsort(self.trunk_order))).to(device or "cpu")
        return Analysis(self.prepared(), trunk, scores)

    @property
    def nbytes(self) -> int:
        """Bytes of array data carried (what crosses the process boundary, pickle framing aside)."""
        return sum(a.nbytes for a in (self.pixels, self.trunk, *(self.scores or ())) if a is not None)


def analyse(model: QualityScorer, image: ImageInput | PreparedImage) -> Analysis:
    """Prepare ``image`` for ``model``, run the trunk once and score it from there (a model switched to
    ONNX Runtime gives both from one run of its graph)."""
    prepared = model.prepare(image)
    return Analysis(prepared, *model.scored_trunk(prepared.pixels[None]))


def is_file(image: Any) -> bool:
    """True for a path to an existing file: the inputs the cache keys by content."""
    return isinstance(image, (str, os.PathLike)) and os.path.isfile(image)


def file_digest(path: str | os.PathLike) -> str:
    """A hash of the file's content: the same image uploaded twice (two paths) gets the same key."""
    digest = hashlib.blake2b(digest_size=20)
    with open(path, "rb") as handle:
        while chunk := handle.read(_HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


class AnalysisCache:
    """The last few :class:`Analysis` records of one model, keyed by file content (thread-safe); the
    :class:`~qualiclip.studio.gpu.Carry` of the app's GPU calls (see the module docstring)."""

    def __init__(self, model: QualityScorer, size: int = CACHED_ANALYSES, max_bytes: int = CACHE_MAX_BYTES) -> None:
        self.model, self.size, self.max_bytes = model, size, max_bytes
        self._records: OrderedDict[str, Analysis] = OrderedDict()
        self._decoded: dict[str, PreparedImage] = {}
        self._lock = threading.Lock()

    def _lookup(self, key: str) -> Analysis | None:
        with self._lock:
            if key in self._records:
                self._records.move_to_end(key)
                return self._records[key]
        return None

    def _store(self, key: str, record: Analysis) -> None:
        with self._lock:
            self._records[key] = record
            self._records.move_to_end(key)
            while len(self._records) > self.size or (
                    len(self._records) > 1 and sum(r.nbytes for r in self._records.values()) > self.max_bytes):
                self._records.popitem(last=False)

    def get(self, image: ImageInput | PreparedImage) -> Analysis:
        """The analysis of ``image``: from the cache for a file seen recently, else computed now.

        Only files are cached (by content); arrays and other inputs are analysed every time.
        Two requests racing on a new file may both compute it; the results are identical.
        """
        if not is_file(image):
            return analyse(self.model, image)
        key = file_digest(image)
        if (record := self._lookup(key)) is not None:
            return record
        record = analyse(self.model, self._decoded.get(key, image))
        self._store(key, record)
        return record

    def handed(self, args: tuple) -> dict[str, Carried]:
        """Main process, before a GPU call: the carried record of each image file among ``args``.

        A file not analysed yet is decoded now (no GPU needed); one that cannot be used raises the
        ``gr.Error`` every callback gives it, before any GPU is booked.
        """
        handed = {}
        for image in filter(is_file, args):
            key = file_digest(image)
            if (record := self._lookup(key)) is not None:
                handed[key] = Carried.of(record.image, record)
                continue
            handed[key] = Carried.of(load_input(image, self.model.prepare))
        return handed

    def adopt(self, handed: dict[str, Carried]) -> None:
        """GPU worker, before the call: only ``handed`` is known (a reused worker forgets earlier calls).

        The lock is made anew: a worker forked while another request's thread in the main process held
        it would inherit it held, and wait for ever (a worker runs one call at a time)."""
        self._lock = threading.Lock()
        with self._lock:
            self._records.clear()
            self._decoded = {key: carried.prepared() for key, carried in handed.items() if carried.trunk is None}
        for key, carried in handed.items():
            if carried.trunk is not None:
                self._store(key, carried.analysis(self.model, self.model.device))

    def fresh(self, handed: dict[str, Carried]) -> dict[str, Carried]:
        """GPU worker, after the call: what it analysed (pixels only where the main process lacks them)."""
        with self._lock:
            new = [(key, record) for key, record in self._records.items()
                   if key not in handed or handed[key].trunk is None]
        return {key: Carried.of(record.image, record, pixels=key not in handed) for key, record in new}

    def keep(self, handed: dict[str, Carried], fresh: dict[str, Carried]) -> None:
        """Main process, after the call: keep what it analysed (as CPU data: no model code runs here)."""
        for key, carried in fresh.items():
            self._store(key, (carried.with_pixels_of(handed[key]) if key in handed else carried).analysis(self.model))
