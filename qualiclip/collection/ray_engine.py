"""The Ray Data engine: a collection scored across a Ray cluster (or a local one), streaming.

The pipeline: the entries -> ``map_batches`` tasks that read and decode them on CPUs (exactly as
:func:`qualiclip.collection.sources.prepare_entry`, so as ``score``) -> an actor pool of
``workers`` scorers, each holding one model (on a GPU when ``gpus_per_worker`` > 0), scoring
batches of ``batch_size`` images with same-sized images sharing a forward pass -> rows streamed back
to the caller. Ray Data's backpressure keeps a bounded number of decoded batches in flight, so
memory does not grow with the collection. When a scorer needs exactly what a decoding task needs
(CPU only, one CPU each), Ray Data fuses the two stages into the actors, which saves shipping
decoded pixels between processes on a CPU-only cluster; with GPUs (or another CPU amount) decoding
runs as separate CPU tasks. Blocks hold whole batches, so the scorers get the same consecutive
batches as the local engine, and with the same torch thread count the same scores, bit for bit.

A scorer that dies (a crash, a lost node) is restarted and its batches retried: Ray Data creates its
actor pools with ``max_restarts=-1`` and ``max_task_retries=-1`` (Ray 2.60 deprecates passing them as
remote arguments), and ``tests/test_collection_ray.py`` kills a scorer mid-run to check it. Ray is
imported only here: the rest of the project runs without it.
"""
from __future__ import annotations

import argparse
import contextlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator, Sequence

import numpy as np

from ..errors import QualiCLIPError
from ..imaging import PreparedImage
from .rows import rows_table
from .sources import is_uri, prepare_entry

if TYPE_CHECKING:
    import pyarrow as pa

#: Entries per input block: each decode task reads this many batches' worth.
BATCHES_PER_BLOCK = 4


def import_ray() -> Any:
    """The ``ray`` module with Ray Data, or a QualiCLIPError saying how to install it."""
    try:
        import ray
        import ray.data  # noqa: F401  (Ray Data is the part this engine needs)
    except ImportError as err:
        raise QualiCLIPError('the ray engine needs Ray Data: pip install "ray[data]" '
                             '(or use --engine local)') from err
    return ray


@contextlib.contextmanager
def connected(address: str | None) -> Iterator[None]:
    """Connect to the cluster at ``address`` (None: $RAY_ADDRESS, else a new local one) for the block.

    An existing connection (e.g. a test's or a notebook's ``ray.init``) is used and left open.
    """
    ray = import_ray()
    if ray.is_initialized():
        yield
        return
    ray.init(address=address)
    try:
        yield
    finally:
        ray.shutdown()


@dataclass(frozen=True)
class Workers:
    """The scoring actor pool: how many actors and what each one reserves."""

    count: int = 1
    gpus: float = 0.0
    cpus: float = 1.0


def decode_batch(batch: dict[str, np.ndarray], max_side: int | None) -> pa.Table:
    """Read and prepare each entry of a batch (from ``location``; rows keep ``path`` as listed): its
    pixels as float32 bytes plus their shape, or the error."""
    import pyarrow as pa

    columns: dict[str, list] = {name: [] for name in ("path", "pixels", "scored_height", "scored_width",
                                                      "width", "height", "frames", "error")}
    for entry, location in zip(batch["path"].tolist(), batch["location"].tolist()):
        image = prepare_entry(location, max_side)
        good = isinstance(image, PreparedImage)
        columns["path"].append(entry)
        columns["pixels"].append(image.pixels.numpy().tobytes() if good else None)
        columns["scored_height"].append(image.pixels.shape[1] if good else None)
        columns["scored_width"].append(image.pixels.shape[2] if good else None)
        columns["width"].append(image.original_size[0] if good else None)
        columns["height"].append(image.original_size[1] if good else None)
        columns["frames"].append(image.frames if good else None)
        columns["error"].append(None if good else str(image))
    types = {"path": pa.string(), "pixels": pa.large_binary(), "error": pa.string()}
    return pa.table({name: pa.array(values, type=types.get(name, pa.int32())) for name, values in columns.items()})


def location(entry: str) -> str:
    """Where a worker reads ``entry``: a URI as it is, a local path made absolute (workers may run
    in another folder; on a multi-node cluster, local paths must exist on every node)."""
    return entry if is_uri(entry) else str(Path(entry).absolute())


def _prepared(row: dict[str, Any]) -> PreparedImage | QualiCLIPError:
    """A decoded row back as the image :func:`decode_batch` prepared (bit for bit), or its error."""
    import torch

    if row["error"] is not None:
        return QualiCLIPError(row["error"])
    pixels = np.frombuffer(row["pixels"], dtype=np.float32).reshape(3, row["scored_height"], row["scored_width"])
    return PreparedImage(torch.from_numpy(pixels.copy()), (row["width"], row["height"]), row["frames"])


class Scorer:
    """One scoring actor: loads the model once, then scores decoded batches into rows."""

    def __init__(self, options: argparse.Namespace) -> None:
        from ..model_options import model_from_options

        self.model = model_from_options(options)
        self.batch_size = options.batch_size

    def __call__(self, batch: pa.Table) -> pa.Table:
        from ..image_files import score_prepared

        rows = batch.to_pylist()
        prepared = [_prepared(row) for row in rows]
        return rows_table(score_prepared(self.model, [row["path"] for row in rows], prepared, self.batch_size))


def score_with_ray(entries: Sequence[str], options: argparse.Namespace, workers: Workers) -> Iterator[pa.Table]:
    """Rows for ``entries`` as the cluster scores them (in completion order), with Ray's progress bars.

    ``options`` are the model options (:func:`qualiclip.model_options.add_model_options`); the
    caller must be connected (:func:`connected`).
    """
    ray = import_ray()
    import pyarrow as pa

    if not entries:
        return
    batch_size = options.batch_size
    block = batch_size * BATCHES_PER_BLOCK  # whole batches per block: batches are the local engine's
    blocks = [pa.table({"path": list(entries[start:start + block]),
                        "location": [location(entry) for entry in entries[start:start + block]]})
              for start in range(0, len(entries), block)]
    dataset = (
        ray.data.from_arrow(blocks)
        .map_batches(decode_batch, fn_kwargs={"max_side": options.max_side}, batch_size=batch_size,
                     batch_format="numpy")
        .map_batches(Scorer, fn_constructor_args=(options,), batch_size=batch_size, batch_format="pyarrow",
                     compute=ray.data.ActorPoolStrategy(size=workers.count), num_gpus=workers.gpus,
                     num_cpus=workers.cpus)
    )
    yield from dataset.iter_batches(batch_size=None, batch_format="pyarrow")
