"""Private views of the image tower for explanations; the scoring model itself is never touched.

Grad-CAM hooks modules and backpropagates. Done on the shared scoring model, that would leave
``.grad`` tensors behind, race with concurrent requests (hooks fire for every caller) and need the
parameters' ``requires_grad`` flags flipped. Instead every call works on :func:`frozen_copy`: new
module objects sharing the parameter *storage* (no memory, no copy time) with
``requires_grad=False``, so gradients flow only to the input and hooks live and die with the call.
"""
from __future__ import annotations

import contextlib
import copy
from typing import Callable, Iterator

import torch
import torch.nn.functional as F
from open_clip.modified_resnet import ModifiedResNet
from open_clip.transformer import VisionTransformer
from torch import nn

from qualiclip import QualityScorer

ReshapeTransform = Callable[[torch.Tensor], torch.Tensor]


def frozen_copy(module: nn.Module) -> nn.Module:
    """A structural copy of ``module`` whose parameters share storage but never require grad."""
    memo: dict[int, object] = {id(p): nn.Parameter(p.detach(), requires_grad=False) for p in module.parameters()}
    memo.update({id(b): b for b in module.buffers()})
    return copy.deepcopy(module, memo)


@contextlib.contextmanager
def autograd_on() -> Iterator[None]:
    """Gradients enabled even if the caller runs under ``no_grad`` or ``inference_mode``."""
    with torch.inference_mode(False), torch.enable_grad():
        yield


def pool_input(model: QualityScorer, image: torch.Tensor, trunk: torch.Tensor | None = None) -> torch.Tensor:
    """(1, C, h, w) trunk features (stem + layer1..4) of one prepared (3, H, W) image.

    Computed once without autograd (or taken from ``trunk``, :meth:`QualityScorer.trunk`'s output for
    this image), then cloned out of inference mode so that autograd may use it as a leaf:
    everything after it (the attention pool) is cheap to differentiate.
    """
    features = model.trunk(image[None]) if trunk is None else trunk
    with torch.inference_mode(False):
        return features.clone()


class PoolHead(nn.Module):
    """trunk features -> identity (the CAM target layer) -> attention pool -> normalised embedding.

    The identity's output *is* ``layer4``'s last bottleneck output, so Grad-CAM at the identity
    equals Grad-CAM at that bottleneck through the whole tower, for a fraction of the cost.
    """

    def __init__(self, attnpool: nn.Module) -> None:
        super().__init__()
        self.features = nn.Identity()
        self.attnpool = attnpool

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return F.normalize(self.attnpool(self.features(features)).float(), dim=-1)


class TowerHead(nn.Module):
    """normalised image -> whole image tower -> normalised embedding (ViT towers, reference path)."""

    def __init__(self, visual: nn.Module) -> None:
        super().__init__()
        self.visual = visual

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return F.normalize(self.visual(images).float(), dim=-1)


def tower_target_layer(visual: nn.Module,
                       image_size: tuple[int, int]) -> tuple[nn.Module, ReshapeTransform | None]:
    """The CAM target layer of an image tower and the reshape transform its output needs.

    ResNet towers: ``layer4``'s last bottleneck (spatial already). open_clip ViT towers: the last
    block's first LayerNorm (the input of its attention, as pytorch-grad-cam advises for ViTs;
    the block's *output* patch tokens never reach the class token, so their gradient is zero),
    whose tokens become an (N, C, h, w) map of the patch grid.
    """
    if isinstance(visual, ModifiedResNet):
        return visual.layer4[-1], None
    if isinstance(visual, VisionTransformer):
        grid = (image_size[0] // visual.patch_size[0], image_size[1] // visual.patch_size[1])
        batch_first = getattr(visual.transformer, "batch_first", False)  # older open_clip: (L, N, C)
        return visual.transformer.resblocks[-1].ln_1, patch_grid_transform(grid, batch_first)
    raise TypeError(f"no Grad-CAM target layer known for image towers of type {type(visual).__name__}")


def patch_grid_transform(grid: tuple[int, int], batch_first: bool) -> ReshapeTransform:
    """ViT tokens (N, L, C) or (L, N, C) -> (N, C, h, w), dropping the class/prefix tokens."""
    height, width = grid

    def to_grid(tokens: torch.Tensor) -> torch.Tensor:
        tokens = tokens if batch_first else tokens.transpose(0, 1)
        patches = tokens[:, -height * width:]
        return patches.reshape(tokens.shape[0], height, width, tokens.shape[-1]).permute(0, 3, 1, 2)

    return to_grid
