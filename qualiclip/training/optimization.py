"""The optimiser and the learning-rate schedule of a training run, from its config."""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from .config import TrainConfig


def make_optimizer(params: list[nn.Parameter], config: TrainConfig) -> torch.optim.Optimizer:
    if config.optimizer == "sgd":
        return torch.optim.SGD(params, lr=config.lr, momentum=config.momentum, weight_decay=config.weight_decay)
    optimizer = torch.optim.AdamW if config.optimizer == "adamw" else torch.optim.Adam
    return optimizer(params, lr=config.lr, weight_decay=config.weight_decay)


def lr_factor(step: int, config: TrainConfig) -> float:
    """Linear warm-up over ``warmup_steps``, then constant or cosine decay to 0 at ``steps``."""
    if step < config.warmup_steps:
        return (step + 1) / config.warmup_steps
    if config.schedule == "constant":
        return 1.0
    progress = (step - config.warmup_steps) / max(1, config.steps - config.warmup_steps)
    return 0.5 * (1.0 + float(np.cos(np.pi * min(1.0, progress))))
