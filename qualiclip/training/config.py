"""Training configuration: one dataclass with documented defaults, loadable from / saved to JSON.

The defaults follow the QualiCLIP paper where it states a value (two overlapping 224 px crops,
L = 5 levels, AdamW, unit loss weights) and are otherwise conventional choices made here; every
field can be overridden from the command line (``--field-name``) or a JSON file.
"""
from __future__ import annotations

import ast
import inspect
import json
import re
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Callable

from ..constants import MAX_LEVEL, TINY_ARCH

OPTIMIZERS = ("adamw", "adam", "sgd")
SCHEDULES = ("cosine", "constant")
BATCHNORM_MODES = ("auto", "train", "frozen")
PROMPT_MODES = ("auto", "text", "orthogonal")
DEVICES = ("auto", "cpu", "cuda")


@dataclass
class TrainConfig:
    """Everything that defines a training run (paths included, so a run is reproducible from its JSON)."""

    #: Folder of pristine images, searched recursively.
    data: str = ""
    #: Output folder: checkpoints, logs, plots, the saved config.
    output: str = "runs/qualiclip"
    #: Optional folder of held-out pristine images for periodic evaluation and logit-scale calibration.
    holdout: str | None = None
    #: Start point: "tiny" (fresh ``arch``), a model name from ``qualiclip.MODELS``, or a checkpoint path.
    init: str = "tiny"
    #: open_clip architecture built for ``init="tiny"``.
    arch: str = TINY_ARCH
    #: Optimiser steps in the run.
    steps: int = 2000
    #: Pristine images per step; each gives 2 crops x ``num_levels`` degraded versions.
    batch_size: int = 8
    #: Side of the square crops A and B, in pixels.
    crop_size: int = 224
    #: Minimum overlap of crops A and B along each axis, as a fraction of the crop side.
    min_overlap: float = 0.5
    #: L, the number of increasing degradation levels per crop (1..L of the degradation tables).
    num_levels: int = MAX_LEVEL
    #: Also rank the undistorted crops above level 1, as level 0 (not in the paper, whose series are
    #: levels 1..L only). The app's slider starts at 0, so a model should score the original highest.
    include_pristine: bool = False
    #: [low, high]: resize each sampled image by a random factor in this range before cropping
    #: (antialiased; never below the crop size). None keeps every image at its own resolution.
    scale_range: list[float] | None = None
    #: Mirror each sampled image left-right with probability 1/2 (before cropping).
    flip: bool = False
    #: Reorder the RGB channels of each sampled image at random (one of 6 orders), so a few colour
    #: photos show the model many colour distributions; no distortion type changes hue this way.
    permute_channels: bool = False
    #: Distortion types composed in one series (1 = a single type, as QualiCLIP).
    max_distortions: int = 1
    #: Distortion groups to sample from (default: all groups of ``qualiclip.degradations.GROUPS``).
    groups: list[str] | None = None
    #: "adamw", "adam" or "sgd".
    optimizer: str = "adamw"
    #: Peak learning rate. 1e-4 suits fine-tuning; from-scratch tiny models train well with 1e-3.
    lr: float = 1e-4
    #: Weight decay of the optimiser.
    weight_decay: float = 1e-2
    #: Momentum (SGD only).
    momentum: float = 0.9
    #: "cosine": linear warm-up then cosine decay to 0; "constant": warm-up then constant.
    schedule: str = "cosine"
    #: Steps of linear learning-rate warm-up.
    warmup_steps: int = 100
    #: Consistency margin m_c (on cosine similarities).
    margin_consistency: float = 0.025
    #: Ranking margin m_r (on cosine similarities).
    margin_ranking: float = 0.05
    #: Loss weight lambda_c of the consistency loss.
    weight_consistency: float = 1.0
    #: Loss weight lambda_p of the positive-prompt ranking loss.
    weight_positive: float = 1.0
    #: Loss weight lambda_n of the negative-prompt ranking loss.
    weight_negative: float = 1.0
    #: Exponential moving average of the image tower (weights and BatchNorm statistics) with this decay
    #: per step; 0 disables it. With it, evaluation, checkpoints and the final model use the average,
    #: which smooths the step-to-step swings of a small model trained on few images.
    ema_decay: float = 0.0
    #: "auto": BatchNorm frozen (eval mode) when fine-tuning pretrained weights, trained from scratch.
    batchnorm: str = "auto"
    #: Prompt features: "text" (text tower), "orthogonal" (random orthonormal vectors, see
    #: :mod:`qualiclip.training.start`), "auto" (orthogonal for ``init="tiny"``, else text/checkpoint).
    prompts: str = "auto"
    #: Seed of every random choice (crops, distortions, initial weights).
    seed: int = 0
    #: "auto": CUDA (with fp16 autocast) when available, else CPU.
    device: str = "auto"
    #: torch CPU threads (0 = torch's default). On a shared, oversubscribed CPU 1 is often much faster:
    #: waiting threads of small parallel ops lose their time slices. Applies process-wide.
    threads: int = 0
    #: DataLoader worker processes preparing crops and degradations (0 = in the main process).
    workers: int = 2
    #: Save a resumable checkpoint every this many steps.
    checkpoint_every: int = 200
    #: Held-out synthetic evaluation every this many steps (needs ``holdout``); 0 disables it.
    eval_every: int = 200
    #: Distortion types of that evaluation (default: every monotone type).
    eval_types: list[str] | None = None
    #: Held-out images are downscaled to this longer side for evaluation and calibration.
    eval_max_side: int = 384
    #: Calibration target: this quantile of |pair logit| over held-out images maps to ``calibration_logit``.
    calibration_quantile: float = 0.95
    #: The pair logit that quantile maps to.
    calibration_logit: float = 4.0
    #: Store the frozen text tower as float16 in the final model file (halves its size; scoring unaffected).
    half_text_tower: bool = False

    def __post_init__(self) -> None:
        choices = {"optimizer": OPTIMIZERS, "schedule": SCHEDULES, "batchnorm": BATCHNORM_MODES,
                   "prompts": PROMPT_MODES, "device": DEVICES}
        for name, allowed in choices.items():
            if getattr(self, name) not in allowed:
                raise ValueError(f"{name} must be one of {', '.join(allowed)}, got {getattr(self, name)!r}")
        if not 2 <= self.num_levels <= MAX_LEVEL:
            raise ValueError(f"num_levels must be in 2..{MAX_LEVEL} (the ranking losses need two levels)")
        if not 0.0 < self.min_overlap <= 1.0:
            raise ValueError("min_overlap must be in (0, 1]")
        if not 0.0 <= self.ema_decay < 1.0:
            raise ValueError("ema_decay must be in [0, 1)")
        if self.scale_range is not None and not (len(self.scale_range) == 2
                                                 and 0 < self.scale_range[0] <= self.scale_range[1]):
            raise ValueError("scale_range must be [low, high] with 0 < low <= high")
        if min(self.steps, self.batch_size, self.crop_size, self.checkpoint_every) < 1:
            raise ValueError("steps, batch_size, crop_size and checkpoint_every must be positive")

    @classmethod
    def from_json(cls, path: str | Path) -> "TrainConfig":
        """Read a JSON object of field values; unknown keys are refused."""
        values = json.loads(Path(path).read_text())
        unknown = set(values) - {f.name for f in fields(cls)}
        if unknown:
            raise ValueError(f"{path}: unknown config keys {sorted(unknown)}")
        return cls(**values)

    def to_json(self, path: str | Path) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(asdict(self), indent=2) + "\n")
        return path

    def values_for(self, target: Callable[..., object]) -> dict[str, object]:
        """The values of this config's fields that ``target`` takes as keyword-only parameters, by name.

        ``StepBatches(paths, **config.values_for(StepBatches))``: a setting is named once, as a field
        here and a parameter there, and never copied by hand. Parameters that are no field (e.g.
        ``StepBatches``' ``slots``) are the caller's to pass.
        """
        keywords = [p.name for p in inspect.signature(target).parameters.values() if p.kind is p.KEYWORD_ONLY]
        names = {f.name for f in fields(self)}
        return {name: getattr(self, name) for name in keywords if name in names}

    @property
    def output_dir(self) -> Path:
        return Path(self.output)


def field_docs(cls: type = TrainConfig) -> dict[str, str]:
    """Each field's ``#:`` comment as one line of plain text (no reST markup): the ``--help`` of its option.

    Read from the source, so the comment beside a field is the one place its meaning is written.
    """
    lines = inspect.getsource(cls).splitlines()
    docs: dict[str, str] = {}
    for node in ast.parse("\n".join(lines)).body[0].body:
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            comment: list[str] = []
            row = node.lineno - 2
            while row >= 0 and lines[row].strip().startswith("#:"):
                comment.insert(0, lines[row].strip()[2:].strip())
                row -= 1
            docs[node.target.id] = plain_text(" ".join(comment))
    return docs


def plain_text(text: str) -> str:
    """``text`` without reST markup: ``:role:`a.b``` -> ``a.b`` (``~a.b`` -> ``b``), double backquotes -> none."""
    text = re.sub(r":\w+:`([^`]+)`", _role_target, text)
    return text.replace("``", "")


def _role_target(match: re.Match) -> str:
    target = match.group(1)
    return target.split(".")[-1] if target.startswith("~") else target

