"""Correlation metrics of IQA: SRCC, PLCC (raw and after the 4-parameter logistic) and ranking accuracy."""
from __future__ import annotations

import warnings
from itertools import combinations
from typing import Sequence

import numpy as np
from scipy import optimize, stats


def srcc(predicted: Sequence[float], target: Sequence[float]) -> float:
    """Spearman rank correlation; NaN when either side is constant."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", stats.ConstantInputWarning)
        return float(stats.spearmanr(predicted, target).statistic)


def plcc(predicted: Sequence[float], target: Sequence[float]) -> float:
    """Pearson linear correlation; NaN when either side is constant."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", stats.ConstantInputWarning)
        return float(stats.pearsonr(predicted, target).statistic)


def logistic4(x: np.ndarray, top: float, bottom: float, center: float, width: float) -> np.ndarray:
    """The customary 4-parameter logistic of IQA (VQEG): bottom + (top - bottom) / (1 + e^{-(x-c)/|w|})."""
    return bottom + (top - bottom) / (1.0 + np.exp(-(x - center) / (abs(width) + 1e-12)))


def fit_logistic4(predicted: Sequence[float], target: Sequence[float]) -> np.ndarray:
    """Least-squares parameters (top, bottom, center, width) mapping predictions onto the target scale."""
    x, y = np.asarray(predicted, dtype=float), np.asarray(target, dtype=float)
    start = [y.max(), y.min(), float(np.median(x)), float(x.std()) or 1.0]
    with warnings.catch_warnings():  # an unestimable covariance is irrelevant here: only the fit is used
        warnings.simplefilter("ignore", optimize.OptimizeWarning)
        params, _ = optimize.curve_fit(logistic4, x, y, p0=start, maxfev=20000)
    return params


def plcc_logistic(predicted: Sequence[float], target: Sequence[float]) -> tuple[float, np.ndarray | None]:
    """PLCC after the logistic fit, and the fitted parameters (None and raw PLCC if the fit fails)."""
    try:
        params = fit_logistic4(predicted, target)
    except (RuntimeError, ValueError):
        return plcc(predicted, target), None
    return plcc(logistic4(np.asarray(predicted, dtype=float), *params), target), params


def pairwise_accuracy(levels: Sequence[int], scores: Sequence[float]) -> float:
    """Fraction of pairs with different levels where the less degraded one scores higher (ties count 1/2)."""
    outcomes = [
        0.5 if s_a == s_b else float((s_a > s_b) == (l_a < l_b))
        for (l_a, s_a), (l_b, s_b) in combinations(zip(levels, scores), 2)
        if l_a != l_b
    ]
    return float(np.mean(outcomes)) if outcomes else float("nan")


#: A score may rise by this much between consecutive levels (numerical noise) and still count as falling.
MONOTONE_TOLERANCE = 1e-3


def falls_monotonically(scores: Sequence[float], tolerance: float = MONOTONE_TOLERANCE) -> bool:
    """True when no level scores higher than the one before it (beyond ``tolerance``); ``scores`` in level order."""
    return all(later <= earlier + tolerance for earlier, later in zip(scores, scores[1:]))
