"""QualiCLIP as one ONNX file that scores with ONNX Runtime alone, in any language: :func:`export_onnx`.

The graph is the whole score, the official formula included: input ``image``, float32 [N, 3, H, W],
RGB in [0, 1] (``ToTensor`` values, no resize), any H and W of at least 32 px; CLIP's normalisation,
the image tower, the attention pool without positional embedding (its mean token only, :func:`mean_token_pool`: the
same numbers for a fraction of the FLOPs), the L2-normalised embedding, the
cosines with the prompt features times the formula's multiplier, a softmax per antonym pair and the
mean are all inside. Outputs: ``score`` [N], ``pair_probabilities`` [N, P], ``similarities`` [N, 2P]
(cosines, pairs interleaved positive first) and ``trunk`` (the image tower's feature map before its
pooling head, what the heatmaps start from). The file's metadata (``qualiclip.*`` keys, see
:func:`onnx_metadata`) states the weights' SHA-256, the formula, the input convention and the
weights' licence.

Exported with torch's TorchScript-based exporter (``dynamo=False``: it handles the dynamic height and
width of this graph), which needs the ``onnx`` package; the metadata is written with it too.
"""
from __future__ import annotations

import hashlib
import json
import os
import uuid
import warnings
from pathlib import Path
from typing import Iterable, Mapping

import torch
import torch.nn.functional as F
from torch import nn

from .. import __version__
from ..architecture import NativeResolutionAttentionPool
from ..constants import MIN_SIDE, ONNX_OPSET
from ..imaging import normalize
from ..model_registry import model_spec
from ..optional import import_optional
from ..quality_module import QualityModule
from ..scoring import QualityScorer

#: The graph's input and output names, in order.
INPUT = "image"
OUTPUTS = ("score", "pair_probabilities", "similarities", "trunk")
#: The input convention, as the metadata states it.
INPUT_CONVENTION = (f"{INPUT}: float32 [N, 3, H, W], RGB, values in [0, 1] (8-bit values / 255, no resize or crop), "
                    f"H and W at least {MIN_SIDE}; CLIP's mean/std normalisation is inside the graph")
#: The outputs, as the metadata states them.
OUTPUT_CONVENTION = ("score: float32 [N] in [0, 1], higher is better; pair_probabilities: float32 [N, P], the "
                     "positive prompt's probability in each antonym pair (score = their mean); similarities: "
                     "float32 [N, 2P], cosine with each prompt, pairs interleaved positive first; trunk: the image "
                     "tower's feature map before its pooling head")
#: Prefix of this project's metadata keys.
METADATA_PREFIX = "qualiclip."
#: Changes whenever the graph changes, so cached exports of an older graph are not reused.
GRAPH_VERSION = 2
#: Suffix of an export's temporary file (written beside the output, then renamed into place).
TEMPORARY_SUFFIX = ".tmp"


def mean_token_pool(pool: NativeResolutionAttentionPool, trunk: torch.Tensor) -> torch.Tensor:
    """``pool(trunk)`` (the mean token's attention output), without projecting every token to keys and values.

    Only the mean token's output is the embedding, so per head h, with q_h its scaled query:
    q_h . k_i = x_i . (Wk_h^T q_h) + q_h . bk_h, whose last term, the same for every token, cancels in the
    softmax; and sum_i a_hi v_hi = (sum_i a_hi x_i) Wv_h^T + bv_h. The same numbers for about 1/100 of
    the pool's FLOPs (the key and value projections of every location are 7% of the RN50's at any size).
    """
    batch, channels = trunk.shape[:2]
    heads = pool.num_heads
    tokens = trunk.flatten(2).transpose(1, 2)  # (N, HW, C)
    tokens = torch.cat([tokens.mean(dim=1, keepdim=True), tokens], dim=1)  # (N, L, C)
    query = pool.q_proj(tokens[:, 0]) * (channels // heads) ** -0.5  # (N, C)
    keys = pool.k_proj.weight.view(heads, channels // heads, channels)  # (H, d, C)
    probe = (query.view(batch, heads, -1, 1) * keys).sum(dim=2)  # (N, H, C): Wk_h^T q_h
    weights = (tokens @ probe.transpose(1, 2)).softmax(dim=1)  # (N, L, H)
    mixed = weights.transpose(1, 2) @ tokens  # (N, H, C): sum_i a_hi x_i
    values = pool.v_proj.weight.view(heads, channels // heads, channels)  # (H, d, C)
    heads_out = (mixed.unsqueeze(2) * values).sum(dim=3).reshape(batch, channels) + pool.v_proj.bias
    return pool.c_proj(heads_out)


class ScoreGraph(nn.Module):
    """What is exported: unit-range images -> (score, pair_probabilities, similarities, trunk)."""

    def __init__(self, module: QualityModule) -> None:
        super().__init__()
        self.module = module

    def forward(self, image: torch.Tensor) -> tuple[torch.Tensor, ...]:
        trunk = self.module.trunk(normalize(image))
        pool = getattr(self.module.clip.visual, "attnpool", None)
        if isinstance(pool, NativeResolutionAttentionPool):
            features = F.normalize(mean_token_pool(pool, trunk), dim=-1)
        else:
            features = self.module.embed(trunk)
        scores, pairs = self.module.quality(features)
        return scores, pairs, features @ self.module.prompt_features.T, trunk


def file_sha256(path: str | Path) -> str:
    """The SHA-256 (hex) of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def weights_sha256(paths: Iterable[str | Path]) -> str:
    """The SHA-256 of each weights file (checkpoint, then prompt file), ``+``-joined: the metadata's hash."""
    return "+".join(file_sha256(path) for path in paths)


def weights_licence(model: str, own_weights: bool) -> str:
    """The terms of the weights a model was loaded from: the named model's own, unless a file was given."""
    licence = model_spec(model).licence
    if own_weights:
        return licence
    return f"not stated: weights from a file given by the user (the {model} model's own weights: {licence})"


def formula_description(scorer: QualityScorer) -> str:
    """The score in one line, with this model's multiplier and number of pairs."""
    pairs = scorer.prompt_features.shape[0] // 2
    return (f"{scorer.formula.name}: f = L2-normalised image embedding; logits = {scorer.logit_scale:.9g} * "
            f"cos(f, prompt features) for {2 * pairs} prompts ({pairs} antonym pairs, positive first); "
            "softmax within each pair; score = mean over the pairs of the positive prompt's probability")


def onnx_metadata(scorer: QualityScorer, weights_hash: str, licence: str, opset: int = ONNX_OPSET) -> dict[str, str]:
    """The ``qualiclip.*`` metadata of ``scorer``'s export (every value a string, as ONNX stores them)."""
    values = {
        "model": scorer.name,
        "arch": scorer.arch,
        "weights_sha256": weights_hash,
        "weights_licence": licence,
        "formula": formula_description(scorer),
        "logit_scale": repr(scorer.logit_scale),
        "prompt_pairs": json.dumps([list(pair) for pair in scorer.prompt_pairs]),
        "input": INPUT_CONVENTION,
        "outputs": OUTPUT_CONVENTION,
        "opset": str(opset),
        "graph_version": str(GRAPH_VERSION),
        "qualiclip_version": __version__,
    }
    return {METADATA_PREFIX + key: value for key, value in values.items()}


def export_onnx(scorer: QualityScorer, output: str | Path, *, weights_hash: str, licence: str,
                opset: int = ONNX_OPSET) -> Path:
    """Write ``scorer``'s whole score as an ONNX file at ``output`` (replaced atomically) and return its path.

    ``weights_hash`` (:func:`weights_sha256` of the files it was loaded from) and ``licence`` (the
    weights' terms) go into the metadata with the formula and the input convention. The scorer must be
    on the CPU in fp32 (the export is float32; ``precision="bf16"`` is a torch autocast, not a file).
    """
    onnx = import_optional("onnx", "onnx")
    if scorer.device.type != "cpu":
        raise ValueError(f"export a model loaded on the CPU (this one is on {scorer.device})")
    output = Path(output)
    dynamic = {INPUT: {0: "n", 2: "h", 3: "w"}, **{name: {0: "n"} for name in OUTPUTS}}
    dynamic["trunk"] = {0: "n", 2: "trunk_h", 3: "trunk_w"}
    example = torch.rand(2, 3, 2 * MIN_SIDE, 3 * MIN_SIDE)  # non-square, so height and width stay distinct
    output.parent.mkdir(parents=True, exist_ok=True)
    temporary = output.with_name(f".{output.name}.{uuid.uuid4().hex}{TEMPORARY_SUFFIX}")  # renamed when complete
    try:
        with warnings.catch_warnings(), torch.inference_mode(False), torch.no_grad():
            warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation and tracer notices
            torch.onnx.export(ScoreGraph(scorer.as_module()).eval(), (example,), str(temporary), input_names=[INPUT],
                              output_names=list(OUTPUTS), dynamic_axes=dynamic, opset_version=opset, dynamo=False)
        proto = onnx.load(str(temporary))
        _set_metadata(proto, onnx_metadata(scorer, weights_hash, licence, opset))
        proto.doc_string = f"QualiCLIP image quality score ({scorer.name}); see the qualiclip.* metadata"
        onnx.save(proto, str(temporary))
        os.replace(temporary, output)
    finally:
        temporary.unlink(missing_ok=True)
    return output


def export_temporaries(output: str | Path) -> list[Path]:
    """The temporary files of exports to ``output`` now on disk (one per export in progress, or left by a
    process that died mid-export)."""
    output = Path(output)
    return sorted(output.parent.glob(f".{output.name}.*{TEMPORARY_SUFFIX}"))


def _set_metadata(proto: object, metadata: Mapping[str, str]) -> None:
    """Add ``metadata`` to an ONNX ``ModelProto``'s ``metadata_props``."""
    for key, value in metadata.items():
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, value
