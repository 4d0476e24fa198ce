"""Watch QualiCLIP learn on one photo: the paper's crops, their prompt similarities, its three losses, a few steps.

For teaching (the app's Learn tab). :func:`demo_crops` cuts the two overlapping crops of the
paper from the photo and degrades them at levels 1..L with one drawn distortion (the training
data's code, :func:`~qualiclip.training.data.named_crop_pair`); :func:`measure` gives each crop's
cosine similarity with the positive and negative prompts and the three losses with their weighted
total (:mod:`.step`, :mod:`.losses`); :func:`train_steps` runs a few optimisation steps of the image
encoder on those crops, in a throw-away deep copy: the model passed in is never changed.

BatchNorm stays frozen (eval mode) and only the image tower trains, as when the training run fine-tunes a
trained model; the learning rate is constant (no warm-up, which would spend the few steps at a tiny rate).
"""
from __future__ import annotations

import copy
import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import torch

from ..imaging import ImageInput, PreparedImage, to_uint8_rgb
from ..scoring import QualityScorer
from .config import TrainConfig
from .data import load_for_crops, named_crop_pair, training_composition
from .losses import LossTerms
from .optimization import make_optimizer
from .step import crop_losses, descend

#: The demo's settings: :class:`TrainConfig`'s defaults, i.e. the paper's crops, levels, margins and
#: loss weights, AdamW at 1e-4 (on the bundled model's examples 1e-4 lowers the loss at every one
#: of 5 steps; 1e-3 overshoots on some photos).
DEMO_CONFIG = TrainConfig()
#: At most this many steps per call: the demo's time stays bounded.
MAX_STEPS = 50
#: White pixels between the crops of :meth:`DemoCrops.grid`.
GRID_GAP = 4
#: Called after each step with its number (from 1) and the losses before it.
StepCallback = Callable[[int, dict[str, float]], object]


@dataclass(frozen=True)
class DemoCrops:
    """The two overlapping crops of a photo at levels 1..L of one distortion."""

    #: (2, L, 3, S, S) in [0, 1]: crop A then crop B, level 1 first.
    crops: torch.Tensor = field(repr=False)
    #: The distortion type(s) applied (registry names).
    distortions: tuple[str, ...]

    @property
    def levels(self) -> int:
        return self.crops.shape[1]

    def grid(self) -> np.ndarray:
        """(H, W, 3) uint8: crop A's levels 1..L on the first row, crop B's on the second, white gaps between."""
        _, levels, _, size, _ = self.crops.shape
        step = size + GRID_GAP
        grid = np.full((2 * step - GRID_GAP, levels * step - GRID_GAP, 3), 255, np.uint8)
        for row, series in enumerate(self.crops):
            for column, crop in enumerate(series):
                grid[row * step:row * step + size, column * step:column * step + size] = to_uint8_rgb(crop)
        return grid


@dataclass(frozen=True)
class Measurement:
    """A model on a :class:`DemoCrops`: its prompt similarities and the losses they give."""

    #: consistency, positive (ranking), negative (ranking) and their weighted total.
    losses: dict[str, float]
    #: (2, L, P, 2): crop, level (1 first), prompt pair, positive/negative prompt.
    similarities: np.ndarray = field(repr=False)

    def similarity_rows(self) -> list[dict[str, object]]:
        """Per crop and level, the similarity with the positive and with the negative prompts (mean over the pairs)."""
        means = self.similarities.mean(axis=2)
        return [{"crop": crop, "level": level + 1, "positive": float(means[index, level, 0]),
                 "negative": float(means[index, level, 1])}
                for index, crop in enumerate("AB") for level in range(means.shape[1])]


@dataclass(frozen=True)
class TrainingDemo:
    """What :func:`train_steps` did: the crops, the model on them before and after, the losses at every step."""

    crops: DemoCrops
    before: Measurement
    after: Measurement
    #: The losses at each step, before its update (``history[0]`` equals ``before.losses``).
    history: list[dict[str, float]]
    seconds: float

    @property
    def losses(self) -> dict[str, dict[str, float]]:
        """``{"before": {...}, "after": {...}}``, each with consistency, positive, negative and total."""
        return {"before": self.before.losses, "after": self.after.losses}

    @property
    def similarities(self) -> dict[str, list[dict[str, object]]]:
        """``{"before": rows, "after": rows}`` of :meth:`Measurement.similarity_rows`."""
        return {"before": self.before.similarity_rows(), "after": self.after.similarity_rows()}


def _losses(terms: LossTerms) -> dict[str, float]:
    """The three losses, then their weighted total."""
    values = terms.as_floats()
    return {name: values[name] for name in ("consistency", "positive", "negative", "total")}


def demo_crops(image: ImageInput | PreparedImage, config: TrainConfig = DEMO_CONFIG, seed: int = 0,
               max_side: int | None = None) -> DemoCrops:
    """The crops of the paper from ``image`` (longer side capped at ``max_side``): ``config``'s crop size,
    overlap, levels 1..``num_levels`` and distortion groups; the crops and the distortion follow ``seed``."""
    pixels = load_for_crops(image, config.crop_size, max_side)
    crops, names = named_crop_pair(pixels, np.random.default_rng(seed), config.crop_size, config.num_levels,
                                   training_composition(config.max_distortions, config.groups), config.min_overlap)
    return DemoCrops(crops, names)


def measure(model: QualityScorer, crops: DemoCrops, config: TrainConfig = DEMO_CONFIG) -> Measurement:
    """``model``'s similarities on ``crops`` and the losses with ``config``'s margins and weights (no training)."""
    with torch.no_grad():
        sims, terms = crop_losses(model, crops.crops[None], config)
    return Measurement(_losses(terms), sims[0].float().cpu().numpy())


def train_steps(model: QualityScorer, image: ImageInput | PreparedImage, steps: int,
                config: TrainConfig = DEMO_CONFIG, seed: int = 0,
                on_step: StepCallback | None = None) -> TrainingDemo:
    """``steps`` optimisation steps of a deep copy of ``model``'s image tower on the crops of ``image``.

    The same crops every step (:func:`demo_crops` with ``seed``, the photo capped at the model's
    ``max_side``); ``config`` gives the losses' margins and weights, the optimiser and its learning
    rate. ``model`` itself is never changed. ``on_step(step, losses)`` follows each step (progress).
    """
    if not 0 <= steps <= MAX_STEPS:
        raise ValueError(f"steps must be in 0..{MAX_STEPS}, got {steps}")
    started = time.perf_counter()
    crops = demo_crops(image, config, seed, model.max_side)
    learner = copy.deepcopy(model)
    learner.prompt_features = model.prompt_features.clone()  # a plain tensor even if made in inference mode
    learner.clip.eval().requires_grad_(False)
    learner.clip.visual.requires_grad_(True)
    optimizer = make_optimizer(list(learner.clip.visual.parameters()), config)
    scaler = torch.amp.GradScaler("cuda", enabled=learner.device.type == "cuda")
    before, history = measure(learner, crops, config), []
    for step in range(1, steps + 1):
        _, terms = crop_losses(learner, crops.crops[None], config)
        descend(terms, optimizer, scaler)
        history.append(_losses(terms))
        if on_step is not None:
            on_step(step, history[-1])
    return TrainingDemo(crops, before, measure(learner, crops, config), history, time.perf_counter() - started)
