"""``python -m qualiclip score`` end to end, in a real subprocess, on a folder with a bad file."""
from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from qualiclip import load_model

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


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "qualiclip", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=300)


def test_score_folder_with_a_bad_file(folder: Path, tiny_checkpoint: Path, tmp_path: Path) -> None:
    out_csv = tmp_path / "scores.csv"
    result = _run("score", str(folder), "--weights", str(tiny_checkpoint), "--csv", str(out_csv))
    assert result.returncode == 1, result.stderr
    assert "skipped" in result.stderr and "broken.jpg" in result.stderr
    assert "scored 3 of 4 files; 1 failed" in result.stderr
    rows = list(csv.DictReader(out_csv.open()))
    assert [Path(r["path"]).name for r in rows] == ["a.png", "c.webp", "b.jpg"]
    expected = load_model(weights=tiny_checkpoint).score([folder / "a.png"])[0]
    assert float(rows[0]["score"]) == pytest.approx(expected.score, abs=1e-5)
    assert float(rows[0]["p_good_photo"]) == pytest.approx(expected.pair_probabilities[0], abs=1e-5)
    assert len(rows[0]) == 2 + 7


def test_json_output_and_clean_exit(folder: Path, tiny_checkpoint: Path) -> None:
    (folder / "broken.jpg").unlink()
    result = _run("score", str(folder / "a.png"), str(folder / "nested"), "--weights", str(tiny_checkpoint), "--json")
    assert result.returncode == 0, result.stderr
    records = json.loads(result.stdout)
    assert [Path(r["path"]).name for r in records] == ["a.png", "b.jpg"]
    assert all(0 <= r["score"] <= 1 and len(r["pair_probabilities"]) == 7 for r in records)


def test_missing_weights_fail_with_a_clear_message(folder: Path, tmp_path: Path) -> None:
    result = _run("score", str(folder / "a.png"), "--weights", str(tmp_path / "absent.pth"))
    assert result.returncode == 2
    assert "absent.pth" in result.stderr and "does not exist" in result.stderr
    assert "Traceback" not in result.stderr
