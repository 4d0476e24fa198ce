"""Training QualiCLIP's image encoder: config, losses, data, loop, calibration, plots.

    from qualiclip.training import TrainConfig, train
    result = train(TrainConfig(data="photos/", output="runs/tiny", init="tiny", lr=1e-3))
    # result.model_path loads with qualiclip.load_model(weights=result.model_path)
"""
from typing import TYPE_CHECKING

from ..lazy import lazy_exports

#: Public names by submodule, imported on first use (so the command line's train parser imports no torch).
_EXPORTS = {
    "calibrate_logit_scale": "calibration",
    "TrainConfig": "config",
    "LossTerms": "losses",
    "consistency_loss": "losses",
    "negative_ranking_loss": "losses",
    "positive_ranking_loss": "losses",
    "qualiclip_loss": "losses",
    "RunResult": "trainer",
    "Trainer": "trainer",
    "train": "trainer",
}

if TYPE_CHECKING:
    from .calibration import calibrate_logit_scale
    from .config import TrainConfig
    from .losses import LossTerms, consistency_loss, negative_ranking_loss, positive_ranking_loss, qualiclip_loss
    from .trainer import RunResult, Trainer, train

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

__all__ = [
    "LossTerms",
    "RunResult",
    "TrainConfig",
    "Trainer",
    "calibrate_logit_scale",
    "consistency_loss",
    "negative_ranking_loss",
    "positive_ranking_loss",
    "qualiclip_loss",
    "train",
]
