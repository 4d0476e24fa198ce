"""The app on a CPU switches its models to ONNX Runtime after a background export (issue 29): it serves on
torch until the export is ready, then scores and starts its heatmaps from ONNX Runtime with the torch
path's numbers; a failed export leaves it on torch; CUDA, ZeroGPU and ``QUALICLIP_STUDIO_ONNX=0`` never
switch."""
from __future__ import annotations

import importlib.util
import logging
import os
import threading
import time
from pathlib import Path
from typing import Callable, Iterator

import numpy as np
import pytest
import torch

import qualiclip.onnx.background
from qualiclip import QualityScorer, load_model
from qualiclip.onnx.backend import CACHE_ENV, SessionScorer
from qualiclip.onnx.export import export_temporaries
from qualiclip.studio import EXAMPLES_DIR, model_slots
from qualiclip.studio.analysis import Analysis, analyse
from qualiclip.studio.callbacks import Callbacks
from qualiclip.studio.explanations import ALL_PAIRS, compute_maps
from qualiclip.studio.model_slots import CPU_MAX_SIDE, ONNX_ENV, load_studio

#: Scores of the two backends agree within this (issue 29); maps within MAPS_TOLERANCE.
TOLERANCE, MAPS_TOLERANCE = 1e-5, 1e-4
#: Scores of one torch model computed twice agree within this (same kernels, same input).
SAME_KERNELS = 1e-7
#: Longest wait for a background export of the tiny model (about 2 s on 2 idle cores).
EXPORT_WAIT_S = 120
PHOTOS = sorted(EXAMPLES_DIR.glob("*.jpg"))[:2]

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture()
def onnx_on(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """The switch turned on (the suite keeps it off), exporting into this test's own cache folder."""
    monkeypatch.setenv(ONNX_ENV, "1")
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "onnx"))
    return tmp_path / "onnx"


@pytest.fixture()
def held_export(monkeypatch: pytest.MonkeyPatch) -> Iterator[threading.Event]:
    """Background exports wait until the yielded event is set (then export for real)."""
    release, real = threading.Event(), qualiclip.onnx.background.cached_export

    def held(*args, **kwargs) -> Path:
        assert release.wait(EXPORT_WAIT_S), "the test never released the export"
        return real(*args, **kwargs)

    monkeypatch.setattr(qualiclip.onnx.background, "cached_export", held)
    yield release
    release.set()


@pytest.fixture(scope="module")
def torch_reference(tiny_checkpoint: Path) -> QualityScorer:
    """The tiny model on torch, as the app loads it on a CPU."""
    return load_model(weights=tiny_checkpoint, device="cpu", max_side=CPU_MAX_SIDE)


def wait_for(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + EXPORT_WAIT_S
    while not condition():
        assert time.monotonic() < deadline, f"{what} did not happen within {EXPORT_WAIT_S} s"
        time.sleep(0.05)


def assert_same_analysis(mine: Analysis, reference: Analysis, tolerance: float) -> None:
    for ours, theirs in zip(mine.scores, reference.scores):
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), atol=tolerance, rtol=0)


def test_app_serves_on_torch_then_switches_to_onnx_runtime(onnx_on: Path, held_export: threading.Event,
                                                           tiny_checkpoint: Path,
                                                           torch_reference: QualityScorer) -> None:
    studio = load_studio(tiny_checkpoint)
    model = studio.primary
    assert isinstance(model, SessionScorer) and model.session is None
    handlers = Callbacks(studio)
    handlers.score_image(str(PHOTOS[0]))  # while the export is held: torch, the reference's kernels
    first = handlers.analyses.get(str(PHOTOS[0]))
    assert first.score == pytest.approx(torch_reference.score([PHOTOS[0]])[0].score, abs=SAME_KERNELS)
    assert model.session is None and not onnx_on.exists()

    held_export.set()
    wait_for(lambda: model.session is not None, "the switch to ONNX Runtime")
    [exported] = onnx_on.glob("*.onnx")  # the file went to the cache folder the environment names
    assert model.onnx_path == exported and model.description.endswith("on ONNX Runtime")
    runs = []
    real_run = model.session.run
    model.session.run = lambda outputs, feeds: runs.append(tuple(outputs)) or real_run(outputs, feeds)

    for photo in PHOTOS:  # an upload, as the app computes it: one trunk, the score and the Grad-CAM maps
        mine, reference = analyse(model, photo), analyse(torch_reference, photo)
        assert runs[-1] == ("score", "pair_probabilities", "similarities", "trunk")  # one run: trunk and score
        assert_same_analysis(mine, reference, TOLERANCE)
        ours, theirs = compute_maps(model, mine, "gradcam", ALL_PAIRS), compute_maps(torch_reference, reference,
                                                                                      "gradcam", ALL_PAIRS)
        assert theirs.negative.values.max() > 0.5  # a real map (this tiny model finds no evidence towards "good")
        for side in ("positive", "negative"):
            np.testing.assert_allclose(getattr(ours, side).values, getattr(theirs, side).values,
                                       atol=MAPS_TOLERANCE, rtol=0)
    [score] = model.score([PHOTOS[1]])  # the whole score graph in ONNX Runtime
    assert runs[-1] == ("score", "pair_probabilities", "similarities")
    [expected] = torch_reference.score([PHOTOS[1]])
    assert score.score == pytest.approx(expected.score, abs=TOLERANCE)
    np.testing.assert_allclose(score.pair_probabilities, expected.pair_probabilities, atol=TOLERANCE, rtol=0)


def test_a_second_start_reuses_the_cached_export(onnx_on: Path, tiny_checkpoint: Path) -> None:
    first = load_studio(tiny_checkpoint).primary
    wait_for(lambda: first.session is not None, "the first switch")
    [exported] = onnx_on.glob("*.onnx")
    written = exported.stat().st_mtime_ns
    again = load_studio(tiny_checkpoint).primary
    wait_for(lambda: again.session is not None, "the second switch")
    assert again.onnx_path == exported and exported.stat().st_mtime_ns == written
    assert list(onnx_on.glob("*.onnx")) == [exported]


def test_an_export_clears_temporaries_left_by_a_dead_process_but_not_one_in_progress(tmp_path: Path,
                                                                                    tiny_model: QualityScorer) -> None:
    from qualiclip.onnx.backend import STALE_EXPORT_S, cached_export, export_key

    target = tmp_path / f"{tiny_model.name}-{export_key(tiny_model, 'abc')}.onnx"
    left, in_progress = tmp_path / f".{target.name}.dead.tmp", tmp_path / f".{target.name}.alive.tmp"
    for temporary in (left, in_progress):
        temporary.write_bytes(b"half an export")
    old = time.time() - STALE_EXPORT_S - 60
    os.utime(left, (old, old))
    assert export_temporaries(target) == [in_progress, left]  # "alive" sorts before "dead"
    assert cached_export(tiny_model, "abc", "test weights", tmp_path) == target and target.is_file()
    assert not left.exists() and in_progress.exists()


def test_a_failed_export_leaves_the_app_on_torch(onnx_on: Path, monkeypatch: pytest.MonkeyPatch,
                                                 caplog: pytest.LogCaptureFixture, tiny_checkpoint: Path,
                                                 torch_reference: QualityScorer) -> None:
    def broken(*args, **kwargs) -> Path:
        raise RuntimeError("exporter crashed")

    monkeypatch.setattr(qualiclip.onnx.background, "cached_export", broken)
    with caplog.at_level(logging.WARNING, logger="qualiclip.onnx"):
        studio = load_studio(tiny_checkpoint)
        wait_for(lambda: any("exporter crashed" in record.getMessage() for record in caplog.records),
                 "the failed export's log line")
    model = studio.primary
    assert model.session is None and "stays on torch" in caplog.text
    handlers = Callbacks(studio)
    assert handlers.score_image(str(PHOTOS[0]))[2]["score"] > 0
    score = handlers.analyses.get(str(PHOTOS[0])).score
    assert score == pytest.approx(torch_reference.score([PHOTOS[0]])[0].score, abs=SAME_KERNELS)
    maps = handlers.explain_image(str(PHOTOS[0]), "gradcam", ALL_PAIRS, 0.5)[4]
    assert maps.negative.values.max() > 0.5


@pytest.mark.parametrize("where", ["cuda", "zerogpu", "turned off", "onnxruntime not installed"])
def test_gpu_zerogpu_and_opt_out_stay_on_torch(where: str, onnx_on: Path, monkeypatch: pytest.MonkeyPatch,
                                               tiny_checkpoint: Path) -> None:
    if where == "cuda":  # the app's device choice says CUDA (the model itself still loads on this CPU)
        monkeypatch.setattr(model_slots, "default_device", lambda: torch.device("cuda"))
    elif where == "zerogpu":
        monkeypatch.setattr(model_slots, "on_zero_gpu", lambda: True)
    elif where == "turned off":
        monkeypatch.setenv(ONNX_ENV, "0")
    else:
        real_find_spec = importlib.util.find_spec
        monkeypatch.setattr(importlib.util, "find_spec",
                            lambda name, *args: None if name == "onnxruntime" else real_find_spec(name, *args))
    threads_before = set(threading.enumerate())
    model = load_studio(tiny_checkpoint, max_side=CPU_MAX_SIDE, lazy=True).primary
    assert type(model) is QualityScorer
    assert not [thread for thread in set(threading.enumerate()) - threads_before
                if thread.name.startswith("onnx-export")]
    time.sleep(0.5)
    assert not onnx_on.exists()


@pytest.mark.slow  # the bundled model's export (several seconds)
def test_registry_models_switch_when_they_load(onnx_on: Path) -> None:
    studio = load_studio()  # offline: the bundled model is the primary, the others load on first use
    model = studio.primary
    assert isinstance(model, SessionScorer)
    wait_for(lambda: model.session is not None, "the bundled model's switch")
    reference = load_model(model.name, device="cpu", max_side=CPU_MAX_SIDE)
    for photo in PHOTOS:
        assert_same_analysis(analyse(model, photo), analyse(reference, photo), TOLERANCE)
