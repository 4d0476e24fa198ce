"""Tiny models for tests and offline work: random checkpoints in the official format and random
QualiCLIP+ prompt files in pyiqa's layout, no network."""
from __future__ import annotations

from pathlib import Path

import torch

from .architecture import build_clip, tokenizer
from .constants import OFFICIAL_LOGIT_SCALE, TINY_ARCH
from .checkpoint import write_checkpoint
from .loading import load_clip
from .prompt_learner import PromptLearner, placeholder_tokens, write_prompt_learner
from .prompts import PROMPT_PAIRS
from .scoring import encode_prompts

#: pyiqa's prompt learner: 16 context tokens per prompt, initialised from N(0, 0.02^2).
CONTEXT_TOKENS = 16
CONTEXT_INIT_STD = 0.02


def make_random_checkpoint(path: str | Path, arch: str = TINY_ARCH, seed: int = 0,
                           logit_scale: float = OFFICIAL_LOGIT_SCALE) -> Path:
    """Write a randomly initialised ``arch`` model with its text-tower prompt features to ``path``."""
    torch.manual_seed(seed)
    clip = build_clip(arch)
    features = encode_prompts(clip, tokenizer(arch), PROMPT_PAIRS)
    return write_checkpoint(path, clip, features, arch=arch, logit_scale=logit_scale)


def make_random_prompt_learner(path: str | Path, checkpoint: str | Path, seed: int = 0,
                               context_tokens: int = CONTEXT_TOKENS) -> Path:
    """Write a QualiCLIP+ prompt file for ``checkpoint``'s text tower, as pyiqa initialises one before
    tuning: start-of-text and prompt-word embeddings from its token embedding, random context tokens."""
    clip, stored = load_clip(checkpoint)
    tokens = placeholder_tokens(tokenizer(stored.arch), PROMPT_PAIRS, context_tokens)
    with torch.no_grad():
        embedded = clip.token_embedding(tokens)
    generator = torch.Generator().manual_seed(seed)
    ctx = CONTEXT_INIT_STD * torch.randn(len(tokens), context_tokens, embedded.shape[-1], generator=generator)
    return write_prompt_learner(path, PromptLearner(ctx, embedded[:, :1], embedded[:, 1 + context_tokens:]))
