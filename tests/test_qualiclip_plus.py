"""pyiqa's QualiCLIP+ models (learned prompts, temperature 2) and the pyiqa formula, on tiny models.

The hand computations below follow pyiqa's description (qualiclip-plus-facts.md): the learned
sequence ``[SOT, ctx[:8], words, ctx[8:], EOT, padding]`` through the text tower, and
``p = e^z+ / (e^z+ + e^z-)`` with ``z = exp(logit_scale) / 2 * cos``.
"""
from __future__ import annotations

import json
import math
import string
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from qualiclip import CheckpointError, WeightsUnavailableError, load_model, prepare
from qualiclip.architecture import tokenizer
from qualiclip.constants import TINY_ARCH
from qualiclip.cli import main
from qualiclip.formula import interleave_pairs
from qualiclip.imaging import normalize
from qualiclip.loading import load_clip
from qualiclip.model_registry import MODELS
from qualiclip.prompt_learner import PromptLearner, write_prompt_learner
from qualiclip.prompts import PROMPT_PAIRS
from qualiclip.tiny import make_random_prompt_learner

PLUS_MODELS = ("qualiclip+", "qualiclip+-clive", "qualiclip+-flive", "qualiclip+-spaq")
CONTEXT = 16


def _context_words(prompt: int) -> list[str]:
    """16 one-token words standing in for a prompt's context tokens, different for every prompt."""
    letters = string.ascii_lowercase[:CONTEXT]
    return [letters[(position + prompt) % CONTEXT] for position in range(CONTEXT)]


@pytest.fixture(scope="module")
def lettered(tiny_checkpoint: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    """A prompt file whose context tokens are the embeddings of letters, and the texts it spells:
    "a b c d e f g h Good photo. i j k l m n o p" (the letters rotated for every prompt)."""
    clip, _ = load_clip(tiny_checkpoint)
    tokenize = tokenizer(TINY_ARCH)
    prompts = interleave_pairs(PROMPT_PAIRS)
    texts = [" ".join(_context_words(i)[:8] + [prompt] + _context_words(i)[8:]) for i, prompt in enumerate(prompts)]
    with torch.no_grad():
        embed = clip.token_embedding
        ctx = torch.stack([embed(tokenize([" ".join(_context_words(i))])[0, 1:1 + CONTEXT])
                           for i in range(len(prompts))])
        placeholders = embed(tokenize([" ".join(["X"] * CONTEXT + [prompt]) for prompt in prompts]))
    learner = PromptLearner(ctx, placeholders[:, :1], placeholders[:, 1 + CONTEXT:])
    path = write_prompt_learner(tmp_path_factory.mktemp("plus") / "lettered.pth", learner)
    return path, texts


def _pyiqa_score_by_hand(clip, image: np.ndarray, prompt_features: torch.Tensor) -> float:
    """pyiqa's formula, written out: temperature 2 on exp(logit_scale), raw exponentials, fp32."""
    with torch.no_grad():
        features = F.normalize(clip.encode_image(normalize(prepare(image).pixels[None])), dim=-1)
        z = math.exp(clip.logit_scale.item()) / 2 * features @ F.normalize(prompt_features, dim=-1).T
    pairs = z.view(-1, 2).double().exp()
    return float((pairs[:, 0] / pairs.sum(dim=1)).mean())


def test_learned_prompts_are_the_text_they_spell(tiny_checkpoint: Path, lettered, photo: np.ndarray) -> None:
    path, texts = lettered
    clip, _ = load_clip(tiny_checkpoint)
    with torch.no_grad():
        spelled = clip.encode_text(tokenizer(TINY_ARCH)(texts))
    model = load_model("qualiclip+", weights=tiny_checkpoint, prompt_learner=path, device="cpu")
    torch.testing.assert_close(model.prompt_features, F.normalize(spelled, dim=-1), rtol=0, atol=1e-5)
    assert model.logit_scale == pytest.approx(math.exp(clip.logit_scale.item()) / 2)
    [result] = model.score([photo])
    assert result.score == pytest.approx(_pyiqa_score_by_hand(clip, photo, spelled), abs=1e-6)
    with torch.no_grad():
        [module_score] = model.as_module()(prepare(photo).pixels[None]).tolist()
    assert module_score == pytest.approx(result.score, abs=1e-6)


def test_a_different_context_gives_different_features(tiny_checkpoint: Path, lettered) -> None:
    path, texts = lettered
    model = load_model("qualiclip+", weights=tiny_checkpoint, prompt_learner=path, device="cpu")
    clip, _ = load_clip(tiny_checkpoint)
    swapped = [" ".join(words[-8:] + words[8:-8] + words[:8]) for words in (text.split() for text in texts)]
    with torch.no_grad():  # the two halves of the context swapped: a different prompt
        other = F.normalize(clip.encode_text(tokenizer(TINY_ARCH)(swapped)), dim=-1)
    assert (model.prompt_features - other).abs().max() > 1e-3


@pytest.mark.slow  # fresh Python processes importing torch, or several models
def test_named_models_load_from_the_cache_each_with_its_own_prompts(
        tiny_checkpoint: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, photo: np.ndarray) -> None:
    monkeypatch.setattr("torch.hub.get_dir", lambda: str(tmp_path))
    monkeypatch.setattr("qualiclip.weight_files._probe", _refuse)  # nothing may be downloaded
    cache = tmp_path / "checkpoints"
    cache.mkdir()
    (cache / "pyiqa-QualiCLIP.pth").write_bytes(tiny_checkpoint.read_bytes())
    files = {name: make_random_prompt_learner(cache / f"QualiCLIP+_{dataset}.pth", tiny_checkpoint, seed=seed)
             for seed, (name, dataset) in enumerate(zip(PLUS_MODELS, ("koniq", "clive", "flive", "spaq")))}
    scores = {}
    for name in PLUS_MODELS:
        model = load_model(name, device="cpu")
        direct = load_model(weights=tiny_checkpoint, prompt_learner=files[name], formula="pyiqa", device="cpu")
        assert model.name == name and model.formula.name == "pyiqa"
        torch.testing.assert_close(model.prompt_features, direct.prompt_features, rtol=0, atol=0)
        scores[name] = model.score([photo])[0].score
    assert len({round(score, 6) for score in scores.values()}) == 4, scores


def _refuse(url: str, timeout: float) -> None:
    raise OSError("network is unreachable")


@pytest.mark.parametrize("name", PLUS_MODELS)
def test_offline_each_fails_at_once_naming_its_urls(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("torch.hub.get_dir", lambda: str(tmp_path))
    monkeypatch.setattr("qualiclip.weight_files._probe", _refuse)
    with pytest.raises(WeightsUnavailableError) as caught:
        load_model(name)
    message = str(caught.value)
    spec = MODELS[name]
    assert spec.remote.url in message and spec.prompt_learner.url in message
    assert "--weights PATH and --prompt-learner PATH" in message and str(tmp_path) in message
    assert len(message.splitlines()) == 1
    assert sum(other.prompt_learner.url in message for other in map(MODELS.get, PLUS_MODELS)) == 1


def _raw(path: Path) -> dict:
    return torch.load(path, weights_only=True)


@pytest.mark.parametrize(
    "edit, named",
    [
        (lambda raw: raw.pop("params"), "expected a dict with a 'params' dict of tensors"),
        (lambda raw: raw["params"].pop("prompt_learner.token_suffix"), "missing keys: prompt_learner.token_suffix"),
        (lambda raw: raw["params"].__setitem__("prompt_learner.extra", torch.zeros(1, 1, 1)),
         "unexpected keys: prompt_learner.extra"),
        (lambda raw: raw["params"].__setitem__("prompt_learner.ctx", torch.zeros(14, 16, 32)),
         "wrong shapes: prompt_learner.ctx (14, 16, 32) != (14, 16, 64)"),
        (lambda raw: raw["params"].__setitem__("prompt_learner.token_prefix", torch.zeros(12, 1, 64)),
         "prompt_learner.token_prefix (12, 1, 64) != (14, 1, 64)"),
        (lambda raw: raw["params"]["prompt_learner.ctx"].view(-1).__setitem__(5, float("nan")),
         "'prompt_learner.ctx' holds NaN"),
        (lambda raw: raw["params"].__setitem__("prompt_learner.ctx", torch.zeros(14, 16)),
         "'prompt_learner.ctx' must be a 3-dimensional float tensor"),
    ],
    ids=["no-params", "missing", "unexpected", "wrong-width", "wrong-count", "nan", "two-dimensional"],
)
def test_unusable_prompt_files_are_refused_in_one_line(tiny_checkpoint: Path, lettered, tmp_path: Path,
                                                       edit, named: str) -> None:
    raw = _raw(lettered[0])
    edit(raw)
    torch.save(raw, tmp_path / "bad.pth")
    with pytest.raises(CheckpointError) as caught:
        load_model("qualiclip+", weights=tiny_checkpoint, prompt_learner=tmp_path / "bad.pth")
    assert named in str(caught.value) and "bad.pth" in str(caught.value)
    assert len(str(caught.value).splitlines()) == 1


def test_a_data_parallel_prefix_is_accepted(tiny_checkpoint: Path, lettered, tmp_path: Path) -> None:
    raw = _raw(lettered[0])
    raw["params"] = {f"module.{key}": value for key, value in raw["params"].items()}
    torch.save(raw, tmp_path / "wrapped.pth")
    wrapped = load_model("qualiclip+", weights=tiny_checkpoint, prompt_learner=tmp_path / "wrapped.pth")
    plain = load_model("qualiclip+", weights=tiny_checkpoint, prompt_learner=lettered[0])
    torch.testing.assert_close(wrapped.prompt_features, plain.prompt_features, rtol=0, atol=0)


def test_learned_prompts_and_prompt_pairs_exclude_each_other(tiny_checkpoint: Path, lettered) -> None:
    with pytest.raises(ValueError, match="learned prompts"):
        load_model("qualiclip+", weights=tiny_checkpoint, prompt_learner=lettered[0],
                   prompt_pairs=[("Sharp.", "Blurry.")])


def test_pyiqa_formula_on_plain_qualiclip(tiny_checkpoint: Path, photo: np.ndarray) -> None:
    official = load_model(weights=tiny_checkpoint, device="cpu")
    pyiqa = load_model(weights=tiny_checkpoint, formula="pyiqa", device="cpu")
    assert "pyiqa formula" in pyiqa.description and "formula" not in official.description
    assert official.logit_scale == 100.0
    assert pyiqa.logit_scale == pytest.approx(math.exp(official.clip.logit_scale.item()) / 2)
    [result] = pyiqa.score([photo])
    assert result.score == pytest.approx(_pyiqa_score_by_hand(pyiqa.clip, photo, pyiqa.prompt_features), abs=1e-6)
    assert abs(result.score - official.score([photo])[0].score) > 1e-3, "a different multiplier, a different score"
    with pytest.raises(ValueError, match="unknown formula 'pyiq'"):
        load_model(weights=tiny_checkpoint, formula="pyiq")


def test_command_line_scores_qualiclip_plus_as_the_library(tiny_checkpoint: Path, lettered, tmp_path: Path,
                                                            capsys: pytest.CaptureFixture, photo: np.ndarray) -> None:
    from PIL import Image

    Image.fromarray(photo).save(tmp_path / "photo.png")
    assert main(["score", str(tmp_path / "photo.png"), "--model", "qualiclip+", "--weights", str(tiny_checkpoint),
                 "--prompt-learner", str(lettered[0]), "--device", "cpu", "--json"]) == 0
    captured = capsys.readouterr()
    [record] = json.loads(captured.out)
    model = load_model("qualiclip+", weights=tiny_checkpoint, prompt_learner=lettered[0], device="cpu")
    assert record["score"] == pytest.approx(model.score([tmp_path / "photo.png"])[0].score, abs=1e-7)
    assert "lettered.pth" in captured.err and "pyiqa formula" in captured.err
    assert main(["score", str(tmp_path / "photo.png"), "--weights", str(tiny_checkpoint), "--formula", "pyiqa",
                 "--device", "cpu", "--json"]) == 0
    [record] = json.loads(capsys.readouterr().out)
    pyiqa = load_model(weights=tiny_checkpoint, formula="pyiqa", device="cpu")
    assert record["score"] == pytest.approx(pyiqa.score([tmp_path / "photo.png"])[0].score, abs=1e-7)
