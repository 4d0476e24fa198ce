"""The ``train`` sub-command (its options are in :mod:`.cli`)."""
from __future__ import annotations

import argparse
import dataclasses
import sys
from typing import TextIO

from ..errors import EXIT_INTERRUPTED, QualiCLIPError
from .config import TrainConfig
from .distributed import process_group, rank_device, ranks_from_environment
from .trainer import resolve_device, train


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
