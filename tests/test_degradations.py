"""Tests for qualiclip.degradations: contract, determinism, severity, sizes, sampler."""

from __future__ import annotations

from collections import Counter

import cv2
import numpy as np
import pytest
import torch
from skimage import color, data
from skimage.metrics import structural_similarity

from qualiclip.degradations import (
    DEGRADATIONS,
    GROUPS,
    MAX_LEVEL,
    CompositionConfig,
    apply_composition,
    apply_degradation,
    degradation_names,
    degraded_series,
    sample_composition,
    sample_degradation,
    sample_level_series,
    sample_types,
)

ALL_NAMES = tuple(DEGRADATIONS)
MONOTONE_NAMES = degradation_names(monotone_only=True)
LEVELS = range(1, MAX_LEVEL + 1)
NON_MONOTONE = {"mean_shift": "mean_shift_monotone", "linear_contrast": "linear_contrast_monotone"}


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
    other = apply_degradation(small, name, 5, rng=12)
    assert (not np.array_equal(first, other)) == DEGRADATIONS[name].stochastic


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


@pytest.mark.parametrize("name", MONOTONE_NAMES)
def test_severity_is_monotone_on_natural_photos(name: str, photos: dict[str, np.ndarray]) -> None:
    spec = DEGRADATIONS[name]
    for photo_name, image in photos.items():
        distances = [_distance(image, spec(image, level, np.random.default_rng(3)), spec.group)
                     for level in LEVELS]
        assert all(b >= a - 1e-6 for a, b in zip(distances, distances[1:])), (photo_name, distances)
        assert distances[-1] > distances[0], (photo_name, distances)


# --- sizes ------------------------------------------------------------------------------

@pytest.mark.parametrize("shape", [(32, 32), (33, 517), (1000, 40), (40, 1000), (37, 45)])
def test_odd_and_tiny_sizes(shape: tuple[int, int]) -> None:
    image = np.random.default_rng(0).random((*shape, 3), dtype=np.float32)
    for name in ALL_NAMES:
        for level in (1, MAX_LEVEL):
            out = apply_degradation(image, name, level, rng=1)
            assert out.shape == image.shape and 0.0 <= out.min() and out.max() <= 1.0, name


@pytest.mark.parametrize("name", ["non_eccentricity_patch", "color_block", "pixelate", "quantization"])
def test_block_types_on_a_large_image(name: str) -> None:
    image = np.full((3000, 4000, 3), 0.5, dtype=np.float32)
    assert apply_degradation(image, name, MAX_LEVEL, rng=0).shape == image.shape


# --- sampler ----------------------------------------------------------------------------

def test_composition_distribution() -> None:
    rng = np.random.default_rng(0)
    config = CompositionConfig(max_groups=3)
    group_counts, sizes, levels, names = Counter(), Counter(), Counter(), Counter()
    for _ in range(3000):
        steps = sample_composition(rng, config)
        groups = [DEGRADATIONS[s.name].group for s in steps]
        assert len(set(groups)) == len(groups)
        group_counts.update(groups)
        sizes[len(steps)] += 1
        levels.update(s.level for s in steps)
        names.update(s.name for s in steps)
    assert set(group_counts) == set(GROUPS)
    assert set(sizes) == {1, 2, 3}
    assert set(levels) == set(LEVELS)
    assert set(names) == set(MONOTONE_NAMES)


def test_composition_respects_config() -> None:
    rng = np.random.default_rng(1)
    config = CompositionConfig(min_groups=2, max_groups=2, level_choices=(2, 4), groups=("blur", "brightness", "noise"),
                               monotone_only=False)
    names = set()
    for _ in range(500):
        steps = sample_composition(rng, config)
        assert len(steps) == 2 and {s.level for s in steps} <= {2, 4}
        names.update(s.name for s in steps)
    assert names == set(GROUPS["blur"] + GROUPS["brightness"] + GROUPS["noise"])
    with pytest.raises(ValueError):
        CompositionConfig(max_groups=8)
    with pytest.raises(ValueError):
        CompositionConfig(level_choices=(0, 1))
    with pytest.raises(ValueError):
        CompositionConfig(groups=("nope",))


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
    single = CompositionConfig(max_groups=1)
    for _ in range(8):
        series = sample_level_series(image, rng, single)
        assert len(series.images) == MAX_LEVEL and len(series.names) == 1
        group = DEGRADATIONS[series.names[0]].group
        distances = [_distance(image, im, group) for im in series.images]
        assert all(b >= a - 1e-6 for a, b in zip(distances, distances[1:])), (series.names, distances)
    series = sample_level_series(torch.from_numpy(image), np.random.default_rng(5), num_levels=3)
    assert len(series.images) == 3 and all(isinstance(im, torch.Tensor) for im in series.images)
    assert len({DEGRADATIONS[n].group for n in series.names}) == len(series.names)


def test_sample_types_draws_one_type_per_distinct_group() -> None:
    rng = np.random.default_rng(2)
    for _ in range(200):
        names = sample_types(rng, CompositionConfig(min_groups=7, max_groups=7))
        assert sorted(DEGRADATIONS[n].group for n in names) == sorted(GROUPS)
