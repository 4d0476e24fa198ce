"""The models this project knows (configs as data) and :func:`load_model`, the one entry point.

Every model takes the same path: resolve a weights file, read it as a checkpoint, build the
open_clip architecture it names, load strictly, take its prompt features (or compute them with
the text tower), and wrap it in a :class:`QualityModel`.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import open_clip
import torch

from .architecture import build_clip, tokenizer
from .checkpoint import QualityCheckpoint, check_prompt_features, load_clip_state, read_checkpoint
from .errors import CheckpointError
from .formula import prompt_count
from .prompts import CLIP_IQA_PAIRS, PROMPT_PAIRS, PromptPair
from .scoring import QualityModel, encode_prompts
from .weight_files import QUALICLIP_ENV, QUALICLIP_URL, RemoteWeights, resolve_weights


def _openai_rn50_weights() -> RemoteWeights:
    """OpenAI's RN50 CLIP weights as open_clip publishes them (its ``pretrained="openai"``)."""
    hub_repo = open_clip.get_pretrained_cfg("RN50", "openai")["hf_hub"].rstrip("/")
    return RemoteWeights(
        url=f"https://huggingface.co/{hub_repo}/resolve/main/open_clip_pytorch_model.bin",
        filename="open_clip_rn50_openai.bin",
    )


#: Weights shipped inside the package (see weights/MODEL_CARD.md).
BUNDLED_DIR = Path(__file__).with_name("weights")


#: Why the bundled offline model cannot score prompts of one's own (see weights/MODEL_CARD.md).
_OFFLINE_TEXT_TOWER = ("Its prompt features are random orthonormal directions, not text embeddings, and its "
                       "text tower was never trained, so prompts of your own would mean nothing to it.")


@dataclass(frozen=True)
class ModelSpec:
    """A named model: what it is, where its weights come from and which prompt pairs it scores with."""

    name: str
    title: str
    remote: RemoteWeights | None = None
    bundled: Path | None = None
    #: The antonym pairs of its score (positive first); a checkpoint's stored prompt features are
    #: used only for the official seven, any other pairs are encoded by the model's text tower.
    prompt_pairs: tuple[PromptPair, ...] = PROMPT_PAIRS
    #: Why its text tower cannot score other prompt pairs; None when it can.
    no_custom_prompts: str | None = None


MODELS: dict[str, ModelSpec] = {
    spec.name: spec
    for spec in (
        ModelSpec(
            name="qualiclip",
            title="QualiCLIP (official weights)",
            remote=RemoteWeights(url=QUALICLIP_URL, filename="qualiclip.pth", env_var=QUALICLIP_ENV),
        ),
        ModelSpec(
            name="clip-iqa",
            title='CLIP-IQA (zero-shot OpenAI RN50, "Good photo." vs "Bad photo.")',
            remote=_openai_rn50_weights(),
            prompt_pairs=CLIP_IQA_PAIRS,
        ),
        ModelSpec(
            name="clip-qualiclip-prompts",
            title="OpenAI RN50 CLIP, zero-shot, with QualiCLIP's seven prompt pairs (not CLIP-IQA)",
            remote=_openai_rn50_weights(),
        ),
        ModelSpec(
            name="qualiclip-offline",
            title="QualiCLIP-offline (tiny, trained from scratch on CPU by this project; bundled)",
            bundled=BUNDLED_DIR / "qualiclip-offline.pth",
            no_custom_prompts=_OFFLINE_TEXT_TOWER,
        ),
    )
}


def weights_path(model: str = "qualiclip", weights: str | Path | None = None) -> Path:
    """The local weights file of ``MODELS[model]``: ``weights`` if given, else its own source."""
    if model not in MODELS:
        raise ValueError(f"unknown model {model!r}; choose from {', '.join(MODELS)}")
    spec = MODELS[model]
    return resolve_weights(spec.remote, weights) if spec.remote else Path(weights or spec.bundled)


def load_clip(path: str | Path) -> tuple[open_clip.CLIP, QualityCheckpoint]:
    """Read a checkpoint and load it strictly into the open_clip architecture it names."""
    checkpoint = read_checkpoint(path)
    try:
        clip = build_clip(checkpoint.arch)
    except CheckpointError as err:  # an unknown or unsupported ``arch``: say which file names it
        raise CheckpointError(f"{path}: {err}") from err
    load_clip_state(clip, checkpoint.clip_state, str(path))
    return clip, checkpoint


def load_model(
    model: str = "qualiclip",
    weights: str | Path | None = None,
    *,
    device: torch.device | str | None = None,
    max_side: int | None = None,
    prompt_pairs: Sequence[PromptPair] | None = None,
) -> QualityModel:
    """Load a named model (``MODELS``), or any checkpoint file via ``weights``.

    ``weights`` overrides where the named model's file comes from (it may be an official
    checkpoint, a bare CLIP state dict, or one written by this project's training, whose
    architecture is stored inside); the model is then named after that file. ``prompt_pairs``
    replaces the model's own pairs (``MODELS[model].prompt_pairs``); their features are then
    computed with the model's text tower.
    """
    path = weights_path(model, weights)
    clip, checkpoint = load_clip(path)
    pairs = tuple(prompt_pairs or MODELS[model].prompt_pairs)
    common = dict(name=model if weights is None else path.name, weights_origin=str(path), arch=checkpoint.arch,
                  logit_scale=checkpoint.logit_scale, prompt_pairs=pairs, device=device, max_side=max_side)
    if prompt_pairs is None and pairs == PROMPT_PAIRS and checkpoint.prompt_features is not None:
        check_prompt_features(checkpoint.prompt_features, clip.text_projection.shape[1],
                              prompt_count(len(PROMPT_PAIRS)), str(path))
        return QualityModel(clip, checkpoint.prompt_features, **common)
    return QualityModel(clip, encode_prompts(clip, tokenizer(checkpoint.arch), pairs), **common)

