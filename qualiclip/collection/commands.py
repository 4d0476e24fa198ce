"""The ``score-dataset`` sub-command (its options are in :mod:`.cli`): reporting around :mod:`.run`
and the engines."""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterable, Sequence, TextIO

from tqdm import tqdm

from ..errors import Interrupted, QualiCLIPError
from ..model_options import model_from_options, model_options_of
from .cli import RAY_OPTIONS

if TYPE_CHECKING:
    import pyarrow as pa

#: An engine bound to its model: entries -> tables of rows.
Engine = Callable[[Sequence[str]], Iterable["pa.Table"]]


def run_score_dataset(args: argparse.Namespace, err: TextIO | None = None) -> int:
    """The ``score-dataset`` sub-command; returns the exit status (as ``score``: 0, 1 if a file failed, 2, 130)."""
    err = err or sys.stderr
    misplaced = [flag for name, flag in RAY_OPTIONS if getattr(args, name) is not None]
    if args.engine == "local" and misplaced:
        print(f"error: {', '.join(misplaced)} only apply to --engine ray", file=err)
        return 2
    try:
        _check_pyarrow()
        from .run import CollectionRun

        run = CollectionRun(args.source, args.out)
        for line in run.listing.notices():
            print(line, file=err)
        if not run.listing.entries and not run.listing.not_regular:
            print("no image files found", file=err)
            return 1
        engine = (_local(args, err) if args.engine == "local" else _ray(args, err)) if run.todo else None
    except QualiCLIPError as error:
        print(f"error: {error}", file=err)
        return 2
    print(f"{run.done} already in {args.out}; {run.total} to score", file=err)
    if not run.total:
        return 0
    started = time.perf_counter()
    tables = engine(run.todo) if engine else iter(())
    try:
        if args.engine == "local":
            with tqdm(total=run.total, unit="img", file=err) as progress:
                run.write(tables, on_rows=lambda table: progress.update(table.num_rows))
        else:
            from .ray_engine import connected

            with connected(args.address):
                run.write(tables)
    except KeyboardInterrupt as stop:
        raise Interrupted(f"{run.scored + run.failed} of {run.total} files scored; {args.out} keeps them") from stop
    seconds = time.perf_counter() - started
    print(f"scored {run.scored} of {run.total} files; {run.failed} failed; "
          f"{len(run.todo) / seconds:.2f} images/s over {seconds:.1f} s", file=err)
    return 1 if run.failed else 0


def _check_pyarrow() -> None:
    try:
        import pyarrow  # noqa: F401
    except ImportError as err:
        raise QualiCLIPError("score-dataset writes Parquet and needs pyarrow: pip install pyarrow") from err


def _local(args: argparse.Namespace, err: TextIO) -> Engine:
    """The local engine, bound to a model loaded here (a bad model or checkpoint fails now)."""
    from .local_engine import score_locally

    model = model_from_options(args)
    print(f"model: {model.description}", file=err)
    return lambda entries: score_locally(model, entries, args.batch_size)


def _ray(args: argparse.Namespace, err: TextIO) -> Engine:
    """The ray engine, bound to the model options: the model is loaded once here on the CPU, so a bad
    model or checkpoint fails now and not in every actor; a local weights file is passed absolute."""
    from .ray_engine import Workers, import_ray, score_with_ray

    import_ray()
    weights = str(Path(args.weights).absolute()) if args.weights and Path(args.weights).exists() else args.weights
    options = model_options_of(args, weights=weights)
    print(f"model: {model_from_options(model_options_of(options, device='cpu')).description}", file=err)
    workers = Workers(args.workers or 1, args.gpus_per_worker or 0.0,
                      1.0 if args.cpus_per_worker is None else args.cpus_per_worker)
    return lambda entries: score_with_ray(entries, options, workers)
