"""Load a model: :func:`load_model`, the one entry point, for every named model and any checkpoint file.

Every model takes the same path: resolve its weights files (:mod:`.weight_files`), read the
checkpoint, build the open_clip architecture it names, load strictly, take its prompt features
(stored, computed by the text tower, or, for QualiCLIP+, from its learned prompts), choose the
multiplier of its :class:`~qualiclip.formulas.Formula`, and wrap it in a
:class:`~qualiclip.scoring.QualityScorer`. The models themselves are data in :mod:`.model_registry`.
"""
from __future__ import annotations

import functools
from pathlib import Path
from typing import Callable, Sequence

import open_clip
import torch

from .architecture import build_clip, tokenizer
from .checkpoint import QualityCheckpoint, check_prompt_features, load_clip_state, read_checkpoint
from .constants import BACKENDS
from .errors import CheckpointError
from .formula import prompt_count
from .formulas import FORMULAS
from .lazy import lazy_exports
from .model_registry import model_spec
from .prompt_learner import check_prompt_learner, learned_prompt_features, placeholder_tokens, read_prompt_learner
from .prompts import PROMPT_PAIRS, PromptPair
from .scoring import QualityScorer, encode_prompts
from .weight_files import resolve_all


def weights_path(model: str = "qualiclip", weights: str | Path | None = None) -> Path:
    """The local checkpoint file of ``MODELS[model]``: ``weights`` if given, else its own source."""
    return weights_paths(model, weights)[0]


def weights_paths(model: str = "qualiclip", weights: str | Path | None = None,
                  prompt_learner: str | Path | None = None) -> list[Path]:
    """The checkpoint of ``MODELS[model]``, then its prompt file if it has one (or one is given).

    Explicit files win; the model's own remote files are found or downloaded together, so an
    offline machine gets one error naming every URL.
    """
    spec = model_spec(model)
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
    backend: str = "torch",
    precision: str = "fp32",
) -> QualityScorer:
    """Load a named model (``MODELS``), or any checkpoint file via ``weights``.

    ``weights`` overrides where the named model's checkpoint comes from (it may be an official
    checkpoint, a bare CLIP state dict, or one written by this project's training, whose
    architecture is stored inside); ``prompt_learner`` likewise for a QualiCLIP+ prompt file (given
    with any model, it replaces the prompt features by its learned prompts). The model is then named
    after that file. ``prompt_pairs`` replaces the model's own pairs (``MODELS[model].prompt_pairs``);
    their features are then computed with the model's text tower. ``formula`` ("official" or "pyiqa", see
    :data:`~qualiclip.formula.FORMULAS`) overrides the model's own. ``backend="onnxruntime"`` scores
    on the CPU with ONNX Runtime (:mod:`qualiclip.onnx.backend`; the model is exported once and
    cached); ``precision="bf16"`` runs the torch backend's image tower in bfloat16 autocast (opt-in).
    """
    spec = model_spec(model)
    if formula is not None and formula not in FORMULAS:
        raise ValueError(f"unknown formula {formula!r}; choose from {', '.join(FORMULAS)}")
    if backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r}; choose from {', '.join(BACKENDS)}")
    paths = weights_paths(model, weights, prompt_learner)
    path, learner_path = paths[0], (paths[1] if len(paths) > 1 else None)
    if prompt_pairs is not None and learner_path is not None:
        raise ValueError(f"{model} scores with learned prompts; prompt_pairs cannot replace them")
    clip, checkpoint = load_clip(path)
    chosen = FORMULAS[formula] if formula else spec.formula
    explicit = prompt_learner if prompt_learner is not None else weights
    clip_log_scale = clip.logit_scale.detach().item()  # CLIP's learned log temperature
    common = dict(
        name=model if explicit is None else Path(explicit).name,
        weights_origin=str(path) if learner_path is None else f"{path} + {learner_path}",
        logit_scale=chosen.multiplier(checkpoint.logit_scale, clip_log_scale),
        device=device, max_side=max_side, formula=chosen, arch=checkpoint.arch, precision=precision,
    )
    scorer_class = _scorer_class(backend, model, paths, named=explicit is None)
    n_prompts = prompt_count(len(PROMPT_PAIRS))
    pairs = tuple(prompt_pairs or spec.prompt_pairs)
    if learner_path is not None:
        learner = read_prompt_learner(learner_path)
        check_prompt_learner(learner, clip, n_prompts, str(learner_path))
        tokens = placeholder_tokens(tokenizer(checkpoint.arch), PROMPT_PAIRS, learner.context_tokens)
        return scorer_class(clip, learned_prompt_features(clip, learner, tokens), **common)
    if prompt_pairs is None and pairs == PROMPT_PAIRS and checkpoint.prompt_features is not None:
        check_prompt_features(checkpoint.prompt_features, clip.text_projection.shape[1], n_prompts, str(path))
        return scorer_class(clip, checkpoint.prompt_features, **common)
    return scorer_class(clip, encode_prompts(clip, tokenizer(checkpoint.arch), pairs),
                        prompt_pairs=pairs, **common)


def _scorer_class(backend: str, model: str, paths: list[Path], named: bool) -> Callable[..., QualityScorer]:
    """What builds the scorer: :class:`QualityScorer` (torch), or for "onnxruntime" the ONNX Runtime scorer,
    which keys its cached export by the weights' hash and states their licence (``named``: the model's own files)."""
    if backend == "torch":
        return QualityScorer
    from .onnx.backend import OnnxRuntimeScorer
    from .onnx.export import weights_licence, weights_sha256

    return functools.partial(OnnxRuntimeScorer, weights_hash=weights_sha256(paths), licence=weights_licence(model, named))


#: Old names kept for one release (see CHANGELOG.md): the command-line glue now lives beside the command line.
__getattr__, _ = lazy_exports(__name__, {}, deprecated={
    "model_from_options": "qualiclip.model_options:model_from_options",
    "models_from_options": "qualiclip.model_options:models_from_options",
})
