"""Shared fixtures: a tiny random QualiCLIP checkpoint built offline, once per session."""
from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Callable, Iterator

import numpy as np
import pytest
import torch
from skimage import data

from qualiclip import QualityModel, load_model
from qualiclip.tiny import make_random_checkpoint
from studio.model_slots import Studio, load_studio


@pytest.fixture(scope="module")
def one_torch_thread() -> Iterator[None]:
    """One torch thread for a module of many small ops: on 2 shared cores, threads mostly wait."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.fixture(scope="session")
def tiny_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_random_checkpoint(tmp_path_factory.mktemp("weights") / "tiny.pth", seed=0)


@pytest.fixture(scope="session")
def tiny_model(tiny_checkpoint: Path) -> QualityModel:
    return load_model(weights=tiny_checkpoint)


@pytest.fixture(scope="session")
def tiny_studio(tiny_checkpoint: Path) -> Studio:
    """The app's models as the app loads them when given one checkpoint: here the tiny random one."""
    return load_studio(tiny_checkpoint)


@pytest.fixture(scope="session")
def photo() -> np.ndarray:
    """A natural photograph (uint8 HxWx3) shipped with scikit-image, downscaled for speed."""
    return data.astronaut()[::4, ::4].copy()


@pytest.fixture()
def make_fifo() -> Iterator[Callable[[Path], Path]]:
    """Creates FIFOs (named pipes). Code under test must never open one; if it does, it blocks
    until a writer appears, so each FIFO gets a writer after a few seconds: the test then fails
    instead of hanging."""
    timers: list[threading.Timer] = []

    def release(path: Path) -> None:
        try:
            os.close(os.open(path, os.O_WRONLY | os.O_NONBLOCK))  # succeeds only if a reader is waiting
        except OSError:
            pass

    def make(path: Path) -> Path:
        os.mkfifo(path)
        timers.append(threading.Timer(5.0, release, (path,)))
        timers[-1].start()
        return path

    yield make
    for timer in timers:
        timer.cancel()
