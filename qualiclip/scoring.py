"""QualiCLIP's score for images: :class:`QualityScorer` (what :func:`~qualiclip.load_model` returns)
wraps a CLIP model, its prompt features and the device handling, and scores any supported image
input in batches with the formula of :mod:`qualiclip.formula`.

One way for each need (docs/python-api.md shows them):

- scores of images or files: :meth:`QualityScorer.score` -> one :class:`ImageScore` per input;
- scores of a tensor batch: :meth:`QualityScorer.score_batch` -> :class:`BatchScores` (named tensors);
- features: :meth:`QualityScorer.trunk` (the tower's feature map) and
  :meth:`QualityScorer.image_features` (the normalised embeddings), with
  :meth:`QualityScorer.score_trunk` to score from the first;
- a differentiable score: :meth:`QualityScorer.as_module` (a :class:`~qualiclip.quality_module.QualityModule`,
  images in [0, 1] as everywhere here unless ``normalised_input=True``);
- maps: :mod:`qualiclip.explain`, which starts from the same trunk.
"""
from __future__ import annotations

import contextlib
from collections import defaultdict
from dataclasses import dataclass
from typing import Iterator, Literal, Mapping, NamedTuple, Sequence, overload

import open_clip
import torch
import torch.nn.functional as F

from .architecture import tokenizer
from .constants import OFFICIAL_ARCH, OFFICIAL_LOGIT_SCALE, PRECISIONS
from .errors import QualiCLIPError
from .formula import interleave_pairs
from .formulas import OFFICIAL_FORMULA, Formula
from .imaging import ImageInput, PreparedImage, normalize, prepare
from .lazy import lazy_exports
from .prompts import PROMPT_PAIRS, PromptPair
from .quality_module import QualityModule

#: What an unusable input does: "raise" its :class:`QualiCLIPError`, or "keep" it in place of its result.
ErrorPolicy = Literal["raise", "keep"]
ERROR_POLICIES: tuple[ErrorPolicy, ...] = ("raise", "keep")


@dataclass(frozen=True)
class ImageScore:
    """One image's result: the score in [0, 1] and what it is made of."""

    score: float
    #: Probability of the positive prompt in each pair (the score is their mean).
    pair_probabilities: tuple[float, ...]
    #: Cosine similarity of the image embedding with every prompt, [pos0, neg0, pos1, neg1, ...].
    similarities: tuple[float, ...]


class BatchScores(NamedTuple):
    """A batch's results as tensors on the CPU (row ``i`` is image ``i``)."""

    #: (B,) scores in [0, 1], higher is better.
    scores: torch.Tensor
    #: (B, P) probability of the positive prompt in each pair (a score is the mean of its row).
    pair_probabilities: torch.Tensor
    #: (B, 2P) cosine similarity with every prompt, [pos0, neg0, pos1, neg1, ...].
    similarities: torch.Tensor


def default_device() -> torch.device:
    """CUDA when present, else CPU."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


class QualityScorer:
    """A CLIP model plus prompt features that scores image quality QualiCLIP's way.

    Runs on CUDA with fp16 autocast (as the official code; float32 for a :class:`Formula` without
    it, e.g. pyiqa's) or on CPU in float32, or, opted into with ``precision="bf16"``, in bf16 autocast on
    either; the image tower is kept in channels-last memory format,
    which is markedly faster on CPU with identical results. The network and the formula live in a
    :class:`QualityModule` (:meth:`as_module`); this class adds decoding, batching and no-grad
    inference around it. ``arch`` names the architecture config, whose tokenizer :meth:`encode_pairs` uses.
    """

    def __init__(
        self,
        clip: open_clip.CLIP,
        prompt_features: torch.Tensor,
        *,
        name: str,
        weights_origin: str,
        logit_scale: float = OFFICIAL_LOGIT_SCALE,
        prompt_pairs: Sequence[PromptPair] = PROMPT_PAIRS,
        device: torch.device | str | None = None,
        max_side: int | None = None,
        formula: Formula = OFFICIAL_FORMULA,
        arch: str = OFFICIAL_ARCH,
        precision: str = "fp32",
    ) -> None:
        if precision not in PRECISIONS:
            raise ValueError(f"unknown precision {precision!r}; choose from {', '.join(PRECISIONS)}")
        device = torch.device(device) if device is not None else default_device()
        self.module = QualityModule(clip, prompt_features, logit_scale).to(device)
        self.clip.visual.to(memory_format=torch.channels_last)
        self.prompt_pairs = tuple(prompt_pairs)
        self.formula = formula
        self.arch = arch
        self.name = name
        self.weights_origin = weights_origin
        self.max_side = max_side
        self.precision = precision

    @property
    def clip(self) -> open_clip.CLIP:
        """The CLIP model (shared with :meth:`as_module`)."""
        return self.module.clip

    def use_clip(self, clip: open_clip.CLIP) -> None:
        """Run on ``clip`` from now on, in place of this model's own: the way several models hold one CLIP
        (e.g. QualiCLIP+'s four prompt files on one checkpoint). ``clip`` must hold weights equal to this
        model's (the caller checks, e.g. with ``state_dict`` equality): scores are then unchanged."""
        self.module.clip = clip.eval().requires_grad_(False)

    @property
    def prompt_features(self) -> torch.Tensor:
        """(2P, D) L2-normalised prompt features, pairs interleaved positive first."""
        return self.module.prompt_features

    @prompt_features.setter
    def prompt_features(self, features: torch.Tensor) -> None:
        self.module.prompt_features = features

    @property
    def logit_scale(self) -> float:
        """The multiplier of the cosine similarities in the formula (100 for the official one)."""
        return self.module.logit_scale

    @logit_scale.setter
    def logit_scale(self, value: float) -> None:
        self.module.logit_scale = float(value)

    @property
    def device(self) -> torch.device:
        """Where the model is (it follows the module if that is moved)."""
        return self.module.prompt_features.device

    @property
    def description(self) -> str:
        """One line for logs and reports: name, weights file, device (and the formula unless official)."""
        formula = "" if self.formula == OFFICIAL_FORMULA else f", {self.formula.name} formula"
        precision = "" if self.precision == "fp32" else f", {self.precision}"
        return f"{self.name} ({self.weights_origin}, {self.device.type}{formula}{precision})"

    def as_module(self, *, normalised_input: bool = False) -> QualityModule:
        """The score as a differentiable ``nn.Module``, (B, 3, H, W) images -> (B,) scores, sharing this
        model's weights: see :mod:`qualiclip.quality_module`.

        By default it takes images in [0, 1], as :meth:`score_batch` (the same image, the same score),
        and is this model's own module: moving it moves this model too. ``normalised_input=True`` gives
        a module taking CLIP-normalised images (the official hubconf's convention, what the torch.hub
        entries return), sharing the CLIP model but with its own copy of the prompt features.
        """
        if not normalised_input:
            return self.module
        return QualityModule(self.clip, self.prompt_features, self.logit_scale, normalised_input=True)

    def autocast(self) -> contextlib.AbstractContextManager:
        """fp16 autocast on CUDA, as the official code (unless the formula runs in float32); a no-op on CPU;
        bf16 autocast on any device when the precision is "bf16"."""
        if self.precision == "bf16":
            return torch.autocast(self.device.type, dtype=torch.bfloat16)
        if self.device.type == "cuda" and self.formula.fp16_autocast:
            return torch.autocast("cuda", dtype=torch.float16)
        return contextlib.nullcontext()

    @overload
    def prepare(self, image: ImageInput | PreparedImage, *, errors: Literal["raise"] = "raise") -> PreparedImage: ...
    @overload
    def prepare(self, image: ImageInput | PreparedImage, *, errors: ErrorPolicy) -> PreparedImage | QualiCLIPError: ...

    def prepare(self, image: ImageInput | PreparedImage, *, errors: ErrorPolicy = "raise") -> PreparedImage | QualiCLIPError:
        """:func:`qualiclip.imaging.prepare` with this model's ``max_side`` (prepared inputs pass through).

        An unusable input raises its :class:`QualiCLIPError`, or with ``errors="keep"`` returns it.
        """
        _check_policy(errors)
        try:
            return prepare(image, self.max_side)
        except QualiCLIPError as error:
            if errors == "raise":
                raise
            return error

    def to_model_input(self, batch: torch.Tensor) -> torch.Tensor:
        """(B, 3, H, W) unit-range -> normalised, on the model's device, channels-last."""
        return normalize(batch.to(self.device)).contiguous(memory_format=torch.channels_last)

    def encode(self, batch: torch.Tensor) -> torch.Tensor:
        """(B, 3, H, W) unit-range images -> (B, D) L2-normalised embeddings (no grad handling)."""
        with self.autocast():
            return self.module.embed(self.module.trunk(self.to_model_input(batch)))

    def trunk(self, batch: torch.Tensor) -> torch.Tensor:
        """(B, 3, H, W) unit-range images -> the image tower's features before its head, no autograd.

        For ResNet towers, the map the attention pool reads (the costly part of a forward pass,
        worth keeping when one image is scored and explained); see :func:`~qualiclip.architecture.tower_trunk`.
        """
        with torch.inference_mode(), self.autocast():
            return self.module.trunk(self.to_model_input(batch))

    def image_features(self, trunk: torch.Tensor) -> torch.Tensor:
        """:meth:`trunk`'s output -> (B, D) L2-normalised image embeddings, no autograd."""
        with torch.inference_mode(), self.autocast():
            return self.module.embed(trunk)

    def encode_pairs(self, prompt_pairs: Sequence[PromptPair]) -> torch.Tensor:
        """(2P, D) normalised features of any antonym pairs from this model's text tower, on its device.

        With :meth:`image_features` and the formula, this scores an image with other pairs without
        running the image tower again.
        """
        return encode_prompts(self.clip, tokenizer(self.arch), prompt_pairs).to(self.device)

    def score_trunk(self, trunk: torch.Tensor) -> BatchScores:
        """:meth:`score_batch` from :meth:`trunk`'s output (the image tower's costly part already run)."""
        features = self.image_features(trunk)
        with torch.inference_mode():
            scores, pairs = self.module.quality(features)
            similarities = features @ self.prompt_features.T
        return BatchScores(scores.cpu(), pairs.cpu(), similarities.cpu())

    def score_batch(self, batch: torch.Tensor) -> BatchScores:
        """(B, 3, H, W) unit-range images -> their :class:`BatchScores`."""
        return self.score_trunk(self.trunk(batch))

    def scored_trunk(self, batch: torch.Tensor) -> tuple[torch.Tensor, BatchScores]:
        """(:meth:`trunk`, :meth:`score_batch`) of one batch, the costly part run once: what an image that is
        scored and explained needs (a backend may give both from one pass)."""
        trunk = self.trunk(batch)
        return trunk, self.score_trunk(trunk)

    @overload
    def score(self, images: Sequence[ImageInput | PreparedImage], batch_size: int = 8, *,
              errors: Literal["raise"] = "raise") -> list[ImageScore]: ...
    @overload
    def score(self, images: Sequence[ImageInput | PreparedImage], batch_size: int = 8, *,
              errors: ErrorPolicy) -> list[ImageScore | QualiCLIPError]: ...

    def score(self, images: Sequence[ImageInput | PreparedImage], batch_size: int = 8, *,
              errors: ErrorPolicy = "raise") -> list[ImageScore] | list[ImageScore | QualiCLIPError]:
        """Score each input; same-sized inputs share a forward pass. Order is preserved.

        ``errors="raise"`` (default): the first unusable input (not an image, corrupt, too small...)
        raises its :class:`QualiCLIPError`. ``errors="keep"``: that error takes the input's place in
        the returned list and every usable input is scored as usual, so one bad file in a list
        costs only its own result.
        """
        _check_policy(errors)
        prepared = [self.prepare(image, errors=errors) for image in images]
        results: list = list(prepared)  # kept errors stay; every prepared image is replaced below
        sizes = {index: image.size for index, image in enumerate(prepared) if isinstance(image, PreparedImage)}
        for indices in _same_size_batches(sizes, batch_size):
            batch = self.score_batch(torch.stack([prepared[i].pixels for i in indices]))
            for row, index in enumerate(indices):
                results[index] = ImageScore(
                    score=float(batch.scores[row]),
                    pair_probabilities=tuple(batch.pair_probabilities[row].tolist()),
                    similarities=tuple(batch.similarities[row].tolist()),
                )
        return results


def encode_prompts(clip: open_clip.CLIP, tokenizer, prompt_pairs: Sequence[PromptPair]) -> torch.Tensor:
    """(2P, D) normalised text features of the pairs, interleaved positive/negative."""
    device = next(clip.parameters()).device
    with torch.inference_mode():
        tokens = tokenizer(interleave_pairs(prompt_pairs)).to(device)
        return F.normalize(clip.encode_text(tokens).float(), dim=-1).cpu()


def _check_policy(errors: str) -> None:
    """Refuse an ``errors`` value other than "raise" and "keep" (a typo must not change behaviour silently)."""
    if errors not in ERROR_POLICIES:
        raise ValueError(f"errors must be one of {', '.join(ERROR_POLICIES)}; got {errors!r}")


#: Old names kept for one release (see CHANGELOG.md): each resolves with a DeprecationWarning.
__getattr__, _ = lazy_exports(__name__, {}, deprecated={"QualityScore": "qualiclip.scoring:ImageScore"})


def _same_size_batches(sizes: Mapping[int, tuple[int, int]], batch_size: int) -> Iterator[list[int]]:
    """The indices of ``sizes`` (index -> image size) grouped by size, in chunks of at most ``batch_size``."""
    groups: dict[tuple[int, int], list[int]] = defaultdict(list)
    for index, size in sizes.items():
        groups[size].append(index)
    for indices in groups.values():
        for start in range(0, len(indices), batch_size):
            yield indices[start:start + batch_size]
