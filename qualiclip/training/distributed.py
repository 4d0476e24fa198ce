"""Training on several processes: PyTorch DDP as ``torchrun`` launches it (gloo on CPU, NCCL on CUDA).

``torchrun --nproc_per_node N -m qualiclip train ...`` sets ``RANK``, ``WORLD_SIZE`` and
``LOCAL_RANK``; without them (plain ``python -m qualiclip train``) training is one process and none
of this runs. A run on N processes is the one-process run with the same global batch:

- the batch's slots are split into N equal contiguous shards; slot k of step s is drawn from
  ``default_rng([seed, s, k])`` as in one process, so each rank's samples are a pure function of
  (seed, step, rank), the ranks together see exactly the one-process batch, and each rank decodes
  only the images its own slots draw;
- DDP averages the ranks' gradients of their mean losses: the gradient of the global mean loss;
- BatchNorm layers that train normalise with the statistics of the global batch
  (:class:`GlobalBatchNorm`), as one process would (torch's ``SyncBatchNorm`` runs on GPUs only);
- the logged losses are averaged over the ranks, and a stop request (Ctrl-C or SIGTERM on any
  rank) is shared at the next step boundary, so every rank stops after the same step.

Only rank 0 writes logs, plots and checkpoints, and evaluates.
"""
from __future__ import annotations

import contextlib
import datetime
import os
from dataclasses import dataclass
from typing import Iterator, Mapping

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel

#: Ranks wait this long for each other; rank 0 evaluates held-out images while the others wait.
TIMEOUT = datetime.timedelta(hours=1)


@dataclass(frozen=True)
class Ranks:
    """This process's place in the run."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        """True on the one process that writes files and evaluates."""
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1


#: One process: plain ``python -m qualiclip train``.
SINGLE = Ranks()


def ranks_from_environment(environ: Mapping[str, str] = os.environ) -> Ranks:
    """The ranks ``torchrun`` describes in its environment variables, else :data:`SINGLE`."""
    if "WORLD_SIZE" not in environ:
        return SINGLE
    return Ranks(int(environ["RANK"]), int(environ["WORLD_SIZE"]), int(environ.get("LOCAL_RANK", 0)))


def rank_device(device: torch.device, ranks: Ranks) -> torch.device:
    """On CUDA with several processes, this process's own GPU (``cuda:LOCAL_RANK``); else ``device``."""
    if ranks.distributed and device.type == "cuda" and device.index is None:
        return torch.device("cuda", ranks.local_rank)
    return device


@contextlib.contextmanager
def process_group(ranks: Ranks, device: torch.device) -> Iterator[None]:
    """Join the run's process group for the block (NCCL for CUDA, gloo for CPU); nothing for one process."""
    if not ranks.distributed:
        yield
        return
    cuda = device.type == "cuda"
    dist.init_process_group("nccl" if cuda else "gloo", rank=ranks.rank, world_size=ranks.world_size,
                            timeout=TIMEOUT, device_id=device if cuda else None)
    try:
        yield
    finally:
        dist.destroy_process_group()


def rank_slots(batch_size: int, ranks: Ranks) -> range:
    """The slots of each step's batch that this rank draws: one equal contiguous shard."""
    if batch_size % ranks.world_size:
        raise ValueError(f"batch_size {batch_size} must be a multiple of the number of processes "
                         f"({ranks.world_size}) so that every rank draws an equal share")
    share = batch_size // ranks.world_size
    return range(ranks.rank * share, (ranks.rank + 1) * share)


def share_step(values: dict[str, float], stop: bool, device: torch.device) -> tuple[dict[str, float], bool]:
    """The mean of ``values`` over the ranks, and whether any rank was asked to stop (one all-reduce)."""
    packed = torch.tensor([*values.values(), float(stop)], dtype=torch.float64, device=device)
    dist.all_reduce(packed)
    means = (packed[:-1] / dist.get_world_size()).tolist()
    return dict(zip(values, means)), bool(packed[-1] > 0)


def data_parallel(tower: nn.Module, device: torch.device) -> DistributedDataParallel:
    """``tower`` wrapped in DDP: its gradients are averaged over the ranks during ``backward``.

    ``static_graph``: every step uses the same parameters, and some never (a ResNet tower's
    positional embedding, unused at native resolution), which DDP then handles without a search.
    """
    return DistributedDataParallel(tower, device_ids=[device.index] if device.type == "cuda" else None,
                                   static_graph=True)


class _SumOverRanks(torch.autograd.Function):
    """The sum of a tensor over the ranks; its gradient is the sum of the ranks' gradients."""

    @staticmethod
    def forward(ctx: object, tensor: torch.Tensor) -> torch.Tensor:
        total = tensor.clone()
        dist.all_reduce(total)
        return total

    @staticmethod
    def backward(ctx: object, grad: torch.Tensor) -> torch.Tensor:
        total = grad.clone()
        dist.all_reduce(total)
        return total


class GlobalBatchNorm(nn.BatchNorm2d):
    """``BatchNorm2d`` that, in training with several processes, uses the whole batch's statistics.

    Mean and variance (two passes, in float32 or better) and the running statistics are those of the union of
    the ranks' batches, and gradients flow through them to every rank, so N processes compute what
    one process computes on the whole batch. Evaluation, and a single process, are plain BatchNorm.
    Works on any device and backend (gloo on CPU included).
    """

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        if not (self.training and dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1):
            return super().forward(input)
        self._check_input_dim(input)
        shape = (1, -1, 1, 1)
        values = input.to(torch.promote_types(input.dtype, torch.float32))  # half precision computes in float32
        count = torch.tensor([values.numel() / values.shape[1]], dtype=values.dtype, device=values.device)
        sums = _SumOverRanks.apply(torch.cat([values.sum(dim=(0, 2, 3)), count]))
        total = sums[-1].detach()
        mean = sums[:-1] / total
        centred = values - mean.view(shape)
        variance = _SumOverRanks.apply(centred.square().sum(dim=(0, 2, 3))) / total
        if self.track_running_stats:
            self._update_running_statistics(mean.detach(), variance.detach(), float(total))
        output = centred * torch.rsqrt(variance + self.eps).view(shape)
        if self.affine:
            output = output * self.weight.view(shape) + self.bias.view(shape)
        return output.to(input.dtype)

    @torch.no_grad()
    def _update_running_statistics(self, mean: torch.Tensor, variance: torch.Tensor, count: float) -> None:
        """As BatchNorm: exponential (or, with ``momentum=None``, cumulative) averages, unbiased variance."""
        self.num_batches_tracked.add_(1)
        factor = 1.0 / float(self.num_batches_tracked) if self.momentum is None else self.momentum
        self.running_mean.lerp_(mean.to(self.running_mean.dtype), factor)
        unbiased = variance * (count / max(count - 1.0, 1.0))
        self.running_var.lerp_(unbiased.to(self.running_var.dtype), factor)


def with_global_batchnorm(module: nn.Module) -> nn.Module:
    """``module`` with every ``BatchNorm2d`` replaced by a :class:`GlobalBatchNorm` holding the same
    parameters, buffers and mode (state-dict keys unchanged, so checkpoints are unaffected)."""
    for name, child in module.named_children():
        if type(child) is nn.BatchNorm2d:
            like = child.weight if child.affine else child.running_mean
            replacement = GlobalBatchNorm(child.num_features, child.eps, child.momentum, child.affine,
                                          child.track_running_stats, device=like.device, dtype=like.dtype)
            replacement.load_state_dict(child.state_dict())
            replacement.train(child.training)
            replacement.requires_grad_(any(p.requires_grad for p in child.parameters()))
            setattr(module, name, replacement)
        else:
            with_global_batchnorm(child)
    return module
