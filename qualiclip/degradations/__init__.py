"""Synthetic distortion suite: ARNIQA's 24 types x 5 levels (its exact operations), plus a sampler.

Every type maps a float HxWx3 image in [0, 1] (numpy array or torch tensor),
a level 0..5 (0 = pristine copy) and a ``numpy.random.Generator`` to a new,
clipped image of the same shape, dtype and type.
"""

from .registry import (
    ALL_LEVELS,
    DEGRADATIONS,
    GROUP_LABELS,
    GROUPS,
    MAX_LEVEL,
    DegradationSpec,
    apply_degradation,
    degradation_names,
    degraded_series,
    get_degradation,
)
from .sampler import (
    CompositionConfig,
    DegradationStep,
    LevelSeries,
    apply_composition,
    level_probabilities,
    sample_composition,
    sample_degradation,
    sample_level_series,
    sample_types,
)

__all__ = [
    "ALL_LEVELS",
    "DEGRADATIONS",
    "GROUP_LABELS",
    "GROUPS",
    "MAX_LEVEL",
    "CompositionConfig",
    "DegradationSpec",
    "DegradationStep",
    "LevelSeries",
    "apply_composition",
    "apply_degradation",
    "degraded_series",
    "degradation_names",
    "get_degradation",
    "level_probabilities",
    "sample_composition",
    "sample_degradation",
    "sample_level_series",
    "sample_types",
]
