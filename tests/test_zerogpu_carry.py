"""What the main process hands a GPU call and keeps from it (in-process, no fork), and shared CLIP towers."""
from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from qualiclip import load_model
from qualiclip.studio.analysis import AnalysisCache, analyse
from qualiclip.studio.model_slots import SharedTowers, Studio
from qualiclip.tiny import make_random_checkpoint


def _trunk_passes(model, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Count ``model``'s trunk passes (on the instance: other tests' instance patches leave a bound method there)."""
    passes: list[int] = []
    original = model.trunk

    def counted(batch):
        passes.append(1)
        return original(batch)

    monkeypatch.setattr(model, "trunk", counted)
    return passes


def test_a_record_crosses_as_numpy_and_is_analysed_once(tiny_studio: Studio, photo: np.ndarray, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    model = tiny_studio.primary
    path = tmp_path / "photo.png"
    Image.fromarray(photo).save(path)
    main, first_worker, second_worker = (AnalysisCache(model) for _ in range(3))
    passes = _trunk_passes(model, monkeypatch)

    handed = pickle.loads(pickle.dumps(main.handed((str(path), "gradcam"))))  # decoded here, no trunk
    assert passes == [] and len(handed) == 1
    first_worker.adopt(handed)
    computed = first_worker.get(str(path))
    fresh = pickle.loads(pickle.dumps(first_worker.fresh(handed)))
    assert passes == [1]
    assert all(not isinstance(value, torch.Tensor) for carried in fresh.values() for value in vars(carried).values())
    main.keep(handed, fresh)

    again = pickle.loads(pickle.dumps(main.handed((str(path),))))  # the next call gets trunk and scores
    second_worker.adopt(again)
    reused = second_worker.get(str(path))
    assert passes == [1] and second_worker.fresh(again) == {}
    reference = analyse(model, str(path))
    for record in (computed, reused):
        assert torch.equal(record.image.pixels, reference.image.pixels)
        assert torch.equal(record.trunk, reference.trunk) and record.trunk.stride() == reference.trunk.stride()
        assert all(torch.equal(a, b) for a, b in zip(record.scores, reference.scores))


def test_the_main_cache_is_bounded_in_records_and_bytes(tiny_studio: Studio, photo: np.ndarray,
                                                        tmp_path: Path) -> None:
    paths = []
    for index in range(3):
        paths.append(tmp_path / f"p{index}.png")
        Image.fromarray(np.roll(photo, index, axis=0)).save(paths[-1])
    one = analyse(tiny_studio.primary, str(paths[0])).nbytes
    cache = AnalysisCache(tiny_studio.primary, size=4, max_bytes=2 * one)
    for path in paths:
        cache.get(str(path))
    assert len(cache._records) == 2  # the oldest went when a third record would exceed the bytes


def test_models_on_equal_weights_share_one_clip(tiny_checkpoint: Path, tmp_path: Path, photo: np.ndarray) -> None:
    other = make_random_checkpoint(tmp_path / "other.pth", seed=1)
    towers = SharedTowers()
    first, second, different = (towers.adopt(load_model(weights=w)) for w in (tiny_checkpoint, tiny_checkpoint, other))
    alone = load_model(weights=tiny_checkpoint)
    assert second.clip is first.clip and different.clip is not first.clip
    assert second.score([photo])[0].score == alone.score([photo])[0].score
