"""Registry of ARNIQA's 24 distortion types (KADID-10k's list) plus two monotone variants.

Every type performs ARNIQA's operation at ARNIQA's table parameters. ARNIQA's mean shift and
linear contrast tables are not ordered by severity, so ``mean_shift_monotone`` and
``linear_contrast_monotone`` give the app's slider a monotone series with the same operation.

``DEGRADATIONS`` maps a name to a :class:`DegradationSpec` (group, label,
per-level parameters, kernel); calling a spec applies it.  The UI builds its
grouped dropdown from ``GROUPS``/``GROUP_LABELS`` and the training sampler
draws from :func:`degradation_names`.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Callable, Iterable, Mapping, Sequence, TypeVar

import numpy as np

from ..constants import MAX_LEVEL
from . import blur, brightness, color, compression, noise, sharpness_contrast, spatial
from ._arrays import to_working_array

Image = TypeVar("Image")  # numpy.ndarray or torch.Tensor, float HxWx3 in [0, 1]
Kernel = Callable[[np.ndarray, float, np.random.Generator], np.ndarray]
RngLike = np.random.Generator | int | Sequence[int] | None

#: Every level a type has: 0 (the pristine image) to ``MAX_LEVEL``.
ALL_LEVELS = tuple(range(MAX_LEVEL + 1))

GROUP_LABELS: Mapping[str, str] = MappingProxyType({
    "blur": "Blur",
    "color": "Colour",
    "compression": "Compression",
    "noise": "Noise",
    "brightness": "Brightness change",
    "spatial": "Spatial distortion",
    "sharpness_contrast": "Sharpness & contrast",
})


@dataclass(frozen=True)
class DegradationSpec:
    """One distortion type: metadata plus a kernel applied at a table parameter.

    ``parameters[i]`` is the kernel parameter at level ``i + 1``.  ``monotone`` is
    False for table entries whose severity is not ordered by level;
    ``stochastic`` is True when the output depends on the ``rng``.
    """

    name: str
    group: str
    label: str
    parameter: str
    parameters: tuple[float, ...]
    kernel: Kernel
    monotone: bool = True
    stochastic: bool = False

    def __call__(self, image: Image, level: int, rng: np.random.Generator) -> Image:
        """Return a new degraded copy of ``image`` at ``level`` (0 = pristine copy).

        The result has the input's shape, container, dtype and device and is
        clipped to [0, 1]; the input is never modified.
        """
        if not isinstance(level, (int, np.integer)) or not 0 <= level <= MAX_LEVEL:
            raise ValueError(f"level must be an integer in 0..{MAX_LEVEL}, got {level!r}")
        array, restore = to_working_array(image)
        if level > 0:
            result = self.kernel(array, self.parameters[level - 1], rng)
            array = np.clip(result, 0.0, 1.0).astype(np.float32, copy=False)
        return restore(array)


_SPECS = (
    DegradationSpec("gaussian_blur", "blur", "Gaussian blur", "sigma (px)",
                    (0.1, 0.5, 1, 2, 5), blur.gaussian_blur),
    DegradationSpec("lens_blur", "blur", "Lens blur", "kernel radius (px)",
                    (1, 2, 4, 6, 8), blur.lens_blur),
    DegradationSpec("motion_blur", "blur", "Motion blur", "length (px), random integer angle",
                    (1, 2, 4, 6, 10), blur.motion_blur, stochastic=True),
    DegradationSpec("color_diffusion", "color", "Colour diffusion", "LAB a/b gain (blur sigma 1.5 x gain + 2 px)",
                    (1, 3, 6, 8, 12), color.color_diffusion),
    DegradationSpec("color_shift", "color", "Colour shift", "green shift (px), random down/right direction",
                    (1, 3, 6, 8, 12), color.color_shift, stochastic=True),
    DegradationSpec("color_saturation_1", "color", "Colour saturation (HSV)", "HSV saturation factor",
                    (0.4, 0.2, 0.1, 0, -0.4), color.saturation_hsv),
    DegradationSpec("color_saturation_2", "color", "Colour saturation (LAB)", "LAB chroma factor",
                    (1, 2, 3, 6, 9), color.saturation_lab),
    DegradationSpec("jpeg2000", "compression", "JPEG 2000", "compression ratio",
                    (16, 32, 45, 120, 170), compression.jpeg2000),
    DegradationSpec("jpeg", "compression", "JPEG", "quality",
                    (43, 36, 24, 7, 4), compression.jpeg),
    DegradationSpec("white_noise", "noise", "White noise", "variance",
                    (0.001, 0.002, 0.003, 0.005, 0.01), noise.white_noise, stochastic=True),
    DegradationSpec("white_noise_ycbcr", "noise", "White noise in YCbCr", "variance",
                    (0.0001, 0.0005, 0.001, 0.002, 0.003), noise.white_noise_ycbcr,
                    stochastic=True),
    DegradationSpec("impulse_noise", "noise", "Impulse noise", "salt & pepper density",
                    (0.001, 0.005, 0.01, 0.02, 0.03), noise.impulse_noise, stochastic=True),
    DegradationSpec("multiplicative_noise", "noise", "Multiplicative noise", "variance",
                    (0.001, 0.005, 0.01, 0.02, 0.05), noise.multiplicative_noise,
                    stochastic=True),
    DegradationSpec("brighten", "brightness", "Brighten", "tone-curve amount",
                    (0.1, 0.2, 0.4, 0.7, 1.1), brightness.brighten),
    DegradationSpec("darken", "brightness", "Darken", "tone-curve amount",
                    (0.05, 0.1, 0.2, 0.4, 0.8), brightness.darken),
    DegradationSpec("mean_shift", "brightness", "Mean shift (original table)", "added offset",
                    (0, 0.08, -0.08, 0.15, -0.15), brightness.mean_shift, monotone=False),
    DegradationSpec("mean_shift_monotone", "brightness", "Mean shift (monotone variant)", "added offset",
                    (0.03, 0.06, 0.09, 0.12, 0.15), brightness.mean_shift),
    DegradationSpec("jitter", "spatial", "Jitter", "offset std (px), 5 passes",
                    (0.05, 0.1, 0.2, 0.5, 1), spatial.jitter, stochastic=True),
    DegradationSpec("non_eccentricity_patch", "spatial", "Non-eccentricity patch", "16 px patch count",
                    (20, 40, 60, 80, 100), spatial.non_eccentricity, stochastic=True),
    DegradationSpec("pixelate", "spatial", "Pixelate", "amount s (scale 0.95 - s^0.6)",
                    (0.01, 0.05, 0.1, 0.2, 0.5), spatial.pixelate),
    DegradationSpec("quantization", "spatial", "Quantisation", "levels per channel",
                    (20, 16, 13, 10, 7), spatial.quantization),
    DegradationSpec("color_block", "spatial", "Colour block", "32 px block count",
                    (2, 4, 6, 8, 10), spatial.color_block, stochastic=True),
    DegradationSpec("high_sharpen", "sharpness_contrast", "High sharpen", "unsharp-mask amount (LAB L)",
                    (1, 2, 3, 6, 12), sharpness_contrast.high_sharpen),
    DegradationSpec("linear_contrast", "sharpness_contrast", "Linear contrast change (original table)",
                    "spline parameter (-0.2 = identity)", (0, 0.15, -0.4, 0.3, -0.6),
                    sharpness_contrast.linear_contrast, monotone=False),
    DegradationSpec("linear_contrast_monotone", "sharpness_contrast",
                    "Linear contrast change (monotone variant)", "spline parameter (-0.2 = identity)",
                    (-0.28, -0.36, -0.44, -0.52, -0.6), sharpness_contrast.linear_contrast),
    DegradationSpec("nonlinear_contrast", "sharpness_contrast", "Non-linear contrast change",
                    "output half-range around 0.5", (0.4, 0.3, 0.2, 0.1, 0.05),
                    sharpness_contrast.nonlinear_contrast),
)

#: The two types that are not ARNIQA's: monotone variants of its mean shift and linear contrast tables.
_MONOTONE_VARIANTS = frozenset({"mean_shift_monotone", "linear_contrast_monotone"})

DEGRADATIONS: Mapping[str, DegradationSpec] = MappingProxyType({spec.name: spec for spec in _SPECS})
"""Every distortion type in table order, grouped by group."""

GROUPS: Mapping[str, tuple[str, ...]] = MappingProxyType({
    group: tuple(spec.name for spec in _SPECS if spec.group == group) for group in GROUP_LABELS
})
"""Group name -> the type names in it (all types, including non-monotone ones)."""


def degradation_names(monotone_only: bool = False, group: str | None = None,
                      table_only: bool = False) -> tuple[str, ...]:
    """Type names in registry order: optionally only monotone ones, only ARNIQA's 24 table types
    (``table_only``: without the two monotone variants) and/or one group."""
    if group is not None and group not in GROUPS:
        raise KeyError(f"unknown group {group!r}; known: {', '.join(GROUPS)}")
    return tuple(
        name for name, spec in DEGRADATIONS.items()
        if (spec.monotone or not monotone_only) and (group is None or spec.group == group)
        and not (table_only and name in _MONOTONE_VARIANTS)
    )


def get_degradation(name: str) -> DegradationSpec:
    """Look up a type by name with a helpful error."""
    try:
        return DEGRADATIONS[name]
    except KeyError:
        raise KeyError(f"unknown degradation {name!r}; known: {', '.join(DEGRADATIONS)}") from None


def apply_degradation(image: Image, name: str, level: int, rng: RngLike = None) -> Image:
    """Apply type ``name`` at ``level`` (0..5); ``rng`` is a Generator, a seed, or None (fresh entropy)."""
    return get_degradation(name)(image, level, np.random.default_rng(rng))


def degraded_series(image: Image, name: str, levels: Iterable[int] = ALL_LEVELS,
                       seed: int | Sequence[int] = 0) -> list[Image]:
    """``image`` at each of ``levels`` of type ``name``, every level replaying the random stream of ``seed``.

    Stochastic types (noise, jitter, patches...) therefore draw the same field at every level, so the
    images differ only in severity: what a level slider or a per-level evaluation should show.
    """
    return [apply_degradation(image, name, int(level), seed) for level in levels]
