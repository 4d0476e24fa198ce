"""Grad-CAM family maps for QualiCLIP via pytorch-grad-cam: method registry and the fast pool path.

For ResNet towers the target layer (``layer4``'s last bottleneck) is exactly the attention pool's
input, so the trunk runs once without autograd and the CAM object only sees :class:`PoolHead`
(identity -> pool -> normalise): same maps, gradients through the pool alone. ViT towers (and
``fast=False``) run the CAM through the whole tower. Either way the package's hooks, targets and
methods do the work; only its final min-max scaling is skipped (see :class:`RawMapsMixin`).
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import torch
from open_clip.modified_resnet import ModifiedResNet
from pytorch_grad_cam import EigenCAM, GradCAM, GradCAMPlusPlus
from pytorch_grad_cam.base_cam import BaseCAM
from torch import nn

from qualiclip import QualityScorer

from .targets import Target
from .towers import PoolHead, ReshapeTransform, TowerHead, autograd_on, frozen_copy, pool_input, tower_target_layer

#: pytorch-grad-cam classes offered by name. EigenCAM is gradient-free and ignores the targets.
CAM_METHODS: dict[str, type[BaseCAM]] = {
    "gradcam": GradCAM,
    "gradcam++": GradCAMPlusPlus,
    "eigencam": EigenCAM,
}
#: Methods whose map does not depend on the prompts (both maps of an explanation are the same).
PROMPT_AGNOSTIC = frozenset({"eigencam"})
#: Methods whose map is linear in the gradients: the map of a target with exactly the opposite
#: gradient (1 - score against the score) is the same signed map with its sign flipped.
GRADIENT_LINEAR = frozenset({"gradcam"})


class RawMapsMixin:
    """Keep the CAM raw: ReLU'd (or signed, with ``keep_sign``), at the target layer's resolution,
    not min-max scaled.

    BaseCAM scales every map to [0, 1] on its own; that turns an all-zero map into noise and hides
    how strong the "good" and "bad" evidence are relative to each other. Rendering scales later.
    """

    keep_sign = False

    def compute_cam_per_layer(self, input_tensor: torch.Tensor, targets: list, eigen_smooth: bool) -> np.ndarray:
        [layer] = self.target_layers
        store = self.activations_and_grads
        activations = store.activations[0].float().numpy()
        grads = store.gradients[0].float().numpy() if store.gradients else None
        cam = self.get_cam_image(input_tensor, layer, targets, activations, grads, eigen_smooth)
        return (cam if self.keep_sign else np.maximum(cam, 0.0)).astype(np.float32)

    def aggregate_multi_layers(self, cam: np.ndarray) -> np.ndarray:
        return cam


_RAW_CAMS = {name: type(f"Raw{cls.__name__}", (RawMapsMixin, cls), {}) for name, cls in CAM_METHODS.items()}
_SIGNED_CAMS = {name: type(f"Signed{cls.__name__}", (RawMapsMixin, cls), {"keep_sign": True})
                for name, cls in CAM_METHODS.items() if name in GRADIENT_LINEAR}


def cam_maps(model: QualityScorer, image: torch.Tensor, method: str, targets: Sequence[Target], *,
             fast: bool = True, trunk: torch.Tensor | None = None,
             signed: bool = False) -> tuple[np.ndarray, torch.Tensor]:
    """Raw maps (T, h, w) >= 0 for each target, and the (T, D) embeddings they were computed from.

    ``signed`` (methods in :data:`GRADIENT_LINEAR`): the maps before the ReLU, so one target's map
    also gives, negated, the map of the target with the opposite gradient.

    ``image`` is one prepared (3, H, W) image (``model.prepare(...).pixels``, not modified); the T
    targets share one batched forward/backward. ``fast`` uses the pool-only path where the tower has
    an attention pool, starting from ``trunk`` (:meth:`QualityScorer.trunk` of ``image``) when given.
    """
    if method not in CAM_METHODS:
        raise ValueError(f"unknown CAM method {method!r}; choose from {', '.join(CAM_METHODS)}")
    if signed and method not in GRADIENT_LINEAR:
        raise ValueError(f"signed maps need a method linear in the gradients ({', '.join(GRADIENT_LINEAR)})")
    cams = _SIGNED_CAMS if signed else _RAW_CAMS
    visual = model.clip.visual
    if fast and isinstance(visual, ModifiedResNet):
        head = PoolHead(frozen_copy(visual.attnpool))
        return _run_cam(model, head, head.features, pool_input(model, image, trunk), cams[method], targets, None)
    tower = frozen_copy(visual)
    layer, transform = tower_target_layer(tower, tuple(image.shape[-2:]))
    return _run_cam(model, TowerHead(tower), layer, model.to_model_input(image[None]), cams[method], targets,
                    transform)


def _run_cam(model: QualityScorer, head: nn.Module, layer: nn.Module, inputs: torch.Tensor, cam_class: type[BaseCAM],
             targets: Sequence[Target], transform: ReshapeTransform | None) -> tuple[np.ndarray, torch.Tensor]:
    """One CAM call on ``head``: a batch of len(targets) copies of ``inputs``, one target each."""
    cam = cam_class(head, [layer], reshape_transform=transform)
    try:  # not ``with cam``: its __exit__ swallows IndexError, which would hide real bugs
        with autograd_on(), model.autocast():
            batch = inputs.repeat(len(targets), *([1] * (inputs.ndim - 1))).requires_grad_(cam.uses_gradients)
            maps = cam(batch, list(targets))
        return maps, cam.outputs.detach()
    finally:
        cam.activations_and_grads.release()
