"""QualiCLIP Studio's library: opinion-unaware image quality scores with QualiCLIP on open_clip.

Start with :func:`load_model`::

    from qualiclip import load_model
    model = load_model()                 # official weights (downloaded once, cached)
    [result] = model.score(["photo.jpg"])
    print(result.score, result.pair_probabilities)
"""
from .errors import CheckpointError, ImageLoadError, QualiCLIPError, WeightsUnavailableError
from .models import MODELS, load_model
from .prompts import PROMPT_PAIRS
from .scoring import QualityModel, QualityScore, quality_from_features

__all__ = [
    "CheckpointError",
    "ImageLoadError",
    "MODELS",
    "PROMPT_PAIRS",
    "QualiCLIPError",
    "QualityModel",
    "QualityScore",
    "WeightsUnavailableError",
    "load_model",
    "quality_from_features",
]
