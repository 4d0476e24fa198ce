"""Shared fixtures: a tiny random QualiCLIP checkpoint built offline, once per session."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from skimage import data

from qualiclip import QualityModel, load_model
from qualiclip.tiny import make_random_checkpoint


@pytest.fixture(scope="session")
def tiny_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_random_checkpoint(tmp_path_factory.mktemp("weights") / "tiny.pth", seed=0)


@pytest.fixture(scope="session")
def tiny_model(tiny_checkpoint: Path) -> QualityModel:
    return load_model(weights=tiny_checkpoint)


@pytest.fixture(scope="session")
def photo() -> np.ndarray:
    """A natural photograph (uint8 HxWx3) shipped with scikit-image, downscaled for speed."""
    return data.astronaut()[::4, ::4].copy()
