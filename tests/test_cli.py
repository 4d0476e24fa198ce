"""``qualiclip score`` and the other commands end to end: in-process through ``qualiclip.cli.main`` (the
streams captured at the file-descriptor level, so anything a library prints to stderr shows too), and in a
real process only where a real signal is sent."""
from __future__ import annotations

import csv
import json
import re
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from qualiclip import MODELS, QualityScorer, load_model
from qualiclip.cli import main

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture()
def folder(tmp_path: Path, photo: np.ndarray) -> Path:
    images = tmp_path / "images"
    (images / "nested").mkdir(parents=True)
    Image.fromarray(photo).save(images / "a.png")
    Image.fromarray(photo[:, ::-1]).save(images / "nested" / "b.jpg", quality=90)
    Image.fromarray(photo[:100, :150]).save(images / "c.webp")
    (images / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 truncated")
    (images / "notes.txt").write_text("not an image, and not picked up by suffix")
    return images


def _run(capfd: pytest.CaptureFixture, *args: str) -> tuple[int, str, str]:
    """(exit status, stdout, stderr) of ``qualiclip ARGS``, run in this process."""
    status = main(list(args))
    out, err = capfd.readouterr()
    return status, out, err


@pytest.mark.slow  # the same command line end to end as the fast tier's other score tests, on more cases
def test_score_folder_with_a_bad_file(folder: Path, tiny_checkpoint: Path, tmp_path: Path,
                                      capfd: pytest.CaptureFixture) -> None:
    out_csv = tmp_path / "scores.csv"
    status, _, err = _run(capfd, "score", str(folder), "--weights", str(tiny_checkpoint), "--csv", str(out_csv))
    assert status == 1, err
    assert "skipped" in err and "broken.jpg" in err
    assert "scored 3 of 4 files; 1 failed" in err
    rows = list(csv.DictReader(out_csv.open()))
    assert [Path(r["path"]).name for r in rows] == ["a.png", "c.webp", "b.jpg"]
    expected = load_model(weights=tiny_checkpoint).score([folder / "a.png"])[0]
    assert float(rows[0]["score"]) == pytest.approx(expected.score, abs=1e-5)
    assert float(rows[0]["p_good_photo"]) == pytest.approx(expected.pair_probabilities[0], abs=1e-5)
    assert len(rows[0]) == 2 + 7


@pytest.mark.slow  # the same command line end to end as the fast tier's other score tests, on more cases
def test_json_output_and_clean_exit(folder: Path, tiny_checkpoint: Path, capfd: pytest.CaptureFixture) -> None:
    (folder / "broken.jpg").unlink()
    status, out, err = _run(capfd, "score", str(folder / "a.png"), str(folder / "nested"), "--weights",
                            str(tiny_checkpoint), "--json")
    assert status == 0, err
    records = json.loads(out)
    assert [Path(r["path"]).name for r in records] == ["a.png", "b.jpg"]
    assert all(0 <= r["score"] <= 1 and len(r["pair_probabilities"]) == 7 for r in records)


@pytest.mark.slow  # the same command line end to end as the fast tier's other score tests, on more cases
def test_missing_weights_fail_with_a_clear_message(folder: Path, tmp_path: Path, capfd: pytest.CaptureFixture) -> None:
    status, _, err = _run(capfd, "score", str(folder / "a.png"), "--weights", str(tmp_path / "absent.pth"))
    assert status == 2
    assert "absent.pth" in err and "does not exist" in err
    assert "Traceback" not in err


# -- checkpoints: every problem is one line and status 2, in every command -----------------------
@pytest.fixture(scope="module")
def bad_checkpoints(tiny_checkpoint: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("bad_checkpoints")
    raw = torch.load(tiny_checkpoint, weights_only=True)
    files = {"not-a-checkpoint": folder / "photo.pth", "truncated": folder / "truncated.pth"}
    files["not-a-checkpoint"].write_bytes(b"\x89PNG\r\n\x1a\n not a checkpoint at all")
    whole = tiny_checkpoint.read_bytes()
    files["truncated"].write_bytes(whole[: len(whole) // 2])
    for name, key, value in (("hf-hub-arch", "arch", "hf-hub:x/y"), ("nan-scale", "logit_scale", float("nan")),
                             ("wrong-prompts", "prompts_features", torch.zeros(12, 64))):
        torch.save({**raw, key: value}, folder / f"{name}.pth")
        files[name] = folder / f"{name}.pth"
    return files


def _command(kind: str, weights: Path, tmp_path: Path, photo: np.ndarray) -> list[str]:
    images = tmp_path / "images"
    images.mkdir(exist_ok=True)
    Image.fromarray(photo).save(images / "a.png")
    if kind == "score":
        return ["score", str(images / "a.png"), "--weights", str(weights)]
    if kind == "eval":
        (tmp_path / "mos.csv").write_text("image_name,MOS\na.png,3.5\n")
        return ["eval", "--weights", str(weights), "--images", str(images), "--mos", str(tmp_path / "mos.csv"),
                "--out", str(tmp_path / "scores.csv")]
    if kind == "eval-synthetic":
        return ["eval-synthetic", "--weights", str(weights), str(images), "--types", "jpeg"]
    return ["train", str(images), "--init", str(weights), "--out", str(tmp_path / "run"), "--workers", "0"]


@pytest.mark.parametrize("kind", ["score", *(pytest.param(kind, marks=pytest.mark.slow)  # the same check per command
                                  for kind in ("eval", "eval-synthetic", "train"))])
def test_checkpoint_problems_are_one_error_line_and_status_2(kind: str, bad_checkpoints: dict[str, Path],
                                                            tmp_path: Path, photo: np.ndarray,
                                                            capsys: pytest.CaptureFixture) -> None:
    expected = {"not-a-checkpoint": "is not a readable PyTorch checkpoint", "truncated": "is not a readable",
                "hf-hub-arch": "unknown architecture 'hf-hub:x/y'", "nan-scale": "'logit_scale' must be a positive",
                "wrong-prompts": "'prompts_features' has shape (12, 64), expected (14, 64)"}
    for problem, weights in bad_checkpoints.items():
        assert main(_command(kind, weights, tmp_path, photo)) == 2, problem
        captured = capsys.readouterr()
        assert captured.err.count("\n") == 1 and captured.err.startswith("error: "), (problem, captured.err)
        assert expected[problem] in captured.err and str(weights) in captured.err, (problem, captured.err)
        assert captured.out == ""
    assert not (tmp_path / "run").exists() and not (tmp_path / "scores.csv").exists()


@pytest.mark.slow  # the same command line end to end as the fast tier's other score tests, on more cases
def test_a_hostile_checkpoint_is_one_line_on_stderr(bad_checkpoints: dict[str, Path], folder: Path,
                                                    capfd: pytest.CaptureFixture) -> None:
    status, _, err = _run(capfd, "score", str(folder / "a.png"), "--weights", str(bad_checkpoints["hf-hub-arch"]))
    assert status == 2
    assert err.splitlines() == [f"error: {bad_checkpoints['hf-hub-arch']}: unknown architecture "
                                "'hf-hub:x/y': not one of this project's (qualiclip-tiny) nor of "
                                "open_clip's built-in configs"]


# -- outputs: CSV cells cannot be formulas, JSON is always JSON -----------------------------------
@pytest.mark.slow  # the same command line end to end as the fast tier's other score tests, on more cases
def test_score_csv_escapes_file_names_that_look_like_formulas(tiny_checkpoint: Path, tmp_path: Path,
                                                              photo: np.ndarray, capfd: pytest.CaptureFixture,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    names = ["=2+5.png", "@SUM(1,2).png", "-x.png", "+x.png", "plain.png"]
    for name in names:
        Image.fromarray(photo).save(tmp_path / name)
    monkeypatch.chdir(tmp_path)
    status, _, err = _run(capfd, "score", "--weights", str(tiny_checkpoint), "--csv", "out.csv", "--", *names)
    assert status == 0, err
    rows = list(csv.reader((tmp_path / "out.csv").open(newline="")))
    assert [row[0] for row in rows[1:]] == ["'=2+5.png", "'@SUM(1,2).png", "'-x.png", "'+x.png", "plain.png"]
    expected = load_model(weights=tiny_checkpoint).score([photo])[0]
    for row in rows[1:]:
        assert float(row[1]) == pytest.approx(expected.score, abs=1e-5)
        assert all(not cell.startswith("'") for cell in row[1:]), "numbers are written as numbers"


def test_json_output_is_valid_when_scores_are_not_finite(tiny_checkpoint: Path, folder: Path,
                                                         monkeypatch: pytest.MonkeyPatch,
                                                         capsys: pytest.CaptureFixture) -> None:
    """A logit scale of infinity makes real scores NaN; JSON has no NaN, so they become null."""
    import qualiclip.commands

    overflowing = load_model(weights=tiny_checkpoint)
    overflowing.logit_scale = float("inf")
    assert np.isnan(overflowing.score([folder / "a.png"])[0].score)
    monkeypatch.setattr(qualiclip.commands, "model_from_options", lambda args: overflowing)
    assert main(["score", str(folder / "a.png"), str(folder / "c.webp"), "--json"]) == 0
    records = json.loads(capsys.readouterr().out)
    assert [record["score"] for record in records] == [None, None]
    assert all(p is None or 0 <= p <= 1 for record in records for p in record["pair_probabilities"])


# -- command-line hardening -------------------------------------------------------------------------
def test_only_regular_files_are_opened(tiny_checkpoint: Path, folder: Path, tmp_path: Path, make_fifo,
                                       capsys: pytest.CaptureFixture) -> None:
    (folder / "broken.jpg").unlink()
    inside, named = make_fifo(folder / "pipe.png"), make_fifo(tmp_path / "named.jpg")
    started = time.perf_counter()
    code = main(["score", str(folder), str(named), "--weights", str(tiny_checkpoint)])
    elapsed = time.perf_counter() - started
    err = capsys.readouterr().err
    assert f"skipped {inside}: not a regular file" in err and f"skipped {named}: not a regular file" in err
    assert "scored 3 of 5 files; 2 failed" in err and code == 1
    assert elapsed < 5.0, "a FIFO must be skipped, never waited on (make_fifo releases a waiting reader at 5 s)"


@pytest.mark.parametrize("option, value, message", [
    ("--batch-size", "0", "argument --batch-size: must be at least 1, got 0"),
    ("--batch-size", "-1", "argument --batch-size: must be at least 1, got -1"),
    ("--max-side", "0", "argument --max-side: must be at least 32 (the model's smallest side), got 0"),
    ("--max-side", "-1", "argument --max-side: must be at least 32"),
    ("--max-side", "31", "argument --max-side: must be at least 32"),
    ("--max-side", "big", "argument --max-side: expected a whole number, got 'big'"),
    ("--device", "banana", "argument --device: Expected one of cpu, cuda"),
])
@pytest.mark.parametrize("command", ["score", "eval-synthetic"])
def test_option_values_are_checked_before_anything_runs(command: str, option: str, value: str, message: str,
                                                        tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit) as exited:
        main([command, str(tmp_path), option, value])
    assert exited.value.code == 2
    assert message in capsys.readouterr().err


def test_the_smallest_max_side_is_accepted() -> None:
    from qualiclip.cli import build_parser
    from qualiclip.imaging import MIN_SIDE

    args = build_parser().parse_args(["score", "x.png", "--max-side", str(MIN_SIDE), "--batch-size", "1"])
    assert (args.max_side, args.batch_size) == (MIN_SIDE, 1)
    assert build_parser().parse_args(["score", "x.png"]).max_side is None


@pytest.mark.parametrize("kind", ["score", "eval", "eval-synthetic"])
def test_an_unwritable_output_fails_before_the_model_loads(kind: str, tmp_path: Path, photo: np.ndarray,
                                                          capsys: pytest.CaptureFixture) -> None:
    blocked = tmp_path / "a_file"
    blocked.write_text("a file where a folder should be")
    absent_weights = tmp_path / "absent.pth"  # loading it would fail with another message
    argv = _command(kind, absent_weights, tmp_path, photo)
    argv += {"score": ["--csv"], "eval": ["--out"], "eval-synthetic": ["--csv"]}[kind] + [str(blocked / "out.csv")]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: cannot write {blocked / 'out.csv'}: ") and err.count("\n") == 1, err
    assert "absent.pth" not in err


# -- Ctrl-C: one line, status 130, what was written stays ---------------------------------------------
def _interrupt_after_first_batch(monkeypatch: pytest.MonkeyPatch) -> None:
    """``QualityScorer.score`` works once, then raises KeyboardInterrupt as Ctrl-C would."""
    original = QualityScorer.score
    calls = []

    def score(self, *args, **kwargs):
        calls.append(1)
        if len(calls) > 1:
            raise KeyboardInterrupt
        return original(self, *args, **kwargs)

    monkeypatch.setattr(QualityScorer, "score", score)


def _main_after_ctrl_c(argv: list[str]) -> int:
    try:
        return main(argv)
    except KeyboardInterrupt:
        pytest.fail("Ctrl-C escaped the command line")


def test_ctrl_c_during_score_keeps_the_rows_written(tiny_checkpoint: Path, folder: Path, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture) -> None:
    _interrupt_after_first_batch(monkeypatch)
    (folder / "broken.jpg").unlink()
    out_csv = tmp_path / "scores.csv"
    code = _main_after_ctrl_c(["score", str(folder), "--weights", str(tiny_checkpoint), "--csv", str(out_csv),
                               "--batch-size", "2"])
    assert code == 130
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert last == f"interrupted; 2 of 3 files scored; {out_csv} keeps them"
    rows = list(csv.DictReader(out_csv.open()))
    assert [Path(row["path"]).name for row in rows] == ["a.png", "c.webp"]
    assert all(0 <= float(row["score"]) <= 1 for row in rows)


def _lines(path: Path) -> int:
    """Lines of a file another process is writing; 0 while it is absent (the command's write check
    creates and removes the file once before the real one appears, so it may vanish between two reads)."""
    try:
        return len(path.read_text().splitlines())
    except FileNotFoundError:
        return 0


@pytest.mark.slow  # fresh Python processes importing torch, or several models
def test_sigint_to_a_real_score_process(tiny_checkpoint: Path, folder: Path, tmp_path: Path,
                                       popen_with_ctrl_c) -> None:
    """The real thing: SIGINT while the command scores (one file a batch, listed 200 times)."""
    out_csv = tmp_path / "scores.csv"
    process = popen_with_ctrl_c([sys.executable, "-m", "qualiclip", "score", *[str(folder / "a.png")] * 200,
                                "--weights", str(tiny_checkpoint), "--csv", str(out_csv), "--batch-size", "1"],
                                cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and process.poll() is None:
            if _lines(out_csv) >= 2:
                break
            time.sleep(0.02)
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == 130, err
    assert "Traceback" not in err
    last = err.strip().splitlines()[-1]
    assert re.fullmatch(rf"interrupted; \d+ of 200 files scored; {re.escape(str(out_csv))} keeps them", last), last
    counted, written = int(last.split()[1]), len(out_csv.read_text().splitlines()) - 1
    assert 1 <= written and counted <= written <= counted + 1 < 200, "a row written as Ctrl-C came may be uncounted"


@pytest.mark.slow  # an evaluation run interrupted and run again
def test_ctrl_c_during_eval_keeps_the_rows_and_a_rerun_resumes(tiny_checkpoint: Path, tmp_path: Path,
                                                                photo: np.ndarray, monkeypatch: pytest.MonkeyPatch,
                                                                capsys: pytest.CaptureFixture) -> None:
    images = tmp_path / "images"
    images.mkdir()
    names = [f"img{index}.png" for index in range(5)]
    for index, name in enumerate(names):
        Image.fromarray(np.roll(photo, 7 * index, axis=1)).save(images / name)
    (tmp_path / "mos.csv").write_text("image_name,MOS\n" + "".join(f"{n},{i + 1}\n" for i, n in enumerate(names)))
    out = tmp_path / "scores.csv"
    argv = ["eval", "--weights", str(tiny_checkpoint), "--images", str(images), "--mos", str(tmp_path / "mos.csv"),
            "--out", str(out), "--batch-size", "2"]
    with monkeypatch.context() as patch:
        _interrupt_after_first_batch(patch)
        assert _main_after_ctrl_c(argv) == 130
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert last == f"interrupted; 2 of 5 images scored; {out} keeps them and a rerun goes on from there"
    assert [row["image"] for row in csv.DictReader(out.open())] == names[:2]
    assert main(argv) == 0
    assert [row["image"] for row in csv.DictReader(out.open())] == names


def test_ctrl_c_during_eval_synthetic(tiny_checkpoint: Path, folder: Path, tmp_path: Path,
                                      monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    _interrupt_after_first_batch(monkeypatch)
    (folder / "broken.jpg").unlink()
    table = tmp_path / "synthetic.csv"
    code = _main_after_ctrl_c(["eval-synthetic", str(folder / "nested"), "--weights", str(tiny_checkpoint),
                               "--types", "jpeg", "gaussian_blur", "--csv", str(table)])
    assert code == 130
    assert capsys.readouterr().err.strip().splitlines()[-1] == "interrupted; 1 of 2 series scored"
    assert not table.exists()


# -- folders: every format Pillow opens, the rest reported ---------------------------------------------
def test_folder_search_uses_pillow_formats_and_reports_the_rest(tiny_checkpoint: Path, folder: Path,
                                                                 photo: np.ndarray,
                                                                 capsys: pytest.CaptureFixture) -> None:
    from PIL import features

    from qualiclip.image_files import IMAGE_SUFFIXES, images_below

    Image.init()
    openable = {s for s, kind in Image.registered_extensions().items() if kind in Image.OPEN}
    assert IMAGE_SUFFIXES == openable - {".eps", ".ps"}  # every format but Ghostscript's
    assert {".jpg", ".png", ".webp", ".tif", ".gif", ".bmp"} <= IMAGE_SUFFIXES
    assert (".avif" in IMAGE_SUFFIXES) == features.check("avif")
    (folder / "broken.jpg").unlink()
    (folder / "readme.md").write_text("#")
    (folder / "nested" / "data.json").write_text("{}")
    Image.fromarray(photo).save(folder / "d.QOI" if not features.check("avif") else folder / "d.avif")
    expected = sorted(path.name for path in folder.rglob("*") if path.suffix.lower() in IMAGE_SUFFIXES)
    assert sorted(path.name for path in images_below(folder)) == expected  # what training sees too
    assert main(["score", str(folder), "--weights", str(tiny_checkpoint)]) == 0
    captured = capsys.readouterr()
    assert (f"skipped 3 files that are not images: {folder / 'nested' / 'data.json'}, {folder / 'notes.txt'}, "
            f"{folder / 'readme.md'}") in captured.err.splitlines()
    assert sorted(Path(line.split()[1]).name for line in captured.out.splitlines()) == expected


# -- multi-frame files -------------------------------------------------------------------------------------
def _multi_frame_files(folder: Path, photo: np.ndarray) -> list[Path]:
    frames = [Image.fromarray(np.roll(photo, 9 * index, axis=1)) for index in range(3)]
    frames[0].save(folder / "animated.gif", save_all=True, append_images=frames[1:])
    frames[0].save(folder / "pages.tiff", save_all=True, append_images=frames[1:2])
    return [folder / "animated.gif", folder / "pages.tiff"]


def test_multi_frame_files_get_a_notice_and_single_frames_none(tiny_checkpoint: Path, folder: Path,
                                                              photo: np.ndarray, monkeypatch: pytest.MonkeyPatch,
                                                              capsys: pytest.CaptureFixture) -> None:
    """The CLI's part: a file whose prepared image has frames > 1 gets one notice line. The frame count
    is imaging's part; here it comes from the real frame count Pillow reports."""
    import dataclasses

    gif, tiff = _multi_frame_files(folder, photo)
    original = QualityScorer.prepare

    def prepare(self, image, **kwargs):
        prepared = original(self, image, **kwargs)
        if isinstance(image, Path) and image.suffix in (".gif", ".tiff"):
            with Image.open(image) as opened:
                return dataclasses.replace(prepared, frames=opened.n_frames)
        return prepared

    monkeypatch.setattr(QualityScorer, "prepare", prepare)
    assert main(["score", str(gif), str(tiff), str(folder / "a.png"), "--weights", str(tiny_checkpoint)]) == 0
    notices = [line for line in capsys.readouterr().err.splitlines() if line.startswith("notice:")]
    assert notices == [f"notice: {gif} has 3 frames; the score is of the first",
                       f"notice: {tiff} has 2 frames; the score is of the first"]


def test_multi_frame_files_get_a_notice_end_to_end(tiny_checkpoint: Path, folder: Path, photo: np.ndarray,
                                                   capsys: pytest.CaptureFixture) -> None:
    gif, tiff = _multi_frame_files(folder, photo)
    assert main(["score", str(gif), str(tiff), str(folder / "a.png"), "--weights", str(tiny_checkpoint)]) == 0
    notices = [line for line in capsys.readouterr().err.splitlines() if line.startswith("notice:")]
    assert notices == [f"notice: {gif} has 3 frames; the score is of the first",
                       f"notice: {tiff} has 2 frames; the score is of the first"]


# -- help: instant, plain, complete (issue 21 item 9, issue 22) --------------------------------------
COMMANDS = ("score", "score-dataset", "train", "eval-synthetic", "eval", "export-onnx")


def test_help_of_every_command_imports_no_torch(fresh_imports) -> None:
    """``--help`` of the command and of each sub-command, in a fresh interpreter (tests/fresh_imports.py):
    torch, open_clip and numpy stay out of sys.modules (they are imported only when a sub-command runs)."""
    helped = fresh_imports.after("every --help")
    assert set(COMMANDS) <= set(helped.value["commands"]) and set(helped.value["codes"]) == {0}
    assert helped.loaded("torch", "open_clip", "numpy", "PIL", "cv2") == []
    assert "usage: qualiclip score " in helped.printed and "usage: qualiclip eval " in helped.printed


def _subparsers():
    from qualiclip.cli import build_parser

    parser = build_parser()
    [commands] = [action for action in parser._actions if action.dest == "command"]
    return parser, commands.choices


def test_help_is_plain_text_with_help_for_every_option() -> None:
    parser, commands = _subparsers()
    assert set(commands) == set(COMMANDS)
    for name, sub in [("qualiclip", parser), *commands.items()]:
        text = sub.format_help()
        assert not re.search(r"``|:(mod|class|func|meth|data):`", text), f"{name} --help shows reST markup"
        undocumented = [action.option_strings or action.dest for action in sub._actions
                        if not action.help and action.dest != "command"]
        assert not undocumented, f"{name}: options without help: {undocumented}"


def test_model_help_lists_every_model_and_which_need_a_download() -> None:
    from qualiclip import MODELS

    _, commands = _subparsers()
    text = re.sub(r"(?<=\w)- (?=\w)", "-", " ".join(commands["score"].format_help().split()))  # unwrap lines
    for name, spec in MODELS.items():
        state = "downloaded once" if spec.remote else "works offline"
        assert f"{name}: {spec.title}, {state}" in text


def test_offline_error_suggests_the_bundled_model(folder: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture) -> None:
    """Offline (an unreachable URL, an empty cache), the one error line ends with the flag that works."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch-home"))
    monkeypatch.setenv("QUALICLIP_WEIGHTS", "")
    spec = MODELS["qualiclip"]
    monkeypatch.setitem(MODELS, "qualiclip",
                        replace(spec, remote=replace(spec.remote, url="http://127.0.0.1:9/qualiclip.pth")))
    assert main(["score", str(folder / "a.png")]) == 2
    err = capsys.readouterr().err
    [line] = [line for line in err.splitlines() if line.startswith("error:")]
    assert line.endswith("use the bundled model: --model qualiclip-offline.")
    assert "http://127.0.0.1:9/qualiclip.pth" in line and "Traceback" not in err
    assert not (tmp_path / "torch-home").exists() or not any((tmp_path / "torch-home").rglob("*.pth"))


def test_a_skipped_file_is_named_once(folder: Path, tiny_checkpoint: Path, tmp_path: Path,
                                      capsys: pytest.CaptureFixture) -> None:
    small = tmp_path / "small.png"
    Image.new("RGB", (20, 20)).save(small)
    code = main(["score", str(folder / "broken.jpg"), str(small), "--weights", str(tiny_checkpoint)])
    lines = [line for line in capsys.readouterr().err.splitlines() if line.startswith("skipped")]
    assert code == 1 and len(lines) == 2
    for line, path in zip(lines, (folder / "broken.jpg", small)):
        assert line.count(str(path)) == 1 and line.count(path.name) == 1, line


def test_an_elongated_strip_is_scored_as_the_help_says(tiny_checkpoint: Path, tmp_path: Path,
                                                        capsys: pytest.CaptureFixture) -> None:
    """A 6000x40 strip at --max-side 768: shrunk only until its shorter side is 32 px (4800x32, within
    768 squared pixels) and scored; a 40000x40 strip would be 32000x32, over 768 squared pixels, and is refused."""
    from qualiclip.imaging import downscale_reason, prepare

    strip, longer = tmp_path / "strip.png", tmp_path / "longer.png"
    Image.new("RGB", (6000, 40), (120, 90, 60)).save(strip)
    Image.new("RGB", (40000, 40), (120, 90, 60)).save(longer)
    prepared = prepare(strip, 768)
    assert prepared.size == (4800, 32) and prepared.original_size == (6000, 40)
    assert downscale_reason(prepared.original_size, prepared.size) == (
        "shrunk only until its shorter side reached the model's 32 px minimum")
    from qualiclip.studio.formatting import scale_notice

    assert scale_notice(prepared) == ("Downscaled from 6000x40 to 4800x32 px for scoring (shrunk only until its "
                                      "shorter side reached the model's 32 px minimum).")
    code = main(["score", str(strip), str(longer), "--max-side", "768", "--weights", str(tiny_checkpoint)])
    captured = capsys.readouterr()
    assert code == 1 and str(strip) in captured.out
    assert f"skipped {longer}: image is 40000x40: too elongated to score within the 768 px cap" in captured.err
    assert "shorter side is 32 px, and refused if it then has more than MAX_SIDE squared pixels" in " ".join(
        _subparsers()[1]["score"].format_help().split())
