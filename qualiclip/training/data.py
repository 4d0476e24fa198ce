"""Training data: overlapping crop pairs of pristine images, degraded at levels 1..L.

Every batch is a pure function of (seed, step): sample ``k`` of step ``s`` draws from
``numpy.random.default_rng([seed, s, k])``. Batches therefore do not depend on worker count or
on earlier batches, and a resumed run sees exactly the batches the uninterrupted run would have.
With several processes each rank draws only its own slots ``k`` (see
:mod:`qualiclip.training.distributed`), and so decodes only the images those slots pick.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import Dataset

from ..degradations import GROUPS, CompositionConfig, sample_level_series
from ..image_files import images_below
from ..imaging import ImageInput, PreparedImage, prepare, to_chw, to_hwc

#: Decoded images kept in memory per worker (decoding a PNG costs more than degrading a crop).
CACHED_IMAGES = 64


@dataclass(frozen=True)
class Box:
    """A crop window: top-left corner and side length, in pixels."""

    top: int
    left: int
    size: int

    def cut(self, image: torch.Tensor, top: int = 0, left: int = 0) -> torch.Tensor:
        """This window of a (3, H, W) image whose top-left pixel lies at (``top``, ``left``)."""
        return image[:, self.top - top:self.top - top + self.size, self.left - left:self.left - left + self.size]


def list_images(folder: str | Path) -> list[Path]:
    """Image files below ``folder`` (recursive), sorted so runs are reproducible."""
    paths = images_below(folder)
    if not paths:
        raise FileNotFoundError(f"no image files found below {folder}")
    return paths


def overlapping_boxes(height: int, width: int, size: int, rng: np.random.Generator,
                      min_overlap: float = 0.5) -> tuple[Box, Box]:
    """Two ``size`` crops inside an HxW image that overlap by >= ``min_overlap`` * size on each axis.

    A is uniform over the image; B is shifted from A by at most (1 - min_overlap) * size per axis
    (uniformly, clipped to the image), so the two always share at least that much.
    """
    if height < size or width < size:
        raise ValueError(f"image {width}x{height} is smaller than the crop size {size}")
    reach = int((1.0 - min_overlap) * size)
    top, left = int(rng.integers(0, height - size + 1)), int(rng.integers(0, width - size + 1))
    other_top = int(rng.integers(max(0, top - reach), min(height - size, top + reach) + 1))
    other_left = int(rng.integers(max(0, left - reach), min(width - size, left + reach) + 1))
    return Box(top, left, size), Box(other_top, other_left, size)


def rescaled(image: torch.Tensor, factor: float, min_side: int) -> torch.Tensor:
    """``image`` resized by ``factor`` (antialiased), never below ``min_side`` on its short side."""
    factor = max(factor, min_side / min(image.shape[1:]))
    new_size = (max(min_side, round(image.shape[1] * factor)), max(min_side, round(image.shape[2] * factor)))
    if new_size == tuple(image.shape[1:]):
        return image
    return F.interpolate(image[None], size=new_size, mode="bilinear", antialias=True,
                         align_corners=False)[0].clamp(0, 1)


def load_for_crops(image: ImageInput | PreparedImage, size: int, max_side: int | None = None) -> torch.Tensor:
    """Read an image as (3, H, W) in [0, 1], its longer side capped at ``max_side``; upscale it if a side is
    shorter than ``size``."""
    return rescaled(prepare(image, max_side).pixels, 1.0, size)


def training_composition(max_distortions: int, groups: Sequence[str] | None = None) -> CompositionConfig:
    """What a training series may draw: up to ``max_distortions`` types of ``groups`` (default: all), monotone only.

    The ranking losses order a series by level: the slider's monotone types, not ARNIQA's two
    non-monotone tables (the sampler's default).
    """
    return CompositionConfig(max_groups=max_distortions, groups=tuple(groups or GROUPS), monotone_only=True)


def degraded_crop_pair(image: torch.Tensor, rng: np.random.Generator, size: int, num_levels: int,
                       composition: CompositionConfig, min_overlap: float = 0.5,
                       include_pristine: bool = False) -> torch.Tensor:
    """(2, L, 3, size, size): crops A and B of ``image`` at levels 1..L of one sampled distortion.

    With ``include_pristine`` the undistorted crops come first, as level 0: (2, L + 1, 3, size, size).
    See :func:`named_crop_pair`, which also says which distortion was drawn.
    """
    return named_crop_pair(image, rng, size, num_levels, composition, min_overlap, include_pristine)[0]


def named_crop_pair(image: torch.Tensor, rng: np.random.Generator, size: int, num_levels: int,
                    composition: CompositionConfig, min_overlap: float = 0.5,
                    include_pristine: bool = False) -> tuple[torch.Tensor, tuple[str, ...]]:
    """:func:`degraded_crop_pair`'s crops and the names of the distortion types drawn for them.

    The distortion is applied once to the union window of A and B, then both crops are cut from
    it, so A and B carry the same distortion realisation (same noise field, angle, patches...).
    """
    box_a, box_b = overlapping_boxes(image.shape[1], image.shape[2], size, rng, min_overlap)
    top, left = min(box_a.top, box_b.top), min(box_a.left, box_b.left)
    bottom, right = max(box_a.top, box_b.top) + size, max(box_a.left, box_b.left) + size
    region = to_hwc(image[:, top:bottom, left:right]).numpy()
    series = sample_level_series(region, rng, composition, num_levels=num_levels)
    degraded = [to_chw(np.ascontiguousarray(level)) for level in series.images]
    if include_pristine:
        degraded.insert(0, image[:, top:bottom, left:right])
    crops = torch.stack([torch.stack([box.cut(level, top, left) for level in degraded]) for box in (box_a, box_b)])
    return crops, series.names


class StepBatches(Dataset):
    """Map-style dataset whose item ``step`` is that step's batch, (B, 2, L, 3, S, S): all of it, or
    the samples of ``slots`` (a rank's share of the B slots)."""

    def __init__(self, paths: Sequence[Path], *, seed: int, batch_size: int, crop_size: int,
                 num_levels: int, max_distortions: int, min_overlap: float,
                 groups: Sequence[str] | None = None, include_pristine: bool = False,
                 scale_range: Sequence[float] | None = None, flip: bool = False,
                 permute_channels: bool = False, slots: Sequence[int] | None = None) -> None:
        self.paths = list(paths)
        self.seed, self.batch_size, self.crop_size = seed, batch_size, crop_size
        self.slots = list(range(batch_size) if slots is None else slots)
        self.num_levels, self.min_overlap, self.include_pristine = num_levels, min_overlap, include_pristine
        self.scale_range = tuple(scale_range) if scale_range else None
        self.flip, self.permute_channels = flip, permute_channels
        self.composition = training_composition(max_distortions, groups)
        self._cache: dict[Path, torch.Tensor] = {}

    def __len__(self) -> int:
        return 2 ** 62  # indexed by step; the sampler decides which steps are drawn

    def image(self, path: Path) -> torch.Tensor:
        """Decoded image, from a small first-in-first-out cache."""
        if path not in self._cache:
            if len(self._cache) >= CACHED_IMAGES:
                del self._cache[next(iter(self._cache))]
            self._cache[path] = load_for_crops(path, self.crop_size)
        return self._cache[path]

    def sample(self, step: int, slot: int) -> torch.Tensor:
        """Sample ``slot`` of ``step``: a random image's degraded crop pair."""
        rng = np.random.default_rng([self.seed, step, slot])
        image = self.image(self.paths[int(rng.integers(len(self.paths)))])
        if self.scale_range:
            image = rescaled(image, float(rng.uniform(*self.scale_range)), self.crop_size)
        if self.flip and rng.random() < 0.5:
            image = image.flip(-1)
        if self.permute_channels:
            image = image[torch.from_numpy(rng.permutation(3))]
        return degraded_crop_pair(image, rng, self.crop_size, self.num_levels, self.composition, self.min_overlap,
                                  self.include_pristine)

    def __getitem__(self, step: int) -> torch.Tensor:
        return torch.stack([self.sample(step, slot) for slot in self.slots])
