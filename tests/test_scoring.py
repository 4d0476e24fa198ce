"""The score formula, batching and the native-resolution attention pool."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from open_clip.modified_resnet import AttentionPool2d

from qualiclip import PROMPT_PAIRS, ImageLoadError, QualityScorer, quality_from_features
from qualiclip.architecture import NativeResolutionAttentionPool, build_clip
from qualiclip.constants import TINY_ARCH


def test_formula_on_hand_built_features() -> None:
    # Two pairs; the image is aligned with pair 0's positive and halfway between pair 1's prompts.
    prompts = torch.eye(4)
    image = torch.tensor([[1.0, 0.0, 0.5, 0.5]])
    image = image / image.norm()
    score, pairs = quality_from_features(image, prompts, logit_scale=10.0)
    s = image[0].tolist()
    p0 = math.exp(10 * s[0]) / (math.exp(10 * s[0]) + math.exp(10 * s[1]))
    assert pairs[0].tolist() == pytest.approx([p0, 0.5], abs=1e-6)
    assert score.item() == pytest.approx((p0 + 0.5) / 2, abs=1e-6)


def test_formula_uses_the_official_constant_by_default() -> None:
    prompts = torch.eye(2)
    image = torch.tensor([[0.6, 0.8]])
    score, _ = quality_from_features(image, prompts)
    assert score.item() == pytest.approx(1 / (1 + math.exp(100 * (0.8 - 0.6))), rel=1e-5)


def test_pool_matches_open_clip_pool_without_positional_embedding() -> None:
    torch.manual_seed(0)
    reference = AttentionPool2d(spacial_dim=2, embed_dim=32, num_heads=4, output_dim=16).eval()
    with torch.no_grad():
        reference.positional_embedding.zero_()
    native = AttentionPool2d(spacial_dim=2, embed_dim=32, num_heads=4, output_dim=16).eval()
    native.load_state_dict(reference.state_dict())
    native.__class__ = NativeResolutionAttentionPool
    features = torch.randn(3, 32, 2, 2)
    with torch.no_grad():
        torch.testing.assert_close(native(features), reference(features), atol=1e-5, rtol=1e-5)
        tokens = native(features, all_tokens=True)
    assert tokens.shape == (5, 3, 16)
    torch.testing.assert_close(tokens[0], native(features), atol=1e-6, rtol=1e-6)


def test_pool_accepts_any_resolution() -> None:
    visual = build_clip(TINY_ARCH).visual
    with torch.no_grad():
        for size in [(64, 64), (96, 160), (33, 517)]:
            assert visual(torch.randn(1, 3, *size)).shape == (1, visual.output_dim)


@pytest.mark.parametrize("size", [(33, 517), (1000, 40), (32, 32), (517, 33)])
def test_odd_sizes_give_finite_scores_in_unit_range(tiny_model: QualityScorer, size: tuple[int, int]) -> None:
    rng = np.random.default_rng(1)
    [result] = tiny_model.score([rng.random((*size, 3), dtype=np.float32)])
    assert 0.0 <= result.score <= 1.0 and math.isfinite(result.score)
    assert len(result.pair_probabilities) == len(PROMPT_PAIRS)
    assert result.score == pytest.approx(float(np.mean(result.pair_probabilities)), abs=1e-6)


def test_native_resolution_is_kept(tiny_model: QualityScorer, photo: np.ndarray) -> None:
    assert tuple(tiny_model.prepare(photo).tensor().shape) == (3, *photo.shape[:2])


def test_batched_equals_one_by_one(tiny_model: QualityScorer, photo: np.ndarray) -> None:
    rng = np.random.default_rng(2)
    images = [photo, np.ascontiguousarray(photo[::-1]), rng.random(photo.shape, dtype=np.float32),
              rng.random((64, 80, 3), dtype=np.float32), np.ascontiguousarray(photo[:, ::-1])]
    batched = tiny_model.score(images, batch_size=8)
    single = [tiny_model.score([image])[0] for image in images]
    for b, s in zip(batched, single):
        assert b.score == pytest.approx(s.score, abs=1e-5)
        np.testing.assert_allclose(b.pair_probabilities, s.pair_probabilities, atol=1e-5)
    assert len({round(r.score, 6) for r in batched}) > 1, "different images should not all score alike"


def test_max_side_caps_longer_side_keeping_aspect(tiny_checkpoint, photo: np.ndarray) -> None:
    from qualiclip import load_model

    model = load_model(weights=tiny_checkpoint, max_side=64)
    assert tuple(model.prepare(photo).tensor().shape) == (3, 64, 64)
    wide = np.zeros((64, 256, 3), dtype=np.uint8)
    assert tuple(model.prepare(wide).tensor().shape) == (3, 16 * 2, 64 * 2), "short side kept at 32 px"
    [result] = model.score([np.zeros((40, 160, 3), dtype=np.uint8)])  # 128x32: area within 64 x 64
    assert 0.0 <= result.score <= 1.0
    with pytest.raises(ImageLoadError, match="too elongated to score within the 64 px cap"):
        model.prepare(np.zeros((40, 1536, 3), dtype=np.uint8))  # 32 px high it would still be 1229 px long
    small = np.zeros((40, 60, 3), dtype=np.uint8)
    assert tuple(model.prepare(small).tensor().shape) == (3, 40, 60), "never upscales"


def test_errors_keep_scores_the_good_inputs_and_keeps_the_error_in_place(tiny_model: QualityScorer,
                                                                         photo: np.ndarray) -> None:
    import io

    from PIL import Image

    from qualiclip import ImageLoadError

    encoded = io.BytesIO()
    Image.fromarray(photo).save(encoded, format="JPEG", quality=90)
    good, other = encoded.getvalue(), np.ascontiguousarray(photo[::-1])
    corrupt = good[: len(good) // 3]  # a truncated JPEG
    alone = tiny_model.score([good, other])
    first, error, last = tiny_model.score([good, corrupt, other], errors="keep")
    assert isinstance(error, ImageLoadError) and "truncated" in str(error)
    for kept, expected in ((first, alone[0]), (last, alone[1])):
        assert kept.score == pytest.approx(expected.score, abs=1e-6)
        np.testing.assert_allclose(kept.pair_probabilities, expected.pair_probabilities, atol=1e-6)
    assert first.score != pytest.approx(last.score, abs=1e-6), "the two good inputs are different images"
    assert tiny_model.score([corrupt, corrupt], errors="keep")[1].args == error.args


def test_errors_raise_is_the_default_and_other_policies_are_refused(tiny_model: QualityScorer,
                                                                    photo: np.ndarray) -> None:
    from qualiclip import ImageLoadError

    with pytest.raises(ImageLoadError, match="at least 32 px"):
        tiny_model.score([photo, photo[:10, :10]])
    with pytest.raises(ImageLoadError):
        tiny_model.score([photo, photo[:10, :10]], errors="raise")
    with pytest.raises(ValueError, match="raise, keep; got 'ignore'"):
        tiny_model.score([], errors="ignore")
