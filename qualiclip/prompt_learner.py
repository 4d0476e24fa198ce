"""Learned prompts (pyiqa's QualiCLIP+ files): read, check and turn into prompt features.

A QualiCLIP+ model is QualiCLIP with its 14 prompts rewritten by learned context tokens, tuned on
a MOS dataset while CLIP stayed frozen. Its file is a dict whose ``params`` entry (keys possibly
prefixed ``module.``) holds exactly three float tensors, one row per prompt in the order of
``prompts_features`` (pairs interleaved, positive first), W the text tower's width, L its context
length:

- ``prompt_learner.ctx`` (2P, N, W): N learned context tokens per prompt;
- ``prompt_learner.token_prefix`` (2P, 1, W): the start-of-text token's embedding;
- ``prompt_learner.token_suffix`` (2P, L - 1 - N, W): the token embeddings of "X ... X <prompt>"
  (N times X) after the Xs: the prompt's words, end-of-text, padding.

The text tower reads, per prompt, ``[SOT, ctx[:N//2], words, ctx[N//2:], EOT, padding]`` and its
feature is taken at the EOT position, as CLIP's ``encode_text`` does. The context is fixed once
trained, so the features are computed once, at load time, and the model then scores like any
other: :func:`learned_prompt_features` is all that differs.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import open_clip
import torch
from open_clip.tokenizer import SimpleTokenizer

from .checkpoint import check_tensor, load_safely, save_atomically
from .errors import CheckpointError, listed
from .formula import interleave_pairs
from .prompts import PromptPair

PARAMS_KEY = "params"
CTX_KEY = "prompt_learner.ctx"
PREFIX_KEY = "prompt_learner.token_prefix"
SUFFIX_KEY = "prompt_learner.token_suffix"
_WRAPPER_PREFIX = "module."
#: The placeholder word the context tokens stand in for when the prompts are tokenised.
PLACEHOLDER = "X"


@dataclass(frozen=True)
class PromptLearner:
    """The three tensors of a QualiCLIP+ file (see the module docstring for their shapes)."""

    ctx: torch.Tensor
    prefix: torch.Tensor
    suffix: torch.Tensor

    @property
    def context_tokens(self) -> int:
        """N, the number of learned tokens per prompt."""
        return self.ctx.shape[1]


def read_prompt_learner(path: str | Path) -> PromptLearner:
    """Load ``path`` safely (``weights_only=True``) and check its layout; every problem is one
    :class:`CheckpointError` line naming the file."""
    raw = load_safely(path, "a readable QualiCLIP+ prompt file")
    params = raw.get(PARAMS_KEY) if isinstance(raw, dict) else None
    if not isinstance(params, dict) or not all(isinstance(key, str) for key in params):
        found = listed(sorted(map(str, raw))) if isinstance(raw, dict) else type(raw).__name__
        raise CheckpointError(f"{path} is not a QualiCLIP+ prompt file: expected a dict with a "
                              f"'{PARAMS_KEY}' dict of tensors; found {found}")
    params = {key.removeprefix(_WRAPPER_PREFIX): value for key, value in params.items()}
    expected = {CTX_KEY, PREFIX_KEY, SUFFIX_KEY}
    if set(params) != expected:
        problems = [f"{label}: {listed(sorted(keys))}" for label, keys in
                    (("missing keys", expected - set(params)), ("unexpected keys", set(params) - expected)) if keys]
        raise CheckpointError(f"{path}: '{PARAMS_KEY}' must hold exactly {', '.join(sorted(expected))}; "
                              + "; ".join(problems))
    for key, value in params.items():
        check_tensor(value, key, path)
        if value.ndim != 3 or not value.is_floating_point():
            raise CheckpointError(f"{path}: '{key}' must be a 3-dimensional float tensor, "
                                  f"got shape {tuple(value.shape)} {value.dtype}")
    return PromptLearner(params[CTX_KEY].float(), params[PREFIX_KEY].float(), params[SUFFIX_KEY].float())


def check_prompt_learner(learner: PromptLearner, clip: open_clip.CLIP, n_prompts: int, source: str) -> None:
    """Refuse a prompt learner whose shapes do not fit ``clip``'s text tower and ``n_prompts`` prompts."""
    if not isinstance(clip, open_clip.CLIP):
        raise CheckpointError(f"{source}: learned prompts need a CLIP model with a built-in text tower, "
                              f"not a {type(clip).__name__}")
    width, length = clip.token_embedding.embedding_dim, clip.positional_embedding.shape[0]
    tokens = learner.context_tokens
    expected = {CTX_KEY: (n_prompts, tokens, width), PREFIX_KEY: (n_prompts, 1, width),
                SUFFIX_KEY: (n_prompts, length - 1 - tokens, width)}
    actual = {CTX_KEY: learner.ctx.shape, PREFIX_KEY: learner.prefix.shape, SUFFIX_KEY: learner.suffix.shape}
    wrong = [f"{key} {tuple(actual[key])} != {shape}" for key, shape in expected.items() if tuple(actual[key]) != shape]
    if wrong:
        raise CheckpointError(f"{source} does not fit the model's text tower (width {width}, context length "
                              f"{length}, {n_prompts} prompts); wrong shapes: {', '.join(wrong)}")


def placeholder_tokens(tokenizer: SimpleTokenizer, pairs: Sequence[PromptPair], context_tokens: int) -> torch.Tensor:
    """(2P, L) token ids of "X ... X <prompt>" (``context_tokens`` Xs): where each prompt's words and
    end-of-text sit once the context tokens take the Xs' places (as the prompt learner was built)."""
    return tokenizer([" ".join([PLACEHOLDER] * context_tokens + [text]) for text in interleave_pairs(pairs)])


def learned_prompt_features(clip: open_clip.CLIP, learner: PromptLearner, tokens: torch.Tensor) -> torch.Tensor:
    """(2P, D) unnormalised text features of the learned prompts, computed in float32 without autograd.

    ``tokens``: :func:`placeholder_tokens` for the same prompts. Each prompt's sequence is
    ``[SOT, ctx[:N//2], words, ctx[N//2:], EOT, padding]``; the feature is the text tower's
    output at EOT (the largest token id) projected by ``text_projection``, as in ``encode_text``.
    """
    tokens_per_prompt, half = learner.context_tokens, learner.context_tokens // 2
    end = tokens.argmax(dim=-1)
    words = end - 1 - tokens_per_prompt
    sequences = torch.stack([
        torch.cat([learner.prefix[row], learner.ctx[row, :half], learner.suffix[row, :count],
                   learner.ctx[row, half:], learner.suffix[row, count:]])
        for row, count in enumerate(words.tolist())
    ])
    device = clip.positional_embedding.device
    with torch.inference_mode():
        x = sequences.to(device) + clip.positional_embedding.float()
        x = clip.ln_final(clip.transformer(x, attn_mask=clip.attn_mask))
        return (x[torch.arange(len(x), device=device), end.to(device)] @ clip.text_projection).float().cpu()


def write_prompt_learner(path: str | Path, learner: PromptLearner) -> Path:
    """Save ``learner`` in pyiqa's layout (``{"params": {...}}``), atomically."""
    return save_atomically({PARAMS_KEY: {CTX_KEY: learner.ctx.detach().cpu(), PREFIX_KEY: learner.prefix.detach().cpu(),
                                         SUFFIX_KEY: learner.suffix.detach().cpu()}}, path)
