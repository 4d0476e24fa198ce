"""Tests for qualiclip.evaluation: metrics, synthetic evaluation, MOS evaluation and their CLIs."""
from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from scipy import io as sio
from scipy import stats

from qualiclip.cli import main
from qualiclip.evaluation import (
    correlate,
    logistic4,
    pairwise_accuracy,
    plcc,
    plcc_logistic,
    read_mos_table,
    rescore,
    score_mos_dataset,
    score_synthetic,
    srcc,
    summarize,
)
from qualiclip.evaluation.metrics import falls_monotonically
from qualiclip.imaging import PreparedImage, prepare
from qualiclip.scoring import ImageScore, QualityScorer
from qualiclip.csv_files import read_rows
from qualiclip.tiny import make_random_checkpoint


pytestmark = pytest.mark.usefixtures("one_torch_thread")


class StubModel:
    """A scorer with a known rule, standing in for QualityScorer (``prepare`` + ``score``)."""

    #: The real preparation, at native size.
    max_side = None
    prepare = QualityScorer.prepare

    def __init__(self, rule) -> None:
        self.rule = rule
        self.scored: list[torch.Tensor] = []

    def score(self, images, batch_size: int = 8) -> list[ImageScore]:
        tensors = [prepare(image).pixels for image in images]
        self.scored.extend(tensors)
        return [ImageScore(float(self.rule(image)), (), (0.0, 0.0)) for image in tensors]


def sharpness(image: torch.Tensor) -> torch.Tensor:
    """Mean absolute horizontal gradient: falls monotonically with blur."""
    return (image[:, :, 1:] - image[:, :, :-1]).abs().mean()


# -- metrics ------------------------------------------------------------------------------------
def test_correlations_match_scipy_and_known_values() -> None:
    x = [1.0, 2.0, 3.0, 4.0, 5.0]
    assert srcc(x, [10, 20, 30, 40, 50]) == pytest.approx(1.0)
    assert srcc(x, [5, 4, 3, 2, 1]) == pytest.approx(-1.0)
    y = [1.2, 1.9, 3.4, 3.9, 5.3]
    assert plcc(x, y) == pytest.approx(stats.pearsonr(x, y).statistic)
    assert np.isnan(srcc(x, [1, 1, 1, 1, 1]))


def test_logistic_fit_linearises_a_monotone_nonlinear_relation() -> None:
    x = np.linspace(0, 1, 40)
    y = logistic4(x, 5.0, 1.0, 0.6, 0.08)
    fitted, params = plcc_logistic(x, y)
    assert params is not None
    assert fitted > 0.999
    assert plcc(x, y) < 0.97  # the raw PLCC is visibly lower
    assert srcc(x, y) == pytest.approx(1.0)


def test_pairwise_accuracy_counts_correct_pairs_and_half_ties() -> None:
    assert pairwise_accuracy([0, 1, 2], [0.9, 0.5, 0.1]) == 1.0
    assert pairwise_accuracy([0, 1, 2], [0.1, 0.5, 0.9]) == 0.0
    assert pairwise_accuracy([0, 1, 2], [0.5, 0.5, 0.1]) == pytest.approx((0.5 + 1 + 1) / 3)
    assert pairwise_accuracy([0, 0, 1], [0.2, 0.9, 0.5]) == pytest.approx(0.5)  # same-level pair ignored


# -- synthetic evaluation -----------------------------------------------------------------------
@pytest.fixture(scope="module")
def small_photos(photo: np.ndarray) -> dict[str, PreparedImage]:
    return {"a": prepare(photo[:96, :96]), "b": prepare(photo[32:, 16:112])}


def test_synthetic_known_case_blur_versus_sharpness(small_photos) -> None:
    records = score_synthetic(StubModel(sharpness), small_photos, ["lens_blur"])
    assert [r.level for r in records] == list(range(6)) * 2
    blur, overall = summarize(records)
    assert blur.distortion == "lens_blur" and overall.distortion == "overall"
    assert blur.spearman == pytest.approx(-1.0)
    assert blur.pairwise_accuracy == pytest.approx(1.0)
    assert blur.images == 2


def test_synthetic_constant_scores_give_no_information(small_photos) -> None:
    records = score_synthetic(StubModel(lambda image: 0.5), small_photos, ["gaussian_blur", "jpeg"])
    *types, overall = summarize(records)
    assert [t.distortion for t in types] == ["gaussian_blur", "jpeg"]
    assert all(t.spearman == 0.0 and t.pairwise_accuracy == 0.5 for t in types)
    assert overall.spearman == 0.0


def test_rescore_equals_scoring_with_that_logit_scale(tiny_model, small_photos) -> None:
    records = score_synthetic(tiny_model, small_photos, ["white_noise"])
    original = tiny_model.logit_scale
    try:
        tiny_model.logit_scale = 3.0
        direct = score_synthetic(tiny_model, small_photos, ["white_noise"])
    finally:
        tiny_model.logit_scale = original
    assert [r.score for r in rescore(records, 3.0)] == pytest.approx([r.score for r in direct], abs=1e-6)


def test_eval_synthetic_cli_prints_and_writes_table(tiny_checkpoint, tmp_path, photo, capsys) -> None:
    folder = tmp_path / "held"
    folder.mkdir()
    Image.fromarray(photo[:80, :96]).save(folder / "one.png")
    out = tmp_path / "synthetic.csv"
    code = main(["eval-synthetic", "--weights", str(tiny_checkpoint), str(folder), "--types", "jpeg",
                 "gaussian_blur", "--csv", str(out)])
    assert code == 0
    rows = list(csv.DictReader(out.open()))
    assert [r["distortion"] for r in rows] == ["jpeg", "gaussian_blur", "overall"]
    assert -1.0 <= float(rows[-1]["spearman"]) <= 1.0
    assert "overall" in capsys.readouterr().out


# -- several models side by side ---------------------------------------------------------------
@pytest.fixture(scope="module")
def second_tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_random_checkpoint(tmp_path_factory.mktemp("second") / "other.pth", seed=1)


@pytest.fixture
def held_out(tmp_path: Path, photo: np.ndarray) -> Path:
    folder = tmp_path / "held"
    folder.mkdir()
    Image.fromarray(photo[:80, :96]).save(folder / "one.png")
    Image.fromarray(photo[40:120, 8:104]).save(folder / "=two.png")  # a name a spreadsheet would run
    return folder


def _compare_argv(folder: Path, first: Path, second: Path, *outputs: str) -> list[str]:
    return ["eval-synthetic", str(folder), "--model", "qualiclip", "--model", "clip-iqa",
            "--weights-for", f"qualiclip={first}", "--weights-for", f"clip-iqa={second}",
            "--types", "jpeg", "gaussian_blur", *outputs]


@pytest.mark.slow  # a synthetic evaluation run of two models
def test_eval_synthetic_compares_models(tiny_checkpoint, second_tiny, held_out, tmp_path, capsys) -> None:
    summary, scores, plot = tmp_path / "summary.csv", tmp_path / "scores.csv", tmp_path / "figure.png"
    argv = _compare_argv(held_out, tiny_checkpoint, second_tiny,
                         "--csv", str(summary), "--scores", str(scores), "--plot", str(plot))
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert out.startswith("qualiclip\ndistortion") and "\n\nclip-iqa\ndistortion" in out
    combined = out.split("\ncombined\n")[1].splitlines()
    assert combined[0].split() == ["qualiclip", "clip-iqa"] and [line.split()[0] for line in combined[2:]] == [
        "jpeg", "gaussian_blur", "overall"]
    rows = list(csv.DictReader(summary.open()))
    assert [(r["model"], r["distortion"]) for r in rows] == [
        (model, kind) for model in ("qualiclip", "clip-iqa") for kind in ("jpeg", "gaussian_blur", "overall")]
    for model, weights in (("qualiclip", tiny_checkpoint), ("clip-iqa", second_tiny)):  # each as if run alone
        alone = tmp_path / f"{model}.csv"
        assert main(["eval-synthetic", str(held_out), "--model", model, "--weights", str(weights),
                     "--types", "jpeg", "gaussian_blur", "--csv", str(alone)]) == 0
        assert [{k: v for k, v in r.items() if k != "model"} for r in rows if r["model"] == model] == list(
            csv.DictReader(alone.open()))
    assert float(rows[2]["spearman"]) != float(rows[5]["spearman"])  # two different models
    levels = list(read_rows(scores.open()))
    assert len(levels) == 2 * 2 * 2 * 6 and {r["image"] for r in levels} == {"one.png", "=two.png"}
    assert "'=two.png" in scores.read_text()  # escaped in the file, read back as it is
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and plot.stat().st_size > 10_000


@pytest.mark.slow  # two synthetic evaluation runs
def test_eval_synthetic_resumes_from_its_scores_file(tiny_checkpoint, second_tiny, held_out, tmp_path, capsys,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    scores, summary = tmp_path / "scores.csv", tmp_path / "summary.csv"
    argv = _compare_argv(held_out, tiny_checkpoint, second_tiny, "--scores", str(scores), "--csv", str(summary))
    calls: list[int] = []
    original = QualityScorer.score

    def counted(self, images, *args, **kwargs):
        calls.append(len(images))
        if len(calls) == 6:  # Ctrl-C during the 6th series: the 2nd of clip-iqa
            raise KeyboardInterrupt
        return original(self, images, *args, **kwargs)

    monkeypatch.setattr(QualityScorer, "score", counted)
    assert main(argv) == 130
    assert capsys.readouterr().err.strip().splitlines()[-1] == (
        f"interrupted; 1 of 4 series scored by clip-iqa (model 2 of 2); {scores} keeps them "
        "and a rerun goes on from there")
    lines = scores.read_text().splitlines()
    assert len(lines) == 1 + 5 * 6
    scores.write_text("\n".join(lines[:-3]) + "\n")  # and a series cut short: its levels 3..5 are missing
    calls.clear()
    assert main(argv) == 0
    assert calls == [3, 6, 6, 6]  # the cut series' 3 missing levels, then clip-iqa's 3 series left
    keys = [(r["model"], r["image"], r["distortion"], r["level"]) for r in read_rows(scores.open())]
    assert len(keys) == len(set(keys)) == 48
    resumed = summary.read_text()
    calls.clear()
    assert main(argv) == 0 and calls == []  # everything is in the file
    assert summary.read_text() == resumed
    scores.unlink()
    monkeypatch.setattr(QualityScorer, "score", original)
    assert main(argv) == 0 and summary.read_text() == resumed  # the same table as one uninterrupted run


@pytest.mark.parametrize("options, message", [
    (["--model", "qualiclip", "--model", "clip-iqa", "--weights", "x.pth"], "--weights goes with one model"),
    (["--weights", "x.pth", "--weights-for", "clip-iqa=y.pth"], "--weights goes with one model"),
    (["--weights-for", "clip-iqa=x.pth", "--weights-for", "clip-iqa=y.pth"], "--weights-for clip-iqa is given twice"),
])
def test_eval_synthetic_model_choices_that_conflict(options, message, held_out, capsys) -> None:
    assert main(["eval-synthetic", str(held_out), *options]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {message}") and err.count("\n") == 1, err


def test_weights_for_names_a_known_model(held_out, capsys) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["eval-synthetic", str(held_out), "--weights-for", "nope=x.pth"])
    assert exited.value.code == 2 and "unknown model 'nope'" in capsys.readouterr().err


# -- MOS evaluation -----------------------------------------------------------------------------
def _brightness_dataset(root: Path, count: int = 12) -> list[tuple[str, float]]:
    """Images whose MOS is a known logistic function of their mean brightness."""
    rng = np.random.default_rng(0)
    table = []
    for index in range(count):
        mean = 0.2 + 0.6 * index / (count - 1)
        mos = float(logistic4(np.array(mean), 5.0, 1.0, 0.5, 0.06))
        pixels = np.clip(mean + rng.uniform(-0.02, 0.02, (40, 40, 3)), 0, 1)
        name = f"img_{index:02d}.png"
        Image.fromarray(np.round(pixels * 255).astype(np.uint8)).save(root / name)
        table.append((name, mos))
    return table


def test_mos_evaluation_on_a_dataset_with_known_mos(tmp_path) -> None:
    table = _brightness_dataset(tmp_path)
    rows = score_mos_dataset(StubModel(lambda image: image.mean()), table, tmp_path, tmp_path / "scores.csv",
                             progress=False)
    report = correlate(rows)
    assert report.count == 12
    assert report.srcc == pytest.approx(1.0)
    assert report.plcc_logistic > 0.995
    assert report.plcc < report.plcc_logistic


def test_mos_scoring_resumes_from_a_partial_csv(tmp_path) -> None:
    table = _brightness_dataset(tmp_path)
    out = tmp_path / "scores.csv"
    with out.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["image", "mos", "score"])
        writer.writerows([name, mos, 0.123] for name, mos in table[:5])
    stub = StubModel(lambda image: image.mean())
    rows = score_mos_dataset(stub, table, tmp_path, out, progress=False)
    assert len(stub.scored) == 7  # only the missing images were scored
    assert len(rows) == 12 and rows[table[0][0]][1] == pytest.approx(0.123)
    assert len(list(csv.DictReader(out.open()))) == 12


@pytest.mark.parametrize("header, expected", [
    (["image_name", "c1", "c2", "MOS", "SD", "MOS_zscore"], "MOS"),  # KonIQ-10k
    (["image", "mos"], "mos"),  # CLIVE as CSV
    (["Image name", "MOS", "Brightness"], "MOS"),  # SPAQ
])
def test_published_layouts_are_detected(tmp_path, header, expected) -> None:
    path = tmp_path / "table.csv"
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerow(["x.jpg"] + [str(3.5 if h == expected else 0.0) for h in header[1:]])
    assert read_mos_table(path) == [("x.jpg", 3.5)]


def test_clive_mat_files_are_read(tmp_path) -> None:
    names = np.empty((2, 1), dtype=object)
    names[0, 0], names[1, 0] = "a.bmp", "b.JPG"
    sio.savemat(tmp_path / "AllImages_release.mat", {"AllImages_release": names})
    sio.savemat(tmp_path / "AllMOS_release.mat", {"AllMOS_release": np.array([[41.5, 62.0]])})
    assert read_mos_table(tmp_path / "AllMOS_release.mat") == [("a.bmp", 41.5), ("b.JPG", 62.0)]


def test_eval_cli_with_a_real_model(tiny_checkpoint, tmp_path, capsys) -> None:
    images = tmp_path / "images"
    images.mkdir()
    table = _brightness_dataset(images, count=6)
    mos_csv = tmp_path / "mos.csv"
    with mos_csv.open("w", newline="") as handle:
        csv.writer(handle).writerows([("image_name", "MOS")] + table)
    out = tmp_path / "scores.csv"
    assert main(["eval", "--weights", str(tiny_checkpoint), "--images", str(images), "--mos", str(mos_csv),
                 "--out", str(out)]) == 0
    rows = list(csv.DictReader(out.open()))
    assert len(rows) == 6
    scores, mos = [float(r["score"]) for r in rows], [float(r["mos"]) for r in rows]
    printed = capsys.readouterr().out
    assert f"SRCC {srcc(scores, mos):.4f}" in printed
    assert out.with_suffix(".png").stat().st_size > 0


def test_mos_resume_finds_names_that_look_like_formulas(tiny_model, tmp_path) -> None:
    table = _brightness_dataset(tmp_path, count=4)
    for index, name in enumerate(["=2+5.png", "@SUM(1,2).png"]):
        (tmp_path / table[index][0]).rename(tmp_path / name)
        table[index] = (name, table[index][1])
    out = tmp_path / "scores.csv"
    first = score_mos_dataset(tiny_model, table[:3], tmp_path, out, progress=False)
    with out.open(newline="") as handle:
        assert [row[0] for row in csv.reader(handle)][1:] == ["'=2+5.png", "'@SUM(1,2).png", table[2][0]]
    rows = score_mos_dataset(tiny_model, table, tmp_path, out, progress=False)
    with out.open(newline="") as handle:
        written = [row[0] for row in csv.reader(handle)][1:]
    assert written == ["'=2+5.png", "'@SUM(1,2).png", table[2][0], table[3][0]], "each image scored once"
    assert sorted(rows) == sorted(name for name, _ in table)
    assert rows["=2+5.png"][1] == pytest.approx(first["=2+5.png"][1], abs=1e-6)


def test_falls_monotonically() -> None:
    assert falls_monotonically([0.9, 0.8, 0.8, 0.5])
    assert falls_monotonically([0.9, 0.9005, 0.5])  # within tolerance
    assert not falls_monotonically([0.9, 0.8, 0.85])
