"""The running app, called over HTTP with gradio_client like any API user would (tiny model)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from gradio_client import Client, handle_file
from gradio_client.exceptions import AppError
from PIL import Image


pytestmark = pytest.mark.slow  # a Gradio server


@pytest.fixture(scope="module")
def client(app_client: Client) -> Client:
    """The session's app server (tests/conftest.py): the tiny model, and the official one unavailable."""
    return app_client


@pytest.fixture(scope="module")
def photo_file(tmp_path_factory: pytest.TempPathFactory, photo: np.ndarray) -> str:
    path = tmp_path_factory.mktemp("e2e") / "astronaut.png"
    Image.fromarray(photo).save(path)
    return str(path)


def test_documented_endpoints(client: Client) -> None:
    endpoints = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
    assert {"/score", "/heatmaps", "/sweep", "/batch", "/compare", "/robustness", "/similarities",
            "/two_photos"} <= set(endpoints)


def test_score(client: Client, photo_file: str) -> None:
    gauge, chart, result = client.predict(handle_file(photo_file), api_name="/score")
    assert 0.0 <= result["score"] <= 1.0 and len(result["pair_probabilities"]) == 7
    assert f'data-score="{result["score"]:.4f}"' in gauge
    assert [row[1] for row in chart["data"]] == list(result["pair_probabilities"].values())


def test_bad_upload_is_a_readable_error(client: Client, tmp_path: Path) -> None:
    fake = tmp_path / "holiday.jpg"
    fake.write_text("not really a photo")
    with pytest.raises(AppError, match="holiday.jpg is not an image file .*Try another image"):
        client.predict(handle_file(str(fake)), api_name="/score")


def test_heatmaps(client: Client, photo_file: str) -> None:
    good, bad, good_caption, bad_caption = client.predict(handle_file(photo_file), "gradcam++", -1, 0.6,
                                                          api_name="/heatmaps")
    assert Image.open(good).size == Image.open(bad).size == Image.open(photo_file).size
    assert good_caption.startswith("**Towards good**") and bad_caption.startswith("**Towards bad**")


def test_sweep(client: Client, photo_file: str) -> None:
    plot, table, summary, csv_path, png_path = client.predict(handle_file(photo_file), "gaussian_blur", False,
                                                              api_name="/sweep")
    frame = pd.DataFrame(table["data"], columns=table["headers"])
    assert frame["type"].tolist() == ["Gaussian blur"]
    scores = frame.loc[0, ["L0", "L1", "L2", "L3", "L4", "L5"]].tolist()
    assert pd.read_csv(csv_path).loc[0, ["L0", "L1", "L2", "L3", "L4", "L5"]].tolist() == scores
    assert Image.open(png_path).format == "PNG"
    score = client.predict(handle_file(photo_file), api_name="/score")[2]["score"]
    assert scores[0] == pytest.approx(score, abs=1e-4)
    assert ("Not monotone" in summary) != bool(frame.loc[0, "monotone"])


def test_batch_with_a_bad_file(client: Client, photo_file: str, tmp_path: Path) -> None:
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    table, csv_path = client.predict([handle_file(photo_file), handle_file(str(bad))], api_name="/batch")
    frame = pd.DataFrame(table["data"], columns=table["headers"])
    assert frame["file"].tolist() == ["astronaut.png", "broken.png"]
    assert frame["error"][0] == "" and frame["error"][1].startswith("broken.png is ")  # no temp path
    assert 0.0 <= float(frame["score"][0]) <= 1.0
    csv = pd.read_csv(csv_path)
    assert csv["file"].tolist() == ["astronaut.png", "broken.png"] and csv["score"].isna().tolist() == [False, True]


def test_compare_gives_each_models_heatmaps(client: Client, photo_file: str) -> None:
    table, gallery, _, csv_path = client.predict(handle_file(photo_file), api_name="/compare")
    frame = pd.DataFrame(table["data"], columns=table["headers"])
    assert frame["status"].tolist() == ["loaded", "unavailable"] and len(gallery) == 2
    assert [item["caption"].split(": towards ")[1].split()[0] for item in gallery] == ["good", "bad"]
    assert Image.open(gallery[0]["image"]).size == Image.open(photo_file).size


def test_two_photos(client: Client, photo_file: str, tmp_path: Path) -> None:
    blurred = tmp_path / "blurred.png"
    Image.open(photo_file).reduce(4).resize(Image.open(photo_file).size).save(blurred)
    gauge_a, gauge_b, verdict, gallery, (first, second), result = client.predict(
        handle_file(photo_file), handle_file(str(blurred)), api_name="/two_photos")
    scores = [client.predict(handle_file(path), api_name="/score")[2]["score"] for path in (photo_file, str(blurred))]
    assert f'data-score="{scores[0]:.4f}"' in gauge_a and f'data-score="{scores[1]:.4f}"' in gauge_b
    if round(scores[0] - scores[1], 3):
        better = "Photo A" if scores[0] > scores[1] else "Photo B"
        assert verdict.startswith(f"**{better} looks better") and f"{abs(scores[0] - scores[1]):.3f} higher" in verdict
    assert [item["caption"].split(": towards ")[0] for item in gallery] == ["Photo A"] * 2 + ["Photo B"] * 2
    assert [Image.open(path).size for path in (first, second)] == [Image.open(photo_file).size] * 2  # the slider
    assert [result[photo]["score"] for photo in ("photo_a", "photo_b")] == pytest.approx(scores, abs=1e-6)


def test_robustness(client: Client, photo_file: str) -> None:
    (before, after), original, degraded, result = client.predict(handle_file(photo_file), "jpeg", 4,
                                                                 api_name="/robustness")
    score = client.predict(handle_file(photo_file), api_name="/score")[2]["score"]
    assert result["original"]["score"] == pytest.approx(score, abs=1e-6) and result["level_text"] in degraded
    assert f'data-score="{result["degraded"]["score"]:.4f}"' in degraded and f'data-score="{score:.4f}"' in original
    assert Image.open(before).size == Image.open(after).size == Image.open(photo_file).size


def test_custom_pairs(client: Client, photo_file: str) -> None:
    pairs = "Sharp photo. / Blurry photo.\nBright photo. / Dark photo."
    gauge, chart, result = client.predict(handle_file(photo_file), pairs, api_name="/custom_pairs")
    assert [(pair["positive"], pair["negative"]) for pair in result["pairs"]] == [
        ("Sharp photo.", "Blurry photo."), ("Bright photo.", "Dark photo.")]
    assert [row[1] for row in chart["data"]] == [pair["probability"] for pair in result["pairs"]]
    assert f'data-score="{result["score"]:.4f}"' in gauge
    with pytest.raises(AppError, match="Line 1 is not one pair"):
        client.predict(handle_file(photo_file), "no separator here", api_name="/custom_pairs")
