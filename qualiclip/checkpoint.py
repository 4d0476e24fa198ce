"""Read, validate and write checkpoints in the official QualiCLIP format.

Format (a dict saved with ``torch.save``):

- ``clip_model.<key>``: the full open_clip/OpenAI CLIP state dict (image and text towers);
- ``prompts_features``: (14, D) L2-normalised text features of the 7 prompt pairs, positive first;
- optional extras written by this project (absent in the official file):
  ``arch`` (open_clip config name, default RN50) and ``logit_scale`` (default 100, the official
  constant; small models trained here calibrate their own so the softmax does not saturate).

A bare CLIP state dict (no ``clip_model.`` prefix, e.g. open_clip's OpenAI RN50 file) is accepted
too; its prompt features are then computed by the text tower.
"""
from __future__ import annotations

import os
import pickle
import tempfile
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from .architecture import OFFICIAL_ARCH
from .errors import CheckpointError
from .formula import OFFICIAL_LOGIT_SCALE

CLIP_PREFIX = "clip_model."
PROMPTS_KEY = "prompts_features"
ARCH_KEY = "arch"
LOGIT_SCALE_KEY = "logit_scale"
_MAX_LISTED_KEYS = 8


@dataclass
class QualityCheckpoint:
    """The parts of a checkpoint the scoring core needs."""

    arch: str
    clip_state: dict[str, torch.Tensor]
    prompt_features: torch.Tensor | None
    logit_scale: float


def load_safely(path: str | Path, expected: str = "a readable PyTorch checkpoint") -> object:
    """``torch.load(path)`` onto the CPU with ``weights_only=True`` (no arbitrary pickles).

    Any failure becomes a :class:`CheckpointError` saying that ``path`` is not ``expected``.
    """
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError, OSError, ValueError) as err:
        raise CheckpointError(f"{path} is not {expected}: {err}") from err


def read_checkpoint(path: str | Path) -> QualityCheckpoint:
    """Load ``path`` safely (``weights_only=True``) and split it into a :class:`QualityCheckpoint`."""
    raw = load_safely(path)
    if not isinstance(raw, dict):
        raise CheckpointError(f"{path} holds a {type(raw).__name__}, not a QualiCLIP checkpoint dict")
    clip_state = {k[len(CLIP_PREFIX):]: v for k, v in raw.items() if k.startswith(CLIP_PREFIX)}
    if not clip_state:
        clip_state = {k: v for k, v in raw.items() if isinstance(v, torch.Tensor) and k != PROMPTS_KEY}
    if not any(k.startswith("visual.") for k in clip_state):
        raise CheckpointError(
            f"{path} is not a QualiCLIP checkpoint: expected 'clip_model.visual.*' keys "
            f"(a CLIP state dict); found keys {_listed(sorted(raw))}"
        )
    prompts = raw.get(PROMPTS_KEY)
    if prompts is not None and not isinstance(prompts, torch.Tensor):
        raise CheckpointError(f"{path}: '{PROMPTS_KEY}' must be a tensor, got {type(prompts).__name__}")
    return QualityCheckpoint(
        arch=str(raw.get(ARCH_KEY, OFFICIAL_ARCH)),
        clip_state=clip_state,
        prompt_features=None if prompts is None else prompts.float(),
        logit_scale=float(raw.get(LOGIT_SCALE_KEY, OFFICIAL_LOGIT_SCALE)),
    )


def load_clip_state(model: nn.Module, state: dict[str, torch.Tensor], source: str) -> None:
    """Strictly load ``state`` into ``model``; refuse with the offending keys named.

    ``load_state_dict`` would also refuse, but its message mixes shapes into a long trace; this
    check names missing, unexpected and wrongly-shaped keys plainly before touching the model.
    """
    expected = model.state_dict()
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    wrong_shape = sorted(
        f"{k} {tuple(state[k].shape)} != {tuple(expected[k].shape)}"
        for k in set(expected) & set(state)
        if state[k].shape != expected[k].shape
    )
    problems = [
        f"{label}: {_listed(keys)}"
        for label, keys in (("missing keys", missing), ("unexpected keys", unexpected),
                            ("wrong shapes", wrong_shape))
        if keys
    ]
    if problems:
        raise CheckpointError(f"{source} does not fit the model architecture; " + "; ".join(problems))
    model.load_state_dict(state, strict=True)


def check_prompt_features(features: torch.Tensor, embed_dim: int, n_prompts: int, source: str) -> None:
    """Refuse prompt features whose shape does not match the prompts and the embedding size."""
    if tuple(features.shape) != (n_prompts, embed_dim):
        raise CheckpointError(
            f"{source}: '{PROMPTS_KEY}' has shape {tuple(features.shape)}, expected ({n_prompts}, {embed_dim})"
        )


def write_checkpoint(
    path: str | Path,
    clip_model: nn.Module,
    prompt_features: torch.Tensor,
    *,
    arch: str = OFFICIAL_ARCH,
    logit_scale: float = OFFICIAL_LOGIT_SCALE,
) -> Path:
    """Save in the official format (plus ``arch``/``logit_scale`` only when they differ from it).

    The file is written to a temporary name and renamed, so a crash never leaves half a checkpoint.
    """
    path = Path(path)
    payload: dict[str, object] = {CLIP_PREFIX + k: v.detach().cpu() for k, v in clip_model.state_dict().items()}
    payload[PROMPTS_KEY] = prompt_features.detach().float().cpu()
    if arch != OFFICIAL_ARCH:
        payload[ARCH_KEY] = arch
    if logit_scale != OFFICIAL_LOGIT_SCALE:
        payload[LOGIT_SCALE_KEY] = float(logit_scale)
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=path.parent, suffix=".tmp", delete=False) as tmp:
        torch.save(payload, tmp)
    os.chmod(tmp.name, 0o666 & ~_current_umask())  # temp files are private (0600); checkpoints are not
    os.replace(tmp.name, path)
    return path


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _listed(keys: list[str]) -> str:
    shown = ", ".join(keys[:_MAX_LISTED_KEYS])
    more = len(keys) - _MAX_LISTED_KEYS
    return shown + (f" (+{more} more)" if more > 0 else "")
