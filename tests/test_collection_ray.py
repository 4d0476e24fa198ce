"""``score-dataset --engine ray`` on a real local Ray cluster (2 CPUs), started here: equal rows,
resume after an interruption, and a scoring actor killed mid-run."""
from __future__ import annotations

import argparse
import os
import signal
import sys
from pathlib import Path
from typing import Iterator

import numpy as np
import pyarrow as pa
import pytest
import ray
from conftest import make_collection

from qualiclip import QualityScorer
from qualiclip.collection.local_engine import score_locally
from qualiclip.collection.ray_engine import Workers, import_ray, score_with_ray
from qualiclip.collection.rows import COLUMNS
from qualiclip.collection.run import CollectionRun
from qualiclip.collection.store import ResultStore
from qualiclip.errors import QualiCLIPError

BATCH = 4
pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("one_torch_thread")]  # a Ray cluster
#: Scoring actors are titled after their operators in the process list (decoding may be fused in).
ACTOR_TITLE, SCORER = b"ray::MapWorker(", b"MapBatches(Scorer)"


@pytest.fixture(scope="module")
def cluster() -> Iterator[None]:
    ray.init(num_cpus=2, include_dashboard=False, object_store_memory=300 * 2**20, log_to_driver=False)
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def collection(tmp_path_factory: pytest.TempPathFactory, photo: np.ndarray) -> Path:
    folder = tmp_path_factory.mktemp("collection")
    make_collection(folder, photo)
    return folder


@pytest.fixture(scope="module")
def options(tiny_checkpoint: Path) -> argparse.Namespace:
    return argparse.Namespace(model="qualiclip", weights=str(tiny_checkpoint), prompt_learner=None, formula=None,
                              max_side=96, device=None, backend="torch", precision="fp32",
                              batch_size=BATCH)


@pytest.fixture(scope="module")
def local_rows(collection: Path, tiny_model: QualityScorer, tmp_path_factory: pytest.TempPathFactory,
               options: argparse.Namespace) -> dict[str, dict]:
    """The local engine's rows: the reference (same model and options)."""
    tiny_model.max_side = options.max_side
    try:
        run = CollectionRun(str(collection), str(tmp_path_factory.mktemp("local") / "out.parquet"))
        run.write(score_locally(tiny_model, run.todo, BATCH))
    finally:
        tiny_model.max_side = None
    return by_path(run.store.read())


def by_path(table: pa.Table) -> dict[str, dict]:
    rows = table.to_pylist()
    assert len({row["path"] for row in rows}) == len(rows), "a path has two rows"
    return {row["path"]: row for row in rows}


def assert_equal_rows(actual: dict[str, dict], expected: dict[str, dict]) -> None:
    assert set(actual) == set(expected) and len(actual) == 60
    for path, row in expected.items():
        for column in COLUMNS:
            if isinstance(row[column], float):
                assert abs(actual[path][column] - row[column]) <= 1e-6, (path, column, actual[path][column], row)
            else:
                assert actual[path][column] == row[column], (path, column)


def scorer_pids() -> list[int]:
    """This cluster's scoring actors: processes with the scorer's title whose raylet this process started."""
    pids = []
    for entry in Path("/proc").iterdir():
        try:
            title = (entry / "cmdline").read_bytes().split(b"\0")[0] if entry.name.isdigit() else b""
            if not (title.startswith(ACTOR_TITLE) and SCORER in title):
                continue
            environment = dict(item.split(b"=", 1) for item in (entry / "environ").read_bytes().split(b"\0")
                               if b"=" in item)
            raylet = Path("/proc", environment.get(b"RAY_RAYLET_PID", b"0").decode(), "stat").read_text()
        except OSError:
            continue
        if int(raylet.rsplit(")", 1)[1].split()[1]) == os.getpid():
            pids.append(int(entry.name))
    return pids


def test_ray_rows_equal_the_local_engine(cluster, collection, options, local_rows, tmp_path: Path) -> None:
    """Equal within 1e-6 (another process, the same kernels): same batches, same thread count (Ray gives a
    1-CPU actor one thread, as this module).
    Half a CPU per scorer leaves room for separate decoding tasks (a whole CPU fuses them into the actor)."""
    run = CollectionRun(str(collection), str(tmp_path / "out.parquet"))
    run.write(score_with_ray(run.todo, options, Workers(count=1, cpus=0.5)))
    assert (run.scored, run.failed) == (54, 6)
    assert_equal_rows(by_path(run.store.read()), local_rows)


def test_an_interrupted_ray_run_resumes_with_every_path_once(cluster, collection, options, local_rows,
                                                             tmp_path: Path) -> None:
    out = str(tmp_path / "out.parquet")
    run = CollectionRun(str(collection), out)

    def interrupt(table: pa.Table) -> None:
        if run.scored + run.failed >= 2 * BATCH:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run.write(score_with_ray(run.todo, options, Workers(count=1)), on_rows=interrupt, commit_rows=1)
    kept = ResultStore(out).read().num_rows
    assert 2 * BATCH <= kept < 60
    resumed = CollectionRun(str(collection), out)
    assert resumed.done == kept and len(resumed.todo) == 60 - kept
    resumed.write(score_with_ray(resumed.todo, options, Workers(count=1)))
    assert resumed.scored + resumed.failed == 60 - kept
    assert_equal_rows(by_path(ResultStore(out).read()), local_rows)


def test_a_scorer_killed_mid_run_is_replaced_and_the_output_is_complete(cluster, collection, options, local_rows,
                                                                        tmp_path: Path) -> None:
    run = CollectionRun(str(collection), str(tmp_path / "out.parquet"))
    killed: list[int] = []
    later: list[list[int]] = []

    def kill_the_scorer_once(table: pa.Table) -> None:
        if killed:
            later.append(scorer_pids())
            return
        [pid] = scorer_pids()
        assert run.scored + run.failed < 60
        os.kill(pid, signal.SIGKILL)  # as a crash or the OOM killer would
        killed.append(pid)

    run.write(score_with_ray(run.todo, options, Workers(count=1)), on_rows=kill_the_scorer_once)
    assert killed and later, "the scorer was not killed while batches were left"
    assert any(pids and killed[0] not in pids for pids in later), "no new scorer took over"
    assert_equal_rows(by_path(run.store.read()), local_rows)


def test_without_ray_the_engine_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # what an environment without Ray gives: ImportError
    with pytest.raises(QualiCLIPError, match=r'pip install "ray\[data\]"'):
        import_ray()
