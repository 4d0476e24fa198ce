"""Tests for qualiclip.degradations: contract, determinism, severity, sizes, ARNIQA's operations, sampler."""

from __future__ import annotations

import io
from collections import Counter
from typing import Callable

import cv2
import numpy as np
import pytest
import torch
from PIL import Image
from skimage import color, data
from skimage.metrics import structural_similarity

from qualiclip.degradations import (
    DEGRADATIONS,
    GROUPS,
    MAX_LEVEL,
    CompositionConfig,
    _lab,
    apply_composition,
    apply_degradation,
    degradation_names,
    degraded_series,
    level_probabilities,
    sample_composition,
    sample_degradation,
    sample_level_series,
    sample_types,
)
from qualiclip.degradations._filters import gaussian_kernel
from qualiclip.degradations.blur import LENS_WEIGHTS, motion_kernel

ALL_NAMES = tuple(DEGRADATIONS)
MONOTONE_NAMES = degradation_names(monotone_only=True)
TABLE_NAMES = degradation_names(table_only=True)
LEVELS = range(1, MAX_LEVEL + 1)
NON_MONOTONE = {"mean_shift": "mean_shift_monotone", "linear_contrast": "linear_contrast_monotone"}
#: ARNIQA's level law for levels 1..5, p ~ exp(-i^2 / 12.5), i = 0..4 (computed by hand).
ARNIQA_LEVEL_LAW = [0.2929, 0.2704, 0.2127, 0.1426, 0.0814]


def _photo(loader, longest: int = 256) -> np.ndarray:
    """A scikit-image sample photo as float32 RGB in [0, 1], downscaled for speed."""
    image = loader()
    scale = longest / max(image.shape[:2])
    size = (round(image.shape[1] * scale), round(image.shape[0] * scale))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA).astype(np.float32) / 255.0


@pytest.fixture(scope="module")
def photos() -> dict[str, np.ndarray]:
    return {f.__name__: _photo(f) for f in (data.astronaut, data.coffee, data.chelsea, data.rocket)}


@pytest.fixture(scope="module")
def small() -> np.ndarray:
    return _photo(data.astronaut, 64)[:48]


def _distance(reference: np.ndarray, image: np.ndarray, group: str) -> float:
    """Full-reference distance: mean CIEDE2000 for colour types, 1 - SSIM otherwise."""
    if group == "color":
        return float(color.deltaE_ciede2000(color.rgb2lab(reference), color.rgb2lab(image)).mean())
    return 1.0 - structural_similarity(reference, image, channel_axis=2, data_range=1.0)


# --- registry ---------------------------------------------------------------------------

def test_registry_has_the_table_types_and_monotone_variants() -> None:
    assert len(ALL_NAMES) == 24 + 2
    assert [len(GROUPS[g]) for g in GROUPS] == [3, 4, 2, 4, 4, 5, 4]  # brightness, sharpness: + variant
    assert {n for n in ALL_NAMES if not DEGRADATIONS[n].monotone} == set(NON_MONOTONE)
    assert set(MONOTONE_NAMES) == set(ALL_NAMES) - set(NON_MONOTONE)
    assert len(TABLE_NAMES) == 24 and set(TABLE_NAMES) == set(ALL_NAMES) - set(NON_MONOTONE.values())
    for name, spec in DEGRADATIONS.items():
        assert spec.name == name and name in GROUPS[spec.group] and spec.label
        assert len(spec.parameters) == MAX_LEVEL
    assert degradation_names(group="noise") == GROUPS["noise"]


@pytest.mark.parametrize("original,variant", NON_MONOTONE.items())
def test_monotone_variants_are_one_directional_and_keep_the_magnitude(original: str, variant: str) -> None:
    table, levels = DEGRADATIONS[original].parameters, np.array(DEGRADATIONS[variant].parameters)
    magnitudes = np.abs(levels)
    assert np.all(np.diff(magnitudes) > 0) and magnitudes[0] > 0
    assert len(set(np.sign(levels))) == 1
    assert magnitudes[-1] == pytest.approx(max(abs(v) for v in table))
    assert DEGRADATIONS[original].kernel is DEGRADATIONS[variant].kernel


# --- contract ---------------------------------------------------------------------------

@pytest.mark.parametrize("name", ALL_NAMES)
def test_contract_numpy(name: str, small: np.ndarray) -> None:
    before = small.copy()
    for level in range(0, MAX_LEVEL + 1):
        out = apply_degradation(small, name, level, rng=0)
        assert isinstance(out, np.ndarray) and out.shape == small.shape and out.dtype == np.float32
        assert not np.shares_memory(out, small)
        assert np.isfinite(out).all() and out.min() >= 0.0 and out.max() <= 1.0
        if level == 0:
            np.testing.assert_array_equal(out, small)
    np.testing.assert_array_equal(small, before)


@pytest.mark.parametrize("name", ALL_NAMES)
def test_contract_torch_matches_numpy(name: str, small: np.ndarray) -> None:
    tensor = torch.from_numpy(small.copy())
    out = apply_degradation(tensor, name, 4, rng=5)
    assert isinstance(out, torch.Tensor) and out.dtype == torch.float32 and out.shape == tensor.shape
    assert torch.equal(tensor, torch.from_numpy(small))
    assert out.data_ptr() != tensor.data_ptr()
    np.testing.assert_allclose(out.numpy(), apply_degradation(small, name, 4, rng=5), atol=1e-6)


def test_dtype_is_preserved(small: np.ndarray) -> None:
    assert apply_degradation(small.astype(np.float64), "jpeg", 3, 0).dtype == np.float64
    assert apply_degradation(torch.from_numpy(small).double(), "jpeg", 3, 0).dtype == torch.float64
    assert apply_degradation(torch.from_numpy(small).half(), "white_noise", 0, 0).dtype == torch.float16


@pytest.mark.parametrize("bad_level", [-1, 6, 2.0, "3"])
def test_invalid_level_is_rejected(bad_level, small: np.ndarray) -> None:
    with pytest.raises(ValueError):
        apply_degradation(small, "jpeg", bad_level, 0)


def test_invalid_inputs_are_rejected(small: np.ndarray) -> None:
    with pytest.raises(TypeError):
        apply_degradation((small * 255).astype(np.uint8), "jpeg", 1, 0)
    with pytest.raises(ValueError):
        apply_degradation(small[..., :2], "jpeg", 1, 0)
    with pytest.raises(KeyError):
        apply_degradation(small, "no_such_type", 1, 0)


# --- determinism and effect -------------------------------------------------------------

@pytest.mark.parametrize("name", ALL_NAMES)
def test_same_seed_same_output_and_seed_matters_only_if_stochastic(name: str, small: np.ndarray) -> None:
    first = apply_degradation(small, name, 5, rng=11)
    np.testing.assert_array_equal(first, apply_degradation(small, name, 5, rng=np.random.default_rng(11)))
    # two other seeds: colour shift's only draw is a rounded direction, which two seeds can share
    others = [apply_degradation(small, name, 5, rng=seed) for seed in (12, 13)]
    assert any(not np.array_equal(first, other) for other in others) == DEGRADATIONS[name].stochastic


def test_degraded_series_replay_one_random_stream(small: np.ndarray) -> None:
    series = degraded_series(small, "white_noise", seed=(4, 2))
    assert len(series) == MAX_LEVEL + 1
    np.testing.assert_array_equal(series[0], small)
    for level, image in enumerate(series):
        np.testing.assert_array_equal(image, apply_degradation(small, "white_noise", level, rng=(4, 2)))
    # same noise field, only scaled: the level-2 and level-5 residuals are strongly correlated
    residual_2, residual_5 = (series[i] - small for i in (2, 5))
    assert np.corrcoef(residual_2.ravel(), residual_5.ravel())[0, 1] > 0.8
    as_tensor = degraded_series(torch.from_numpy(small), "jitter", levels=[3], seed=1)[0]
    assert isinstance(as_tensor, torch.Tensor)
    np.testing.assert_array_equal(as_tensor.numpy(), apply_degradation(small, "jitter", 3, rng=1))


@pytest.mark.parametrize("name", ALL_NAMES)
def test_level_five_changes_the_image(name: str, photos: dict[str, np.ndarray]) -> None:
    image = photos["astronaut"]
    assert np.abs(apply_degradation(image, name, 5, rng=0) - image).mean() > 1e-3


#: Relative drop from one level to the next that a type may show on one photo. ARNIQA's colour shift
#: only acts within about 8 px of edges (its weight map is a 17 px blur of the gradient), so its
#: 8 and 12 px shifts (levels 4, 5) are about equally severe: on rocket level 5 is 0.2% below level 4.
SATURATING = {"color_shift": 0.01}


@pytest.mark.slow  # every level of every type on three photos: about 11 s here
@pytest.mark.parametrize("name", MONOTONE_NAMES)
def test_severity_is_monotone_on_natural_photos(name: str, photos: dict[str, np.ndarray]) -> None:
    spec = DEGRADATIONS[name]
    slack = SATURATING.get(name, 0.0)
    for photo_name, image in photos.items():
        distances = [_distance(image, spec(image, level, np.random.default_rng(3)), spec.group)
                     for level in LEVELS]
        assert all(b >= a * (1 - slack) - 1e-6 for a, b in zip(distances, distances[1:])), (photo_name, distances)
        assert distances[-1] > distances[0], (photo_name, distances)


# --- sizes ------------------------------------------------------------------------------

@pytest.mark.parametrize("shape", [(32, 32), (33, 517), (1000, 40), (40, 1000), (37, 45)])
def test_odd_and_tiny_sizes(shape: tuple[int, int]) -> None:
    image = np.random.default_rng(0).random((*shape, 3), dtype=np.float32)
    for name in ALL_NAMES:
        for level in (1, MAX_LEVEL):
            out = apply_degradation(image, name, level, rng=1)
            assert out.shape == image.shape and 0.0 <= out.min() and out.max() <= 1.0, name


@pytest.mark.slow  # 12-megapixel images
@pytest.mark.parametrize("name", ["non_eccentricity_patch", "color_block", "pixelate", "quantization"])
def test_block_types_on_a_large_image(name: str) -> None:
    image = np.full((3000, 4000, 3), 0.5, dtype=np.float32)
    assert apply_degradation(image, name, MAX_LEVEL, rng=0).shape == image.shape


# --- independent references, written in float64 from the ARNIQA specification -------------------

_XYZ = np.array([[0.412453, 0.357580, 0.180423], [0.212671, 0.715160, 0.072169], [0.019334, 0.119193, 0.950227]])
_XYZ_INVERSE = np.array([[3.2404813432005266, -1.5371515162713185, -0.4985363261688878],
                         [-0.9692549499965682, 1.8759900014898907, 0.0415559265582928],
                         [0.0556466391351772, -0.2040413383665112, 1.0573110696453443]])
_D65 = np.array([0.95047, 1.0, 1.08883])


def _lab64(rgb: np.ndarray) -> np.ndarray:
    rgb = np.asarray(rgb, dtype=np.float64)
    linear = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    t = linear @ _XYZ.T / _D65
    f = np.where(t > 0.008856, np.cbrt(t), 7.787 * t + 4 / 29)
    return np.stack([116 * f[..., 1] - 16, 500 * (f[..., 0] - f[..., 1]), 200 * (f[..., 1] - f[..., 2])], axis=-1)


def _rgb64(lab: np.ndarray) -> np.ndarray:
    fy = (lab[..., 0] + 16) / 116
    f = np.stack([fy + lab[..., 1] / 500, fy, np.maximum(fy - lab[..., 2] / 200, 0)], axis=-1)
    linear = np.where(f > 0.2068966, f**3, (f - 4 / 29) / 7.787) * _D65 @ _XYZ_INVERSE.T
    return np.clip(np.where(linear > 0.0031308, 1.055 * np.abs(linear) ** (1 / 2.4) - 0.055, 12.92 * linear), 0, 1)


def _edit_in_swapped_lab(image: np.ndarray, edit: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    """ARNIQA's LAB edits: channels reversed, to LAB, ``edit``, back to RGB, channels restored."""
    return _rgb64(edit(_lab64(image[..., ::-1])))[..., ::-1]


def _chroma_times(gain: float) -> Callable[[np.ndarray], np.ndarray]:
    return lambda lab: lab * [1, gain, gain]


def _on_lightness(function: Callable[[np.ndarray], np.ndarray]) -> Callable[[np.ndarray], np.ndarray]:
    return lambda lab: np.stack([function(lab[..., 0]), lab[..., 1], lab[..., 2]], axis=-1)


def _gauss64(sigma: float, size: int) -> np.ndarray:
    x = np.arange(size) - (size - 1) / 2
    weights = np.exp(-(x[:, None] ** 2 + x[None, :] ** 2) / (2 * sigma**2))
    weights[weights < np.finfo(float).eps * weights.max()] = 0
    return weights / weights.sum()


def _correlate64(channel: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """Same-size correlation of a 2-D array with an odd kernel over an edge-replicated border."""
    half_rows, half_cols = kernel.shape[0] // 2, kernel.shape[1] // 2
    padded = np.pad(np.asarray(channel, np.float64), ((half_rows, half_rows), (half_cols, half_cols)), mode="edge")
    height, width = channel.shape
    return sum(kernel[i, j] * padded[i:i + height, j:j + width]
               for i in range(kernel.shape[0]) for j in range(kernel.shape[1]))


def _assert_truncated(actual: np.ndarray, values: np.ndarray) -> None:
    """``actual`` is ``floor(255 values) / 255``, except that where 255 * values lies within 0.01 of a
    step (and inside (0, 1), where the clamp makes it exact), float32 rounding may move it one step."""
    scaled = 255 * values
    ambiguous = (np.abs(scaled - np.round(scaled)) < 0.01) & (values > 0) & (values < 1)
    assert ambiguous.mean() < 0.1
    error = np.abs(actual - np.floor(scaled) / 255)
    assert np.all(error[~ambiguous] < 1e-6) and np.all(error[ambiguous] < 1 / 255 + 1e-6)


@pytest.fixture(scope="module")
def patch() -> np.ndarray:
    """A smooth-ish 24x30 colour patch (8-bit values) for golden comparisons."""
    rng = np.random.default_rng(7)
    coarse = rng.random((6, 8, 3)).astype(np.float32)
    return np.round(cv2.resize(coarse, (30, 24), interpolation=cv2.INTER_CUBIC).clip(0, 1) * 255) / np.float32(255)


# --- shared ARNIQA conventions: LAB, the channel swap, the Gaussian kernel ----------------------

def test_lab_matches_kornias_constants_and_round_trips() -> None:
    primaries = np.eye(3, dtype=np.float32)[None]
    # CIELAB of the sRGB primaries under D65 with these matrices (published values, to 0.01)
    np.testing.assert_allclose(_lab.rgb_to_lab(primaries)[0], [[53.2408, 80.0925, 67.2032],
                                                              [87.7347, -86.1827, 83.1793],
                                                              [32.2970, 79.1875, -107.8602]], atol=0.01)
    image = np.random.default_rng(0).random((16, 16, 3), dtype=np.float32)
    lab = _lab.rgb_to_lab(image)
    assert lab.dtype == np.float32  # kornia works in float32
    np.testing.assert_allclose(lab, _lab64(image), atol=2e-3)
    np.testing.assert_allclose(_lab.lab_to_rgb(lab), image, atol=2e-5)
    out_of_gamut = _lab.lab_to_rgb(np.float32([[[100, 0, 300], [0, 0, -300], [50, 200, 0]]]))
    assert out_of_gamut.min() == 0 and out_of_gamut.max() == 1  # always clamped


def test_lab_swap_converts_blue_as_red() -> None:
    blue = np.float32([[[0, 0, 1]]])
    np.testing.assert_allclose(_lab.lab_of_swapped(blue)[0, 0], [53.2408, 80.0925, 67.2032], atol=0.01)
    lab = _lab.lab_of_swapped(blue)
    np.testing.assert_allclose(_lab.swapped_from_lab(lab), blue, atol=1e-6)


def test_gaussian_kernel_is_arniqas() -> None:
    assert [gaussian_kernel(s).shape[0] for s in (0.1, 0.5, 1, 2, 5)] == [3, 3, 5, 9, 21]
    assert [gaussian_kernel(1.5 * a + 2).shape[0] for a in (1, 3, 6, 8, 12)] == [15, 27, 45, 57, 81]
    np.testing.assert_array_equal(gaussian_kernel(0.1), [[0, 0, 0], [0, 1, 0], [0, 0, 0]])  # exp(-50) < eps
    edge = np.exp(-2.0)  # sigma 0.5, one pixel away: exp(-1 / (2 * 0.25))
    one_d = np.array([edge, 1, edge]) / (1 + 2 * edge)
    np.testing.assert_allclose(gaussian_kernel(0.5), np.outer(one_d, one_d), atol=1e-7)


# --- blur -----------------------------------------------------------------------------------------

def test_gaussian_blur_uses_arniqas_kernel_and_a_replicated_border(patch: np.ndarray) -> None:
    np.testing.assert_array_equal(apply_degradation(patch, "gaussian_blur", 1, 0), patch)  # sigma 0.1: delta
    for level, sigma, size in ((2, 0.5, 3), (5, 5, 21)):
        expected = np.stack([_correlate64(patch[..., c], _gauss64(sigma, size)) for c in range(3)], axis=-1)
        np.testing.assert_allclose(apply_degradation(patch, "gaussian_blur", level, 0), expected, atol=2e-6)


def _impulse_response(name: str, level: int, rng: int = 0, size: int = 31) -> np.ndarray:
    """Response to a +0.5 impulse on mid-grey (the kernel itself for point-symmetric kernels)."""
    image = np.full((size, size, 3), 0.5, np.float32)
    image[size // 2, size // 2] = 1.0
    return (apply_degradation(image, name, level, rng)[..., 0] - 0.5) / 0.5


def test_lens_blur_kernel_has_arniqas_weights() -> None:
    response = _impulse_response("lens_blur", 1, size=9)[3:6, 3:6]
    corner, side, centre = 0.078787, 0.456611, 1.0
    np.testing.assert_allclose(response, np.array([[corner, side, corner], [side, centre, side],
                                                   [corner, side, corner]]) / 3.141593, atol=1e-6)
    response = _impulse_response("lens_blur", 5, size=21)  # R 8: cell (8, 3) weighs -8.3203 / 166.154773
    assert response.sum() == pytest.approx(1.0, abs=1e-5)
    np.testing.assert_allclose(response[10 + 3, 10 + 8], -8.320300 / 166.154773, atol=1e-6)
    np.testing.assert_allclose(response[10 - 8, 10 - 8], 0.0, atol=1e-7)  # corner (8, 8) is 0
    for radius, given in ((1, 3.141593), (2, 12.478064), (4, 44.616870), (6, 95.119681), (8, 166.154773)):
        # every cell weighs 1 except the listed (max, min) classes: 4 cells each, 8 when 0 < min < max
        listed = LENS_WEIGHTS[radius].items()
        total = (2 * radius + 1) ** 2 + sum((8 if 0 < b < a else 4) * (w - 1) for (a, b), w in listed)
        assert total == pytest.approx(given, abs=2e-5)


def test_motion_kernel_is_matlabs_line() -> None:
    np.testing.assert_allclose(motion_kernel(4, 0), [[0.125, 0.25, 0.25, 0.25, 0.125]], atol=1e-12)
    np.testing.assert_allclose(motion_kernel(4, 180), motion_kernel(4, 0))
    np.testing.assert_allclose(motion_kernel(4, 90), motion_kernel(4, 0).T, atol=1e-12)
    np.testing.assert_allclose(motion_kernel(2, 0), [[0.25, 0.5, 0.25]], atol=1e-12)  # weights .5, 1, .5
    for angle in range(0, 181, 15):
        delta = motion_kernel(1, angle)  # obtuse angles add two cells of weight ~eps (as MATLAB's)
        assert delta.max() == pytest.approx(1.0) and delta.sum() - delta.max() < 1e-12
        for length in (2, 4, 6, 10):
            kernel = motion_kernel(length, angle)
            assert kernel.sum() == pytest.approx(1.0, abs=1e-9)
            np.testing.assert_allclose(kernel, kernel[::-1, ::-1], atol=1e-12)  # point-symmetric
    diagonal = motion_kernel(6, 45)  # rises to the right, as in MATLAB
    assert diagonal[0, -1] > 0 and diagonal[-1, 0] > 0 and diagonal[0, 0] == 0


def test_motion_blur_draws_an_integer_angle() -> None:
    kernels = [motion_kernel(10, angle) for angle in range(181)]
    for seed in range(4):
        response = _impulse_response("motion_blur", 5, seed)
        errors = [np.abs(response[15 - k.shape[0] // 2:16 + k.shape[0] // 2, 15 - k.shape[1] // 2:16 + k.shape[1] // 2]
                         - k).max() for k in kernels]
        assert min(errors) < 1e-6


# --- colour ---------------------------------------------------------------------------------------

def test_color_diffusion_scales_chroma_in_swapped_lab() -> None:
    colours = np.float32([[[0.30, 0.45, 0.52], [0.62, 0.50, 0.41], [0.45, 0.47, 0.44]]])  # off the 8-bit grid
    for level, gain in ((1, 1), (2, 3), (5, 12)):
        for colour in colours[0]:
            flat = np.broadcast_to(colour, (20, 20, 3)).copy()  # no edges: the blur leaves a/b alone
            expected = _edit_in_swapped_lab(colour[None, None], _chroma_times(gain))
            _assert_truncated(apply_degradation(flat, "color_diffusion", level, 0)[10, 10], expected[0, 0])


def test_color_diffusion_blurs_chroma_with_arniqas_kernel(patch: np.ndarray) -> None:
    def edit(lab: np.ndarray) -> np.ndarray:
        blurred = [_correlate64(lab[..., c], _gauss64(3.5, 15)) for c in (1, 2)]
        return np.stack([lab[..., 0], *blurred], axis=-1)

    _assert_truncated(apply_degradation(patch, "color_diffusion", 1, 0), _edit_in_swapped_lab(patch, edit))


def _color_shift_reference(image: np.ndarray, amount: float, seed: int) -> np.ndarray:
    """ARNIQA's colour shift, step by step as the specification describes it."""
    image = image.astype(np.float64)
    height, width = image.shape[:2]
    luma = image @ [0.299, 0.587, 0.114]
    padded = np.pad(luma, 1, mode="edge")
    edges = np.hypot((padded[1:-1, 2:] - padded[1:-1, :-2]) / 2, (padded[2:, 1:-1] - padded[:-2, 1:-1]) / 2)
    edges = _correlate64(edges, _gauss64(4, 17))
    edges = (edges - edges.min()) / (edges.max() - edges.min())
    for row in edges:  # the broken percentile clip
        rank_low = int(np.flatnonzero(np.argsort(row, kind="stable") == 0)[0])
        rank_high = int(np.flatnonzero(np.argsort(1 - row, kind="stable") == 0)[0])
        row[rank_low] = 0
        row[rank_high] = 1
    direction = np.random.default_rng(seed).random(2)
    down, right = np.round(amount * direction / np.linalg.norm(direction)).astype(int)
    green = image[..., 1]
    moved = np.roll(np.pad(green, ((right, right), (down, down)), mode="edge"), (down, right), axis=(0, 1))
    moved = moved[right:right + height, down:down + width]
    out = image.copy()
    out[..., 1] = edges * moved + (1 - edges) * green
    return out


def test_color_shift_moves_green_down_and_right_by_whole_pixels(patch: np.ndarray) -> None:
    for level, seed in ((2, 0), (5, 1), (5, 4)):
        out = apply_degradation(patch, "color_shift", level, seed)
        np.testing.assert_array_equal(out[..., [0, 2]], patch[..., [0, 2]])
        np.testing.assert_allclose(out, _color_shift_reference(patch, (1, 3, 6, 8, 12)[level - 1], seed), atol=2e-5)


def test_hsv_saturation_by_hand() -> None:
    pixel = np.float32([[[0.2, 0.4, 0.8]]])  # v = 0.8: c' = v - k (v - c)
    for level, expected in ((1, [0.56, 0.64, 0.8]), (4, [0.8, 0.8, 0.8]), (5, [1.0, 0.96, 0.8])):
        np.testing.assert_allclose(apply_degradation(pixel, "color_saturation_1", level, 0)[0, 0], expected, atol=1e-6)


def test_lab_saturation_scales_swapped_chroma_and_truncates(patch: np.ndarray,
                                                            photos: dict[str, np.ndarray]) -> None:
    expected = _edit_in_swapped_lab(patch, _chroma_times(3))
    _assert_truncated(apply_degradation(patch, "color_saturation_2", 3, 0), expected)
    photo = np.round(photos["coffee"] * 255) / np.float32(255)  # 8-bit values
    lowered = photo - apply_degradation(photo, "color_saturation_2", 1, 0)  # factor 1: only the truncation
    assert np.all((np.abs(lowered) < 1e-6) | (np.abs(lowered - 1 / 255) < 1e-6))
    assert 0.2 < (lowered > 1e-6).mean() < 0.8


# --- compression ----------------------------------------------------------------------------------

def _pillow_round_trip(image: np.ndarray, **options) -> np.ndarray:
    buffer = io.BytesIO()
    Image.fromarray((image * np.float32(255)).astype(np.uint8)).save(buffer, **options)  # truncation
    return np.asarray(Image.open(io.BytesIO(buffer.getvalue())).convert("RGB"), np.float32) / 255


@pytest.fixture(scope="module")
def off_grid(photos: dict[str, np.ndarray]) -> np.ndarray:
    """A photo whose values sit 0.7 of a step above the 8-bit grid: truncating and rounding differ."""
    return ((np.floor(photos["astronaut"][:160, :192] * 254) + 0.7) / 255).astype(np.float32)


@pytest.mark.parametrize("level", [1, 5])
def test_jpeg_is_pillows_on_truncated_values(off_grid: np.ndarray, level: int) -> None:
    quality = DEGRADATIONS["jpeg"].parameters[level - 1]
    np.testing.assert_array_equal(apply_degradation(off_grid, "jpeg", level, 0),
                                  _pillow_round_trip(off_grid, format="JPEG", quality=quality))


@pytest.mark.parametrize("level", [1, 5])
def test_jpeg2000_uses_arniqas_codec_settings(off_grid: np.ndarray, level: int) -> None:
    ratio = DEGRADATIONS["jpeg2000"].parameters[level - 1]
    expected = _pillow_round_trip(off_grid, format="JPEG2000", quality_mode="rates", quality_layers=[ratio],
                                  num_resolutions=8, irreversible=False, mct=0)
    np.testing.assert_array_equal(apply_degradation(off_grid, "jpeg2000", level, 0), expected)


# --- noise ----------------------------------------------------------------------------------------

def test_noise_laws() -> None:
    grey = np.full((200, 200, 3), 0.5, np.float32)
    residual = apply_degradation(grey, "white_noise", 5, 0) - grey
    assert residual.std() == pytest.approx(0.1, rel=0.02)  # variance 0.01
    residual = apply_degradation(grey, "multiplicative_noise", 3, 0) / grey - 1
    assert residual.std() == pytest.approx(0.1, rel=0.02)  # variance 0.01
    residual = apply_degradation(grey, "white_noise_ycbcr", 5, 0) - grey  # variance 0.003 on Y, Cb, Cr
    variances = 0.003 * np.array([1 + 1.403**2, 1 + 0.714**2 + 0.344**2, 1 + 1.773**2])
    np.testing.assert_allclose(residual.reshape(-1, 3).var(axis=0), variances, rtol=0.03)


def test_impulse_noise_hits_an_exact_count_of_values() -> None:
    grey = np.full((100, 100, 3), 0.5, np.float32)
    out = apply_degradation(grey, "impulse_noise", 5, 0)
    hits = int(3 * 0.03 * 100 * 100)  # 900 (channel, row, column) draws, repeats allowed
    salt, pepper = int((out == 1).sum()), int((out == 0).sum())
    assert salt + pepper + int((out == 0.5).sum()) == out.size
    assert 0.97 * hits <= salt + pepper <= hits and salt <= hits // 2


# --- brightness -----------------------------------------------------------------------------------

def _parabola(values: np.ndarray, middle: float) -> np.ndarray:
    return np.clip((2 - 4 * middle) * values**2 + (4 * middle - 1) * values, 0, 1)


def test_darken_is_arniqas_parabola_by_hand() -> None:
    values = np.float32([[[0.0, 0.25, 0.5], [0.75, 1.0, 0.5]]])
    # level 5, c = 0.1: 1.6 x^2 - 0.6 x (clipped at 0); level 1, c = 0.475 at x = 0.5
    np.testing.assert_allclose(apply_degradation(values, "darken", 5, 0), [[[0, 0, 0.1], [0.45, 1, 0.1]]], atol=1e-6)
    assert apply_degradation(values, "darken", 1, 0)[0, 0, 2] == pytest.approx(0.475, abs=1e-6)


def _brighten_reference(image: np.ndarray, amount: float) -> np.ndarray:
    """(2 P_c(RGB) + P_c on swapped-LAB lightness) / 3, c = 0.5 + A/2."""
    middle = 0.5 + amount / 2
    lightness = _edit_in_swapped_lab(image, _on_lightness(lambda lum: 100 * _parabola(lum / 100, middle)))
    return (2 * _parabola(image.astype(np.float64), middle) + lightness) / 3


def test_brighten_blends_rgb_and_swapped_lab_parabolas(patch: np.ndarray) -> None:
    for level, amount in ((1, 0.1), (5, 1.1)):
        np.testing.assert_allclose(apply_degradation(patch, "brighten", level, 0), _brighten_reference(patch, amount),
                                   atol=1e-4)


# --- spatial --------------------------------------------------------------------------------------

def test_jitter_resamples_bilinearly_even_at_level_one() -> None:
    board = np.broadcast_to((np.indices((64, 64)).sum(axis=0) % 2)[..., None], (64, 64, 3)).astype(np.float32)
    out = apply_degradation(board, "jitter", 1, 0)  # offsets of ~0.05 px, five passes
    assert ((out > 0.01) & (out < 0.99)).mean() > 0.9  # mixed values: bilinear, not nearest
    assert np.abs(out - board).mean() < 0.5


def _changed(before: np.ndarray, after: np.ndarray) -> np.ndarray:
    return np.any(before != after, axis=2)


@pytest.mark.parametrize("shape", [(300, 400), (900, 1200)])
def test_non_eccentricity_copies_16px_patches_nearby(shape: tuple[int, int]) -> None:
    image = np.random.default_rng(0).random((*shape, 3), dtype=np.float32)  # every pixel unique
    out = apply_degradation(image, "non_eccentricity_patch", 1, 0)
    changed = np.argwhere(_changed(image, out))
    assert 0 < len(changed) <= 20 * 16 * 16  # 20 patches of 16 x 16 px, whatever the image size
    for row, col in changed[::37]:  # moved at most 8 px, plus up to a patch side when the copy smears
        window = image[max(row - 24, 0):row + 25, max(col - 24, 0):col + 25]
        assert np.any(np.all(window == out[row, col], axis=2))


@pytest.mark.parametrize("shape", [(100, 120), (600, 800)])
def test_color_blocks_are_32px_squares(shape: tuple[int, int]) -> None:
    image = np.random.default_rng(0).random((*shape, 3), dtype=np.float32)
    out = apply_degradation(image, "color_block", 1, 0)  # two blocks, the second on top
    changed = _changed(image, out)
    colours = np.unique(out[changed], axis=0)
    assert len(colours) == 2
    sides = []
    for colour in colours:
        rows, cols = np.nonzero(np.all(out == colour, axis=2) & changed)
        sides.append((rows.max() - rows.min() + 1, cols.max() - cols.min() + 1, len(rows)))
    assert max(sides, key=lambda side: side[2]) == (32, 32, 1024)
    assert all(height <= 32 and width <= 32 for height, width, _ in sides)


def _nearest(size_in: int, size_out: int) -> np.ndarray:
    """PyTorch's legacy nearest: min(floor(i * (in / out)), in - 1), the ratio in float32."""
    ratio = np.float32(size_in) / np.float32(size_out)
    return np.minimum(np.floor(np.arange(size_out, dtype=np.float32) * ratio).astype(int), size_in - 1)


def test_pixelate_uses_arniqas_scales_and_nearest_resampling() -> None:
    image = np.random.default_rng(0).random((224, 224, 3), dtype=np.float32)
    for level, small in zip(LEVELS, (198, 175, 156, 127, 65)):  # int(224 (0.95 - s^0.6))
        out = apply_degradation(image, "pixelate", level, 0)
        index = _nearest(224, small)[_nearest(small, 224)]
        np.testing.assert_array_equal(out, image[index][:, index])
        assert len(np.unique(out[:, 0], axis=0)) == small


def test_quantization_thresholds_and_stretch_by_hand() -> None:
    values = np.float32([[[0.0, 0.1, 0.3], [0.5, 0.9, 1.0]]])
    # level 5, N = 7: thresholds 0, 36, 72, 109, 145, 182, 218; indices 0, 1, 3, 4, 7, 7 of 0..7
    np.testing.assert_allclose(apply_degradation(values, "quantization", 5, 0),
                               [[[0, 1, 3], [4, 7, 7]]] / np.float32(7), atol=1e-7)
    # level 1, N = 20: thresholds 0, 12, 25, 38, 51, 63, 76, ...; indices 0, 3, 7, 11, 19, 20 of 0..20
    np.testing.assert_allclose(apply_degradation(values, "quantization", 1, 0),
                               [[[0, 3, 7], [11, 19, 20]]] / np.float32(20), atol=1e-7)
    # min-max stretch over the whole image: indices 3 and 11 become 0 and 1
    np.testing.assert_array_equal(apply_degradation(np.float32([[[0.1, 0.5, 0.5]]]), "quantization", 1, 0),
                                  [[[0, 1, 1]]])


# --- sharpness and contrast -----------------------------------------------------------------------

def _sharpen_reference(image: np.ndarray, amount: float) -> np.ndarray:
    """Swapped-LAB lightness correlated with (1 + A) delta - A G(6, 13 x 13), not clamped."""
    kernel = -amount * _gauss64(6, 13)
    kernel[6, 6] += 1 + amount
    return _edit_in_swapped_lab(image, _on_lightness(lambda lum: _correlate64(lum, kernel)))


def test_high_sharpen_sharpens_swapped_lab_lightness_with_sigma_6(patch: np.ndarray) -> None:
    for level, amount in ((1, 1), (3, 3)):
        np.testing.assert_allclose(apply_degradation(patch, "high_sharpen", level, 0),
                                   _sharpen_reference(patch, amount), atol=2e-4)


def _contrast_spline(change: float, x: np.ndarray) -> np.ndarray:
    """The not-a-knot spline through (0, 0), (.3, y1), (.5, .5), (.7, 1 - y1), (1, 1), y1 = .25 - a/4, by hand.

    Not-a-knot joins the first two and the last two pieces into one cubic each; the data are
    point-symmetric about (.5, .5), so the curve is .5 + b (x - .5) + d (x - .5)^3 with
    P(0) = 0 and P(.3) = y1: b = 1 - d/4, d = (y1 - .3) / .042.
    """
    d = (0.25 - change / 4 - 0.3) / 0.042
    return np.clip(0.5 + (1 - d / 4) * (x - 0.5) + d * (x - 0.5) ** 3, 0, 1)


def test_linear_contrast_is_arniqas_spline() -> None:
    x = np.linspace(0, 1, 21, dtype=np.float32).reshape(1, 7, 3)
    for name in ("linear_contrast", "linear_contrast_monotone"):
        for level, change in zip(LEVELS, DEGRADATIONS[name].parameters):
            np.testing.assert_allclose(apply_degradation(x, name, level, 0), _contrast_spline(change, x), atol=1e-6)
    assert np.abs(apply_degradation(x, "linear_contrast", 1, 0) - x).max() > 0.02  # a = 0 is not the identity
    assert _contrast_spline(-0.2, x) == pytest.approx(x)  # -0.2 is; the monotone variant moves away from it
    assert all(change < -0.2 for change in DEGRADATIONS["linear_contrast_monotone"].parameters)


def test_nonlinear_contrast_squeezes_towards_grey_by_hand(photos: dict[str, np.ndarray]) -> None:
    values = np.float32([[[0.0, 0.25, 0.5], [1.0, 0.75, 0.6]]])
    np.testing.assert_allclose(apply_degradation(values, "nonlinear_contrast", 1, 0),  # o = 0.4: slope 0.8
                               [[[0.1, 0.3, 0.5], [0.9, 0.7, 0.58]]], atol=1e-6)
    np.testing.assert_allclose(apply_degradation(values, "nonlinear_contrast", 5, 0),  # o = 0.05: slope 0.1
                               [[[0.45, 0.475, 0.5], [0.55, 0.525, 0.51]]], atol=1e-6)
    image = photos["chelsea"]
    spreads = [apply_degradation(image, "nonlinear_contrast", level, 0).std() for level in LEVELS]
    assert image.std() > spreads[0] and all(b < a for a, b in zip(spreads, spreads[1:]))


# --- sampler ----------------------------------------------------------------------------

@pytest.mark.slow  # thousands of samples for a statistical check
def test_composition_distribution_is_arniqas() -> None:
    rng = np.random.default_rng(0)
    draws = 6000
    group_counts, sizes, levels, names = Counter(), Counter(), Counter(), Counter()
    for _ in range(draws):
        steps = sample_composition(rng)
        groups = [DEGRADATIONS[s.name].group for s in steps]
        assert len(set(groups)) == len(groups)
        group_counts.update(groups)
        sizes[len(steps)] += 1
        levels.update(s.level for s in steps)
        names.update(s.name for s in steps)
    assert set(group_counts) == set(GROUPS)
    assert set(names) == set(TABLE_NAMES)  # ARNIQA's 24 types, not the monotone variants
    assert sizes[0] / draws == pytest.approx(0.05, abs=0.01)  # no distortion with probability 0.05
    assert [sizes[n] / draws for n in (1, 2, 3, 4)] == pytest.approx([0.95 / 4] * 4, abs=0.02)
    frequencies = np.array([levels[level] for level in LEVELS]) / sum(levels.values())
    np.testing.assert_allclose(frequencies, ARNIQA_LEVEL_LAW, atol=0.015)


def test_level_law_is_arniqas() -> None:
    np.testing.assert_allclose(level_probabilities(LEVELS), ARNIQA_LEVEL_LAW, atol=1e-4)
    np.testing.assert_allclose(level_probabilities((2, 4)), np.array([0.2704, 0.1426]) / 0.4130, atol=1e-4)


def test_composition_respects_config() -> None:
    rng = np.random.default_rng(1)
    groups = ("blur", "brightness", "noise")
    for monotone_only, pool in ((False, TABLE_NAMES), (True, MONOTONE_NAMES)):
        config = CompositionConfig(min_groups=2, max_groups=2, level_choices=(2, 4), groups=groups,
                                   monotone_only=monotone_only, distortion_probability=1.0)
        names = set()
        for _ in range(500):
            steps = sample_composition(rng, config)
            assert len(steps) == 2 and {s.level for s in steps} <= {2, 4}
            names.update(s.name for s in steps)
        assert names == {name for name in pool if DEGRADATIONS[name].group in groups}
    assert sample_composition(rng, CompositionConfig(distortion_probability=0.0)) == ()
    with pytest.raises(ValueError):
        CompositionConfig(max_groups=8)
    with pytest.raises(ValueError):
        CompositionConfig(level_choices=(0, 1))
    with pytest.raises(ValueError):
        CompositionConfig(groups=("nope",))
    with pytest.raises(ValueError):
        CompositionConfig(distortion_probability=1.5)


def test_sampled_degradation_is_reproducible(small: np.ndarray) -> None:
    first, steps = sample_degradation(small, np.random.default_rng(9))
    again, steps_again = sample_degradation(small, np.random.default_rng(9))
    assert steps == steps_again and steps
    np.testing.assert_array_equal(first, again)
    rng = np.random.default_rng(1)
    chained = small
    for step in steps:
        chained = apply_degradation(chained, step.name, step.level, rng)
    np.testing.assert_array_equal(chained, apply_composition(small, steps, np.random.default_rng(1)))


def test_level_series_is_the_same_distortion_with_growing_severity(photos: dict[str, np.ndarray]) -> None:
    image = photos["chelsea"]
    rng = np.random.default_rng(4)
    single = CompositionConfig(max_groups=1, monotone_only=True)  # ranked series need monotone types
    for _ in range(8):
        series = sample_level_series(image, rng, single)
        assert len(series.images) == MAX_LEVEL and len(series.names) == 1
        group = DEGRADATIONS[series.names[0]].group
        distances = [_distance(image, im, group) for im in series.images]
        assert all(b >= a - 1e-6 for a, b in zip(distances, distances[1:])), (series.names, distances)
    series = sample_level_series(torch.from_numpy(image), np.random.default_rng(5), num_levels=3)
    assert not set(series.names) & {"mean_shift_monotone", "linear_contrast_monotone"}  # default: ARNIQA's types
    assert len(series.images) == 3 and all(isinstance(im, torch.Tensor) for im in series.images)
    assert len({DEGRADATIONS[n].group for n in series.names}) == len(series.names)


def test_sample_types_draws_one_type_per_distinct_group() -> None:
    rng = np.random.default_rng(2)
    for _ in range(200):
        names = sample_types(rng, CompositionConfig(min_groups=7, max_groups=7))
        assert sorted(DEGRADATIONS[n].group for n in names) == sorted(GROUPS)
