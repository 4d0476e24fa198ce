"""The models this project knows (configs as data) and :func:`load_model`, the one entry point.

Every model takes the same path: resolve its weights files, read the checkpoint, build the
open_clip architecture it names, load strictly, take its prompt features (stored, computed by the
text tower, or, for QualiCLIP+, from its learned prompts), choose the multiplier of its
:class:`~qualiclip.formula.Formula`, and wrap it in a :class:`QualityModel`.
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
from .formula import FORMULAS, OFFICIAL_FORMULA, PYIQA_FORMULA, Formula, prompt_count
from .prompt_learner import check_prompt_learner, learned_prompt_features, placeholder_tokens, read_prompt_learner
from .prompts import CLIP_IQA_PAIRS, PROMPT_PAIRS, PromptPair
from .scoring import QualityModel, encode_prompts
from .weight_files import QUALICLIP_ENV, QUALICLIP_URL, RemoteWeights, resolve_all


def _openai_rn50_weights() -> RemoteWeights:
    """OpenAI's RN50 CLIP weights as open_clip publishes them (its ``pretrained="openai"``)."""
    hub_repo = open_clip.get_pretrained_cfg("RN50", "openai")["hf_hub"].rstrip("/")
    return RemoteWeights(
        url=f"https://huggingface.co/{hub_repo}/resolve/main/open_clip_pytorch_model.bin",
        filename="open_clip_rn50_openai.bin",
    )


#: pyiqa's weights repository (QualiCLIP's checkpoint as pyiqa loads it, and the QualiCLIP+ prompts).
PYIQA_WEIGHTS_URL = "https://huggingface.co/chaofengc/IQA-PyTorch-Weights/resolve/main/"
#: The QualiCLIP checkpoint pyiqa's QualiCLIP+ models run on (cached under its own name: whether it is
#: byte-identical to the official release is not documented).
PYIQA_QUALICLIP = RemoteWeights(url=PYIQA_WEIGHTS_URL + "QualiCLIP.pth", filename="pyiqa-QualiCLIP.pth")


def _qualiclip_plus_prompts(dataset: str) -> RemoteWeights:
    """pyiqa's QualiCLIP+ prompt file tuned on ``dataset`` ("+" is "%2B" in its URL)."""
    return RemoteWeights(url=f"{PYIQA_WEIGHTS_URL}QualiCLIP%2B_{dataset}.pth",
                         filename=f"QualiCLIP+_{dataset}.pth", option="prompt_learner")


#: Weights shipped inside the package (see weights/MODEL_CARD.md).
BUNDLED_DIR = Path(__file__).with_name("weights")
#: Why the bundled offline model cannot score prompts of one's own (see weights/MODEL_CARD.md).
_OFFLINE_TEXT_TOWER = ("Its prompt features are random orthonormal directions, not text embeddings, and its "
                       "text tower was never trained, so prompts of your own would mean nothing to it.")


@dataclass(frozen=True)
class ModelSpec:
    """A named model: what it is, where its weights come from, its prompt pairs and its formula."""

    name: str
    title: str
    remote: RemoteWeights | None = None
    bundled: Path | None = None
    #: The antonym pairs of its score (positive first); a checkpoint's stored prompt features are
    #: used only for the official seven, any other pairs are encoded by the model's text tower.
    prompt_pairs: tuple[PromptPair, ...] = PROMPT_PAIRS
    #: Why its text tower cannot score other prompt pairs; None when it can.
    no_custom_prompts: str | None = None
    #: Learned prompts (QualiCLIP+) replacing the checkpoint's prompt features.
    prompt_learner: RemoteWeights | None = None
    formula: Formula = OFFICIAL_FORMULA


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
        *(
            ModelSpec(
                name="qualiclip+" + suffix,
                title=f"QualiCLIP+ (pyiqa; prompts tuned on {dataset})",
                remote=PYIQA_QUALICLIP,
                prompt_learner=_qualiclip_plus_prompts(key),
                formula=PYIQA_FORMULA,
            )
            for suffix, key, dataset in (("", "koniq", "KonIQ-10k"), ("-clive", "clive", "LIVE Challenge"),
                                         ("-flive", "flive", "FLIVE"), ("-spaq", "spaq", "SPAQ"))
        ),
    )
}


def _spec(model: str) -> ModelSpec:
    if model not in MODELS:
        raise ValueError(f"unknown model {model!r}; choose from {', '.join(MODELS)}")
    return MODELS[model]


def weights_path(model: str = "qualiclip", weights: str | Path | None = None) -> Path:
    """The local checkpoint file of ``MODELS[model]``: ``weights`` if given, else its own source."""
    return weights_paths(model, weights)[0]


def weights_paths(model: str = "qualiclip", weights: str | Path | None = None,
                  prompt_learner: str | Path | None = None) -> list[Path]:
    """The checkpoint of ``MODELS[model]``, then its prompt file if it has one (or one is given).

    Explicit files win; the model's own remote files are found or downloaded together, so an
    offline machine gets one error naming every URL.
    """
    spec = _spec(model)
    wanted = [(spec.remote, weights, spec.bundled)]
    if spec.prompt_learner or prompt_learner is not None:
        wanted.append((spec.prompt_learner, prompt_learner, None))
    found = iter(resolve_all([(remote, explicit) for remote, explicit, _ in wanted if remote]))
    return [next(found) if remote else Path(explicit or bundled) for remote, explicit, bundled in wanted]


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
    prompt_learner: str | Path | None = None,
    formula: str | None = None,
) -> QualityModel:
    """Load a named model (``MODELS``), or any checkpoint file via ``weights``.

    ``weights`` overrides where the named model's checkpoint comes from (it may be an official
    checkpoint, a bare CLIP state dict, or one written by this project's training, whose
    architecture is stored inside); ``prompt_learner`` likewise for a QualiCLIP+ prompt file (given
    with any model, it replaces the prompt features by its learned prompts). The model is then named
    after that file. ``prompt_pairs`` replaces the model's own pairs (``MODELS[model].prompt_pairs``);
    their features are then computed with the model's text tower. ``formula`` ("official" or "pyiqa", see
    :data:`~qualiclip.formula.FORMULAS`) overrides the model's own.
    """
    spec = _spec(model)
    if formula is not None and formula not in FORMULAS:
        raise ValueError(f"unknown formula {formula!r}; choose from {', '.join(FORMULAS)}")
    paths = weights_paths(model, weights, prompt_learner)
    path, learner_path = paths[0], (paths[1] if len(paths) > 1 else None)
    if prompt_pairs is not None and learner_path is not None:
        raise ValueError(f"{model} scores with learned prompts; prompt_pairs cannot replace them")
    clip, checkpoint = load_clip(path)
    chosen = FORMULAS[formula] if formula else spec.formula
    explicit = prompt_learner if prompt_learner is not None else weights
    common = dict(
        name=model if explicit is None else Path(explicit).name,
        weights_origin=str(path) if learner_path is None else f"{path} + {learner_path}",
        logit_scale=chosen.logit_scale(checkpoint.logit_scale, clip.logit_scale.detach().item()),
        device=device, max_side=max_side, formula=chosen, arch=checkpoint.arch,
    )
    n_prompts = prompt_count(len(PROMPT_PAIRS))
    pairs = tuple(prompt_pairs or spec.prompt_pairs)
    if learner_path is not None:
        learner = read_prompt_learner(learner_path)
        check_prompt_learner(learner, clip, n_prompts, str(learner_path))
        tokens = placeholder_tokens(tokenizer(checkpoint.arch), PROMPT_PAIRS, learner.context_tokens)
        return QualityModel(clip, learned_prompt_features(clip, learner, tokens), **common)
    if prompt_pairs is None and pairs == PROMPT_PAIRS and checkpoint.prompt_features is not None:
        check_prompt_features(checkpoint.prompt_features, clip.text_projection.shape[1], n_prompts, str(path))
        return QualityModel(clip, checkpoint.prompt_features, **common)
    return QualityModel(clip, encode_prompts(clip, tokenizer(checkpoint.arch), pairs),
                        prompt_pairs=pairs, **common)
