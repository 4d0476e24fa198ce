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
import sys
import typing
from typing import TextIO

from ..errors import EXIT_INTERRUPTED, QualiCLIPError
from .config import TrainConfig
from .distributed import process_group, rank_device, ranks_from_environment
from .trainer import resolve_device, train

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
                                 description=__doc__.splitlines()[0])
    parser.add_argument("data", nargs="?", help="folder of pristine images (searched recursively)")
    parser.add_argument("--config", help="JSON file of TrainConfig values")
    parser.add_argument("--resume", action="store_true", help="continue the run saved in --out exactly")
    for field in dataclasses.fields(TrainConfig):
        if field.name == "data":
            continue
        flag = _RENAMED.get(field.name) or "--" + field.name.replace("_", "-")
        parser.add_argument(flag, dest=field.name, default=argparse.SUPPRESS,
                            help=f"default: {field.default!r}", **_option_type(field))
    parser.set_defaults(handler=run_train)
    return parser


def config_from_args(args: argparse.Namespace) -> TrainConfig:
    """Defaults < ``--config``/saved run config < command-line options."""
    overrides = {f.name: getattr(args, f.name) for f in dataclasses.fields(TrainConfig) if hasattr(args, f.name)}
    if args.data:
        overrides["data"] = args.data
    if args.resume:
        saved = TrainConfig(output=overrides.get("output", TrainConfig.output)).output_dir / "config.json"
        base = TrainConfig.from_json(saved)
    else:
        base = TrainConfig.from_json(args.config) if args.config else TrainConfig()
    return dataclasses.replace(base, **overrides)


def run_train(args: argparse.Namespace, err: TextIO | None = None) -> int:
    """The ``train`` sub-command; returns the exit status (130 after Ctrl-C, with a checkpoint saved).

    Under ``torchrun`` every process runs this: each joins the process group and trains its share,
    and only rank 0 reports (errors are reported by every rank, prefixed with its rank).
    """
    err = err or sys.stderr
    ranks = ranks_from_environment()
    prefix = f"[rank {ranks.rank}] " if ranks.distributed else ""
    try:
        config = config_from_args(args)
        if not config.data:
            raise ValueError("give the folder of pristine images (DATA)")
        with process_group(ranks, rank_device(resolve_device(config.device), ranks)):
            result = train(config, resume=args.resume, ranks=ranks)
    except KeyboardInterrupt:
        if ranks.is_main:
            print("stopped; continue with --resume", file=err)
        return EXIT_INTERRUPTED
    except (QualiCLIPError, ValueError, FileNotFoundError) as error:
        print(f"{prefix}error: {error}", file=err)
        return 2
    if not ranks.is_main:
        return 0
    overall = result.summaries[-1] if result.summaries else None
    print(f"wrote {result.model_path} (logit scale {result.logit_scale:.3f})", file=err)
    if overall:
        print(f"held-out Spearman(level, score) {overall.spearman:.3f}, "
              f"pairwise accuracy {overall.pairwise_accuracy:.3f}", file=err)
    return 0
