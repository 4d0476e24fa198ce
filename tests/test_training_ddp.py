"""Training on several processes: real ``torchrun`` runs (2 processes, gloo on CPU) against one process,
Ctrl-C on one rank, exact resume, and the pieces (shards, global BatchNorm) on their own."""
from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch import nn

from qualiclip import load_model
from qualiclip.checkpoint import read_checkpoint
from qualiclip.training import TrainConfig, Trainer
from qualiclip.training.data import StepBatches
from qualiclip.training.distributed import (
    GlobalBatchNorm,
    Ranks,
    data_parallel,
    rank_slots,
    ranks_from_environment,
    with_global_batchnorm,
)

ROOT = Path(__file__).resolve().parents[1]
TORCHRUN = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
            "-m", "qualiclip", "train"]
LOSSES = ("total", "consistency", "positive", "negative")
pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("one_torch_thread")]  # torchrun, spawned ranks


def settings(photo_dirs: tuple[Path, Path], output: Path, **changes: object) -> dict[str, object]:
    values: dict[str, object] = dict(data=str(photo_dirs[0]), holdout=str(photo_dirs[1]), output=str(output),
                                     steps=4, batch_size=4, crop_size=64, warmup_steps=2, workers=0,
                                     checkpoint_every=2, eval_every=0, groups=["blur", "noise"],
                                     eval_types=["gaussian_blur", "white_noise"], eval_max_side=96)
    values.update(changes)
    return values


def flags(values: dict[str, object]) -> list[str]:
    """The command line of ``values`` (as ``python -m qualiclip train`` reads them)."""
    argv = [str(values["data"])]
    for name, value in values.items():
        if name == "data":
            continue
        flag = "--out" if name == "output" else "--" + name.replace("_", "-")
        argv += [flag, *map(str, value)] if isinstance(value, list) else [flag, str(value)]
    return argv


def torchrun(values: dict[str, object], *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([*TORCHRUN, *flags(values), *extra], cwd=ROOT, capture_output=True, text=True,
                          timeout=400)


def losses(run: Path) -> list[list[float]]:
    return [[float(row[name]) for name in LOSSES] for row in csv.DictReader((run / "log.csv").open())]


def assert_same_weights(expected: Path, actual: Path, tolerance: float) -> None:
    one, two = read_checkpoint(expected).clip_state, read_checkpoint(actual).clip_state
    worst = max((one[key].float() - two[key].float()).abs().max().item() for key in one)
    assert worst <= tolerance, worst


# -- the pieces -----------------------------------------------------------------------------------
def test_ranks_come_from_torchrun_and_split_every_batch_into_equal_shards(tmp_path: Path,
                                                                          photo_dirs: tuple[Path, Path]) -> None:
    assert ranks_from_environment({}) == Ranks()
    assert ranks_from_environment({"RANK": "3", "WORLD_SIZE": "4", "LOCAL_RANK": "1"}) == Ranks(3, 4, 1)
    assert [rank_slots(8, Ranks(rank, 4)) for rank in range(4)] == [range(0, 2), range(2, 4), range(4, 6),
                                                                    range(6, 8)]
    with pytest.raises(ValueError, match="multiple of the number of processes"):
        rank_slots(6, Ranks(0, 4))
    paths = sorted(photo_dirs[0].iterdir())
    common = dict(seed=3, batch_size=4, crop_size=64, num_levels=2, max_distortions=1, min_overlap=0.5)
    whole = StepBatches(paths, **common)
    shards = [StepBatches(paths, slots=rank_slots(4, Ranks(rank, 2)), **common) for rank in range(2)]
    assert torch.equal(torch.cat([shard[7] for shard in shards]), whole[7])
    # each rank decodes only the photos its own slots drew
    drawn = [{paths[int(np.random.default_rng([3, 7, slot]).integers(len(paths)))] for slot in shard.slots}
             for shard in shards]
    assert [set(shard._cache) for shard in shards] == drawn and set(whole._cache) == drawn[0] | drawn[1]


def _global_batchnorm_rank(rank: int, store: str, batch: torch.Tensor, results: str) -> None:
    """One of two processes: the network's share of the batch through DDP with global BatchNorm."""
    dist.init_process_group("gloo", init_method=f"file://{store}", rank=rank, world_size=2)
    try:
        network = with_global_batchnorm(_network())
        parallel = data_parallel(network, torch.device("cpu"))
        outputs = parallel(batch[rank * 3:(rank + 1) * 3])
        outputs.square().mean().backward()
        torch.save({"outputs": outputs.detach(), "state": network.state_dict(),
                    "grads": {name: p.grad for name, p in network.named_parameters()}}, f"{results}.{rank}")
    finally:
        dist.destroy_process_group()


def _network() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.Conv2d(4, 2, 3),
                         nn.BatchNorm2d(2, momentum=None)).double()


def test_global_batchnorm_on_two_processes_is_batchnorm_on_the_whole_batch(tmp_path: Path) -> None:
    """In float64, so that any difference is a mistake and not rounding."""
    batch = torch.randn(6, 3, 9, 9, dtype=torch.float64, generator=torch.Generator().manual_seed(1)) * 3 + 1
    mp.spawn(_global_batchnorm_rank, args=(str(tmp_path / "store"), batch, str(tmp_path / "result")), nprocs=2)
    network = _network()
    outputs = network(batch)
    outputs.square().mean().backward()
    ranks = [torch.load(f"{tmp_path / 'result'}.{rank}", weights_only=True) for rank in range(2)]
    assert isinstance(with_global_batchnorm(_network())[1], GlobalBatchNorm)
    assert torch.allclose(torch.cat([r["outputs"] for r in ranks]), outputs.detach(), atol=1e-12)
    for rank in ranks:
        for name, parameter in network.named_parameters():
            assert torch.allclose(rank["grads"][name], parameter.grad, atol=1e-12), name
        for name, value in network.state_dict().items():  # running statistics, counts included
            assert torch.allclose(rank["state"][name].double(), value.double(), atol=1e-12), name


# -- real runs ------------------------------------------------------------------------------------
def test_two_processes_equal_one_process_with_the_same_global_batch(photo_dirs, tmp_path: Path) -> None:
    """Fine-tuning the bundled tiny model (BatchNorm frozen, as for pretrained weights) with SGD.

    AdamW would turn rounding noise into whole steps on parameters whose gradient is zero in exact
    arithmetic (the attention pool's key bias), in any two runs that round differently.
    """
    values = settings(photo_dirs, tmp_path / "one", init="qualiclip-offline", optimizer="sgd", lr=0.002)
    Trainer(TrainConfig(**values)).run()
    two = torchrun({**values, "output": str(tmp_path / "two")})
    assert two.returncode == 0, two.stderr[-3000:]
    assert two.stderr.count("wrote ") == 1  # only rank 0 reports and writes
    one_losses, two_losses = losses(tmp_path / "one"), losses(tmp_path / "two")
    assert len(one_losses) == len(two_losses) == 4
    assert np.abs(np.subtract(one_losses, two_losses)).max() <= 1e-5
    assert_same_weights(tmp_path / "one" / "model.pth", tmp_path / "two" / "model.pth", 1e-5)
    image = torch.rand(3, 80, 96, generator=torch.Generator().manual_seed(0))
    [expected], [actual] = (load_model(weights=tmp_path / run / "model.pth").score([image]) for run in ("one", "two"))
    assert abs(expected.score - actual.score) <= 1e-5


def _rank_pid(launcher: int, rank: int) -> int | None:
    """The pid of ``torchrun`` worker ``rank`` (a child of the launcher whose RANK is ``rank``)."""
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == launcher \
                    and f"\0RANK={rank}\0".encode() in b"\0" + (entry / "environ").read_bytes():
                return int(entry.name)
        except OSError:
            continue
    return None


def test_ctrl_c_on_one_rank_stops_both_with_a_checkpoint_and_resume_continues_exactly(photo_dirs,
                                                                                     tmp_path: Path,
                                                                                     popen_with_ctrl_c) -> None:
    """From scratch (BatchNorm trained over the global batch) with the default AdamW, 8 steps: Ctrl-C after
    2, a periodic checkpoint at 5 on the way after the resume."""
    values = settings(photo_dirs, tmp_path / "straight", steps=8, lr=2e-3, checkpoint_every=5)
    straight = torchrun(values)
    assert straight.returncode == 0, straight.stderr[-3000:]
    values["output"] = str(tmp_path / "stopped")
    process = popen_with_ctrl_c([*TORCHRUN, *flags(values)], cwd=ROOT, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
    try:
        log, deadline, signalled = tmp_path / "stopped" / "log.csv", time.monotonic() + 300, False
        while time.monotonic() < deadline and process.poll() is None and not signalled:
            if log.is_file() and len(log.read_text().splitlines()) >= 3:  # header + 2 steps
                pid = _rank_pid(process.pid, 1)
                assert pid, "rank 1 not found"
                os.kill(pid, signal.SIGINT)  # Ctrl-C on rank 1 only: rank 0 learns it at the next step
                signalled = True
            time.sleep(0.02)
        _, err = process.communicate(timeout=300)
    finally:
        process.kill()
    assert signalled, "the run ended before it could be interrupted"
    assert process.returncode != 0 and err.count("stopped; continue with --resume") == 1, err[-3000:]
    stopped_at = torch.load(tmp_path / "stopped" / "train_state.pt", weights_only=True)["step"]
    assert 2 <= stopped_at < 8 and len(losses(tmp_path / "stopped")) == stopped_at
    resumed = torchrun(values, "--resume")
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert losses(tmp_path / "stopped") == losses(tmp_path / "straight")
    assert_same_weights(tmp_path / "straight" / "model.pth", tmp_path / "stopped" / "model.pth", 1e-6)
