"""Build open_clip CLIP models that run QualiCLIP's way: any input resolution, no download.

open_clip's ``AttentionPool2d`` adds a fixed positional embedding sized for the training
resolution (7x7 for RN50 at 224 px). The official QualiCLIP code scores images at their native
resolution by running the pool *without* that embedding; :class:`NativeResolutionAttentionPool`
does the same while keeping every parameter, so state-dict keys (and strict loading) are unchanged.
"""
from __future__ import annotations

import contextlib
import logging
from pathlib import Path
from typing import Iterator

import open_clip
import torch
import torch.nn.functional as F
from open_clip.modified_resnet import AttentionPool2d, ModifiedResNet

MODEL_CONFIG_DIR = Path(__file__).with_name("model_configs")
open_clip.add_model_config(MODEL_CONFIG_DIR)

#: open_clip architecture of the official checkpoint: OpenAI's RN50 (QuickGELU text tower).
OFFICIAL_ARCH = "RN50-quickgelu"
#: Small architecture for tests and the bundled offline model.
TINY_ARCH = "qualiclip-tiny"


class NativeResolutionAttentionPool(AttentionPool2d):
    """CLIP's attention pool without positional embedding, so it accepts any HxW feature map.

    Tokens are [mean of the HxW features] + the HxW features; the pooled embedding is the
    attention output of the mean token. ``all_tokens=True`` also returns the output of every
    location token (a dense, stride-32 embedding map used by the explanation module).
    """

    def forward(self, x: torch.Tensor, all_tokens: bool = False) -> torch.Tensor:
        """(N, C, H, W) features -> (N, D) embedding, or (H*W + 1, N, D) tokens if ``all_tokens``."""
        tokens = x.flatten(2).permute(2, 0, 1)  # (HW, N, C)
        tokens = torch.cat([tokens.mean(dim=0, keepdim=True), tokens], dim=0)
        query = tokens if all_tokens else tokens[:1]
        out, _ = F.multi_head_attention_forward(
            query=query, key=tokens, value=tokens,
            embed_dim_to_check=tokens.shape[-1],
            num_heads=self.num_heads,
            q_proj_weight=self.q_proj.weight,
            k_proj_weight=self.k_proj.weight,
            v_proj_weight=self.v_proj.weight,
            in_proj_weight=None,
            in_proj_bias=torch.cat([self.q_proj.bias, self.k_proj.bias, self.v_proj.bias]),
            bias_k=None,
            bias_v=None,
            add_zero_attn=False,
            dropout_p=0.0,
            out_proj_weight=self.c_proj.weight,
            out_proj_bias=self.c_proj.bias,
            use_separate_proj_weight=True,
            training=self.training,
            need_weights=False,
        )
        return out if all_tokens else out[0]


def build_clip(arch: str = OFFICIAL_ARCH) -> open_clip.CLIP:
    """Create an untrained open_clip model of ``arch`` (no download) with a native-resolution pool.

    Only ModifiedResNet image towers have the attention pool; other towers are returned as
    open_clip builds them.
    """
    with _quiet_random_init_warning():
        model = open_clip.create_model(arch, pretrained=None)
    visual = model.visual
    if isinstance(visual, ModifiedResNet):
        visual.attnpool.__class__ = NativeResolutionAttentionPool
    return model.eval()


@contextlib.contextmanager
def _quiet_random_init_warning() -> Iterator[None]:
    """open_clip warns that the model is randomly initialised; here weights always follow."""
    def keep(record: logging.LogRecord) -> bool:
        return "initialized randomly" not in record.getMessage()

    root = logging.getLogger()
    root.addFilter(keep)
    try:
        yield
    finally:
        root.removeFilter(keep)


def trunk_features(visual: ModifiedResNet, images: torch.Tensor) -> torch.Tensor:
    """Run the ResNet trunk (stem + layer1..4): the feature map the attention pool consumes."""
    x = visual.stem(images.to(visual.conv1.weight.dtype))
    return visual.layer4(visual.layer3(visual.layer2(visual.layer1(x))))
