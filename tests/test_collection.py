"""``score-dataset`` with the local engine: sources, the Parquet store and resume, the real command line."""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import make_collection

from qualiclip import QualityScorer
from qualiclip.cli import main
from qualiclip.collection.local_engine import score_locally
from qualiclip.collection.rows import COLUMNS
from qualiclip.collection.run import NOT_REGULAR, CollectionRun
from qualiclip.collection.sources import list_source, prepare_entry
from qualiclip.collection.store import TEMPORARY_PREFIX, ResultStore
from qualiclip.errors import QualiCLIPError
from qualiclip.imaging import PreparedImage
from qualiclip.prompts import PAIR_COLUMNS

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def collection(tmp_path_factory: pytest.TempPathFactory, photo: np.ndarray) -> tuple[Path, list[Path], list[Path]]:
    folder = tmp_path_factory.mktemp("collection")
    usable, unusable = make_collection(folder, photo)
    (folder / "notes.txt").write_text("not an image, passed over by suffix")
    return folder, usable, unusable


def by_path(table: pa.Table) -> dict[str, dict[str, object]]:
    rows = table.to_pylist()
    assert len({row["path"] for row in rows}) == len(rows), "a path has two rows"
    return {row["path"]: row for row in rows}


# -- sources --------------------------------------------------------------------------------------
def test_listings_in_every_format_name_the_same_entries(collection, tmp_path: Path) -> None:
    folder, usable, unusable = collection
    found = list_source(str(folder))
    assert sorted(found.entries) == sorted(map(str, usable + unusable))
    assert found.not_images == [str(folder / "notes.txt")]
    names = [str(path) for path in usable[:3]]
    (tmp_path / "list.txt").write_text("\n".join([names[0], "", names[1], names[0], names[2]]) + "\n")
    (tmp_path / "list.csv").write_text("id,path\n1," + names[0] + "\n2," + names[1] + "\n3," + names[2] + "\n")
    pq.write_table(pa.table({"path": names}), tmp_path / "list.parquet")
    pq.write_table(pa.table({"file": [path.as_uri() for path in usable[:3]]}), tmp_path / "uris.parquet")
    for listing in ("list.txt", "list.csv", "list.parquet"):
        assert list_source(str(tmp_path / listing)).entries == names, listing
    assert list_source(str(tmp_path / "list.txt")).duplicates == 1
    assert list_source(str(tmp_path / "uris.parquet")).entries == [path.as_uri() for path in usable[:3]]
    remote = list_source(folder.as_uri())  # a folder as a URI: searched through pyarrow's filesystem
    assert sorted(remote.entries) == sorted(path.as_uri() for path in usable + unusable)
    with pytest.raises(QualiCLIPError, match="does not exist"):
        list_source(str(tmp_path / "absent"))
    with pytest.raises(QualiCLIPError, match="cannot read"):
        list_source(str(tmp_path / "absent.txt"))
    binary = tmp_path / "binary.txt"
    binary.write_bytes(b"\xff\xfe\x00photo.jpg\n\x89PNG")
    with pytest.raises(QualiCLIPError, match="binary.txt: not UTF-8 text"):
        list_source(str(binary))


def test_a_csv_listing_reads_the_escaped_cells_the_project_writes(tmp_path: Path, photo: np.ndarray) -> None:
    from PIL import Image

    odd = tmp_path / "=2+5.png"
    Image.fromarray(photo).save(odd)
    (tmp_path / "list.csv").write_text(f"path\n'{odd}\n" if str(odd).startswith("=") else f"path\n{odd}\n")
    assert list_source(str(tmp_path / "list.csv")).entries == [str(odd)]


def test_uris_and_paths_prepare_the_same_pixels_and_errors_name_the_uri(collection) -> None:
    _, usable, unusable = collection
    local, remote = prepare_entry(str(usable[0]), 64), prepare_entry(usable[0].as_uri(), 64)
    assert isinstance(local, PreparedImage) and isinstance(remote, PreparedImage)
    assert local.pixels.equal(remote.pixels) and local.original_size == remote.original_size == (128, 128)
    error = prepare_entry(unusable[2].as_uri(), None)
    assert isinstance(error, QualiCLIPError) and str(error).startswith(unusable[2].as_uri() + " is not an image")
    missing = prepare_entry(usable[0].as_uri() + ".absent", None)
    assert isinstance(missing, QualiCLIPError) and "cannot read" in str(missing)


# -- store ----------------------------------------------------------------------------------------
def test_parts_are_whole_and_a_killed_runs_temporary_file_is_dropped(tmp_path: Path) -> None:
    store = ResultStore(str(tmp_path / "out.parquet"))
    store.open()
    rows = pa.Table.from_pylist([{"path": f"p{i}", "score": i / 10, "width": 64, "height": 48} for i in range(5)],
                                schema=store.read().schema)
    with store.writer(commit_rows=2) as writer:
        writer.add(rows.slice(0, 2))  # committed at once
        assert len(store.parts()) == 1
        writer.add(rows.slice(2, 1))  # waits
        assert len(store.parts()) == 1
        writer.add(rows.slice(3, 2))
    assert store.done_paths() == {f"p{i}" for i in range(5)} and len(store.parts()) == 2
    leftover = tmp_path / "out.parquet" / f"{TEMPORARY_PREFIX}part-x.parquet"
    leftover.write_bytes(b"PAR1 half a file")  # what a run killed while writing leaves
    reopened = ResultStore(str(tmp_path / "out.parquet"))
    reopened.open()
    assert not leftover.exists() and reopened.read().num_rows == 5
    assert pq.read_table(tmp_path / "out.parquet").num_rows == 5  # readers see one table
    (tmp_path / "file.parquet").write_bytes(b"")
    with pytest.raises(QualiCLIPError, match="not a folder"):
        ResultStore(str(tmp_path / "file.parquet")).open()


# -- the local engine -----------------------------------------------------------------------------
def test_local_run_rows_and_resume_without_duplicates(collection, tiny_model: QualityScorer, tmp_path: Path) -> None:
    folder, usable, unusable = collection
    out = str(tmp_path / "out.parquet")
    run = CollectionRun(str(folder), out)
    assert len(run.todo) == 60 and run.done == 0

    def stop_after_24_rows(table: pa.Table) -> None:
        if run.scored + run.failed >= 24:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run.write(score_locally(tiny_model, run.todo, 8), on_rows=stop_after_24_rows, commit_rows=10_000)
    assert ResultStore(out).read().num_rows == 24  # the waiting rows were committed on the way out
    resumed = CollectionRun(str(folder), out)
    assert resumed.done == 24 and resumed.todo == run.todo[24:]
    resumed.write(score_locally(tiny_model, resumed.todo, 8))
    assert (resumed.scored, resumed.failed) == (54 - run.scored, 6 - run.failed)
    rows = by_path(ResultStore(out).read())
    assert set(rows) == {str(path) for path in usable + unusable}
    assert CollectionRun(str(folder), out).todo == []
    expected = tiny_model.score(usable[:2])
    for path, result in zip(usable[:2], expected):
        row = rows[str(path)]
        assert row["score"] == pytest.approx(result.score, abs=1e-6)
        assert [row[name] for name in PAIR_COLUMNS] == pytest.approx(result.pair_probabilities, abs=1e-6)
        assert row["error"] is None
    assert (rows[str(usable[1])]["width"], rows[str(usable[1])]["height"]) == (128, 96)
    for path in unusable:
        row = rows[str(path)]
        assert row["error"] and row["score"] is None and row["width"] is None and row[PAIR_COLUMNS[0]] is None
    assert all(str(path) in rows[str(path)]["error"] for path in unusable[:-1])  # decoding errors name the file
    assert "both sides must be at least 32" in rows[str(unusable[-1])]["error"]


def test_a_fifo_gets_an_error_row_and_is_never_opened(tmp_path: Path, photo: np.ndarray, make_fifo,
                                                      tiny_model: QualityScorer) -> None:
    from PIL import Image

    (tmp_path / "images").mkdir()
    Image.fromarray(photo).save(tmp_path / "images" / "a.png")
    fifo = make_fifo(tmp_path / "images" / "pipe.png")
    run = CollectionRun(str(tmp_path / "images"), str(tmp_path / "out.parquet"))
    run.write(score_locally(tiny_model, run.todo, 8))
    rows = by_path(ResultStore(str(tmp_path / "out.parquet")).read())
    assert rows[str(fifo)]["error"] == NOT_REGULAR and rows[str(tmp_path / "images" / "a.png")]["error"] is None


# -- the real command line ------------------------------------------------------------------------
def test_command_line_scores_equal_the_score_command(collection, tiny_checkpoint: Path, tmp_path: Path,
                                                     capsys: pytest.CaptureFixture) -> None:
    folder, usable, unusable = collection
    out = tmp_path / "out.parquet"
    common = ["--weights", str(tiny_checkpoint), "--max-side", "96", "--batch-size", "4"]
    assert main(["score-dataset", str(folder), "--out", str(out), *common]) == 1  # some files are unusable
    err = capsys.readouterr().err
    assert "skipped 1 file that is not an image" in err and "scored 54 of 60 files; 6 failed" in err
    assert main(["score", str(folder), "--json", *common]) == 1
    expected = {record["path"]: record for record in json.loads(capsys.readouterr().out)}
    rows = by_path(pq.read_table(out))
    assert list(pq.read_table(out).column_names) == list(COLUMNS)
    assert {path for path, row in rows.items() if row["error"] is None} == set(expected) == set(map(str, usable))
    for path, record in expected.items():
        assert abs(rows[path]["score"] - record["score"]) <= 1e-6, path
        assert np.abs(np.subtract([rows[path][c] for c in PAIR_COLUMNS], record["pair_probabilities"])).max() <= 1e-6
    assert main(["score-dataset", str(folder), "--out", str(out), *common]) == 0
    assert f"60 already in {out}; 0 to score" in capsys.readouterr().err
    assert sorted(list_source(str(out)).entries) == sorted(rows)  # an output folder is a listing too
    assert pq.read_table(out).num_rows == 60
    assert main(["score-dataset", str(folder), "--out", str(out), "--workers", "2"]) == 2
    assert capsys.readouterr().err == "error: --workers only apply to --engine ray\n"


@pytest.mark.slow  # fresh Python processes importing torch, or several models
def test_sigint_keeps_the_rows_and_a_rerun_completes_the_collection(tiny_checkpoint: Path, tmp_path: Path,
                                                                    photo: np.ndarray,
                                                                    capsys: pytest.CaptureFixture,
                                                                    popen_with_ctrl_c) -> None:
    from PIL import Image

    images = tmp_path / "images"
    images.mkdir()
    Image.fromarray(photo).save(tmp_path / "a.png")
    for index in range(200):
        (images / f"link{index:03d}.png").symlink_to(tmp_path / "a.png")
    out = tmp_path / "out.parquet"
    argv = [sys.executable, "-m", "qualiclip", "score-dataset", str(images), "--out", str(out),
            "--weights", str(tiny_checkpoint), "--batch-size", "1"]
    process = popen_with_ctrl_c(argv, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    err: list[str] = []
    reader = threading.Thread(target=lambda: err.extend(iter(lambda: process.stderr.read(1), "")), daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and process.poll() is None:
            if re.search(r"\b([2-9]|\d\d+)/200\b", "".join(err)):
                break
            time.sleep(0.02)
        process.send_signal(signal.SIGINT)
        process.wait(timeout=60)
        reader.join(timeout=10)
    finally:
        process.kill()
    text = "".join(err)
    assert process.returncode == 130, text
    last = text.strip().splitlines()[-1]
    assert re.fullmatch(rf"interrupted; \d+ of 200 files scored; {re.escape(str(out))} keeps them", last), last
    counted, written = int(last.split()[1]), pq.read_table(out).num_rows
    assert 1 <= counted <= written <= counted + 1 < 200, (counted, written)
    assert main(argv[3:]) == 0  # the rerun, in-process
    assert f"{written} already in {out}; {200 - written} to score" in capsys.readouterr().err
    paths = pq.read_table(out).column("path").to_pylist()
    assert sorted(paths) == sorted(str(path) for path in images.iterdir())
    assert not [name for name in os.listdir(out) if name.startswith(".")]
