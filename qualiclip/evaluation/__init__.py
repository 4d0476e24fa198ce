"""Evaluation: synthetic (known distortion levels) and against human MOS, with IQA metrics."""
from typing import TYPE_CHECKING

from ..lazy import lazy_exports

#: Public names by submodule, imported on first use (so the command line's eval parsers import no torch).
_EXPORTS = {
    "fit_logistic4": "metrics",
    "logistic4": "metrics",
    "pairwise_accuracy": "metrics",
    "plcc": "metrics",
    "plcc_logistic": "metrics",
    "srcc": "metrics",
    "MosReport": "mos",
    "correlate": "mos",
    "read_mos_table": "mos",
    "score_mos_dataset": "mos",
    "LevelScore": "synthetic",
    "TypeSummary": "synthetic",
    "rescore": "synthetic",
    "score_synthetic": "synthetic",
    "summarize": "synthetic",
}

if TYPE_CHECKING:
    from .metrics import fit_logistic4, logistic4, pairwise_accuracy, plcc, plcc_logistic, srcc
    from .mos import MosReport, correlate, read_mos_table, score_mos_dataset
    from .synthetic import LevelScore, TypeSummary, rescore, score_synthetic, summarize

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

__all__ = [
    "LevelScore",
    "MosReport",
    "TypeSummary",
    "correlate",
    "fit_logistic4",
    "logistic4",
    "pairwise_accuracy",
    "plcc",
    "plcc_logistic",
    "read_mos_table",
    "rescore",
    "score_mos_dataset",
    "score_synthetic",
    "srcc",
    "summarize",
]
