"""The ONNX Runtime backend for the CPU: ``load_model(..., backend="onnxruntime")`` (``--backend onnxruntime``).

:class:`OnnxRuntimeScorer` is a :class:`~qualiclip.scoring.QualityScorer` whose image tower runs in ONNX
Runtime: :meth:`~OnnxRuntimeScorer.score_batch` (and so ``score``) runs the whole exported score graph of
:mod:`qualiclip.onnx.export`, and :meth:`~OnnxRuntimeScorer.trunk` its feature-map output, so the heatmaps
of :mod:`qualiclip.explain` and ``score_trunk`` start from an ONNX-computed trunk and only the cheap
attention pool (and its backward pass) stays in torch. Everything else (decoding, ``max_side``,
batching by size, errors) is the torch scorer's own. On 2 CPU cores ONNX Runtime ran the tower 1.3x
(AVX-512) to 1.7x (AVX2) faster than torch (docs/onnx.md, benchmarks/RESULTS.md).

The graph is exported once per weights (their SHA-256, the prompt features and the multiplier make the
key) into a cache folder beside torch's checkpoint cache (``$QUALICLIP_ONNX_CACHE`` overrides it), and
reused by every later load. :class:`SessionScorer` is the same scorer with its session attached later
(torch until then): the app switches its models to ONNX Runtime that way, once a background export is
ready (:mod:`qualiclip.onnx.background`).
"""
from __future__ import annotations

import hashlib
import os
import re
import time
from pathlib import Path
from typing import Sequence

import numpy as np
import open_clip
import torch

from ..constants import MIN_SIDE, ONNX_OPSET
from ..errors import ImageLoadError
from ..optional import import_optional
from ..scoring import BatchScores, QualityScorer
from ..weight_files import cache_dir
from .export import GRAPH_VERSION, INPUT, OUTPUTS, export_onnx, export_temporaries

#: The cache folder's name, inside torch's checkpoint cache (``$TORCH_HOME/hub/checkpoints``).
CACHE_FOLDER = "qualiclip-onnx"
#: The environment variable naming another cache folder.
CACHE_ENV = "QUALICLIP_ONNX_CACHE"
#: An export's temporary file older than this was left by a process that died mid-export (an export of
#: the official model takes under a minute on 2 cores).
STALE_EXPORT_S = 3600
_SCORE_OUTPUTS = list(OUTPUTS[:3])


def onnx_cache_dir() -> Path:
    """Where exports are cached: ``$QUALICLIP_ONNX_CACHE`` if set, else
    ``$TORCH_HOME/hub/checkpoints/qualiclip-onnx``."""
    return Path(os.environ[CACHE_ENV]) if os.environ.get(CACHE_ENV) else cache_dir() / CACHE_FOLDER


def export_key(scorer: QualityScorer, weights_hash: str) -> str:
    """What a cached export depends on, hashed: the weights, the prompt features, the multiplier, the graph."""
    key = f"{weights_hash}|{scorer.arch}|{scorer.logit_scale!r}|{GRAPH_VERSION}|{ONNX_OPSET}"
    digest = hashlib.sha256(key.encode())
    digest.update(scorer.prompt_features.detach().cpu().float().contiguous().numpy().tobytes())
    return digest.hexdigest()[:24]


def cached_export(scorer: QualityScorer, weights_hash: str, licence: str, folder: Path | None = None) -> Path:
    """The ONNX file of ``scorer`` in the cache, exported first if it is not there yet."""
    name = re.sub(r"[^A-Za-z0-9._+-]", "_", scorer.name)
    path = (folder or onnx_cache_dir()) / f"{name}-{export_key(scorer, weights_hash)}.onnx"
    if not path.is_file():
        remove_stale_temporaries(path)
        export_onnx(scorer, path, weights_hash=weights_hash, licence=licence)
    return path


def remove_stale_temporaries(path: Path, max_age_s: float = STALE_EXPORT_S) -> list[Path]:
    """Remove the temporaries of exports to ``path`` left by processes that died mid-export (older than
    ``max_age_s``: a younger one may be another process's export in progress); the ones removed."""
    now, removed = time.time(), []
    for temporary in export_temporaries(path):
        try:
            if now - temporary.stat().st_mtime > max_age_s:
                temporary.unlink()
                removed.append(temporary)
        except FileNotFoundError:  # removed meanwhile by another process
            continue
    return removed


def open_session(path: str | Path, threads: int | None = None) -> object:
    """An ONNX Runtime CPU session for ``path`` on ``threads`` intra-op threads (default: torch's count).

    Its threads sleep rather than spin between operators: on a CPU shared with other work (a server's
    other threads, other processes) spinning threads take the cores that work needs; the RN50 trunk was
    as fast or faster without spinning on 2 loaded cores (docs/onnx.md).
    """
    ort = import_optional("onnxruntime", "onnx")
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads or torch.get_num_threads()
    options.inter_op_num_threads = 1
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.log_severity_level = 3  # errors only
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def check_batch(batch: torch.Tensor) -> np.ndarray:
    """(B, 3, H, W) unit-range images -> the graph's float32 input, or an :class:`ImageLoadError` saying why not."""
    if not isinstance(batch, torch.Tensor) or batch.ndim != 4 or batch.shape[1] != 3:
        shape = tuple(batch.shape) if isinstance(batch, torch.Tensor) else type(batch).__name__
        raise ImageLoadError(f"expected a (B, 3, H, W) tensor of RGB images, got {shape}")
    if min(batch.shape[2:]) < MIN_SIDE:
        raise ImageLoadError(f"images are {batch.shape[3]}x{batch.shape[2]}; both sides must be at least {MIN_SIDE} px")
    return np.ascontiguousarray(batch.detach().to("cpu", torch.float32).numpy())


class SessionScorer(QualityScorer):
    """A :class:`QualityScorer` whose trunk and scores come from an ONNX Runtime session once one is
    attached (:meth:`attach`), and from torch until then; the switch is thread-safe (a call reads the
    session once, and a call under way when it is attached finishes on torch)."""

    #: The attached session and the file it runs (None: torch).
    session: object | None = None
    onnx_path: Path | None = None

    @classmethod
    def of(cls, scorer: QualityScorer) -> SessionScorer:
        """``scorer`` as a :class:`SessionScorer`, torch for now: a shallow copy sharing its module (weights,
        prompt features) and every setting, so nothing is loaded or copied."""
        switchable = cls.__new__(cls)
        switchable.__dict__.update(scorer.__dict__)
        return switchable

    def attach(self, path: Path) -> None:
        """Run on the exported file ``path`` from now on (its session is opened first)."""
        session = open_session(path)
        self.onnx_path, self.session = path, session

    @property
    def description(self) -> str:
        """The torch scorer's line, plus the backend once a session is attached."""
        return f"{super().description} on ONNX Runtime" if self.session is not None else super().description

    def run(self, batch: torch.Tensor, outputs: Sequence[str], session: object | None = None) -> list[torch.Tensor]:
        """The graph's ``outputs`` for (B, 3, H, W) unit-range images, as CPU tensors (``session``: by default
        the attached one)."""
        session = session or self.session
        return [torch.from_numpy(array) for array in session.run(list(outputs), {INPUT: check_batch(batch)})]

    def trunk(self, batch: torch.Tensor) -> torch.Tensor:
        """:meth:`QualityScorer.trunk` computed by ONNX Runtime (the heatmaps and ``score_trunk`` start from it)."""
        session = self.session
        if session is None:
            return super().trunk(batch)
        [trunk] = self.run(batch, ["trunk"], session)
        return trunk

    def score_batch(self, batch: torch.Tensor) -> BatchScores:
        """(B, 3, H, W) unit-range images -> their :class:`BatchScores`, the whole score in ONNX Runtime."""
        session = self.session
        if session is None:
            return super().score_batch(batch)
        return BatchScores(*self.run(batch, _SCORE_OUTPUTS, session))

    def scored_trunk(self, batch: torch.Tensor) -> tuple[torch.Tensor, BatchScores]:
        """:meth:`QualityScorer.scored_trunk` from one ONNX Runtime run (torch until a session is attached)."""
        session = self.session
        if session is None:
            return super().scored_trunk(batch)
        *scores, trunk = self.run(batch, OUTPUTS, session)
        return trunk, BatchScores(*scores)


class OnnxRuntimeScorer(SessionScorer):
    """A :class:`QualityScorer` on the CPU whose scores and trunk come from ONNX Runtime (see the module).

    ``weights_hash`` and ``licence`` describe the weights (they go into the export's metadata and its
    cache key); ``cache`` overrides the cache folder. The precision is fp32: bf16 is a torch autocast.
    The session is attached (exported first if need be) before the constructor returns.
    """

    def __init__(self, clip: open_clip.CLIP, prompt_features: torch.Tensor, *, weights_hash: str, licence: str,
                 cache: Path | None = None, device: torch.device | str | None = None, precision: str = "fp32",
                 **options: object) -> None:
        if device is not None and torch.device(device).type != "cpu":
            raise ValueError(f"the onnxruntime backend runs on the CPU; use backend='torch' for {device}")
        if precision != "fp32":
            raise ValueError(f"the onnxruntime backend runs in fp32; precision={precision!r} needs backend='torch'")
        super().__init__(clip, prompt_features, device="cpu", **options)
        self.attach(cached_export(self, weights_hash, licence, cache))
