"""Evaluation: synthetic (known distortion levels) and against human MOS, with IQA metrics."""
from .metrics import fit_logistic4, logistic4, pairwise_accuracy, plcc, plcc_logistic, srcc
from .mos import MosReport, correlate, read_mos_table, score_mos_dataset
from .synthetic import LevelScore, TypeSummary, rescore, score_synthetic, summarize

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
