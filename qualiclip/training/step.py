"""One step of QualiCLIP's training on a batch of crop series: prompt similarities, the three losses, a gradient step.

Shared by the training loop (:class:`~qualiclip.training.trainer.Trainer`) and the live demo
(:mod:`qualiclip.training.live_demo`), so both compute the losses and update the image tower the same way.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..formula import by_pair
from ..scoring import QualityScorer
from .config import TrainConfig
from .losses import LossTerms, qualiclip_loss


def embed(model: QualityScorer, crops: torch.Tensor, tower: nn.Module | None = None) -> torch.Tensor:
    """(N, 3, S, S) unit-range crops -> (N, D) L2-normalised embeddings through the training tower: ``tower``
    (DDP's wrapper of ``clip.visual``) or ``clip.visual``, under the model's autocast; autograd follows the caller."""
    with model.autocast():
        features = (model.clip.visual if tower is None else tower)(model.to_model_input(crops))
    return F.normalize(features.float(), dim=-1)


def crop_similarities(model: QualityScorer, batch: torch.Tensor, tower: nn.Module | None = None) -> torch.Tensor:
    """(B, 2, L, 3, S, S) crops -> (B, 2, L, P, 2) cosine similarities with each pair's positive and negative prompt.

    Autograd follows the caller's mode; ``tower`` runs the image tower instead of ``clip.visual`` (DDP's wrapper).
    """
    features = embed(model, batch.to(model.device, non_blocking=True).flatten(0, 2), tower)
    return by_pair(features @ model.prompt_features.T).unflatten(0, batch.shape[:3])


def crop_losses(model: QualityScorer, batch: torch.Tensor, config: TrainConfig,
                tower: nn.Module | None = None) -> tuple[torch.Tensor, LossTerms]:
    """The similarities of :func:`crop_similarities` and QualiCLIP's losses on them, with ``config``'s margins and weights."""
    sims = crop_similarities(model, batch, tower)
    return sims, qualiclip_loss(sims, **config.values_for(qualiclip_loss))


def descend(terms: LossTerms, optimizer: torch.optim.Optimizer, scaler: torch.amp.GradScaler) -> None:
    """One optimiser step on ``terms.total`` (scaled for fp16 autocast on CUDA; ``scaler`` is a no-op elsewhere)."""
    optimizer.zero_grad(set_to_none=True)
    scaler.scale(terms.total).backward()
    scaler.step(optimizer)
    scaler.update()
