"""Where training starts: a fresh tiny model or any checkpoint the scoring core can load.

Prompt features for a from-scratch model cannot come from its text tower: a random text tower
maps antonyms to nearly the same vector (cosine ~0.99), so the pairwise softmax could never
separate good from bad. ``prompts="orthogonal"`` (the default for ``init="tiny"``) therefore uses
14 random orthonormal unit vectors (QR of a seeded Gaussian matrix): every positive/negative pair
has cosine 0, and the image encoder learns to move along them. These vectors are stored as the
checkpoint's ``prompts_features`` and are *not* text embeddings; the text tower stays frozen and is
only used when prompt features are computed from text (``prompts="text"`` or custom prompts).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import open_clip
import torch

from ..architecture import build_clip, tokenizer
from ..checkpoint import check_prompt_features
from ..constants import OFFICIAL_LOGIT_SCALE
from ..formula import prompt_count
from ..loading import load_clip, weights_path
from ..model_registry import MODELS
from ..prompts import PROMPT_PAIRS
from ..scoring import encode_prompts

TINY_INIT = "tiny"


@dataclass
class StartPoint:
    """A CLIP model with its prompt features, ready to train."""

    clip: open_clip.CLIP
    prompt_features: torch.Tensor
    arch: str
    logit_scale: float
    #: True when the image tower holds trained weights (BatchNorm is then frozen under "auto").
    pretrained: bool


def orthogonal_prompt_features(dim: int, n_prompts: int, seed: int) -> torch.Tensor:
    """(n_prompts, dim) mutually orthogonal unit rows drawn from a seeded Gaussian matrix."""
    if n_prompts > dim:
        raise ValueError(f"cannot draw {n_prompts} orthogonal vectors in {dim} dimensions")
    generator = torch.Generator().manual_seed(seed)
    q, _ = torch.linalg.qr(torch.randn(dim, n_prompts, generator=generator, dtype=torch.float64))
    return q.T.float().contiguous()


def init_path(init: str) -> Path:
    """A model name from ``MODELS`` (downloaded/cached or bundled) or a file path."""
    return weights_path(init) if init in MODELS else Path(init)


def load_start(init: str, arch: str, prompts: str, seed: int) -> StartPoint:
    """Build the model named by ``init`` ("tiny", a model name or a checkpoint path).

    ``prompts``: "text" encodes ``PROMPT_PAIRS`` with the text tower, "orthogonal" draws random
    orthonormal features, "auto" keeps a checkpoint's own features (else the text tower's) and uses
    orthogonal ones for a fresh tiny model.
    """
    torch.manual_seed(seed)
    if init == TINY_INIT:
        clip, features, scale, pretrained = build_clip(arch), None, OFFICIAL_LOGIT_SCALE, False
    else:
        clip, checkpoint = load_clip(init_path(init))
        arch = checkpoint.arch
        features, scale, pretrained = checkpoint.prompt_features, checkpoint.logit_scale, True
    mode = ("orthogonal" if init == TINY_INIT else "checkpoint") if prompts == "auto" else prompts
    n_prompts, dim = prompt_count(len(PROMPT_PAIRS)), clip.text_projection.shape[1]
    if mode == "checkpoint" and features is not None:
        check_prompt_features(features, dim, n_prompts, init)
    if mode == "orthogonal":
        features = orthogonal_prompt_features(dim, n_prompts, seed)
    elif mode == "text" or features is None:
        features = encode_prompts(clip, tokenizer(arch), PROMPT_PAIRS)
    return StartPoint(clip, features, arch, scale, pretrained)
