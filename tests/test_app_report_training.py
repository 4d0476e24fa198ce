"""The reviewer's robustness report, the teacher's "train N steps" and the examples' results computed ahead,
through the served app: over its API (numbers against ``qualiclip eval-synthetic`` and the library) and in a
real browser at 1280 and 390 px."""
from __future__ import annotations

import csv
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from qualiclip.cli import main
from qualiclip.evaluation.level_scores import read_level_scores
from qualiclip.studio import page_text
from qualiclip.studio.main_image import EXAMPLES
from tests.app_server import running_app
from tests.browser import ARTIFACTS, DESKTOP, PHONE, needs_chromium, open_page

pytestmark = pytest.mark.slow  # the session's app server and browser (tests/conftest.py)
TYPES = ["jpeg", "white_noise"]
SEED = 3


def test_report_endpoint_gives_the_numbers_of_eval_synthetic(app_client, tiny_checkpoint: Path,
                                                             report_photos: Path, tmp_path: Path, capsys) -> None:
    from gradio_client import handle_file

    table, scores = tmp_path / "table.csv", tmp_path / "scores.csv"
    assert main(["eval-synthetic", "--weights", str(tiny_checkpoint), str(report_photos), "--types", *TYPES,
                 "--seed", str(SEED), "--csv", str(table), "--scores", str(scores)]) == 0
    capsys.readouterr()
    photos = [handle_file(str(path)) for path in sorted(report_photos.iterdir())]
    _, shown, summary, report_csv, report_png = app_client.predict(photos, TYPES, SEED,
                                                                   api_name="/robustness_report")
    rows = list(csv.DictReader(open(report_csv)))
    assert [row["distortion"] for row in rows] == [*TYPES, "overall"]
    assert [row[1] for row in shown["data"]] == ["JPEG", "White noise", "overall"]  # the page's table: labels

    [every_score] = read_level_scores(scores).values()  # (image, type, level) -> score, full precision
    by_level: dict[tuple[str, int], list[float]] = defaultdict(list)
    for (_, kind, level), score in every_score.items():
        by_level[kind, level].append(score)
    for row in rows[:-1]:  # each level's mean over the photos: the report's CSV keeps 6 decimals
        for level in range(6):
            assert abs(float(row[f"mean_L{level}"]) - np.mean(by_level[row["distortion"], level])) <= 5e-7 + 1e-6
    cli_rows = list(csv.DictReader(table.open()))  # the command's own table rounds to 4 decimals
    for cli, row in zip(cli_rows, rows):
        assert cli["distortion"] == row["distortion"]
        for column in ("spearman", "pairwise_accuracy"):
            assert abs(float(cli[column]) - float(row[column])) <= 5e-5 + 1e-6
        assert int(row["images"]) == 2
    assert "mean Spearman(level, score)" in summary and Path(report_png).stat().st_size > 10_000
    assert Image.open(report_png).format == "PNG"


def test_report_over_its_limits_is_refused_before_any_work(app_client, tmp_path: Path) -> None:
    from gradio_client import handle_file

    big = [tmp_path / "big1.png", tmp_path / "big2.png"]
    for path in big:
        Image.new("RGB", (768, 512), (90, 120, 150)).save(path)
    # 2 x 0.39 MP x 24 types x 1 model x 6 levels = 113 MP, above the 60 MP limit
    with pytest.raises(Exception, match="113.2 MP to score, more than the limit of 60 MP"):
        app_client.predict([handle_file(str(p)) for p in big], [], 0, api_name="/robustness_report")
    corrupt = tmp_path / "holiday.jpg"
    corrupt.write_bytes(b"\xff\xd8\xff\xe0 truncated")
    with pytest.raises(Exception, match="holiday.jpg is .*Try another image") as refused:
        app_client.predict([handle_file(str(big[0])), handle_file(str(corrupt))], ["jpeg"], 0,
                           api_name="/robustness_report")
    assert str(tmp_path) not in str(refused.value) and "/tmp" not in str(refused.value)  # no server path
    with pytest.raises(Exception, match="no_such_type.* is not in the list of choices"):
        app_client.predict([handle_file(str(big[0]))], ["no_such_type"], 0, api_name="/robustness_report")


def test_training_steps_lower_the_loss_on_every_example_and_never_touch_the_served_model(
        app_client, served_studio) -> None:
    from gradio_client import handle_file

    model = served_studio.primary
    weights = {name: value.clone() for name, value in model.clip.state_dict().items()}
    served = {path: model.score([path])[0].score for path in EXAMPLES}
    for path in EXAMPLES:
        _, losses, similarities, history, summary, result = app_client.predict(handle_file(path), 1,
                                                                               api_name="/training_step")
        assert set(result) == {"before", "after"}
        for when in result.values():
            assert set(when) == {"consistency", "positive", "negative", "total"}
        assert result["after"]["total"] < result["before"]["total"], (path, result)
        assert len(similarities["data"]) == 2 * 5  # crops A and B at levels 1..5
        assert len(history["data"]) == 2 * 4  # every loss, before and after the one step
        assert f"{result['before']['total']:.4f} to {result['after']['total']:.4f}" in summary
        score = app_client.predict(handle_file(path), api_name="/score")[2]["score"]
        assert abs(score - served[path]) <= 5e-5  # the page's score: rounded to 4 decimals
    assert all(torch.equal(value, weights[name]) for name, value in model.clip.state_dict().items())
    assert all(abs(model.score([path])[0].score - score) <= 1e-6 for path, score in served.items())
    with pytest.raises(Exception, match="greater than maximum value 20"):
        app_client.predict(handle_file(EXAMPLES[0]), 21, api_name="/training_step")


@needs_chromium
@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_report_and_training_in_a_browser(chromium, app_url: str, report_photos: Path,
                                          viewport: dict[str, int]) -> None:
    page = open_page(chromium, app_url, viewport)
    try:
        page.get_by_role("tab", name="Robustness").click()
        page.get_by_text("Robustness report over your photos").click()
        photos = [str(path) for path in sorted(report_photos.iterdir())]
        page.locator("#report-files input[type=file]").set_input_files(photos)
        page.locator("#report-types input").click()
        page.get_by_role("option", name="Compression › JPEG", exact=True).click()
        page.keyboard.press("Escape")
        page.get_by_role("button", name="Build the report").click()
        page.locator("#report-summary", has_text="mean Spearman(level, score)").wait_for()
        page.locator("#report-plot img").wait_for()  # matplotlib figures are shown as a picture
        assert "JPEG" in page.locator("#report-table").inner_text()
        page.locator("#report-section").screenshot(path=str(ARTIFACTS / f"report_{viewport['width']}.png"))

        page.get_by_role("tab", name="Learn").click()
        page.locator("#input-image input[type=file]").set_input_files(EXAMPLES[0])
        steps = page.locator("#training-steps input[type=number]")
        steps.fill("2")
        steps.press("Enter")
        page.get_by_role("button", name="Train on this photo").click()
        page.locator("#training-summary", has_text="the total loss went from").wait_for()
        page.locator("#training-crops img").wait_for()
        assert "2 steps" in page.locator("#training-summary").inner_text()
        assert "total (weighted)" in page.locator("#training-losses").inner_text()
        page.locator("#training-summary").scroll_into_view_if_needed()
        page.screenshot(path=str(ARTIFACTS / f"learn_training_{viewport['width']}.png"), full_page=True)
    finally:
        page.close()


@needs_chromium
def test_a_first_click_on_an_example_needs_no_model_call(chromium, served_studio, count_forwards: list[int]) -> None:
    with running_app(served_studio, example_results=True) as url:
        started = time.monotonic()
        while len(count_forwards) < len(EXAMPLES) and time.monotonic() - started < 120:  # one trunk pass each
            time.sleep(0.1)
        time.sleep(2)  # the last example's heatmaps (a pool-only backward, no trunk pass)
        page = open_page(chromium, url, DESKTOP)
        try:
            before = len(count_forwards)
            page.get_by_text(page_text.example_label(EXAMPLES[0], False), exact=True).click()
            gauge = page.locator("#score-gauge .qc-gauge")
            gauge.wait_for()
            page.locator("#good-caption", has_text="Towards good").wait_for()
            shown = float(gauge.get_attribute("data-score"))
        finally:
            page.close()
        # the first example is out of the analysis cache by now (4 records, 6 examples): without its kept
        # results the click would run its trunk again
        assert before == len(EXAMPLES) and len(count_forwards) == before
    [expected] = served_studio.primary.score([EXAMPLES[0]])
    assert abs(shown - expected.score) <= 5e-5
