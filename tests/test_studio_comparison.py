"""Models side by side in the app: the multi-model sweep and the Compare tab's heatmaps."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from scipy import stats

from explain import explain
from qualiclip import load_model
from qualiclip.degradations import DEGRADATIONS, apply_degradation
from qualiclip.tiny import make_random_checkpoint
from studio import robustness
from studio.callbacks import Callbacks
from studio.explanations import COMPARE_OPACITY, Maps
from studio.model_slots import CPU_MAX_SIDE, ModelSlot, Studio

LEVELS = [f"L{level}" for level in range(6)]


@pytest.fixture(scope="module")
def second_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_random_checkpoint(tmp_path_factory.mktemp("second") / "other.pth", seed=1)


@pytest.fixture(scope="module")
def photo_path(tmp_path_factory: pytest.TempPathFactory, photo: np.ndarray) -> str:
    path = tmp_path_factory.mktemp("photos") / "astronaut.png"
    Image.fromarray(photo[::2, ::2]).save(path)  # 64x64: fast on the tiny models
    return str(path)


def _two_model_studio(tiny_studio: Studio, second_checkpoint: Path, loads: list[str]) -> Studio:
    """The tiny primary model, a second one that loads on first use, and one that is unavailable."""
    def load_second():
        loads.append("other")
        return load_model(weights=second_checkpoint, max_side=CPU_MAX_SIDE)

    slots = (ModelSlot("custom", "Tiny", model=tiny_studio.primary), ModelSlot("other", "Other tiny", load=load_second),
             ModelSlot("qualiclip", "Official", reason="its weights are not on this server."))
    return Studio(tiny_studio.primary, "", slots)


def _recorder(messages: list[str]):
    """Stands in for ``gr.Progress``: keeps every status text shown."""
    return lambda *args, desc, **options: messages.append(desc)


def test_sweep_overlays_every_available_model(tiny_studio: Studio, second_checkpoint: Path, photo_path: str) -> None:
    loads, messages = [], []
    studio = _two_model_studio(tiny_studio, second_checkpoint, loads)
    lines, table, summary = Callbacks(studio).sweep_image(photo_path, "jpeg", True, progress=_recorder(messages))
    assert loads == ["other"] and messages[0] == "Loading Other tiny (first use; its weights may download)"
    assert sorted(zip(table["model"], table["type"])) == sorted(
        (model, kind) for model in ("tiny.pth", "other.pth") for kind in DEGRADATIONS)
    for _, row in table.iterrows():
        expected = stats.spearmanr(range(6), row[LEVELS].astype(float).tolist()).statistic
        assert row["spearman"] == pytest.approx(expected, abs=5e-5, nan_ok=True)
        assert row["monotone"] == robustness.falls_monotonically(row[LEVELS].tolist())
    assert table.groupby("model")["L0"].nunique().tolist() == [1, 1]  # each model scores the original once
    assert table["spearman"].notna().any() and table["spearman"].nunique() > 2
    other = load_model(weights=second_checkpoint)
    pristine = np.asarray(Image.open(photo_path), np.float32) / 255
    direct = [r.score for r in other.score([apply_degradation(pristine, "jpeg", level, robustness.SEED)
                                             for level in range(6)])]
    jpeg = table[(table["model"] == "other.pth") & (table["type"] == "jpeg")]
    assert jpeg[LEVELS].iloc[0].tolist() == pytest.approx(direct, abs=1e-4)
    assert len(lines) == 6 * len(table) and lines["series"].nunique() == len(table)
    assert "Not in this sweep: Official (its weights are not on this server.)" in summary
    Callbacks(studio).sweep_image(photo_path, "jpeg", False, progress=_recorder(messages))
    assert loads == ["other"]  # loaded once


def test_compare_shows_each_loaded_models_heatmaps(tiny_studio: Studio, second_checkpoint: Path,
                                                   photo_path: str) -> None:
    studio = _two_model_studio(tiny_studio, second_checkpoint, [])
    table, gallery = Callbacks(studio).compare_models(photo_path, progress=_recorder([]))
    assert table["status"].tolist() == ["loaded", "loaded", "unavailable"]
    assert [text.split(": towards ")[0] for _, text in gallery] == ["tiny.pth", "tiny.pth", "other.pth", "other.pth"]
    assert [text.split(": towards ")[1].split()[0] for _, text in gallery] == ["good", "bad"] * 2
    for index, slot in enumerate(studio.slots[:2]):
        result = explain(slot.model, photo_path, method="gradcam")
        expected = Maps(result.image, result.positive, result.negative).overlays(COMPARE_OPACITY)
        for shown, wanted in zip(gallery[2 * index:2 * index + 2], expected):
            assert shown[0].shape == (64, 64, 3)
            np.testing.assert_array_equal(shown[0], wanted)
    assert not np.array_equal(gallery[0][0], gallery[2][0])  # two models, two pictures
