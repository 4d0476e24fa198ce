"""CLIP-IQA as its authors define it: zero-shot CLIP, no positional embedding in the pool, one pair, scale 100."""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import open_clip
import pytest
import torch
import torch.nn.functional as F
from open_clip.constants import OPENAI_DATASET_MEAN, OPENAI_DATASET_STD

from qualiclip import MODELS, load_model
from qualiclip.architecture import build_clip
from qualiclip.constants import TINY_ARCH
from qualiclip.checkpoint import read_checkpoint
from qualiclip.prompts import CLIP_IQA_PAIRS, PROMPT_PAIRS


@pytest.fixture(scope="module")
def openai_style_tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny CLIP saved the way open_clip ships OpenAI's RN50: a bare state dict, ``logit_scale`` = log(100)."""
    torch.manual_seed(3)
    clip = build_clip(TINY_ARCH)
    with torch.no_grad():
        clip.logit_scale.fill_(math.log(100.0))
    path = tmp_path_factory.mktemp("openai") / "rn50-like.pth"
    torch.save({**clip.state_dict(), "arch": TINY_ARCH}, path)
    return path


@pytest.fixture(scope="module")
def picture(photo: np.ndarray) -> np.ndarray:
    return photo[:96, :80].copy()  # not the config's 64x64: the pool must not need a positional embedding


def _by_hand(clip: open_clip.CLIP, picture: np.ndarray, scale: float) -> float:
    """CLIP-IQA's score written out: P("Good photo.") of a softmax over the two cosine similarities."""
    mean, std = (torch.tensor(values)[:, None, None] for values in (OPENAI_DATASET_MEAN, OPENAI_DATASET_STD))
    pixels = (torch.from_numpy(picture).permute(2, 0, 1).float() / 255 - mean) / std
    with torch.no_grad():
        image = F.normalize(clip.encode_image(pixels[None]).float(), dim=-1)[0]
        texts = F.normalize(clip.encode_text(open_clip.tokenize(["Good photo.", "Bad photo."])).float(), dim=-1)
    good, bad = (scale * texts @ image).double().tolist()
    return math.exp(good) / (math.exp(good) + math.exp(bad))


def test_clip_iqa_is_p_good_photo_at_clips_own_scale(openai_style_tiny: Path, picture: np.ndarray) -> None:
    model = load_model("clip-iqa", weights=openai_style_tiny)
    assert model.prompt_pairs == CLIP_IQA_PAIRS == (("Good photo.", "Bad photo."),)
    assert model.logit_scale == pytest.approx(100.0, rel=1e-6)  # exp of CLIP's stored log(100)
    [result] = model.score([picture])
    expected = _by_hand(model.clip, picture, 100.0)
    assert result.score == pytest.approx(expected, abs=1e-5)
    assert result.pair_probabilities == pytest.approx((expected,), abs=1e-5)
    assert 1e-4 < expected < 1 - 1e-4, "a saturated softmax would not test the formula"


def test_clip_iqa_ignores_the_pools_positional_embedding(openai_style_tiny: Path, picture: np.ndarray) -> None:
    model = load_model("clip-iqa", weights=openai_style_tiny)
    [before] = model.score([picture])
    with torch.no_grad():
        model.clip.visual.attnpool.positional_embedding.normal_(std=10.0)
    [after] = model.score([picture])
    assert after.score == before.score


def test_a_bare_clip_state_dict_carries_clips_own_logit_scale(openai_style_tiny: Path) -> None:
    assert read_checkpoint(openai_style_tiny).logit_scale == pytest.approx(100.0, rel=1e-6)


def test_openai_clip_with_qualiclips_prompts_is_named_apart(openai_style_tiny: Path, picture: np.ndarray) -> None:
    baseline, seven = MODELS["clip-iqa"], MODELS["clip-qualiclip-prompts"]
    assert baseline.remote == seven.remote and seven.prompt_pairs == PROMPT_PAIRS
    assert "CLIP-IQA" in baseline.title and "not CLIP-IQA" in seven.title
    [one_pair] = load_model("clip-iqa", weights=openai_style_tiny).score([picture])
    [result] = load_model("clip-qualiclip-prompts", weights=openai_style_tiny).score([picture])
    assert len(result.pair_probabilities) == 7
    assert PROMPT_PAIRS[0] == CLIP_IQA_PAIRS[0]  # so their first pair is CLIP-IQA's score
    assert result.pair_probabilities[0] == pytest.approx(one_pair.score, abs=1e-6)
    assert result.score != pytest.approx(one_pair.score, abs=1e-4)


def test_explicit_prompt_pairs_replace_the_models_own(openai_style_tiny: Path) -> None:
    pairs = [("Sharp photo.", "Blurry photo."), ("Bright photo.", "Dark photo.")]
    model = load_model("clip-iqa", weights=openai_style_tiny, prompt_pairs=pairs)
    assert model.prompt_pairs == tuple(pairs) and model.prompt_features.shape == (4, 64)
