"""QualiCLIP Studio's library: opinion-unaware image quality scores with QualiCLIP on open_clip.

Start with :func:`load_model`::

    from qualiclip import load_model
    model = load_model()                 # official weights (downloaded once, cached)
    [result] = model.score(["photo.jpg"])
    print(result.score, result.pair_probabilities)

``model.as_module()`` is the same score as a differentiable ``torch.nn.Module`` (also what the
torch.hub entries of ``hubconf.py`` return).
"""
from .errors import (
    CheckpointError,
    ImageLoadError,
    MissingDependencyError,
    QualiCLIPError,
    WeightsUnavailableError,
)
from .formula import FORMULAS, OFFICIAL_LOGIT_SCALE, quality_from_features
from .imaging import PreparedImage, prepare
from .model_registry import MODELS, load_model
from .prompts import PROMPT_PAIRS
from .quality_module import QualityModule
from .scoring import QualityModel, QualityScore

__all__ = [
    "CheckpointError",
    "FORMULAS",
    "ImageLoadError",
    "MODELS",
    "MissingDependencyError",
    "OFFICIAL_LOGIT_SCALE",
    "PROMPT_PAIRS",
    "PreparedImage",
    "QualiCLIPError",
    "QualityModel",
    "QualityModule",
    "QualityScore",
    "WeightsUnavailableError",
    "load_model",
    "prepare",
    "quality_from_features",
]
