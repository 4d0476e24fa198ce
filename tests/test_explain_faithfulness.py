"""The quadrant test on the bundled offline model: does the "bad" map point at pasted damage?

Strong noise or blur is pasted into one quadrant of held-out photographs (not used to train the
bundled model); the "bad" Grad-CAM map must peak there in most cases and hold a clearly larger
share of its mass there than chance.
(benchmarks/faithfulness.py runs the same game over more photos and distortion types.)
"""
from __future__ import annotations

import cv2
import numpy as np
import pytest
from skimage import data
from sklearn.datasets import load_sample_image

from qualiclip.explain import explain
from qualiclip import QualityScorer, load_model
from qualiclip.degradations import apply_degradation

QUADRANTS = ((0, 0), (0, 1), (1, 0), (1, 1))
#: (held-out photo, distortion pasted at level 5); flower is the harder photo for this model.
CASES = (("chelsea", "white_noise"), ("chelsea", "gaussian_blur"), ("flower", "white_noise"))


@pytest.fixture(scope="module")
def offline_model() -> QualityScorer:
    return load_model("qualiclip-offline")


def _held_out_photo(name: str) -> np.ndarray:
    image = data.chelsea() if name == "chelsea" else load_sample_image("flower.jpg")
    scale = 512 / max(image.shape[:2])
    size = (round(image.shape[1] * scale), round(image.shape[0] * scale))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA).astype(np.float32) / 255.0


def _paste(photo: np.ndarray, distortion: str, row: int, col: int) -> tuple[np.ndarray, tuple[slice, slice]]:
    height, width = photo.shape[:2]
    region = (slice(row * height // 2, (row + 1) * height // 2), slice(col * width // 2, (col + 1) * width // 2))
    damaged = photo.copy()
    damaged[region] = apply_degradation(photo, distortion, 5, rng=0)[region]
    return damaged, region


def test_bad_map_points_at_the_damaged_quadrant(offline_model: QualityScorer) -> None:
    hits, shares = [], []
    for name, distortion in CASES:
        photo = _held_out_photo(name)
        for row, col in QUADRANTS:
            damaged, region = _paste(photo, distortion, row, col)
            bad = explain(offline_model, damaged, method="gradcam").negative
            assert not bad.empty, f"{name}/{distortion}: no 'bad' evidence at all"
            peak = np.unravel_index(np.argmax(bad.values), bad.values.shape)
            hits.append(region[0].start <= peak[0] < region[0].stop and region[1].start <= peak[1] < region[1].stop)
            shares.append(bad.values[region].sum() / bad.values.sum())
    assert np.mean(hits) >= 0.75, f"pointing-game hit rate {np.mean(hits):.2f} over {len(hits)} cases"
    assert np.mean(shares) >= 0.4, f"mean share of the bad map's mass in the quadrant {np.mean(shares):.2f} (chance 0.25)"
