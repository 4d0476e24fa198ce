"""Tests for qualiclip.evaluation.robustness_report: the same numbers as ``eval-synthetic``, its own metrics, its files."""
from __future__ import annotations

import csv

import numpy as np
import pytest
from PIL import Image

from qualiclip.cli import main
from qualiclip.errors import QualiCLIPError
from qualiclip.evaluation.level_scores import read_level_scores
from qualiclip.evaluation.robustness_report import (
    CSV_COLUMNS,
    ReportWork,
    photo_names,
    report_types,
    report_work,
    robustness_report,
)
from qualiclip.scoring import ImageScore

pytestmark = pytest.mark.usefixtures("one_torch_thread")
TYPES = ["jpeg", "white_noise", "gaussian_blur"]


def test_report_equals_eval_synthetic(tiny_checkpoint, tiny_model, report_photos, tmp_path, capsys) -> None:
    table, scores = tmp_path / "table.csv", tmp_path / "scores.csv"
    assert main(["eval-synthetic", "--weights", str(tiny_checkpoint), str(report_photos), "--types", *TYPES,
                 "--seed", "3", "--csv", str(table), "--scores", str(scores)]) == 0
    capsys.readouterr()
    report = robustness_report(sorted(report_photos.iterdir()), {"tiny": tiny_model}, TYPES, seed=3)

    [cli_scores] = read_level_scores(scores).values()  # every score at full precision
    mine = {(r.image, r.distortion, r.level): r.score for r in report.records["tiny"]}
    assert mine.keys() == cli_scores.keys() and len(mine) == 2 * 3 * 6
    assert max(abs(mine[key] - cli_scores[key]) for key in mine) <= 1e-6
    assert len({round(score, 6) for score in mine.values()}) > 6  # the degradations really changed the scores

    cli_rows = list(csv.DictReader(table.open()))  # the command rounds to 4 decimals
    assert [row["distortion"] for row in cli_rows] == [*TYPES, "overall"]
    assert [row.distortion for row in report.rows] == [*TYPES, "overall"]
    for cli, row in zip(cli_rows, report.rows):
        assert abs(float(cli["spearman"]) - row.spearman) <= 5e-5 + 1e-6
        assert abs(float(cli["pairwise_accuracy"]) - row.pairwise_accuracy) <= 5e-5 + 1e-6
        assert int(cli["images"]) == row.images == 2


class Rule:
    """A scorer whose score is a known function of the level series position (no network)."""

    def __init__(self, scores_by_image: dict[int, list[float]]) -> None:
        self.scores_by_image, self.calls = scores_by_image, 0

    def score(self, images, batch_size: int = 8) -> list[ImageScore]:
        scores = self.scores_by_image[self.calls % len(self.scores_by_image)]
        self.calls += 1
        return [ImageScore(score, (), (0.0, 0.0)) for score in scores]


def test_monotone_fraction_spearman_accuracy_and_level_spreads(tmp_path) -> None:
    photos = [np.zeros((40, 40, 3), np.uint8), np.full((40, 40, 3), 128, np.uint8)]
    falling, bumpy = [0.9, 0.8, 0.7, 0.6, 0.5, 0.4], [0.9, 0.8, 0.85, 0.6, 0.5, 0.4]
    progress: list[tuple[float, str]] = []
    report = robustness_report(photos, {"rule": Rule({0: falling, 1: bumpy})}, ["jpeg"],
                               on_progress=lambda fraction, text: progress.append((fraction, text)))
    jpeg, overall = report.rows
    assert (jpeg.distortion, jpeg.images) == ("jpeg", 2)
    assert jpeg.monotone_fraction == 0.5
    # bumpy: one of 15 level pairs inverted; falling: all 15 right
    assert jpeg.pairwise_accuracy == pytest.approx((1 + 14 / 15) / 2, abs=1e-12)
    assert jpeg.spearman == pytest.approx((-1 + -(1 - 6 * 2 / (6 * 35))) / 2, abs=1e-12)
    assert overall.monotone_fraction == 0.5
    spreads = report.spreads["rule"]
    assert [s.level for s in spreads] == [0, 1, 2, 3, 4, 5]
    assert spreads[2].mean == pytest.approx(0.775, abs=1e-12) and spreads[2].sd == pytest.approx(0.075, abs=1e-12)
    assert spreads[0].sd == 0.0
    assert [fraction for fraction, _ in progress] == [0.0, 0.5, 1.0]
    assert "photo 2" in progress[-1][1]

    rows = list(csv.DictReader(report.write_csv(tmp_path / "report.csv").open()))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert (rows[0]["monotone_fraction"], rows[0]["mean_L2"], rows[0]["sd_L2"]) == ("0.5", "0.775", "0.075")
    assert rows[1]["distortion"] == "overall" and rows[1]["mean_L0"] == ""


def test_report_figure_has_one_panel_per_type(tmp_path) -> None:
    photos = [np.zeros((40, 40, 3), np.uint8)]
    report = robustness_report(photos, {"rule": Rule({0: [0.9, 0.8, 0.7, 0.6, 0.5, 0.4]})}, ["jpeg", "darken"])
    figure = report.figure()
    panels = [axes for axes in figure.axes if axes.get_visible()]
    assert [axes.get_title() for axes in panels] == ["JPEG", "Darken"]
    assert list(panels[0].lines[0].get_ydata()) == pytest.approx([0.9, 0.8, 0.7, 0.6, 0.5, 0.4], abs=1e-12)
    with Image.open(report.write_png(tmp_path / "report.png")) as png:
        assert png.width > 300


def test_inputs_are_checked_before_any_work(tmp_path) -> None:
    assert len(report_types([])) == 24
    with pytest.raises(ValueError, match="unknown distortion types"):
        report_types(["jpeg", "blurr"])
    with pytest.raises(ValueError, match="repeated"):
        report_types(["jpeg", "jpeg"])
    with pytest.raises(ValueError, match="no photos"):
        robustness_report([], {"rule": Rule({0: [0.0] * 6})})
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"not an image")
    rule = Rule({0: [0.0] * 6})
    with pytest.raises(QualiCLIPError):
        robustness_report([broken], {"rule": rule}, ["jpeg"])
    assert rule.calls == 0


def test_photo_names_are_distinct() -> None:
    assert photo_names(["x/a.png", "y/a.png", np.zeros((2, 2, 3)), "a.png"]) == [
        "a.png", "a.png (2)", "photo 3", "a.png (3)"]


def test_work_counts_forwards_and_megapixels(tmp_path) -> None:
    path = tmp_path / "big.png"
    Image.new("RGB", (2000, 1000)).save(path)
    work = report_work([path, np.zeros((100, 200, 3), np.uint8)], [], models=3, max_side=1000)
    assert (work.photos, work.types, work.models, work.levels) == (2, 24, 3, 6)
    assert work.forwards == 2 * 24 * 3 * 6
    assert work.megapixels == pytest.approx(0.5 + 0.02, abs=1e-12)
    # 0.52 MP x 24 types x 3 models: 6 levels scored at 2 s/MP, 5 degraded at 1 s/MP
    assert work.seconds(2.0, 1.0) == pytest.approx(0.52 * 72 * (6 * 2.0 + 5 * 1.0), abs=1e-9)
    assert work.scored_megapixels == pytest.approx(0.52 * 24 * 3 * 6, abs=1e-9)  # 224.64 MP
    work.check(max_photos=2, max_scored_megapixels=224.7)
    with pytest.raises(ValueError, match=r"2 photos \(0.52 MP as scored\) x 24 types x 3 models x 6 levels = 224.6 MP"):
        work.check(max_photos=2, max_scored_megapixels=224.6)
    with pytest.raises(ValueError, match="2 photos given; at most 1"):
        work.check(max_photos=1, max_scored_megapixels=1e9)
    assert ReportWork(1, 1, 1, 1.0).forwards == 6
