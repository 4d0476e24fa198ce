"""Training QualiCLIP's image encoder: config, losses, data, loop, calibration, plots.

    from qualiclip.training import TrainConfig, train
    result = train(TrainConfig(data="photos/", output="runs/tiny", init="tiny", lr=1e-3))
    # result.model_path loads with qualiclip.load_model(weights=result.model_path)
"""
from .calibration import calibrate_logit_scale
from .config import TrainConfig
from .losses import LossTerms, consistency_loss, negative_ranking_loss, positive_ranking_loss, qualiclip_loss
from .trainer import RunResult, Trainer, train

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
