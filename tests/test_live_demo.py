"""Tests for qualiclip.training.live_demo: the paper's crops, similarities and losses on one photo, and a few steps."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from qualiclip.imaging import to_uint8_rgb
from qualiclip.training.config import TrainConfig
from qualiclip.training.live_demo import GRID_GAP, MAX_STEPS, demo_crops, measure, train_steps

pytestmark = pytest.mark.usefixtures("one_torch_thread")
EXAMPLES = sorted((Path(__file__).resolve().parent.parent / "qualiclip" / "studio" / "examples").glob("*.jpg"))
#: Small crops and 4 levels keep the tiny model's tests fast.
SMALL = TrainConfig(crop_size=64, num_levels=4)


def _state(model) -> dict[str, torch.Tensor]:
    return {name: value.clone() for name, value in model.clip.state_dict().items()}


def test_crops_overlap_share_a_distortion_and_make_a_grid(photo) -> None:
    crops = demo_crops(photo, SMALL, seed=2)
    assert tuple(crops.crops.shape) == (2, 4, 3, 64, 64) and crops.levels == 4
    assert crops.distortions and all(isinstance(name, str) for name in crops.distortions)
    assert demo_crops(photo, SMALL, seed=2).crops.equal(crops.crops)  # the seed fixes crops and distortion
    grid = crops.grid()
    assert grid.shape == (2 * 64 + GRID_GAP, 4 * 64 + 3 * GRID_GAP, 3) and grid.dtype == np.uint8
    step = 64 + GRID_GAP
    assert np.array_equal(grid[step:step + 64, 2 * step:2 * step + 64], to_uint8_rgb(crops.crops[1, 2]))
    assert (grid[64:step] == 255).all()


def test_similarities_are_the_scorer_s_and_the_total_weighs_the_three_losses(tiny_model, photo) -> None:
    crops = demo_crops(photo, SMALL)
    measured = measure(tiny_model, crops, SMALL)
    assert measured.similarities.shape == (2, 4, 7, 2)
    # crop B at level 3 scored on its own by the public scorer: [pos0, neg0, pos1, neg1, ...]
    [alone] = tiny_model.score([crops.crops[1, 2]])
    assert measured.similarities[1, 2].ravel() == pytest.approx(alone.similarities, abs=1e-5)
    losses = measured.losses
    assert list(losses) == ["consistency", "positive", "negative", "total"]
    assert losses["total"] == pytest.approx(losses["consistency"] + losses["positive"] + losses["negative"], abs=1e-6)
    weighted = TrainConfig(crop_size=64, num_levels=4, weight_consistency=2.0, weight_negative=0.0)
    again = measure(tiny_model, crops, weighted).losses
    assert again["total"] == pytest.approx(2 * losses["consistency"] + losses["positive"], abs=1e-6)
    rows = measured.similarity_rows()
    assert [(row["crop"], row["level"]) for row in rows[:5]] == [("A", 1), ("A", 2), ("A", 3), ("A", 4), ("B", 1)]
    assert rows[6]["positive"] == pytest.approx(float(np.mean(alone.similarities[0::2])), abs=1e-5)


def test_steps_train_a_copy_and_report_before_and_after(tiny_model, photo) -> None:
    state = _state(tiny_model)
    seen: list[int] = []
    demo = train_steps(tiny_model, photo, 2, SMALL, on_step=lambda step, losses: seen.append(step))
    assert seen == [1, 2] and len(demo.history) == 2
    assert set(demo.losses) == {"before", "after"} and demo.losses["before"] == demo.before.losses
    assert demo.history[0]["total"] == pytest.approx(demo.losses["before"]["total"], abs=1e-6)
    assert demo.after.similarities.shape == demo.before.similarities.shape
    assert not np.allclose(demo.after.similarities, demo.before.similarities, atol=1e-7)  # the copy learned
    assert all(torch.equal(value, state[name]) for name, value in tiny_model.clip.state_dict().items())
    assert not tiny_model.clip.visual.training and not any(p.requires_grad for p in tiny_model.clip.parameters())
    unchanged = train_steps(tiny_model, photo, 0, SMALL)
    assert unchanged.losses["after"] == unchanged.losses["before"]
    with pytest.raises(ValueError, match=f"0..{MAX_STEPS}"):
        train_steps(tiny_model, photo, MAX_STEPS + 1, SMALL)


@pytest.mark.slow  # 3 steps of the bundled model on each of the 6 example photos: about 35 s on 2 shared cores
@pytest.mark.parametrize("path", EXAMPLES, ids=[path.stem for path in EXAMPLES])
def test_a_few_steps_lower_the_loss_on_every_example_and_leave_the_model_alone(path: Path) -> None:
    from qualiclip import load_model

    model = load_model("qualiclip-offline")
    score = model.score([path])[0].score
    demo = train_steps(model, path, 3)
    assert demo.losses["after"]["total"] < demo.losses["before"]["total"]
    assert model.score([path])[0].score == score
