"""``qualiclip export-onnx --output FILE.onnx [--model M] [--weights W] ...``: the options (no torch, for
``--help``); :mod:`.commands` runs it and :mod:`.export` writes the file."""
from __future__ import annotations

import argparse

from ..constants import ONNX_OPSET
from ..model_options import add_weights_options, at_least

DESCRIPTION = ("Export a model's whole score (CLIP normalisation, image tower, attention pool, the official "
               "formula) as one ONNX file that ONNX Runtime runs alone, in any language: input 'image', float32 "
               "[N, 3, H, W] RGB in [0, 1], any H and W of at least 32 px; outputs 'score' [N], "
               "'pair_probabilities' [N, 7], 'similarities' [N, 14] and 'trunk' (the feature map the heatmaps "
               "start from). The weights' SHA-256, the formula, the input convention and the weights' licence "
               "are in the file's metadata. Exit status 2 if the model or the output cannot be used.")


def add_export_onnx_parser(commands: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register the ``export-onnx`` sub-command (run by :func:`qualiclip.onnx.commands.run_export_onnx`)."""
    parser = commands.add_parser("export-onnx", help="export a model's score as an ONNX file", description=DESCRIPTION)
    parser.add_argument("--output", required=True, metavar="FILE.onnx", help="the ONNX file to write (replaced)")
    parser.add_argument("--opset", type=at_least(ONNX_OPSET), default=ONNX_OPSET,
                        help=f"ONNX opset, at least {ONNX_OPSET} (default and tested: {ONNX_OPSET}, which ONNX Runtime "
                             "1.12 and later run)")
    add_weights_options(parser)
    parser.set_defaults(handler="qualiclip.onnx.commands:run_export_onnx", device="cpu", max_side=None,
                        backend="torch", precision="fp32", batch_size=1)
    return parser
