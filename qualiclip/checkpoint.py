"""Read, validate and write checkpoints in the official QualiCLIP format.

Format (a dict saved with ``torch.save``):

- ``clip_model.<key>``: the full open_clip/OpenAI CLIP state dict (image and text towers);
- ``prompts_features``: (14, D) L2-normalised text features of the 7 prompt pairs, positive first;
- optional extras written by this project (absent in the official file):
  ``arch`` (open_clip config name, default RN50) and ``logit_scale`` (default 100, the official
  constant; small models trained here calibrate their own so the softmax does not saturate).

A bare CLIP state dict (no ``clip_model.`` prefix, e.g. open_clip's OpenAI RN50 file) is accepted
too; its prompt features are then computed by the text tower, and its logit scale is CLIP's own:
the exponential of its ``logit_scale`` parameter (100 for OpenAI's weights, the scale CLIP-IQA uses).

A checkpoint is data from anywhere, so reading one checks it the way an upload is checked: only
dense real tensors, no NaN or infinite value in any of them, and a positive finite logit scale.
Every problem is one :class:`CheckpointError` on one line, naming the file and the key.
"""
from __future__ import annotations

import math
import os
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from .constants import OFFICIAL_ARCH, OFFICIAL_LOGIT_SCALE
from .errors import CheckpointError, listed

CLIP_PREFIX = "clip_model."
PROMPTS_KEY = "prompts_features"
ARCH_KEY = "arch"
LOGIT_SCALE_KEY = "logit_scale"
#: Largest usable logit scale: the logits are float32, and a larger scale makes them infinite.
MAX_LOGIT_SCALE = torch.finfo(torch.float32).max
#: torch.load's weights_only errors give the reason after this, amid lines of advice (one of which
#: is to load the file unsafely); only the reason is passed on.
_UNPICKLER_REASON = "WeightsUnpickler error:"


@dataclass
class QualityCheckpoint:
    """The parts of a checkpoint the scoring core needs."""

    arch: str
    clip_state: dict[str, torch.Tensor]
    prompt_features: torch.Tensor | None
    logit_scale: float


def load_safely(path: str | Path, expected: str = "a readable PyTorch checkpoint") -> object:
    """``torch.load(path)`` onto the CPU with ``weights_only=True`` (no arbitrary pickles).

    Only a regular file is opened (a FIFO or device could block or never end). Any failure becomes
    a one-line :class:`CheckpointError` saying that ``path`` is not ``expected``: on damaged files
    ``torch.load`` raises many exception types (fuzzing finds KeyError, IndexError, TypeError...),
    and its warnings about them are not for the user, so both are caught here.
    """
    if not Path(path).is_file():
        raise CheckpointError(f"{path} {'is not a regular file' if Path(path).exists() else 'does not exist'}")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # noqa: BLE001 (untrusted bytes: every failure means "not readable")
        raise CheckpointError(f"{path} is not {expected} ({type(err).__name__}: {_reason(err)})") from err


def _reason(err: Exception) -> str:
    """The first sentence of a ``torch.load`` error that says what is wrong, none of torch's advice."""
    lines = (line.strip() for line in str(err).split(_UNPICKLER_REASON)[-1].splitlines())
    reason = next((line for line in lines if line and not _is_torch_advice(line)), "no details")
    return reason.split(". ")[0]


def _is_torch_advice(line: str) -> bool:
    return "weights_only" in line or line.startswith(("Weights only load failed", "Check the documentation"))


def read_checkpoint(path: str | Path) -> QualityCheckpoint:
    """Load ``path`` safely (``weights_only=True``), check every value and split it into a :class:`QualityCheckpoint`."""
    raw = load_safely(path)
    if not isinstance(raw, dict) or not all(isinstance(key, str) for key in raw):
        raise CheckpointError(f"{path} holds a {type(raw).__name__}, not a QualiCLIP checkpoint dict with text keys")
    clip_keys = [key for key in raw if key.startswith(CLIP_PREFIX)]
    prefix = CLIP_PREFIX if clip_keys else ""
    if not clip_keys:  # a bare CLIP state dict: its tensors, not the extras
        clip_keys = [key for key, value in raw.items() if isinstance(value, torch.Tensor) and key != PROMPTS_KEY]
    if not any(key[len(prefix):].startswith("visual.") for key in clip_keys):
        raise CheckpointError(
            f"{path} is not a QualiCLIP checkpoint: expected 'clip_model.visual.*' keys "
            f"(a CLIP state dict); found keys {listed(sorted(raw))}"
        )
    for key in clip_keys + ([PROMPTS_KEY] if PROMPTS_KEY in raw else []):
        check_tensor(raw[key], key, path)
    prompts = raw.get(PROMPTS_KEY)
    scale = raw.get(LOGIT_SCALE_KEY, OFFICIAL_LOGIT_SCALE)
    if not prefix and LOGIT_SCALE_KEY in clip_keys:  # a bare CLIP state dict's own parameter: log(scale)
        scale = scale.float().exp()
    return QualityCheckpoint(
        arch=str(raw.get(ARCH_KEY, OFFICIAL_ARCH)),
        clip_state={key[len(prefix):]: raw[key] for key in clip_keys},
        prompt_features=None if prompts is None else prompts.float(),
        logit_scale=_logit_scale(scale, path),
    )


def check_tensor(value: object, key: str, path: str | Path) -> None:
    """Refuse anything but a dense real tensor of finite values."""
    if not isinstance(value, torch.Tensor):
        raise CheckpointError(f"{path}: '{key}' must be a tensor, got {type(value).__name__}")
    if value.layout != torch.strided or value.is_quantized or value.is_complex() or value.device.type != "cpu":
        raise CheckpointError(f"{path}: '{key}' is a {value.layout} {value.dtype} tensor; "
                              "only dense real tensors are accepted")
    if value.is_floating_point() and not torch.isfinite(value).all():
        raise CheckpointError(f"{path}: '{key}' holds NaN or infinite values")


def _logit_scale(value: object, path: str | Path) -> float:
    """The stored logit scale as a float, refused unless it is a positive number float32 can hold."""
    if isinstance(value, torch.Tensor) and value.numel() == 1 and not value.is_complex():
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise CheckpointError(f"{path}: '{LOGIT_SCALE_KEY}' must be a number, got {type(value).__name__}")
    if not (math.isfinite(value) and 0 < value <= MAX_LOGIT_SCALE):
        raise CheckpointError(f"{path}: '{LOGIT_SCALE_KEY}' must be a positive finite number "
                              f"(at most {MAX_LOGIT_SCALE:.3g}), got {value!r}")
    return float(value)


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
        f"{label}: {listed(keys)}"
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

    The file is written to a temporary name and renamed (:func:`save_atomically`).
    """
    payload: dict[str, object] = {CLIP_PREFIX + k: v.detach().cpu() for k, v in clip_model.state_dict().items()}
    payload[PROMPTS_KEY] = prompt_features.detach().float().cpu()
    if arch != OFFICIAL_ARCH:
        payload[ARCH_KEY] = arch
    if logit_scale != OFFICIAL_LOGIT_SCALE:
        payload[LOGIT_SCALE_KEY] = float(logit_scale)
    return save_atomically(payload, path)


def save_atomically(payload: object, path: str | Path) -> Path:
    """``torch.save`` to a temporary name beside ``path``, then rename: a crash never leaves half a file."""
    path = Path(path)
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
