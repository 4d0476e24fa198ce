"""Models side by side in the app: the multi-model sweep, the Compare tab's heatmaps, prompt pairs of one's own."""
from __future__ import annotations

import dataclasses
from pathlib import Path

import gradio as gr
import numpy as np
import pytest
from PIL import Image
from scipy import stats

from qualiclip.explain import explain
from qualiclip import MODELS, WeightsUnavailableError, load_model
from qualiclip.degradations import DEGRADATIONS, apply_degradation
from qualiclip.evaluation.metrics import falls_monotonically
from qualiclip.tiny import make_random_checkpoint
from qualiclip.studio import model_slots, robustness
from qualiclip.studio.analysis import AnalysisCache
from qualiclip.studio.callbacks import Callbacks
from qualiclip.studio.custom_prompts import parse_pairs, score_pairs
from qualiclip.studio.explanations import COMPARE_OPACITY, Maps
from qualiclip.studio.model_slots import CPU_MAX_SIDE, ModelSlot, Studio, load_studio

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


@pytest.mark.slow  # fresh Python processes importing torch, or several models
def test_sweep_overlays_every_available_model(tiny_studio: Studio, second_checkpoint: Path, photo_path: str) -> None:
    loads, messages = [], []
    studio = _two_model_studio(tiny_studio, second_checkpoint, loads)
    figure, table, summary, *_ = Callbacks(studio).sweep_image(photo_path, "jpeg", True, progress=_recorder(messages))
    assert loads == ["other"] and messages[0] == "Loading Other tiny (first use; its weights may download)"
    assert sorted(zip(table["model"], table["type"])) == sorted(
        (model, spec.label) for model in ("tiny.pth", "other.pth") for spec in DEGRADATIONS.values())
    for _, row in table.iterrows():
        expected = stats.spearmanr(range(6), row[LEVELS].astype(float).tolist()).statistic
        assert row["spearman"] == pytest.approx(expected, abs=5e-5, nan_ok=True)
        assert row["monotone"] == falls_monotonically(row[LEVELS].tolist())
    assert table.groupby("model")["L0"].nunique().tolist() == [1, 1]  # each model scores the original once
    assert table["spearman"].notna().any() and table["spearman"].nunique() > 2
    other = load_model(weights=second_checkpoint)
    pristine = np.asarray(Image.open(photo_path), np.float32) / 255
    direct = [r.score for r in other.score([apply_degradation(pristine, "jpeg", level, robustness.SEED)
                                             for level in range(6)])]
    jpeg = table[(table["model"] == "other.pth") & (table["type"] == "JPEG")]
    assert jpeg[LEVELS].iloc[0].tolist() == pytest.approx(direct, abs=1e-4)
    assert sum(len(axis.lines) for axis in figure.axes) == len(table)  # one line per type and model
    assert "Not in this sweep: Official: its weights are not on this server." in summary
    Callbacks(studio).sweep_image(photo_path, "jpeg", False, progress=_recorder(messages))
    assert loads == ["other"]  # loaded once


def test_compare_shows_each_loaded_models_heatmaps(tiny_studio: Studio, second_checkpoint: Path,
                                                   photo_path: str) -> None:
    studio = _two_model_studio(tiny_studio, second_checkpoint, [])
    table, gallery, *_ = Callbacks(studio).compare_models(photo_path, progress=_recorder([]))
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


PAIRS_TEXT = "Sharp photo. / Blurry photo.\n\n  Bright photo. /Dark photo.  \nA crisp photo. / A smeared photo."
PAIRS = (("Sharp photo.", "Blurry photo."), ("Bright photo.", "Dark photo."), ("A crisp photo.", "A smeared photo."))


def test_custom_pairs_equal_loading_the_model_with_them(tiny_studio: Studio, tiny_checkpoint: Path, photo_path: str,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    assert parse_pairs(PAIRS_TEXT) == PAIRS
    expected = load_model(weights=tiny_checkpoint, prompt_pairs=PAIRS, max_side=CPU_MAX_SIDE).score([photo_path])[0]
    analysis = AnalysisCache(tiny_studio.primary).get(photo_path)
    score, probabilities = score_pairs(tiny_studio.primary, analysis, PAIRS)
    assert score == pytest.approx(expected.score, abs=1e-5)
    assert probabilities == pytest.approx(expected.pair_probabilities, abs=1e-5)
    assert score != pytest.approx(analysis.score, abs=1e-4)  # not the model's own pairs

    handlers = Callbacks(tiny_studio)
    handlers.score_image(photo_path)
    trunks: list[int] = []
    original = tiny_studio.primary.trunk
    monkeypatch.setattr(tiny_studio.primary, "trunk", lambda batch: trunks.append(len(batch)) or original(batch))
    gauge, chart, result = handlers.score_custom_pairs(photo_path, PAIRS_TEXT)
    assert trunks == []  # scored from the upload's analysis: no image forward
    assert result["score"] == pytest.approx(expected.score, abs=5e-5) and f'data-score="{score:.4f}"' in gauge
    assert chart["pair"].tolist() == ["Sharp photo / Blurry photo", "Bright photo / Dark photo",
                                      "A crisp photo / A smeared photo"]
    assert chart["probability"].tolist() == pytest.approx(expected.pair_probabilities, abs=5e-5)


@pytest.mark.parametrize("text, message", [
    ("", "Write one pair per line"),
    ("Sharp photo. / Blurry photo.\nJust one prompt.", "Line 2 is not one pair"),
    ("a / b / c", "Line 1 is not one pair"),
    ("\n".join(["a / b"] * 17), "at most 16"),
])
def test_custom_pairs_that_cannot_be_read_are_refused(tiny_studio: Studio, photo_path: str, text: str,
                                                      message: str) -> None:
    with pytest.raises(gr.Error, match=message):
        Callbacks(tiny_studio).score_custom_pairs(photo_path, text)


def test_the_offline_model_says_why_it_cannot_score_custom_pairs(photo_path: str,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    def offline(key: str = "qualiclip", weights=None, **kwargs):
        if MODELS[key].remote is not None:
            raise WeightsUnavailableError(f"{key}: no network in this test")
        return load_model(key, weights, **kwargs)

    monkeypatch.setattr(model_slots, "load_model", offline)
    studio = load_studio()
    assert studio.primary.name == model_slots.OFFLINE
    with pytest.raises(gr.Error) as refused:
        Callbacks(studio).score_custom_pairs(photo_path, "Sharp photo. / Blurry photo.")
    assert refused.value.message.startswith(MODELS[model_slots.OFFLINE].title + " cannot score prompt pairs")
    assert "random orthonormal directions" in refused.value.message and "never trained" in refused.value.message
    trained = dataclasses.replace(MODELS[model_slots.OFFLINE], no_custom_prompts=None)
    monkeypatch.setitem(MODELS, model_slots.OFFLINE, trained)  # the flag is data: without it, it scores
    assert 0.0 <= Callbacks(studio).score_custom_pairs(photo_path, "Sharp photo. / Blurry photo.")[2]["score"] <= 1.0
