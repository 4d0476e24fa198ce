"""The score as a differentiable module: the same numbers as ``score()``, true gradients, BatchNorm frozen."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from qualiclip import QualityScorer, load_model, prepare
from qualiclip.imaging import normalize
from qualiclip.quality_module import QualityModule


def _unit(*images: np.ndarray) -> torch.Tensor:
    """Same-sized images -> the (B, 3, H, W) batch in [0, 1] that ``as_module()`` takes."""
    return torch.stack([prepare(image).pixels for image in images])


def test_one_image_in_zero_one_scores_the_same_through_score_and_as_module(tiny_model: QualityScorer) -> None:
    image = np.random.default_rng(3).random((64, 80, 3), dtype=np.float32)
    [by_score] = tiny_model.score([image])
    with torch.no_grad():
        [by_module] = tiny_model.as_module()(_unit(image)).tolist()
        [normalised] = tiny_model.as_module(normalised_input=True)(normalize(_unit(image))).tolist()
        [misfed] = tiny_model.as_module(normalised_input=True)(_unit(image)).tolist()
    assert by_module == pytest.approx(by_score.score, abs=1e-6)
    assert normalised == pytest.approx(by_score.score, abs=1e-6)  # the official convention, asked for
    assert abs(misfed - by_score.score) > 1e-4, "the convention matters: [0, 1] input to a normalised module"


def test_module_scores_equal_score(tiny_model: QualityScorer, photo: np.ndarray) -> None:
    module = tiny_model.as_module()
    assert isinstance(module, torch.nn.Module) and module is tiny_model.as_module()
    other = np.ascontiguousarray(photo[::-1, ::-1])
    with torch.no_grad():
        scores = module(_unit(photo, other))
    assert scores.shape == (2,) and not scores.requires_grad
    expected = [result.score for result in tiny_model.score([photo, other])]
    np.testing.assert_allclose(scores.numpy(), expected, atol=1e-6)
    assert abs(expected[0] - expected[1]) > 1e-4, "two different images, two different scores"


def test_any_resolution(tiny_model: QualityScorer) -> None:
    rng = np.random.default_rng(0)
    for height, width in ((32, 32), (70, 41), (96, 160)):
        image = rng.random((height, width, 3), dtype=np.float32)
        with torch.no_grad():
            [score] = tiny_model.as_module()(_unit(image)).tolist()
        assert score == pytest.approx(tiny_model.score([image])[0].score, abs=1e-6)


def test_gradient_matches_finite_differences(tiny_checkpoint: Path, photo: np.ndarray) -> None:
    """d score / d input against central differences along random directions, all in float64."""
    module = load_model(weights=tiny_checkpoint, device="cpu").as_module().double()
    images = _unit(photo[:64, :96]).double().requires_grad_()
    score = module(images)[0]
    assert score.requires_grad, "no inference_mode or no_grad inside the module"
    (gradient,) = torch.autograd.grad(score, images)
    assert gradient.abs().max() > 0
    generator = torch.Generator().manual_seed(0)
    step = 1e-6
    with torch.no_grad():
        for _ in range(4):
            direction = torch.randn(images.shape, generator=generator, dtype=torch.float64)
            direction /= direction.norm()
            numeric = (module(images + step * direction) - module(images - step * direction))[0] / (2 * step)
            analytic = (gradient * direction).sum()
            assert float(analytic) == pytest.approx(float(numeric), rel=1e-5, abs=1e-9)


def test_gradients_reach_the_input_only_and_batchnorm_stays_in_eval(tiny_checkpoint: Path,
                                                                     photo: np.ndarray) -> None:
    module = load_model(weights=tiny_checkpoint, device="cpu").as_module()
    images = _unit(photo, np.ascontiguousarray(photo[::-1]))
    with torch.no_grad():
        evaluated = module.eval()(images)
    module.train()  # as a loss inside a training loop: the flag flips, the network does not
    assert module.training and not module.clip.training
    assert all(not layer.training for layer in module.modules() if isinstance(layer, torch.nn.BatchNorm2d))
    images.requires_grad_()
    trained = module(images)
    torch.testing.assert_close(trained.detach(), evaluated, rtol=0, atol=1e-6)
    with torch.no_grad():
        alone = module(images[:1].detach())
    torch.testing.assert_close(trained[:1].detach(), alone, rtol=0, atol=1e-6)  # no batch statistics
    (1.0 - trained).mean().backward()  # the loss form: higher score is better
    assert images.grad is not None and images.grad.abs().sum() > 0
    assert all(p.grad is None and not p.requires_grad for p in module.parameters()), "CLIP stays frozen"


def test_score_uses_the_module_formula(tiny_model: QualityScorer, photo: np.ndarray) -> None:
    """The module and the model share one logit multiplier and one set of prompt features."""
    module = tiny_model.as_module()
    assert module.logit_scale == tiny_model.logit_scale
    assert module.prompt_features.data_ptr() == tiny_model.prompt_features.data_ptr()
    embedding = tiny_model.encode(prepare(photo).pixels[None])
    by_hand = torch.softmax(module.logit_scale * (embedding @ module.prompt_features.T).view(1, -1, 2), -1)
    [result] = tiny_model.score([photo])
    assert result.score == pytest.approx(float(by_hand[0, :, 0].mean()), abs=1e-6)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_on_cuda_under_autocast_gradients_flow(tiny_checkpoint: Path, photo: np.ndarray) -> None:
    model = load_model(weights=tiny_checkpoint, device="cuda")
    module: QualityModule = model.as_module()
    images = _unit(photo).cuda().requires_grad_()
    with torch.autocast("cuda", dtype=torch.float16):
        score = module(images)
    score.sum().backward()
    assert score.dtype == torch.float32 and torch.isfinite(images.grad).all() and images.grad.abs().sum() > 0
    assert float(score[0]) == pytest.approx(model.score([photo])[0].score, abs=1e-2)
