"""One forward pass per uploaded image: its decoded pixels, trunk features and score, kept for every tab.

An upload triggers several callbacks (score, heatmaps, robustness preview...) and API users send
the same image again with each call. :class:`AnalysisCache` keys an image by its content (a hash
of the file's bytes) and keeps a few recent :class:`Analysis` records, so the image is decoded and
its image-tower trunk run once; the heatmaps start from the trunk (a pool-only backward) and the
robustness preview reuses the original's score. Everything read from a record equals what the
uncached path computes, bit for bit.
"""
from __future__ import annotations

import hashlib
import os
import threading
from collections import OrderedDict
from dataclasses import dataclass

import torch

from qualiclip import PreparedImage, QualityScorer
from qualiclip.scoring import BatchScores
from qualiclip.imaging import ImageInput

#: Records kept per cache: one upload's callbacks run back to back; a few sessions interleave.
CACHED_ANALYSES = 4
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


def analyse(model: QualityScorer, image: ImageInput | PreparedImage) -> Analysis:
    """Prepare ``image`` for ``model``, run the trunk once and score it from there."""
    prepared = model.prepare(image)
    trunk = model.trunk(prepared.pixels[None])
    return Analysis(prepared, trunk, model.score_trunk(trunk))


def file_digest(path: str | os.PathLike) -> str:
    """A hash of the file's content: the same image uploaded twice (two paths) gets the same key."""
    digest = hashlib.blake2b(digest_size=20)
    with open(path, "rb") as handle:
        while chunk := handle.read(_HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


class AnalysisCache:
    """The last few :class:`Analysis` records of one model, keyed by file content (thread-safe)."""

    def __init__(self, model: QualityScorer, size: int = CACHED_ANALYSES) -> None:
        self.model, self.size = model, size
        self._records: OrderedDict[str, Analysis] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, image: ImageInput | PreparedImage) -> Analysis:
        """The analysis of ``image``: from the cache for a file seen recently, else computed now.

        Only files are cached (by content); arrays and other inputs are analysed every time.
        Two requests racing on a new file may both compute it; the results are identical.
        """
        if not (isinstance(image, (str, os.PathLike)) and os.path.isfile(image)):
            return analyse(self.model, image)
        key = file_digest(image)
        with self._lock:
            if key in self._records:
                self._records.move_to_end(key)
                return self._records[key]
        record = analyse(self.model, image)
        with self._lock:
            self._records[key] = record
            while len(self._records) > self.size:
                self._records.popitem(last=False)
        return record
