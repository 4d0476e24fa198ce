"""The app's callbacks (the functions app.py wires) called directly on the tiny random model."""
from __future__ import annotations

from pathlib import Path

import gradio as gr
import numpy as np
import pandas as pd
import pytest
from PIL import Image

from qualiclip.explain import NO_EVIDENCE, Heatmap, explain
from qualiclip import MODELS, WeightsUnavailableError, load_model
from qualiclip.degradations import DEGRADATIONS, GROUP_LABELS, GROUPS, apply_degradation
from qualiclip.evaluation.metrics import falls_monotonically
from qualiclip.imaging import MAX_PIXELS
from qualiclip.model_registry import BUNDLED_DIR, ModelSpec
from qualiclip.studio import EXAMPLES_DIR, model_slots, robustness
from qualiclip.studio.analysis import AnalysisCache
from qualiclip.studio.main_image import EXAMPLES
from qualiclip.studio.callbacks import Callbacks
from qualiclip.studio.page_text import learn_markdown
from qualiclip.studio.explanations import ALL_PAIRS, caption
from qualiclip.studio.layout import build_demo
from qualiclip.studio.model_slots import CPU_MAX_SIDE, WEIGHTS_ENV, ModelSlot, Studio, load_studio
from qualiclip.studio.formatting import NO_SCORE_HTML, gauge_html, quality_label


LEVELS = [f"L{level}" for level in range(6)]


@pytest.fixture(scope="module")
def handlers(tiny_studio: Studio) -> Callbacks:
    """Every callback runs on the tiny checkpoint, loaded the way the app loads one checkpoint."""
    return Callbacks(tiny_studio)


@pytest.fixture(scope="module")
def photo_path(tmp_path_factory: pytest.TempPathFactory, photo: np.ndarray) -> str:
    path = tmp_path_factory.mktemp("photos") / "astronaut.png"
    Image.fromarray(photo[::2, ::2]).save(path)  # 64x64: fast on the tiny model
    return str(path)


def test_score_image_matches_the_library(handlers: Callbacks, tiny_studio: Studio, photo_path: str) -> None:
    gauge, pairs, result = handlers.score_image(photo_path)
    [expected] = tiny_studio.primary.score([photo_path])
    assert result["score"] == pytest.approx(expected.score, abs=1e-6)  # full precision (API and MCP callers)
    assert list(result["pair_probabilities"].values()) == pytest.approx(expected.pair_probabilities, abs=1e-4)
    assert result["label"] == quality_label(expected.score)
    assert f'data-score="{expected.score:.4f}"' in gauge and result["label"] in gauge
    assert list(pairs.columns) == ["pair", "probability"] and len(pairs) == 7
    assert pairs["pair"][1] == "Sharp image / Blurry image"
    assert result["notice"] == "Scored at full resolution, 64x64 px."


def test_large_image_is_downscaled_with_a_notice(handlers: Callbacks, tmp_path: Path) -> None:
    path = tmp_path / "wide.png"
    Image.new("RGB", (2 * CPU_MAX_SIDE, 80), (120, 80, 40)).save(path)
    gauge, _, result = handlers.score_image(str(path))
    assert result["scored_size"] == [CPU_MAX_SIDE, 40] and result["original_size"] == [2 * CPU_MAX_SIDE, 80]
    assert f"Downscaled from {2 * CPU_MAX_SIDE}x80 to {CPU_MAX_SIDE}x40" in gauge


def test_thin_strip_keeps_the_minimum_side_when_downscaled(handlers: Callbacks, tmp_path: Path) -> None:
    path = tmp_path / "strip.png"
    Image.new("RGB", (2 * CPU_MAX_SIDE, 40)).save(path)  # the plain cap would make it 20 px high
    _, _, result = handlers.score_image(str(path))
    assert result["scored_size"] == [round(2 * CPU_MAX_SIDE * 32 / 40), 32]
    assert 0.0 <= result["score"] <= 1.0


def _corrupt_jpeg(path: Path) -> None:
    Image.new("RGB", (64, 64), (200, 10, 10)).save(path, format="JPEG")
    path.write_bytes(path.read_bytes()[:120])


def _bomb(path: Path) -> None:
    side = int(MAX_PIXELS ** 0.5) + 100
    Image.new("1", (side, side)).save(path, format="PNG")  # a tiny file that decodes to > MAX_PIXELS pixels


@pytest.mark.parametrize("make, message", [
    (None, "Upload an image first"),
    (lambda p: p.write_text("not an image"), "not an image file"),
    (_corrupt_jpeg, "corrupt or truncated"),
    (lambda p: Image.new("RGB", (16, 200)).save(p, format="PNG"), "at least 32 px"),
    (_bomb, "too large"),
], ids=["missing", "not-an-image", "corrupt", "tiny", "decompression-bomb"])
def test_bad_input_is_a_gradio_error(handlers: Callbacks, tmp_path: Path, make, message: str) -> None:
    path = None
    if make is not None:
        path = tmp_path / "input.img"
        make(path)
    for callback in (handlers.compare_models, lambda image: handlers.sweep_image(image, "jpeg", False),
                     lambda image: handlers.learn_similarities(image, "jpeg", 0)):
        with pytest.raises(gr.Error, match=message):
            callback(None if path is None else str(path))
    if path is not None:
        for callback in (handlers.score_image, lambda image: handlers.explain_image(image, "gradcam", -1, 0.5),
                         lambda image: handlers.robustness_preview(image, "jpeg", 2)):
            with pytest.raises(gr.Error, match=message):
                callback(str(path))


def test_removing_the_image_clears_the_live_outputs(handlers: Callbacks) -> None:
    assert handlers.score_image(None) == (NO_SCORE_HTML, None, None)
    assert handlers.explain_image(None, "gradcam", ALL_PAIRS, 0.5) == (None, None, "", "", None)
    assert handlers.robustness_preview(None, "jpeg", 3) == (None, "", "", None)


def test_quality_label_bands() -> None:
    assert [quality_label(s) for s in (0.0, 0.19, 0.2, 0.5, 0.79, 0.8, 1.0)] == [
        "Very poor", "Very poor", "Poor", "Fair", "Good", "Excellent", "Excellent"]
    assert "Poor" in gauge_html(0.25) and "width:25.0%" in gauge_html(0.25)
    assert "Excellent" in gauge_html(1.0) and "width:100.0%" in gauge_html(1.0)


@pytest.mark.parametrize("method", ["gradcam", "gradcam++", "attention"])
def test_explain_image_gives_two_overlays_and_reblends(handlers: Callbacks, photo_path: str, method: str) -> None:
    good, bad, good_text, bad_text, maps = handlers.explain_image(photo_path, method, ALL_PAIRS, 0.5)
    assert good.shape == bad.shape == (64, 64, 3) and good.dtype == np.uint8
    assert good_text.startswith("**Towards good**") and bad_text.startswith("**Towards bad**")
    clear_good, clear_bad = handlers.reblend(maps, 0.0)
    np.testing.assert_array_equal(clear_good, maps.picture)
    np.testing.assert_array_equal(clear_bad, maps.picture)
    shown = [heat for heat in (maps.positive, maps.negative) if not heat.empty]
    assert shown, "at least one of the two maps has evidence on a natural photo"
    for heat, strong in zip((maps.positive, maps.negative), handlers.reblend(maps, 1.0)):
        assert np.array_equal(strong, maps.picture) == heat.empty


def test_heatmaps_endpoint_gives_the_shown_maps(handlers: Callbacks, photo_path: str) -> None:
    """/heatmaps (API and MCP) returns what the page shows, without the session's maps."""
    good, bad, good_text, bad_text = handlers.heatmaps(photo_path, "gradcam", 2, 0.7)
    shown_good, shown_bad, shown_good_text, shown_bad_text, _ = handlers.explain_image(photo_path, "gradcam", 2, 0.7)
    np.testing.assert_array_equal(good, shown_good)
    np.testing.assert_array_equal(bad, shown_bad)
    assert (good_text, bad_text) == (shown_good_text, shown_bad_text) and "P(\"Sharp" in good_text
    assert handlers.heatmaps(None, "gradcam", ALL_PAIRS, 0.5) == (None, None, "", "")


def test_explain_image_one_pair_and_bad_choices(handlers: Callbacks, photo_path: str) -> None:
    *_, maps = handlers.explain_image(photo_path, "gradcam", 3, 0.5)
    assert "P(\"High-resolution image.\")" in maps.positive.label
    with pytest.raises(gr.Error, match="unknown method"):
        handlers.explain_image(photo_path, "magic", ALL_PAIRS, 0.5)
    with pytest.raises(gr.Error, match="pair must be"):
        handlers.explain_image(photo_path, "gradcam", 7, 0.5)
    assert handlers.reblend(None, 0.5) == (None, None)
    np.testing.assert_array_equal(handlers.reblend(maps, 7.0)[0], handlers.reblend(maps, 1.0)[0])


def test_empty_map_says_no_evidence_plainly() -> None:
    empty = Heatmap(np.zeros((4, 4), np.float32), np.zeros((4, 4, 3), np.uint8), True, NO_EVIDENCE,
                    "lowers the score", 0.0)
    assert NO_EVIDENCE in caption(empty, "bad")
    assert NO_EVIDENCE not in caption(Heatmap(np.ones((4, 4), np.float32), np.zeros((4, 4, 3), np.uint8),
                                              False, "", "raises the score", 1.0), "good")


def test_degradation_choices_cover_the_registry_with_groups() -> None:
    choices = robustness.degradation_choices()
    assert sorted(name for _, name in choices) == sorted(DEGRADATIONS)
    for label, name in choices:
        assert label.startswith(GROUP_LABELS[DEGRADATIONS[name].group] + " › ")


def test_robustness_preview(tiny_studio: Studio, photo_path: str, count_forwards: list[int]) -> None:
    handlers = Callbacks(tiny_studio)  # a fresh cache: the first call analyses the image
    pixels = np.asarray(Image.open(photo_path).convert("RGB"))
    (before, image), original, degraded, result = handlers.robustness_preview(photo_path, "gaussian_blur", 0)
    np.testing.assert_array_equal(before, pixels)  # the slider: the original, then the degraded image
    np.testing.assert_array_equal(image, pixels)
    assert original.split("data-score=")[1][:8] == degraded.split("data-score=")[1][:8]
    assert result["original"] == result["degraded"] and result["drop"] == 0 and result["level"] == 0
    (before5, image5), original5, degraded5, result5 = handlers.robustness_preview(photo_path, "gaussian_blur", 5)
    np.testing.assert_array_equal(before5, pixels)
    assert np.abs(image5.astype(int) - image.astype(int)).mean() > 5
    assert original5 == original and "Gaussian blur, level 5" in degraded5
    assert count_forwards == [1, 1]  # the original once (level 0 is the original), then the degraded image
    [plain] = tiny_studio.primary.score([photo_path])
    [direct] = tiny_studio.primary.score([apply_degradation(np.asarray(Image.open(photo_path), np.float32) / 255,
                                                            "gaussian_blur", 5, robustness.SEED)])
    assert degraded5.split("data-score=")[1][1:7] == f"{direct.score:.4f}"
    assert result5["degraded"]["score"] == pytest.approx(direct.score, abs=1e-6)
    assert result5["original"]["score"] == pytest.approx(plain.score, abs=1e-6)
    assert result5["drop"] == pytest.approx(plain.score - direct.score, abs=1e-6)
    assert (result5["type"], result5["level"], result5["degraded"]["label"]) == (
        "gaussian_blur", 5, quality_label(direct.score))
    assert result5["level_text"].startswith("level 5 (sigma")
    with pytest.raises(gr.Error, match="Unknown distortion"):
        handlers.robustness_preview(photo_path, "nope", 1)


def _analysed(handlers: Callbacks, photo_path: str, count_forwards: list[int]) -> None:
    """The upload's own analysis (one trunk pass) done and left out of the count: a sweep counts only its
    own forwards, whichever tests ran before it on this (module-wide) handler and in this process."""
    handlers.score_image(photo_path)
    count_forwards.clear()


def test_sweep_one_type_is_one_batched_forward(handlers: Callbacks, tiny_studio: Studio, photo_path: str,
                                               count_forwards: list[int]) -> None:
    _analysed(handlers, photo_path, count_forwards)
    figure, table, summary, csv_path, png_path = handlers.sweep_image(photo_path, "jpeg", False)
    assert count_forwards == [6]
    assert list(table.columns) == ["type", "model", "spearman", "monotone", "L0", "L1", "L2", "L3", "L4", "L5"]
    assert table["type"].tolist() == ["JPEG"]
    [axis] = [axis for axis in figure.axes if axis.get_visible()]
    assert axis.get_ylim() == (0, 1) and len(axis.lines) == 1
    assert axis.lines[0].get_ydata().tolist() == table.loc[0, LEVELS].tolist()
    assert pd.read_csv(csv_path)["type"].tolist() == ["JPEG"] and Path(png_path).read_bytes()[:4] == b"\x89PNG"
    pristine = np.asarray(Image.open(photo_path), np.float32) / 255
    degraded = [apply_degradation(pristine, "jpeg", level, robustness.SEED) for level in range(6)]
    direct = [result.score for result in tiny_studio.primary.score(degraded)]  # the library, one by one
    assert table.loc[0, ["L0", "L1", "L2", "L3", "L4", "L5"]].tolist() == pytest.approx(direct, abs=1e-4)
    assert ("Not monotone" in summary) != bool(table.loc[0, "monotone"])


@pytest.mark.slow  # a sweep of every distortion type
def test_sweep_every_type_flags_non_monotone_types(handlers: Callbacks, photo_path: str,
                                                   count_forwards: list[int]) -> None:
    _analysed(handlers, photo_path, count_forwards)
    figure, table, summary, *_ = handlers.sweep_image(photo_path, "jpeg", True)
    assert table["type"].tolist() == [spec.label for spec in DEGRADATIONS.values()]
    assert count_forwards == [6] + [5] * (len(DEGRADATIONS) - 1)  # level 0 scored once
    assert table["L0"].nunique() == 1
    panels = [axis for axis in figure.axes if axis.get_visible()]  # small multiples: one panel per group
    assert [axis.get_title() for axis in panels] == list(GROUP_LABELS.values())
    for axis, (group, names) in zip(panels, GROUPS.items()):
        assert axis.get_ylim() == (0, 1) and len(axis.lines) == len(names)
        assert len({line.get_color() for line in axis.lines}) == len(names)  # distinct colours within a panel
    for _, row in table.iterrows():
        expected = falls_monotonically([row[f"L{level}"] for level in range(6)])
        assert row["monotone"] == expected
        assert (row["type"] in summary) == (not expected)


def test_batch_keeps_going_past_bad_files(handlers: Callbacks, tmp_path: Path, photo_path: str) -> None:
    bad = tmp_path / "notes.txt"
    bad.write_text("hello")
    corrupt = tmp_path / "broken.jpg"
    _corrupt_jpeg(corrupt)
    table, csv_path = handlers.batch_score([photo_path, str(bad), str(corrupt), photo_path])
    assert table["file"].tolist() == ["astronaut.png", "notes.txt", "broken.jpg", "astronaut.png"]
    assert table["error"].astype(bool).tolist() == [False, True, True, False]
    assert table["error"][1] == "notes.txt is not an image file Pillow can read"
    assert table["score"].isna().tolist() == [False, True, True, False]
    assert table["thumbnail"][0].startswith("![astronaut.png](data:image/jpeg;base64,")
    assert table["score"][0] == table["score"][3]
    csv = pd.read_csv(csv_path)
    assert "thumbnail" not in csv.columns and len(csv) == 4
    assert csv["score"][0] == pytest.approx(table["score"][0])


def test_batch_rejects_no_files_and_too_many(handlers: Callbacks) -> None:
    with pytest.raises(gr.Error, match="Add one or more"):
        handlers.batch_score([])
    with pytest.raises(gr.Error, match="at most"):
        handlers.batch_score(["x.png"] * 10_000)


def test_compare_tab_loads_its_models_on_first_use(tiny_checkpoint: Path, photo_path: str,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    loads: list[str] = []

    def offline_load(key: str = "qualiclip", weights=None, **kwargs):
        loads.append(key)
        return _offline_load_model(key, weights, **kwargs)

    monkeypatch.setattr(model_slots, "load_model", offline_load)
    monkeypatch.setitem(MODELS, model_slots.OFFLINE,
                        ModelSpec(model_slots.OFFLINE, "Bundled offline", bundled=tiny_checkpoint))
    studio = load_studio()
    assert loads == ["qualiclip", "qualiclip-offline"]  # start-up: the primary model only
    table, _, summary, _ = Callbacks(studio).compare_models(photo_path)
    assert loads == ["qualiclip", "qualiclip-offline", "clip-iqa",
                     "qualiclip+", "qualiclip+-clive", "qualiclip+-flive", "qualiclip+-spaq"]
    assert table["status"].tolist() == ["unavailable", "unavailable", "loaded", *["unavailable"] * 4]
    assert summary.count("could not be downloaded") == 1  # six unavailable models, their reason said once
    assert all(title in summary for title in table["model"][table["status"] == "unavailable"])
    Callbacks(studio).compare_models(photo_path)
    assert len(loads) == 3 + 4  # tried once


def test_compare_models_shows_unavailable_models(handlers: Callbacks, photo_path: str, tiny_studio: Studio) -> None:
    slots = (ModelSlot("qualiclip", "Official", reason="offline: no weights"),
             ModelSlot("tiny", "Tiny", model=tiny_studio.primary))
    table, _, summary, csv_path = Callbacks(Studio(tiny_studio.primary, "", slots)).compare_models(photo_path)
    assert table["model"].tolist() == ["Official", "Tiny"]
    assert table["status"].tolist() == ["unavailable", "loaded"]
    assert summary == "Unavailable here: Official: offline: no weights." and pd.isna(table["score"][0])
    assert pd.read_csv(csv_path)["model"].tolist() == ["Official", "Tiny"]
    assert table["score"][1] == pytest.approx(handlers.score_image(photo_path)[2]["score"], abs=5e-5)  # 4 decimals


def test_learn_similarities(handlers: Callbacks, photo_path: str) -> None:
    lines, table = handlers.learn_similarities(photo_path, "white_noise", 1)
    assert list(table.columns) == ["level", "sim(Sharp image.)", "sim(Blurry image.)", "P(Sharp image.)", "score"]
    assert table["level"].tolist() == list(range(6))
    assert sorted(set(lines["prompt"])) == ["sim(Blurry image.)", "sim(Sharp image.)"] and len(lines) == 12
    assert table["score"][0] == pytest.approx(handlers.score_image(photo_path)[2]["score"], abs=1e-4)
    with pytest.raises(gr.Error, match="Pair must be"):
        handlers.learn_similarities(photo_path, "white_noise", 9)


def test_one_checkpoint_gives_one_custom_model(tiny_studio: Studio, tiny_checkpoint: Path) -> None:
    assert tiny_checkpoint.name in tiny_studio.banner and str(tiny_checkpoint.parent) not in tiny_studio.banner
    assert [slot.model for slot in tiny_studio.slots] == [tiny_studio.primary]
    assert tiny_studio.primary.max_side == CPU_MAX_SIDE


def _offline_load_model(key: str = "qualiclip", weights=None, **kwargs):
    """``load_model`` as on a machine without internet: only bundled weights load."""
    if MODELS[key].remote is not None:
        raise WeightsUnavailableError(f"{key}: no network in this test")
    return load_model(key, weights, **kwargs)


def test_offline_start_falls_back_to_bundled_model_with_banner(
        tiny_checkpoint: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(model_slots, "load_model", _offline_load_model)
    monkeypatch.setitem(MODELS, model_slots.OFFLINE,
                        ModelSpec(model_slots.OFFLINE, "Bundled offline", bundled=tiny_checkpoint))
    studio = load_studio()
    assert studio.primary.name == model_slots.OFFLINE
    assert "bundled offline model" in studio.banner and "could not be downloaded" in studio.banner
    assert "no network in this test" not in studio.banner  # the full error is for the server's log only
    assert [(s.key, s.resolved, s.model is not None) for s in studio.slots] == [
        ("qualiclip", True, False), ("clip-iqa", False, False), ("qualiclip-offline", True, True),
        *[(key, False, False) for key in ("qualiclip+", "qualiclip+-clive", "qualiclip+-flive", "qualiclip+-spaq")]]


def test_no_weights_at_all_refuses_to_start(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(model_slots, "load_model", _offline_load_model)
    monkeypatch.setitem(MODELS, model_slots.OFFLINE,
                        ModelSpec(model_slots.OFFLINE, "Bundled offline", bundled=tmp_path / "missing.pth"))
    with pytest.raises(RuntimeError, match=WEIGHTS_ENV) as refused:
        load_studio()
    assert "missing.pth" in str(refused.value) and "no network in this test" in str(refused.value)


def test_an_upload_is_analysed_once_for_all_its_callbacks(tiny_studio: Studio, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    decodes: list[object] = []
    real_prepare = tiny_studio.primary.prepare
    monkeypatch.setattr(tiny_studio.primary, "prepare", lambda image: decodes.append(image) or real_prepare(image))
    cache = AnalysisCache(tiny_studio.primary)
    path, copy = tmp_path / "upload.png", tmp_path / "same-content-other-name.png"
    Image.fromarray(np.full((40, 50, 3), 10, np.uint8)).save(path)
    copy.write_bytes(path.read_bytes())
    first = cache.get(str(path))
    assert cache.get(str(path)) is first and cache.get(path) is first and cache.get(str(copy)) is first
    assert len(decodes) == 1
    Image.fromarray(np.full((40, 60, 3), 200, np.uint8)).save(path)  # same name, new content
    changed = cache.get(str(path))
    assert len(decodes) == 2 and changed.image.size == (60, 40) and float(changed.image.tensor().mean()) > 0.7
    array = np.full((40, 50, 3), 10, np.uint8)  # arrays are never cached
    cache.get(array), cache.get(array)
    assert len(decodes) == 4


def test_cached_and_uncached_paths_are_identical(handlers: Callbacks, tiny_studio: Studio, photo_path: str) -> None:
    model = tiny_studio.primary
    for _ in range(2):  # the second round reads everything from the cache
        _, _, result = handlers.score_image(photo_path)
        [direct] = model.score([photo_path])
        assert result["score"] == pytest.approx(direct.score, abs=1e-6)
        assert handlers._analysis(photo_path).score == direct.score  # bit for bit
        for method in ("gradcam", "gradcam++", "attention"):
            *_, maps = handlers.explain_image(photo_path, method, ALL_PAIRS, 0.5)
            uncached = explain(model, photo_path, method=method)
            np.testing.assert_array_equal(maps.positive.values, uncached.positive.values)
            np.testing.assert_array_equal(maps.negative.values, uncached.negative.values)


def test_a_cached_upload_cannot_be_altered_by_a_callback(tiny_studio: Studio, tmp_path: Path) -> None:
    path = tmp_path / "shared.png"
    Image.fromarray(np.full((40, 50, 3), 10, np.uint8)).save(path)
    cache = AnalysisCache(tiny_studio.primary)
    first = cache.get(str(path)).image
    with pytest.raises(ValueError, match="read-only"):
        first.array()[0, 0, 0] = 1.0
    first.tensor().fill_(1.0)  # a copy: the cached pixels stay as decoded
    again = cache.get(str(path)).image
    assert again is first and float(again.tensor().max()) == pytest.approx(10 / 255)


def test_learn_tab_describes_the_loaded_model(tiny_studio: Studio) -> None:
    bundled = load_studio(BUNDLED_DIR / "qualiclip-offline.pth").primary
    assert bundled.logit_scale == pytest.approx(9.557, abs=0.01)
    offline = Studio(bundled, "", (ModelSlot(model_slots.OFFLINE, "Bundled", model=bundled),))  # as the app loads it
    demo = build_demo(offline)
    [learn] = [block.value for block in demo.blocks.values()
               if isinstance(block, gr.Markdown) and "How the score is computed" in str(block.value)]
    assert "e^{9.557\\, f" in learn and "scaled by 9.557" in learn and "e^{100" not in learn
    assert "not CLIP's ResNet-50" in learn and "random orthonormal directions, not text embeddings" in learn
    assert "QualiCLIP-offline" in learn and "CLIP's text encoder" not in learn
    tiny = learn_markdown(tiny_studio.primary, None)
    assert f"scaled by {tiny_studio.primary.logit_scale:.4g}" in tiny and "encoded once by the model's text" in tiny


def test_levels_name_their_parameter_and_say_when_they_change_nothing(photo: np.ndarray) -> None:
    assert robustness.level_text("gaussian_blur", 4) == "level 4 (sigma 2 px)"
    assert robustness.level_text("jpeg", 4) == "level 4 (quality 7)"
    assert robustness.level_text("gaussian_blur", 1) == "level 1 (sigma 0.1 px: leaves the image unchanged)"
    pristine = photo.astype(np.float32) / 255
    for name in DEGRADATIONS:  # the probe agrees with a real photo
        same = {level for level in range(1, 6)
                if np.abs(apply_degradation(pristine, name, level, robustness.SEED) - pristine).max()
                < robustness.UNCHANGED_TOLERANCE}
        assert robustness.unchanged_levels(name) == same, name
    assert {name for name in DEGRADATIONS if robustness.unchanged_levels(name)} == {
        "gaussian_blur", "motion_blur", "mean_shift"}
    assert "1: 0.1 (no change), 2: 0.5" in robustness.level_key("gaussian_blur")


def test_a_uniform_grey_image_shows_no_evidence() -> None:
    from qualiclip.studio.analysis import analyse
    from qualiclip.studio.explanations import compute_maps

    bundled = load_model("qualiclip-offline")
    grey = compute_maps(bundled, analyse(bundled, np.full((256, 256, 3), 128, np.uint8)), "gradcam", ALL_PAIRS)
    assert grey.positive.empty and grey.negative.empty  # the saturated score's gradients vanish
    assert NO_EVIDENCE in caption(grey.positive, "good")
    cat = compute_maps(bundled, analyse(bundled, str(EXAMPLES_DIR / "chelsea.jpg")), "gradcam", ALL_PAIRS)
    assert not cat.positive.empty and not cat.negative.empty


def test_examples_are_labelled_and_training_photos_say_so() -> None:
    from qualiclip.studio.page_text import example_label

    assert example_label("chelsea_white_noise_5.jpg", offline_model=True) == "Cat, white noise level 5"
    assert example_label("coffee.jpg", offline_model=False) == "Coffee cup"
    assert example_label("coffee.jpg", offline_model=True) == "Coffee cup (in the offline model's training set)"


def test_two_photos_in_one_slider_and_as_data(handlers: Callbacks, tiny_studio: Studio, photo_path: str,
                                              tmp_path: Path) -> None:
    blurred = tmp_path / "blurred.png"
    Image.open(photo_path).reduce(4).resize(Image.open(photo_path).size).save(blurred)
    gauge_a, gauge_b, verdict, maps, (first, second), result = handlers.compare_two_photos(photo_path, str(blurred))
    np.testing.assert_array_equal(first, np.asarray(Image.open(photo_path).convert("RGB")))
    np.testing.assert_array_equal(second, np.asarray(Image.open(blurred).convert("RGB")))
    sharp, soft = tiny_studio.primary.score([photo_path, str(blurred)])
    assert result["photo_a"]["score"] == pytest.approx(sharp.score, abs=1e-6)
    assert result["photo_b"]["score"] == pytest.approx(soft.score, abs=1e-6)
    assert result["difference"] == pytest.approx(sharp.score - soft.score, abs=1e-6)
    assert result["better"] == (None if round(sharp.score - soft.score, 3) == 0
                                else "Photo A" if sharp.score > soft.score else "Photo B")
    assert result["verdict"] == verdict and len(maps) == 4
    assert f"{sharp.score:.4f}" in gauge_a and f"{soft.score:.4f}" in gauge_b
    assert handlers.compare_two_photos(photo_path, None)[3:] == ([], None, None)  # one photo: no slider, no result


def test_two_photos_verdict_states_the_difference() -> None:
    from qualiclip.studio.two_photos import better, verdict

    assert (better(0.59, 0.712), better(0.712, 0.59), better(0.3001, 0.3003)) == ("Photo B", "Photo A", None)
    assert verdict(0.59, 0.712).startswith("**Photo B looks better to this model**: 0.712 vs 0.590, 0.122 higher")
    assert verdict(0.3001, 0.3003).startswith("**Both photos score the same**")


def test_example_results_are_the_calls_own_and_need_no_model_call(tiny_studio: Studio, count_forwards: list[int],
                                                                  tmp_path: Path, caplog) -> None:
    from tests.zerogpu_sim import same

    handlers, settings = Callbacks(tiny_studio), ("gradcam", -1, 0.5, "gaussian_blur", 3, "Score")
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"not a jpeg")
    handlers.examples.compute(handlers.analyse_upload, [EXAMPLES[0], str(broken)], settings)
    assert handlers.examples.ready.is_set() and "broken.jpg could not be computed ahead" in caplog.text
    copy = tmp_path / "served_copy.jpg"  # Gradio serves an example from a copy of its own
    copy.write_bytes(Path(EXAMPLES[0]).read_bytes())
    count_forwards.clear()
    kept = handlers.analyse_upload(str(copy), *settings)
    assert count_forwards == []  # no model call
    assert same(kept, Callbacks(tiny_studio).analyse_upload(str(copy), *settings))  # what the call computes
    assert count_forwards == [1]
    assert handlers.examples.get(str(copy), ("gradcam", -1, 0.3, "gaussian_blur", 3, "Score")) is None
