"""Training-time sampling of distortion compositions, the way ARNIQA draws them.

A composition (ARNIQA's pipeline) is, with probability ``distortion_probability`` (0.95), 1 to 4
distinct groups (count uniform) in random order, which is the application order, one type per
group drawn uniformly, and a level per type drawn with ARNIQA's law
``P(level) ~ exp(-(level - 1)^2 / 12.5)`` (0.2929, 0.2704, 0.2127, 0.1426, 0.0814 for 1..5);
otherwise nothing. Every step's output is clipped to [0, 1] (the registry does it). By default
the types are ARNIQA's 24 table types.

:func:`sample_level_series` (QualiCLIP) instead applies one drawn set of types at every level
1..L with identical randomness, giving the "same distortion, increasing severity" sequences that
QualiCLIP's ranking losses use; for those, ``monotone_only=True`` swaps ARNIQA's two non-monotone
tables for their monotone variants. All randomness comes from the ``numpy.random.Generator`` passed in.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Generic, Sequence

import numpy as np

from .registry import GROUPS, MAX_LEVEL, Image, apply_degradation, degradation_names

_LEVEL_LAW_SCALE = 12.5  # ARNIQA: P(level) ~ exp(-(level - 1)^2 / 12.5)


@dataclass(frozen=True)
class CompositionConfig:
    """What the sampler may draw.

    ``groups`` restricts the groups (default: all); ``level_choices`` are the levels a composition
    step may use, drawn with ARNIQA's level law restricted to them; ``monotone_only`` draws the
    slider's monotone series (the two non-monotone table types replaced by their monotone
    variants) instead of ARNIQA's 24 table types; ``distortion_probability`` is the chance that
    :func:`sample_composition` draws any step at all.
    """

    min_groups: int = 1
    max_groups: int = 4
    level_choices: tuple[int, ...] = tuple(range(1, MAX_LEVEL + 1))
    groups: tuple[str, ...] = tuple(GROUPS)
    monotone_only: bool = False
    distortion_probability: float = 0.95

    def __post_init__(self) -> None:
        unknown = set(self.groups) - set(GROUPS)
        if unknown:
            raise ValueError(f"unknown groups: {sorted(unknown)}")
        if not 1 <= self.min_groups <= self.max_groups <= len(self.groups):
            raise ValueError("need 1 <= min_groups <= max_groups <= number of groups")
        if not self.level_choices or not all(1 <= level <= MAX_LEVEL for level in self.level_choices):
            raise ValueError(f"level_choices must be a non-empty subset of 1..{MAX_LEVEL}")
        if not 0.0 <= self.distortion_probability <= 1.0:
            raise ValueError("distortion_probability must be in [0, 1]")

    def candidates(self) -> dict[str, tuple[str, ...]]:
        """Group -> allowed type names, for the configured groups that have any."""
        allowed = {group: degradation_names(monotone_only=self.monotone_only, group=group,
                                            table_only=not self.monotone_only)
                   for group in self.groups}
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


def level_probabilities(levels: Sequence[int]) -> np.ndarray:
    """ARNIQA's level law over ``levels``: ``P(level) ~ exp(-(level - 1)^2 / 12.5)``, normalised."""
    weights = np.exp(-(np.asarray(levels, dtype=np.float64) - 1) ** 2 / _LEVEL_LAW_SCALE)
    return weights / weights.sum()


def sample_types(rng: np.random.Generator, config: CompositionConfig = CompositionConfig()) -> tuple[str, ...]:
    """Draw distinct groups (count uniform in the configured range, random order) and one type per group."""
    candidates = config.candidates()
    groups = list(candidates)
    count = int(rng.integers(config.min_groups, min(config.max_groups, len(groups)) + 1))
    chosen = rng.choice(len(groups), size=count, replace=False)
    return tuple(candidates[groups[g]][rng.integers(len(candidates[groups[g]]))] for g in chosen)


def sample_composition(
    rng: np.random.Generator, config: CompositionConfig = CompositionConfig()
) -> tuple[DegradationStep, ...]:
    """ARNIQA's draw: no step with probability ``1 - distortion_probability``, else the types of
    :func:`sample_types`, each with a level from :func:`level_probabilities` over ``level_choices``."""
    if rng.random() >= config.distortion_probability:
        return ()
    names = sample_types(rng, config)
    levels = rng.choice(config.level_choices, size=len(names), p=level_probabilities(config.level_choices))
    return tuple(DegradationStep(name, int(level)) for name, level in zip(names, levels))


def apply_composition(image: Image, steps: Sequence[DegradationStep], rng: np.random.Generator) -> Image:
    """Apply ``steps`` in order, each clipped to [0, 1]; returns a new image, or ``image`` itself if there are none."""
    for step in steps:
        image = apply_degradation(image, step.name, step.level, rng)
    return image


def sample_degradation(
    image: Image, rng: np.random.Generator, config: CompositionConfig = CompositionConfig()
) -> tuple[Image, tuple[DegradationStep, ...]]:
    """Sample a composition and apply it; returns the degraded image and the steps used (maybe none)."""
    steps = sample_composition(rng, config)
    return apply_composition(image, steps, rng), steps


def sample_level_series(
    image: Image,
    rng: np.random.Generator,
    config: CompositionConfig = CompositionConfig(),
    num_levels: int = MAX_LEVEL,
) -> LevelSeries[Image]:
    """Sample one composition of types and apply it at every level 1..``num_levels``.

    Every level replays the same random stream (same motion angle, noise field, patch
    positions...), so the images differ only in severity. Every series is distorted (the
    composition's ``distortion_probability`` and level law do not apply); use
    ``monotone_only=True`` for series whose severity must grow with the level.
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
