"""Tests for qualiclip.training: losses, crops, a real short run, resume, checkpoints, calibration."""
from __future__ import annotations

import argparse
import csv
import random
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from skimage import data

from qualiclip import load_model
from qualiclip.checkpoint import read_checkpoint
from qualiclip.cli import main
from qualiclip.degradations import CompositionConfig
from qualiclip.errors import CheckpointError
from qualiclip.training import TrainConfig, Trainer, calibrate_logit_scale, train
from qualiclip.training.cli import add_train_parser
from qualiclip.training.commands import config_from_args
from qualiclip.training.data import StepBatches, degraded_crop_pair, load_for_crops, overlapping_boxes, rescaled
from qualiclip.training.losses import (
    consistency_loss,
    negative_ranking_loss,
    positive_ranking_loss,
    qualiclip_loss,
)
from qualiclip.training.rng_state import restore_rng_states, rng_states

MARGIN_C, MARGIN_R = 0.025, 0.05
#: A random tiny model ranks blur levels backwards and noise levels forwards: on average about chance.
TRAIN_GROUPS = ["blur", "noise"]
EVAL_TYPES = ["gaussian_blur", "lens_blur", "white_noise", "impulse_noise"]


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def sims_from(pos: list[float], neg: list[float], pos_b: list[float] | None = None) -> torch.Tensor:
    """(1, 2, L, 1, 2) similarities: crop A (and B, same as A unless given) over levels."""
    a = torch.tensor([pos, neg]).T
    b = torch.tensor([pos_b if pos_b is not None else pos, neg]).T
    return torch.stack([a, b])[None, :, :, None, :]


# -- losses -------------------------------------------------------------------------------------
def test_losses_are_zero_when_levels_are_ordered_with_margin() -> None:
    sims = sims_from(pos=[0.5, 0.4, 0.3], neg=[0.1, 0.2, 0.3])
    terms = qualiclip_loss(sims, margin_consistency=MARGIN_C, margin_ranking=MARGIN_R)
    assert terms.as_floats() == {"total": 0.0, "consistency": 0.0, "positive": 0.0, "negative": 0.0}


def test_ranking_losses_exact_values_when_violated() -> None:
    flat = sims_from(pos=[0.1, 0.1, 0.1], neg=[0.2, 0.2, 0.2])
    # 3 level pairs x 2 crops x margin
    assert float(positive_ranking_loss(flat, MARGIN_R)) == pytest.approx(6 * 0.05)
    assert float(negative_ranking_loss(flat, MARGIN_R)) == pytest.approx(6 * 0.05)
    reversed_ = sims_from(pos=[0.1, 0.2, 0.3], neg=[0.3, 0.2, 0.1])
    per_crop = (0.1 + 0.05) + (0.2 + 0.05) + (0.1 + 0.05)
    assert float(positive_ranking_loss(reversed_, MARGIN_R)) == pytest.approx(2 * per_crop)
    assert float(negative_ranking_loss(reversed_, MARGIN_R)) == pytest.approx(2 * per_crop)


def test_consistency_loss_exact_value_and_margin() -> None:
    sims = sims_from(pos=[0.5, 0.4, 0.3], neg=[0.1, 0.2, 0.3], pos_b=[0.6, 0.41, 0.3])
    # level 0 differs by 0.1 (> margin), level 1 by 0.01 (< margin), negatives identical
    assert float(consistency_loss(sims, MARGIN_C)) == pytest.approx(0.1 - 0.025)


def test_loss_weights_and_prompt_pair_averaging() -> None:
    good = sims_from(pos=[0.5, 0.4, 0.3], neg=[0.1, 0.2, 0.3])
    bad = sims_from(pos=[0.1, 0.1, 0.1], neg=[0.2, 0.2, 0.2])
    two_pairs = torch.cat([good, bad], dim=3)  # one ordered pair, one violated: mean over pairs
    terms = qualiclip_loss(two_pairs, margin_consistency=MARGIN_C, margin_ranking=MARGIN_R,
                           weight_consistency=3.0, weight_positive=2.0, weight_negative=0.5)
    assert float(terms.positive) == pytest.approx(0.3 / 2)
    assert float(terms.total) == pytest.approx(2.0 * 0.15 + 0.5 * 0.15)
    with pytest.raises(ValueError):
        qualiclip_loss(torch.zeros(1, 3, 2, 1, 2), margin_consistency=0, margin_ranking=0)


# -- crops --------------------------------------------------------------------------------------
@pytest.mark.parametrize("height, width, size", [(224, 224, 224), (300, 451, 224), (1000, 240, 224),
                                                 (512, 700, 96), (97, 96, 96)])
def test_crop_pairs_fit_and_overlap(height: int, width: int, size: int) -> None:
    rng = np.random.default_rng(height * width)
    for _ in range(50):
        a, b = overlapping_boxes(height, width, size, rng, min_overlap=0.5)
        for box in (a, b):
            assert box.size == size
            assert 0 <= box.top <= height - size and 0 <= box.left <= width - size
        assert size - abs(a.top - b.top) >= size // 2
        assert size - abs(a.left - b.left) >= size // 2


def test_degraded_crop_pair_shares_one_distortion_realisation() -> None:
    image = torch.from_numpy(data.chelsea()).permute(2, 0, 1).float() / 255.0
    pair = degraded_crop_pair(image, np.random.default_rng(3), 64, 5, CompositionConfig(max_groups=1))
    assert pair.shape == (2, 5, 3, 64, 64)
    a, b = overlapping_boxes(300, 451, 64, np.random.default_rng(3))  # the boxes drawn first
    dy, dx = b.top - a.top, b.left - a.left
    overlap_a = pair[0][..., max(dy, 0):64 + min(dy, 0), max(dx, 0):64 + min(dx, 0)]
    overlap_b = pair[1][..., max(-dy, 0):64 + min(-dy, 0), max(-dx, 0):64 + min(-dx, 0)]
    assert torch.equal(overlap_a, overlap_b)
    assert not torch.equal(pair[0, 0], pair[0, 4])  # levels differ


def test_pristine_level_is_the_undistorted_crop() -> None:
    image = torch.from_numpy(data.chelsea()).permute(2, 0, 1).float() / 255.0
    composition = CompositionConfig(max_groups=1, groups=("noise",))
    with_pristine = degraded_crop_pair(image, np.random.default_rng(3), 64, 5, composition, include_pristine=True)
    without = degraded_crop_pair(image, np.random.default_rng(3), 64, 5, composition)
    assert with_pristine.shape == (2, 6, 3, 64, 64)
    assert torch.equal(with_pristine[:, 1:], without)  # same draws, levels 1..5 unchanged
    a, b = overlapping_boxes(300, 451, 64, np.random.default_rng(3))
    assert torch.equal(with_pristine[0, 0], a.cut(image)) and torch.equal(with_pristine[1, 0], b.cut(image))
    assert not torch.equal(with_pristine[0, 0], with_pristine[0, 1])


def test_scale_range_resizes_each_sample_and_stays_reproducible(tmp_path: Path) -> None:
    Image.fromarray(data.astronaut()).save(tmp_path / "astronaut.png")  # 512 x 512
    paths = [tmp_path / "astronaut.png"]
    common = dict(seed=0, batch_size=4, crop_size=64, num_levels=2, max_distortions=1, min_overlap=0.5)
    scaled = StepBatches(paths, scale_range=(0.25, 0.5), **common)
    plain = StepBatches(paths, **common)
    assert scaled[7].shape == plain[7].shape == (4, 2, 2, 3, 64, 64)
    assert torch.equal(scaled[7], StepBatches(paths, scale_range=(0.25, 0.5), **common)[7])
    assert not torch.equal(scaled[7], plain[7])
    image = plain.image(paths[0])
    assert tuple(rescaled(image, 0.25, 64).shape) == (3, 128, 128)
    assert tuple(rescaled(image, 0.05, 64).shape) == (3, 64, 64)  # never below the crop size
    assert rescaled(image, 1.0, 64) is image
    with pytest.raises(ValueError, match="scale_range"):
        TrainConfig(scale_range=[1.5, 0.5])


def test_flip_and_channel_permutation_vary_the_pristine_photo(tmp_path: Path) -> None:
    ramp = np.linspace(0.0, 1.0, 128)[None, :].repeat(96, axis=0)  # brightness grows left to right
    channels = np.stack([0.2 + 0.1 * ramp, 0.5 + 0.1 * ramp, 0.8 + 0.1 * ramp], axis=-1)
    Image.fromarray((channels * 255).round().astype(np.uint8)).save(tmp_path / "ramp.png")
    common = dict(seed=0, batch_size=24, crop_size=64, num_levels=2, max_distortions=1, min_overlap=0.5,
                  include_pristine=True)
    pristine = StepBatches([tmp_path / "ramp.png"], flip=True, permute_channels=True, **common)[0][:, 0, 0]
    orders = {tuple(crop.mean(dim=(1, 2)).argsort().tolist()) for crop in pristine}
    rising = [bool(crop[:, :, -1].mean() > crop[:, :, 0].mean()) for crop in pristine]
    assert len(orders) >= 4 and 0 < sum(rising) < len(rising)  # several channel orders, both directions
    assert sorted(pristine[0].mean(dim=(1, 2)).tolist()) == pytest.approx([0.25, 0.55, 0.85], abs=0.03)
    plain = StepBatches([tmp_path / "ramp.png"], **common)[0][:, 0, 0]
    assert {tuple(crop.mean(dim=(1, 2)).argsort().tolist()) for crop in plain} == {(0, 1, 2)}
    assert all(bool(crop[:, :, -1].mean() > crop[:, :, 0].mean()) for crop in plain)


def test_train_cli_reads_numeric_lists_and_flags() -> None:
    parser = argparse.ArgumentParser()
    add_train_parser(parser.add_subparsers())
    args = parser.parse_args(["train", "photos", "--scale-range", "0.5", "1", "--include-pristine",
                              "--groups", "blur", "noise", "--flip", "--permute-channels"])
    config = config_from_args(args)
    assert config.scale_range == [0.5, 1.0] and config.include_pristine and config.groups == ["blur", "noise"]
    assert config.flip and config.permute_channels


def test_small_images_are_upscaled_to_the_crop_size(tmp_path: Path) -> None:
    path = tmp_path / "small.png"
    Image.fromarray(np.zeros((60, 90, 3), np.uint8)).save(path)
    assert tuple(load_for_crops(path, 96).shape) == (3, 96, 144)


# -- training runs ------------------------------------------------------------------------------
def tiny_config(photo_dirs: tuple[Path, Path], output: Path, **changes) -> TrainConfig:
    values = dict(data=str(photo_dirs[0]), holdout=str(photo_dirs[1]), output=str(output), steps=6,
                  batch_size=2, crop_size=64, lr=2e-3, warmup_steps=2, workers=0, checkpoint_every=2,
                  eval_every=0, groups=TRAIN_GROUPS, eval_types=EVAL_TYPES, eval_max_side=128)
    values.update(changes)
    return TrainConfig(**values)


@pytest.fixture(scope="module")
def trained(photo_dirs, tmp_path_factory) -> tuple[Trainer, float, float]:
    """A real short run: held-out pairwise accuracy before and after training."""
    config = tiny_config(photo_dirs, tmp_path_factory.mktemp("run"), steps=80, batch_size=4, warmup_steps=5,
                         checkpoint_every=40, lr=3e-3)
    trainer = Trainer(config)
    before = trainer.evaluate()[1][-1].pairwise_accuracy
    result = trainer.run()
    print(f"held-out pairwise accuracy {before:.3f} -> {result.summaries[-1].pairwise_accuracy:.3f}")
    return trainer, before, result.summaries[-1].pairwise_accuracy


@pytest.mark.slow  # a training run
def test_short_training_improves_held_out_ranking(trained) -> None:
    _, before, after = trained
    assert 0.3 <= before <= 0.7, before
    assert after - before >= 0.15 and after >= 0.8, (before, after)


@pytest.mark.slow  # a training run
def test_checkpoints_load_in_the_scoring_core(trained) -> None:
    trainer, _, _ = trained
    files = trainer.files
    for name in ("log", "evals", "plot", "config", "synthetic", "weights", "final"):
        assert getattr(files, name).stat().st_size > 0, name
    model = load_model(weights=files.final)
    checkpoint = read_checkpoint(files.final)
    assert checkpoint.arch == "qualiclip-tiny"
    assert model.logit_scale == pytest.approx(checkpoint.logit_scale) and model.logit_scale != 100.0
    assert torch.allclose(model.prompt_features, trainer.model.prompt_features.cpu(), atol=1e-6)
    image = torch.from_numpy(data.chelsea()[:128, :128]).permute(2, 0, 1).float() / 255.0
    trainer.clip.eval()
    assert torch.allclose(model.encode(image[None]), trainer.model.encode(image[None]), atol=1e-5)
    with torch.inference_mode():
        assert torch.allclose(load_model(weights=files.weights).encode(image[None]),
                              trainer.model.encode(image[None]), atol=1e-5)
    lines = list(csv.DictReader(files.log.open()))
    assert [int(row["step"]) for row in lines] == list(range(1, 81))
    assert set(lines[0]) >= {"total", "consistency", "positive", "negative", "lr"}


@pytest.mark.slow  # a training run
def test_orthogonal_prompt_features_are_separated(trained) -> None:
    features = read_checkpoint(trained[0].files.final).prompt_features
    gram = features @ features.T
    assert torch.allclose(gram, torch.eye(14), atol=1e-5)  # every pos/neg pair has cosine 0 <= 0.5


@pytest.mark.slow  # a training run
def test_calibrated_logit_scale_leaves_no_saturated_ties(trained) -> None:
    trainer, _, _ = trained
    model = load_model(weights=trainer.files.final)
    images = [trainer.model.prepare(p).tensor() for p in sorted(Path(trainer.config.data).glob("*.png"))]
    crops = [image[:, y:y + 64, x:x + 64] for image in images for y in (0, 60) for x in (0, 50, 100)]
    scores = [r.score for r in model.score(crops)]
    assert len(set(scores)) == len(scores)
    assert all(0.0 < s < 1.0 for s in scores)


def test_calibration_undoes_saturation_of_large_gaps() -> None:
    gaps = torch.linspace(-0.45, 0.45, 50, dtype=torch.float64)
    sims = torch.stack([0.5 + gaps / 2, 0.5 - gaps / 2], dim=1).repeat(1, 7).float()
    saturated = torch.sigmoid(100.0 * (sims[:, 0] - sims[:, 1]))
    assert len(set(saturated.tolist())) < 50  # the official constant ties many of them at 0 or 1
    scale = calibrate_logit_scale(sims)
    calibrated = torch.sigmoid(scale * (sims[:, 0] - sims[:, 1]))
    assert len(set(calibrated.tolist())) == 50
    assert float(calibrated.max()) < 1.0 and float(calibrated.min()) > 0.0
    assert scale * 0.45 <= 12.0 + 1e-6


@pytest.mark.slow  # a training run
@pytest.mark.parametrize("ema_decay", [0.0, 0.8])
def test_resume_reproduces_the_uninterrupted_run(photo_dirs, tmp_path, ema_decay: float) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        straight = train(tiny_config(photo_dirs, tmp_path / "straight", ema_decay=ema_decay))

        def stop_at_three(step: int, terms) -> None:
            if step == 3:
                raise KeyboardInterrupt

        config = tiny_config(photo_dirs, tmp_path / "resumed", ema_decay=ema_decay)
        with pytest.raises(KeyboardInterrupt):
            train(config, on_step=stop_at_three)
        assert torch.load(Path(config.output) / "train_state.pt", weights_only=True)["step"] == 3
        resumed = train(config, resume=True)
    expected, actual = read_checkpoint(straight.model_path), read_checkpoint(resumed.model_path)
    for key, value in expected.clip_state.items():
        assert torch.allclose(value, actual.clip_state[key], atol=1e-6), key
    logs = [list(csv.reader((Path(p) / "log.csv").open())) for p in (tmp_path / "straight", tmp_path / "resumed")]
    assert [row[:6] for row in logs[0]] == [row[:6] for row in logs[1]]


def test_random_states_survive_a_weights_only_round_trip(tmp_path) -> None:
    random.seed(5), np.random.seed(5), torch.manual_seed(5)
    np.random.standard_normal()  # leaves a cached Gaussian in numpy's legacy state
    torch.save(rng_states(), tmp_path / "rng.pt")
    expected = (random.random(), np.random.standard_normal(3).tolist(), torch.rand(3).tolist())
    random.seed(0), np.random.seed(0), torch.manual_seed(0)
    restore_rng_states(torch.load(tmp_path / "rng.pt", weights_only=True))
    assert (random.random(), np.random.standard_normal(3).tolist(), torch.rand(3).tolist()) == expected


def test_unreadable_training_state_is_a_clear_error(photo_dirs, tmp_path) -> None:
    config = tiny_config(photo_dirs, tmp_path / "run")
    Path(config.output).mkdir(parents=True)
    (Path(config.output) / "train_state.pt").write_bytes(b"not a torch file")
    config.to_json(Path(config.output) / "config.json")
    with pytest.raises(CheckpointError, match="not a resumable training state"):
        Trainer(config, resume=True)


@pytest.mark.slow  # a training run
def test_moving_average_is_what_gets_evaluated_and_written(photo_dirs, tmp_path) -> None:
    decay = 0.7
    trainer = Trainer(tiny_config(photo_dirs, tmp_path, ema_decay=decay))
    live_weights: list[torch.Tensor] = []
    trainer.run(on_step=lambda step, terms: live_weights.append(trainer.clip.visual.conv1.weight.detach().clone()))
    expected = live_weights[0]
    for weights in live_weights[1:]:
        expected = decay * expected + (1 - decay) * weights
    written = read_checkpoint(trainer.files.final).clip_state["visual.conv1.weight"]
    assert torch.allclose(written, expected, atol=1e-6)
    assert not torch.allclose(written, live_weights[-1], atol=1e-4)
    # the live weights are back in the model after evaluating and writing the average
    assert torch.equal(trainer.clip.visual.conv1.weight, live_weights[-1])
    assert read_checkpoint(trainer.files.weights).clip_state["visual.conv1.weight"].equal(written)


@pytest.mark.slow  # a training run
def test_train_cli_from_scratch_with_compact_text_tower(photo_dirs, tmp_path) -> None:
    out = tmp_path / "cli"
    code = main(["train", str(photo_dirs[0]), "--holdout", str(photo_dirs[1]), "--out", str(out), "--steps", "2",
                 "--batch-size", "1", "--crop-size", "64", "--workers", "0", "--eval-types", "jpeg",
                 "--eval-max-side", "96", "--half-text-tower"])
    assert code == 0
    raw = torch.load(out / "model.pth", weights_only=True)
    assert raw["clip_model.token_embedding.weight"].dtype == torch.float16
    assert raw["clip_model.visual.conv1.weight"].dtype == torch.float32
    model = load_model(weights=out / "model.pth")
    assert model.clip.token_embedding.weight.dtype == torch.float32
    assert TrainConfig.from_json(out / "config.json").half_text_tower is True


def test_the_trainer_passes_every_setting_by_name() -> None:
    """The data and loss settings reach StepBatches and qualiclip_loss through TrainConfig.values_for, by
    parameter name: every keyword-only parameter of theirs (but the per-rank slots) is a config field."""
    import inspect

    from qualiclip.training.data import StepBatches
    from qualiclip.training.losses import qualiclip_loss

    config = TrainConfig(batch_size=3, margin_ranking=0.2, flip=True)
    for target, not_fields in ((StepBatches, {"slots"}), (qualiclip_loss, set())):
        keywords = {p.name for p in inspect.signature(target).parameters.values() if p.kind is p.KEYWORD_ONLY}
        values = config.values_for(target)
        assert set(values) == keywords - not_fields, target
        assert all(values[name] == getattr(config, name) for name in values)
    assert config.values_for(StepBatches)["flip"] is True and config.values_for(qualiclip_loss)["margin_ranking"] == 0.2
