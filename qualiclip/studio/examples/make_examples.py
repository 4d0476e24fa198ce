"""Regenerate the example images from scikit-image's bundled photographs (no download needed).

Run ``python qualiclip/studio/examples/make_examples.py`` from the repository root; the output is
deterministic (fixed degradation seeds).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image
from skimage import data

from qualiclip.degradations import apply_degradation

HERE = Path(__file__).parent
JPEG_QUALITY = 90
PHOTOS = {"astronaut": data.astronaut, "coffee": data.coffee, "chelsea": data.chelsea, "rocket": data.rocket}
#: (photo, degradation, level): degraded variants to show how the score reacts.
DEGRADED = (("coffee", "gaussian_blur", 5), ("chelsea", "white_noise", 5))


def save(array: np.ndarray, name: str) -> None:
    Image.fromarray(array).save(HERE / f"{name}.jpg", quality=JPEG_QUALITY, optimize=True)


def main() -> None:
    for name, photo in PHOTOS.items():
        save(photo(), name)
    for name, degradation, level in DEGRADED:
        pristine = PHOTOS[name]().astype(np.float32) / 255.0
        degraded = apply_degradation(pristine, degradation, level, 0)
        save(np.rint(degraded * 255).astype(np.uint8), f"{name}_{degradation}_{level}")


if __name__ == "__main__":
    main()
