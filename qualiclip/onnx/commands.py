"""The ``export-onnx`` sub-command (its options are in :mod:`qualiclip.onnx.cli`): load the model on the
CPU, export it with :func:`~qualiclip.onnx.export.export_onnx`, then score one image with ONNX Runtime
and with torch and print both, so every export is checked where it was written."""
from __future__ import annotations

import argparse
import sys
from typing import TextIO

import torch

from ..csv_files import check_writable
from ..errors import QualiCLIPError
from ..loading import weights_paths
from ..model_options import model_from_options
from .backend import open_session
from .export import INPUT, export_onnx, weights_licence, weights_sha256

#: The image the export is checked on: random pixels of a fixed seed, 4:3.
CHECK_SIZE = (320, 240)


def run_export_onnx(args: argparse.Namespace, err: TextIO | None = None) -> int:
    """The ``export-onnx`` sub-command; returns the exit status (messages on ``err``, default stderr)."""
    err = err or sys.stderr
    try:
        check_writable(args.output)
        print("loading the model...", file=err, flush=True)
        model = model_from_options(args)
        paths = weights_paths(args.model, args.weights, args.prompt_learner)
        licence = weights_licence(args.model, args.weights is None and args.prompt_learner is None)
        print(f"exporting {model.description} (opset {args.opset})...", file=err, flush=True)
        path = export_onnx(model, args.output, weights_hash=weights_sha256(paths), licence=licence, opset=args.opset)
    except QualiCLIPError as error:
        print(f"error: {error}", file=err)
        return 2
    width, height = CHECK_SIZE
    image = torch.rand(1, 3, height, width, generator=torch.Generator().manual_seed(0))
    [onnx_score] = open_session(path).run(["score"], {INPUT: image.numpy()})
    torch_score = float(model.score_batch(image).scores[0])
    print(f"wrote {path} ({path.stat().st_size / 2**20:.1f} MiB); check on a {width}x{height} image: "
          f"onnxruntime {float(onnx_score[0]):.6f}, torch {torch_score:.6f}", file=err)
    return 0
