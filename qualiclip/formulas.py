"""The variants of QualiCLIP's formula (official, pyiqa) as plain data (the :class:`Formula` type), without torch.

The command line offers them as ``--formula`` choices and the model registry names each model's own;
:mod:`qualiclip.formula` computes with them.
"""
from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

from .constants import PYIQA_TEMPERATURE



@dataclass(frozen=True)
class Formula:
    """Where a model's logit multiplier comes from, and whether CUDA runs it under fp16 autocast."""

    name: str
    #: None: the checkpoint's stored multiplier (100 in the official format); else
    #: ``exp(CLIP's learned logit_scale) / temperature``.
    temperature: float | None
    fp16_autocast: bool

    def multiplier(self, stored: float, clip_log_scale: float) -> float:
        """The multiplier of the cosines (a model's ``logit_scale``), from a checkpoint's ``stored`` one or
        its CLIP's learned log scale."""
        return stored if self.temperature is None else math.exp(clip_log_scale) / self.temperature

    def logit_scale(self, stored: float, clip_log_scale: float) -> float:
        """Deprecated (one release, see CHANGELOG.md): :meth:`multiplier`."""
        warnings.warn("Formula.logit_scale() is deprecated; use Formula.multiplier()", DeprecationWarning, stacklevel=2)
        return self.multiplier(stored, clip_log_scale)


OFFICIAL_FORMULA = Formula("official", temperature=None, fp16_autocast=True)
PYIQA_FORMULA = Formula("pyiqa", temperature=PYIQA_TEMPERATURE, fp16_autocast=False)
#: The formulas by name (``--formula``, ``load_model(formula=...)``).
FORMULAS: dict[str, Formula] = {formula.name: formula for formula in (OFFICIAL_FORMULA, PYIQA_FORMULA)}
