"""``python -m qualiclip train DATA [--out DIR] [--config JSON] [--resume] [--<field> VALUE]...``

``torchrun --nproc_per_node N -m qualiclip train ...`` runs the same training on N processes (DDP,
see :mod:`qualiclip.training.distributed`); ``--batch-size`` stays the global batch.

Every :class:`TrainConfig` field is an option (``--batch-size``, ``--lr``, ``--init``...). Values
come from, in increasing priority: the defaults, ``--config`` (or, with ``--resume``, the run's
saved ``config.json``), then the options given on the command line.
"""
from __future__ import annotations

import argparse
import dataclasses
import typing

from .config import TrainConfig, field_docs

_RENAMED = {"output": "--out"}  # data is the positional argument


def _option_type(field: dataclasses.Field) -> dict[str, object]:
    """argparse keywords for a config field, from its annotation."""
    hints = typing.get_type_hints(TrainConfig)[field.name]
    if hints is bool:
        return {"action": argparse.BooleanOptionalAction}
    lists = [t for t in (typing.get_args(hints) or (hints,)) if typing.get_origin(t) is list]
    if lists:
        return {"nargs": "+", "type": typing.get_args(lists[0])[0]}
    base = next((t for t in (int, float, str) if t in (typing.get_args(hints) or (hints,))), str)
    return {"type": base}


def add_train_parser(commands: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register the ``train`` sub-command."""
    parser = commands.add_parser("train", help="train (or fine-tune) the image encoder with QualiCLIP's losses",
                                 description="Train (or fine-tune) the image encoder with QualiCLIP's losses on pristine images. "
                                             "Values come from the defaults, then --config (or, with --resume, the "
                                             "run's saved config.json), then the options given here.")
    parser.add_argument("data", nargs="?", help="folder of pristine images (searched recursively)")
    parser.add_argument("--config", help="JSON file of TrainConfig values")
    parser.add_argument("--resume", action="store_true", help="continue the run saved in --out exactly")
    docs = field_docs()
    for field in dataclasses.fields(TrainConfig):
        if field.name == "data":
            continue
        flag = _RENAMED.get(field.name) or "--" + field.name.replace("_", "-")
        parser.add_argument(flag, dest=field.name, default=argparse.SUPPRESS,
                            help=f"{docs[field.name]} (default: {field.default!r})", **_option_type(field))
    parser.set_defaults(handler="qualiclip.training.commands:run_train")
    return parser
