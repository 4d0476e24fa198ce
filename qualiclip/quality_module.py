"""QualiCLIP's score as a differentiable ``torch.nn.Module``: what the torch.hub entries return and
what :meth:`QualityScorer.as_module` gives, e.g. to use the score as a loss or a regulariser.

``forward`` takes (B, 3, H, W) images at any resolution and returns (B,) scores in [0, 1], **higher
is better** (as a loss, minimise ``1 - score``). Which images is part of the module: with
``normalised_input=False`` (what :meth:`QualityScorer.as_module` gives by default, as pyiqa's ``as_loss``)
images in [0, 1], the convention of :meth:`~qualiclip.scoring.QualityScorer.score_batch`, normalised inside;
with ``normalised_input=True`` (the torch.hub entries, as the official hubconf) CLIP-normalised images. Nothing inside switches gradients off or picks a precision: under ``torch.no_grad()``
a call is plain inference; with gradients on, the score is differentiable with respect to the
input; under ``torch.autocast`` the towers and the cosines run in its precision, as in the official
code (otherwise the formula runs in float32, or float64 for a float64 module). The CLIP model stays
in eval mode whatever ``.train()`` says, so BatchNorm uses its stored statistics and an image's
score never depends on the rest of its batch.
"""
from __future__ import annotations

import open_clip
import torch
import torch.nn.functional as F
from torch import nn

from .architecture import tower_head, tower_trunk
from .constants import OFFICIAL_LOGIT_SCALE
from .formula import quality_from_features, scoring_dtype
from .imaging import normalize


class QualityModule(nn.Module):
    """A CLIP model, its (2P, D) prompt features and the logit multiplier: images -> scores.

    The CLIP parameters are frozen (``requires_grad=False``): gradients reach the input, not the
    weights; ``requires_grad_(True)`` undoes that for fine-tuning through the score.
    """

    def __init__(self, clip: open_clip.CLIP, prompt_features: torch.Tensor,
                 logit_scale: float = OFFICIAL_LOGIT_SCALE, *, normalised_input: bool = False) -> None:
        super().__init__()
        self.clip = clip.eval().requires_grad_(False)
        self.register_buffer("prompt_features", F.normalize(prompt_features.float(), dim=-1))
        self.logit_scale = float(logit_scale)
        #: What :meth:`forward` takes: CLIP-normalised images (True) or images in [0, 1] (False).
        self.normalised_input = normalised_input

    def train(self, mode: bool = True) -> QualityModule:
        """Sets the mode flag only: the CLIP model itself stays in eval mode (BatchNorm statistics frozen)."""
        super().train(mode)
        self.clip.eval()
        return self

    def trunk(self, images: torch.Tensor) -> torch.Tensor:
        """Normalised (B, 3, H, W) images -> the image tower's features before its pooling head."""
        return tower_trunk(self.clip.visual, images)

    def embed(self, trunk: torch.Tensor) -> torch.Tensor:
        """:meth:`trunk` features -> (B, D) L2-normalised image embeddings (float32 or float64)."""
        embeddings = tower_head(self.clip.visual, trunk)
        return F.normalize(embeddings.to(scoring_dtype(embeddings)), dim=-1)

    def quality(self, embeddings: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, D) normalised embeddings -> scores (B,) and positive-prompt probabilities (B, P)."""
        return quality_from_features(embeddings, self.prompt_features, self.logit_scale)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """(B, 3, H, W) images, any H and W, in [0, 1] or CLIP-normalised as :attr:`normalised_input`
        says -> (B,) quality scores in [0, 1]."""
        scores, _ = self.quality(self.embed(self.trunk(images if self.normalised_input else normalize(images))))
        return scores

    def extra_repr(self) -> str:
        return (f"prompts={self.prompt_features.shape[0]}, logit_scale={self.logit_scale:.4g}, "
                f"normalised_input={self.normalised_input}")
