"""QualiCLIP Studio's library: opinion-unaware image quality scores with QualiCLIP on open_clip.

Start with :func:`load_model`::

    from qualiclip import load_model
    scorer = load_model("qualiclip-offline")   # or "qualiclip": the official weights, downloaded once
    [result] = scorer.score(["photo.jpg"])
    print(result.score, result.pair_probabilities)

``scorer.as_module()`` is the same score as a differentiable ``torch.nn.Module`` (also what the
torch.hub entries of ``hubconf.py`` return); :func:`list_models` lists the named models.

``import qualiclip`` itself imports no torch: the names that need it are imported on first use
(PEP 562), so ``qualiclip --help`` and ``list_models()`` answer at once.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from .errors import (
    CheckpointError,
    ImageLoadError,
    MissingDependencyError,
    QualiCLIPError,
    WeightsHashError,
    WeightsUnavailableError,
)
from .constants import OFFICIAL_LOGIT_SCALE
from .formulas import FORMULAS
from .lazy import lazy_exports
from .model_registry import MODELS, ModelInfo, list_models
from .prompts import PROMPT_PAIRS

#: The package version; pyproject.toml reads it from here (``[tool.setuptools.dynamic]``).
__version__ = "0.1.0"

#: Public names that need torch, by the module that defines them (imported when first used).
_LAZY = {
    "BatchScores": "scoring",
    "PreparedImage": "imaging",
    "QualityModule": "quality_module",
    "ImageScore": "scoring",
    "QualityScorer": "scoring",
    "load_model": "loading",
    "prepare": "imaging",
    "quality_from_features": "formula",
}

if TYPE_CHECKING:
    from .formula import quality_from_features
    from .imaging import PreparedImage, prepare
    from .loading import load_model
    from .quality_module import QualityModule
    from .scoring import BatchScores, ImageScore, QualityScorer


#: Old public names kept for one release (see CHANGELOG.md), each resolved with a DeprecationWarning.
_DEPRECATED = {"QualityScore": "qualiclip.scoring:ImageScore"}

__getattr__, __dir__ = lazy_exports(__name__, _LAZY, _DEPRECATED)

__all__ = [
    "BatchScores",
    "CheckpointError",
    "FORMULAS",
    "ImageLoadError",
    "ImageScore",
    "MODELS",
    "MissingDependencyError",
    "ModelInfo",
    "OFFICIAL_LOGIT_SCALE",
    "PROMPT_PAIRS",
    "PreparedImage",
    "QualiCLIPError",
    "QualityModule",
    "QualityScorer",
    "WeightsHashError",
    "WeightsUnavailableError",
    "__version__",
    "list_models",
    "load_model",
    "prepare",
    "quality_from_features",
]
