"""Tiny models for tests and offline work: random checkpoints in the official format, no network."""
from __future__ import annotations

from pathlib import Path

import torch

from .architecture import TINY_ARCH, build_clip, tokenizer
from .checkpoint import write_checkpoint
from .formula import OFFICIAL_LOGIT_SCALE
from .prompts import PROMPT_PAIRS
from .scoring import encode_prompts


def make_random_checkpoint(path: str | Path, arch: str = TINY_ARCH, seed: int = 0,
                           logit_scale: float = OFFICIAL_LOGIT_SCALE) -> Path:
    """Write a randomly initialised ``arch`` model with its text-tower prompt features to ``path``."""
    torch.manual_seed(seed)
    clip = build_clip(arch)
    features = encode_prompts(clip, tokenizer(arch), PROMPT_PAIRS)
    return write_checkpoint(path, clip, features, arch=arch, logit_scale=logit_scale)
