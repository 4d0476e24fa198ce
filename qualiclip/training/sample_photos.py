"""Freely licensed photographs shipped with scikit-image, scikit-learn and matplotlib, as a training set.

``python -m qualiclip.training.sample_photos OUT`` writes ``OUT/train`` and ``OUT/holdout`` PNGs
(grey images as RGB). Only images whose licence is stated in the package are used; the
licences are listed here and in the bundled model card. Nothing is downloaded.
"""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Callable

import numpy as np
from PIL import Image

#: name -> licence, as stated by the shipping package.
LICENCES: dict[str, str] = {
    "astronaut": "public domain (NASA), scikit-image",
    "rocket": "public domain (SpaceX), scikit-image",
    "hubble_deep_field": "public domain (NASA), scikit-image",
    "coffee": "CC0 (Rachel Michetti), scikit-image",
    "camera": "CC0 (Lav Varshney), scikit-image",
    "retina": "CC0 (Mikael Haggstrom, Wikimedia), scikit-image",
    "grass": "CC0 (DeviantArt linolafett), scikit-image",
    "gravel": "CC0 (cc0textures), scikit-image",
    "brick": "CC0 (cc0textures), scikit-image",
    "coins": "no known copyright restrictions (Brooklyn Museum), scikit-image",
    "immunohistochemistry": "no known copyright restrictions (CMMI), scikit-image",
    "china": "CC BY 2.0 (danielbuechele on Flickr), scikit-learn",
    "grace_hopper": "public domain (official U.S. Navy photograph), matplotlib sample data",
    "chelsea": "CC0 (Stefan van der Walt), scikit-image",
    "flower": "CC BY 2.0 (vultilion on Flickr), scikit-learn",
}
#: Never used for training: the bundled model's synthetic evaluation runs on these.
HOLDOUT = ("chelsea", "flower")


def _loaders() -> dict[str, Callable[[], np.ndarray]]:
    from matplotlib.cbook import get_sample_data
    from skimage import data
    from sklearn.datasets import load_sample_image

    loaders: dict[str, Callable[[], np.ndarray]] = {name: getattr(data, name) for name in LICENCES
                                                    if hasattr(data, name)}
    loaders["china"] = lambda: load_sample_image("china.jpg")
    loaders["flower"] = lambda: load_sample_image("flower.jpg")
    loaders["grace_hopper"] = lambda: np.asarray(Image.open(get_sample_data("grace_hopper.jpg")).convert("RGB"))
    return loaders


def export_sample_photos(out: str | Path) -> dict[str, list[Path]]:
    """Write every licensed photo as RGB PNG into ``out/train`` or ``out/holdout``."""
    written: dict[str, list[Path]] = {"train": [], "holdout": []}
    for name, load in _loaders().items():
        image = load()
        rgb = np.repeat(image[..., None], 3, axis=2) if image.ndim == 2 else image[..., :3]
        split = "holdout" if name in HOLDOUT else "train"
        path = Path(out) / split / f"{name}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(rgb.astype(np.uint8)).save(path)
        written[split].append(path)
    return written


if __name__ == "__main__":
    for split, paths in export_sample_photos(sys.argv[1] if len(sys.argv) > 1 else "sample_photos").items():
        print(f"{split}: {', '.join(p.stem for p in paths)}")
