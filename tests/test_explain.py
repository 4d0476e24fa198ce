"""explain/: Grad-CAM and attention maps for QualiCLIP on the tiny random model (meaningless values,
but shapes, exactness of the fast path, emptiness, thread safety and model hygiene are testable)."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import open_clip
import pytest
import torch
import torch.nn.functional as F

from qualiclip.explain import (
    CAM_METHODS,
    METHODS,
    NO_EVIDENCE,
    QualityExplanation,
    attention_quality_map,
    cam_maps,
    explain,
    good_and_bad_targets,
    render_pair,
)
from qualiclip import QualityScorer, load_model


def _modules_hooks(model: QualityScorer) -> int:
    return sum(len(m._forward_hooks) + len(m._forward_pre_hooks) + len(m._backward_hooks)
               + len(m._backward_pre_hooks) for m in model.clip.modules())


def _check_heatmaps(result: QualityExplanation, size: tuple[int, int]) -> None:
    assert result.image.shape == (*size, 3) and result.image.dtype == np.uint8
    assert 0.0 <= result.score <= 1.0
    for heatmap in (result.positive, result.negative):
        assert heatmap.values.shape == size and heatmap.values.dtype == np.float32
        assert np.isfinite(heatmap.values).all()
        assert heatmap.values.min() >= 0.0 and heatmap.values.max() <= 1.0
        assert heatmap.overlay.shape == (*size, 3) and heatmap.overlay.dtype == np.uint8
        assert heatmap.label


@pytest.mark.parametrize("method", METHODS)
def test_every_method_gives_full_resolution_maps(tiny_model: QualityScorer, photo: np.ndarray,
                                                 method: str) -> None:
    result = explain(tiny_model, photo, method=method)
    _check_heatmaps(result, photo.shape[:2])
    assert result.score == pytest.approx(tiny_model.score([photo])[0].score, abs=1e-5)


@pytest.mark.parametrize("size", [(33, 517), (1000, 40), (32, 32)])
@pytest.mark.parametrize("method", ["gradcam", "attention"])
def test_odd_sizes(tiny_model: QualityScorer, size: tuple[int, int], method: str) -> None:
    image = np.random.default_rng(1).random((*size, 3), dtype=np.float32)
    _check_heatmaps(explain(tiny_model, image, method=method), size)


def test_maps_match_the_image_actually_scored(tiny_checkpoint: Path, photo: np.ndarray) -> None:
    small = load_model(weights=tiny_checkpoint, max_side=64)
    result = explain(small, photo)
    _check_heatmaps(result, (64, 64))
    assert result.score == pytest.approx(small.score([photo])[0].score, abs=1e-5)
    assert attention_quality_map(small, photo).values.shape == (64, 64)


@pytest.mark.parametrize("target", ["score", "similarity"])
def test_good_and_bad_maps_differ(tiny_model: QualityScorer, photo: np.ndarray, target: str) -> None:
    result = explain(tiny_model, photo, method="gradcam", target=target)
    assert not np.allclose(result.positive.values, result.negative.values)
    assert result.positive.label != result.negative.label


def test_prompt_agnostic_method_says_so(tiny_model: QualityScorer, photo: np.ndarray) -> None:
    result = explain(tiny_model, photo, method="eigencam")
    np.testing.assert_array_equal(result.positive.values, result.negative.values)
    assert "prompt-agnostic" in result.note


@pytest.mark.parametrize("method", CAM_METHODS)
@pytest.mark.parametrize("target", ["score", "similarity"])
def test_pool_only_path_equals_full_tower(tiny_model: QualityScorer, photo: np.ndarray, method: str,
                                          target: str) -> None:
    image = tiny_model.prepare(photo).tensor()
    targets = good_and_bad_targets(tiny_model, target, pair=1)
    fast, fast_embeddings = cam_maps(tiny_model, image, method, targets)
    full, full_embeddings = cam_maps(tiny_model, image, method, targets, fast=False)
    assert fast.shape == full.shape == (2, 4, 4)
    assert fast.max() > 0
    np.testing.assert_allclose(fast, full, rtol=1e-4, atol=1e-5 * float(full.max()))
    torch.testing.assert_close(fast_embeddings, full_embeddings, rtol=1e-5, atol=1e-6)


def test_model_is_left_exactly_as_it_was(tiny_model: QualityScorer, photo: np.ndarray) -> None:
    params = {name: p.detach().clone() for name, p in tiny_model.clip.named_parameters()}
    flags = {name: p.requires_grad for name, p in tiny_model.clip.named_parameters()}
    hooks = _modules_hooks(tiny_model)
    for method in METHODS:
        explain(tiny_model, photo, method=method)
    cam_maps(tiny_model, tiny_model.prepare(photo).tensor(), "gradcam", good_and_bad_targets(tiny_model), fast=False)
    assert _modules_hooks(tiny_model) == hooks == 0
    for name, p in tiny_model.clip.named_parameters():
        assert p.requires_grad == flags[name]
        assert p.grad is None
        assert torch.equal(p.detach(), params[name]), name
    assert not tiny_model.clip.training


def test_gradients_flow_even_inside_inference_mode(tiny_model: QualityScorer, photo: np.ndarray) -> None:
    reference = explain(tiny_model, photo)
    with torch.inference_mode():
        inside = explain(tiny_model, photo)
    with torch.no_grad():
        no_grad = explain(tiny_model, photo)
    for result in (inside, no_grad):
        np.testing.assert_array_equal(result.negative.values, reference.negative.values)
        np.testing.assert_array_equal(result.positive.values, reference.positive.values)


def test_concurrent_calls_match_sequential_ones(tiny_model: QualityScorer, photo: np.ndarray) -> None:
    rng = np.random.default_rng(2)
    jobs = [(photo, "gradcam"), (photo[:, ::-1].copy(), "gradcam++"), (photo[:96], "gradcam"),
            (rng.random((70, 150, 3), dtype=np.float32), "attention"), (photo[::-1].copy(), "gradcam")]
    sequential = [explain(tiny_model, image, method=method) for image, method in jobs]
    with ThreadPoolExecutor(max_workers=4) as pool:
        scores = pool.submit(lambda: [tiny_model.score([photo])[0].score for _ in range(5)])
        concurrent = list(pool.map(lambda job: explain(tiny_model, job[0], method=job[1]), jobs * 2))
    for got, expected in zip(concurrent, sequential * 2):
        assert got.score == expected.score
        np.testing.assert_allclose(got.positive.values, expected.positive.values, atol=1e-6)
        np.testing.assert_allclose(got.negative.values, expected.negative.values, atol=1e-6)
    assert len(set(scores.result())) == 1
    assert _modules_hooks(tiny_model) == 0


def test_one_cell_map_has_exactly_one_empty_side(tiny_model: QualityScorer) -> None:
    # 48 px -> a 1x1 feature map: Grad-CAM of the score is one signed number c, so the "raises"
    # map is ReLU(c) and the "lowers" map ReLU(-c): one of them is exactly zero.
    image = np.random.default_rng(3).random((48, 48, 3), dtype=np.float32)
    result = explain(tiny_model, image, method="gradcam", target="score")
    assert result.positive.empty != result.negative.empty
    empty = result.negative if result.negative.empty else result.positive
    assert empty.message == NO_EVIDENCE and empty.raw_peak == 0.0
    assert not empty.values.any()
    np.testing.assert_array_equal(empty.overlay, result.image)


def test_render_keeps_zero_and_noise_level_maps_empty() -> None:
    image = np.full((40, 60, 3), 128, np.uint8)
    strong = np.array([[0.0, 2.0], [1.0, 0.5]], np.float32)
    good, bad = render_pair(strong, np.full((2, 2), 1e-6, np.float32), image, ("good", "bad"))
    assert not good.empty and good.values.max() == pytest.approx(1.0) and good.message == ""
    assert bad.empty and bad.message == NO_EVIDENCE and not bad.values.any()
    np.testing.assert_array_equal(bad.overlay, image)
    # Shared scale: a weaker (but real) map stays dimmer than the stronger one.
    good, weaker = render_pair(strong, strong / 4, image, ("good", "bad"))
    assert weaker.values.max() == pytest.approx(0.25, abs=1e-3) and not weaker.empty
    both = render_pair(np.zeros((2, 2), np.float32), np.zeros((2, 2), np.float32), image, ("good", "bad"))
    assert all(heatmap.empty for heatmap in both)


@pytest.mark.parametrize("pair", [None, 3])
def test_attention_map_pooled_token_reproduces_the_score(tiny_model: QualityScorer, photo: np.ndarray,
                                                         pair: int | None) -> None:
    dense = attention_quality_map(tiny_model, photo, pair=pair)
    [official] = tiny_model.score([photo])
    assert dense.score == pytest.approx(official.score, abs=1e-5)
    assert dense.pair_probabilities == pytest.approx(official.pair_probabilities, abs=1e-5)
    assert dense.local_scores.shape == (4, 4) and dense.values.shape == photo.shape[:2]
    assert 0.0 <= dense.local_scores.min() and dense.local_scores.max() <= 1.0


def test_bad_arguments_are_rejected(tiny_model: QualityScorer, photo: np.ndarray) -> None:
    with pytest.raises(ValueError, match="unknown method"):
        explain(tiny_model, photo, method="scorecam")
    with pytest.raises(ValueError, match="unknown target"):
        explain(tiny_model, photo, target="logits")
    with pytest.raises(ValueError, match="pair"):
        explain(tiny_model, photo, pair=7)
    with pytest.raises(ValueError, match="alpha"):
        explain(tiny_model, photo, alpha=1.5)


def test_vit_tower_goes_through_the_reshape_transform() -> None:
    torch.manual_seed(0)
    clip = open_clip.CLIP(
        embed_dim=32,
        vision_cfg=dict(image_size=64, patch_size=16, width=32, layers=1, head_width=16),
        text_cfg=dict(context_length=16, vocab_size=64, width=32, heads=2, layers=1),
    )
    model = QualityScorer(clip, F.normalize(torch.randn(14, 32), dim=-1), name="vit", weights_origin="test",
                         device="cpu")
    image = np.random.default_rng(4).random((64, 64, 3), dtype=np.float32)
    maps, _ = cam_maps(model, model.prepare(image).tensor(), "gradcam", good_and_bad_targets(model, "similarity"))
    assert maps.shape == (2, 4, 4) and maps.max() > 0
    result = explain(model, image, method="gradcam++")
    _check_heatmaps(result, (64, 64))
    assert result.score == pytest.approx(model.score([image])[0].score, abs=1e-5)
    assert _modules_hooks(model) == 0
    with pytest.raises(TypeError, match="attention pool"):
        explain(model, image, method="attention")


def test_one_signed_gradcam_map_gives_both_score_maps(tiny_model: QualityScorer, photo: np.ndarray) -> None:
    """Grad-CAM is linear in the gradients and d(1 - score) = -d(score): one backward serves both maps."""
    image = tiny_model.prepare(photo).tensor()
    good, bad = good_and_bad_targets(tiny_model)
    both, _ = cam_maps(tiny_model, image, "gradcam", (good, bad))
    [signed], _ = cam_maps(tiny_model, image, "gradcam", (good,), signed=True)
    scale = float(both.max())
    assert scale > 0
    np.testing.assert_allclose(np.maximum(signed, 0.0), both[0], rtol=0, atol=1e-5 * scale)
    np.testing.assert_allclose(np.maximum(-signed, 0.0), both[1], rtol=0, atol=1e-5 * scale)
    with pytest.raises(ValueError, match="linear in the gradients"):
        cam_maps(tiny_model, image, "gradcam++", (good,), signed=True)
