"""Training-time sampling of distortion compositions (ARNIQA/QualiCLIP style).

A composition picks 1..``max_groups`` distinct groups in random order, one
type from each group and a level per type, and applies them in sequence.
:func:`sample_level_series` instead applies one sampled composition at every
level 1..L with identical randomness, giving the "same distortion, increasing
severity" sequences that QualiCLIP's ranking losses use.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Generic, Sequence

import numpy as np

from .registry import DEGRADATIONS, GROUPS, MAX_LEVEL, Image, apply_degradation


@dataclass(frozen=True)
class CompositionConfig:
    """What the sampler may draw.

    ``groups`` restricts the groups (default: all); ``level_choices`` are the levels a
    composition step may use; ``monotone_only`` excludes the non-monotone
    original-table types (default, as for the UI slider).
    """

    min_groups: int = 1
    max_groups: int = 4
    level_choices: tuple[int, ...] = tuple(range(1, MAX_LEVEL + 1))
    groups: tuple[str, ...] = tuple(GROUPS)
    monotone_only: bool = True

    def __post_init__(self) -> None:
        unknown = set(self.groups) - set(GROUPS)
        if unknown:
            raise ValueError(f"unknown groups: {sorted(unknown)}")
        if not 1 <= self.min_groups <= self.max_groups <= len(self.groups):
            raise ValueError("need 1 <= min_groups <= max_groups <= number of groups")
        if not self.level_choices or not all(1 <= level <= MAX_LEVEL for level in self.level_choices):
            raise ValueError(f"level_choices must be a non-empty subset of 1..{MAX_LEVEL}")

    def candidates(self) -> dict[str, tuple[str, ...]]:
        """Group -> allowed type names, for the configured groups that have any."""
        allowed = {
            group: tuple(n for n in GROUPS[group] if DEGRADATIONS[n].monotone or not self.monotone_only)
            for group in self.groups
        }
        return {group: names for group, names in allowed.items() if names}


@dataclass(frozen=True)
class DegradationStep:
    """One step of a composition: a type name and its level."""

    name: str
    level: int


@dataclass(frozen=True)
class LevelSeries(Generic[Image]):
    """The same composition of ``names`` applied at levels 1..L (``images[i]`` is level i + 1)."""

    names: tuple[str, ...]
    images: list[Image] = field(default_factory=list)


def sample_types(rng: np.random.Generator, config: CompositionConfig = CompositionConfig()) -> tuple[str, ...]:
    """Draw distinct groups (count uniform in the configured range) and one type per group."""
    candidates = config.candidates()
    groups = list(candidates)
    count = int(rng.integers(config.min_groups, min(config.max_groups, len(groups)) + 1))
    chosen = rng.choice(len(groups), size=count, replace=False)
    return tuple(candidates[groups[g]][rng.integers(len(candidates[groups[g]]))] for g in chosen)


def sample_composition(
    rng: np.random.Generator, config: CompositionConfig = CompositionConfig()
) -> tuple[DegradationStep, ...]:
    """Draw types as :func:`sample_types` does, each with an independent level from ``config.level_choices``."""
    return tuple(DegradationStep(name, int(rng.choice(config.level_choices))) for name in sample_types(rng, config))


def apply_composition(image: Image, steps: Sequence[DegradationStep], rng: np.random.Generator) -> Image:
    """Apply ``steps`` in order, returning a new image of the input's type."""
    for step in steps:
        image = apply_degradation(image, step.name, step.level, rng)
    return image


def sample_degradation(
    image: Image, rng: np.random.Generator, config: CompositionConfig = CompositionConfig()
) -> tuple[Image, tuple[DegradationStep, ...]]:
    """Sample a composition and apply it; returns the degraded image and the steps used."""
    steps = sample_composition(rng, config)
    return apply_composition(image, steps, rng), steps


def sample_level_series(
    image: Image,
    rng: np.random.Generator,
    config: CompositionConfig = CompositionConfig(),
    num_levels: int = MAX_LEVEL,
) -> LevelSeries[Image]:
    """Sample one composition of types and apply it at every level 1..``num_levels``.

    Every level replays the same random stream (same motion angle, noise field,
    patch positions...), so the images differ only in severity.
    """
    if not 1 <= num_levels <= MAX_LEVEL:
        raise ValueError(f"num_levels must be in 1..{MAX_LEVEL}")
    names = sample_types(rng, config)
    seed = int(rng.integers(2**63))
    images = [
        apply_composition(image, [DegradationStep(name, level) for name in names], np.random.default_rng(seed))
        for level in range(1, num_levels + 1)
    ]
    return LevelSeries(names, images)
