"""Build open_clip CLIP models that run QualiCLIP's way: any input resolution, no download.

Architectures are named configs: this project's own (``model_configs/``) and open_clip's
built-in ones. Models are built straight from the config (never through open_clip's
``create_model``, which would also accept ``hf-hub:``/``local-dir:`` names and log a
"randomly initialised" warning for weights that are loaded right after).

open_clip's ``AttentionPool2d`` adds a fixed positional embedding sized for the training
resolution (7x7 for RN50 at 224 px). The official QualiCLIP code scores images at their native
resolution by running the pool *without* that embedding; :class:`NativeResolutionAttentionPool`
does the same while keeping every parameter, so state-dict keys (and strict loading) are unchanged.
"""
from __future__ import annotations

import json
from pathlib import Path

import open_clip
import torch
import torch.nn.functional as F
from open_clip.modified_resnet import AttentionPool2d, ModifiedResNet
from open_clip.tokenizer import DEFAULT_CONTEXT_LENGTH, SimpleTokenizer

from .constants import OFFICIAL_ARCH
from .errors import CheckpointError
from .lazy import lazy_exports

#: Old import path kept for one release (see CHANGELOG.md): :mod:`qualiclip.constants`.
__getattr__, _ = lazy_exports(__name__, {}, deprecated={"TINY_ARCH": "qualiclip.constants:TINY_ARCH"})

MODEL_CONFIG_DIR = Path(__file__).with_name("model_configs")


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


def project_architectures() -> list[str]:
    """Names of this project's own architecture configs (in ``model_configs/``)."""
    return sorted(path.stem for path in MODEL_CONFIG_DIR.glob("*.json"))


def model_config(arch: str) -> dict:
    """The config of a known architecture: this project's own, else one of open_clip's built-ins.

    Anything else (``hf-hub:``/``local-dir:`` names, paths, unknown names) is refused, so a
    checkpoint's ``arch`` can only ever select a config, never fetch or read one.
    """
    own = MODEL_CONFIG_DIR / f"{arch}.json"
    if arch in project_architectures():
        return json.loads(own.read_text())
    config = open_clip.get_model_config(arch) if arch in open_clip.list_models() else None
    if config is None:
        raise CheckpointError(f"unknown architecture {arch!r}: not one of this project's "
                              f"({', '.join(project_architectures())}) nor of open_clip's built-in configs")
    return config


def build_clip(arch: str = OFFICIAL_ARCH) -> open_clip.CLIP:
    """Create an untrained open_clip model of ``arch`` (no download) with a native-resolution pool.

    Only ModifiedResNet image towers have the attention pool; other towers are returned as
    open_clip builds them. Architectures whose text tower comes from Hugging Face are refused
    (building them would download its config).
    """
    config = model_config(arch)
    if "hf_model_name" in config.get("text_cfg", {}) or "multimodal_cfg" in config:
        raise CheckpointError(f"architecture {arch!r} needs Hugging Face components; it is not supported")
    model_class = open_clip.CustomTextCLIP if config.pop("custom_text", False) else open_clip.CLIP
    model = model_class(**config)
    visual = model.visual
    if isinstance(visual, ModifiedResNet):
        visual.attnpool.__class__ = NativeResolutionAttentionPool
    return model.eval()


def tokenizer(arch: str) -> SimpleTokenizer:
    """The text tokenizer of ``arch``: CLIP's BPE tokenizer with the config's context length."""
    text = model_config(arch).get("text_cfg", {})
    return SimpleTokenizer(context_length=text.get("context_length", DEFAULT_CONTEXT_LENGTH),
                           **text.get("tokenizer_kwargs", {}))


def tower_trunk(visual: torch.nn.Module, images: torch.Tensor) -> torch.Tensor:
    """The image tower up to its pooling head: the feature map a ResNet's attention pool reads.

    Towers without a separate head (ViTs) have no trunk: the normalised input is returned as it is
    and :func:`tower_head` runs the whole tower. ``tower_head(visual, tower_trunk(visual, x))``
    equals ``visual(x)`` exactly.
    """
    if not isinstance(visual, ModifiedResNet):
        return images
    x = visual.stem(images.to(visual.conv1.weight.dtype))
    return visual.layer4(visual.layer3(visual.layer2(visual.layer1(x))))


def tower_head(visual: torch.nn.Module, trunk: torch.Tensor) -> torch.Tensor:
    """The rest of the image tower after :func:`tower_trunk`: the (N, D) image embedding, unnormalised."""
    return visual.attnpool(trunk) if isinstance(visual, ModifiedResNet) else visual(trunk)
