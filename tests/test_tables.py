"""Every CSV the project writes is safe in a spreadsheet: text that starts a formula is escaped,
numbers stay numbers, and what is read back is what was written."""
from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from qualiclip import QualiCLIPError, QualityScorer
from qualiclip.evaluation.synthetic import TypeSummary, write_summary_csv
from qualiclip.csv_files import CsvWriter, check_writable, escape_cell, read_rows, unescape_cell

#: Names a user may give a file; each starts like a formula, a quote, or plain text.
NAMES = ["=2+5.png", "@SUM(1,2).png", "+1.png", "-1.png", "\tx.png", "\rx.png", "'=quoted.png", "plain.png",
         "=HYPERLINK(\"http://x\",\"y\")"]


def _raw_cells(path: Path) -> list[list[str]]:
    with path.open(newline="") as handle:
        return list(csv.reader(handle))


def test_text_starting_a_formula_is_escaped_and_read_back_exactly() -> None:
    for name in NAMES:
        escaped = escape_cell(name)
        assert not escaped.startswith(("=", "+", "-", "@", "\t", "\r"))
        assert unescape_cell(escaped) == name
    assert escape_cell("plain.png") == "plain.png"
    assert escape_cell("a=b") == "a=b", "only the first character matters"
    assert escape_cell(-0.8) == -0.8 and escape_cell(-3) == -3 and escape_cell(None) is None


def test_csv_writer_escapes_text_not_numbers_and_read_rows_undoes_it() -> None:
    buffer = io.StringIO()
    writer = CsvWriter(buffer)
    writer.writerow(["name", "value"])
    for index, name in enumerate(NAMES):
        writer.writerow([name, -0.5 * index])
    cells = list(csv.reader(io.StringIO(buffer.getvalue())))
    assert [row[0] for row in cells[1:]] == ["'=2+5.png", "'@SUM(1,2).png", "'+1.png", "'-1.png", "'\tx.png",
                                             "'\rx.png", "''=quoted.png", "plain.png", "'=HYPERLINK(\"http://x\",\"y\")"]
    assert [float(row[1]) for row in cells[1:]] == [-0.5 * index for index in range(len(NAMES))]
    assert cells[2][1] == "-0.5", "a negative number is written as a number"
    rows = list(read_rows(io.StringIO(buffer.getvalue())))
    assert [row["name"] for row in rows] == NAMES


def test_synthetic_summary_keeps_negative_spearman_numeric(tmp_path: Path) -> None:
    summaries = [TypeSummary("=cmd|' /C calc'!A0", -0.8, 0.25, 3), TypeSummary("overall", -0.8, 0.25, 3)]
    cells = _raw_cells(write_summary_csv(tmp_path / "summary.csv", summaries))
    assert cells[1] == ["'=cmd|' /C calc'!A0", "-0.8", "0.25", "3"]
    assert cells[2] == ["overall", "-0.8", "0.25", "3"]


def test_studio_batch_csv_escapes_file_names_and_errors(tiny_model: QualityScorer, tmp_path: Path,
                                                        photo: np.ndarray) -> None:
    from qualiclip.studio.batch import score_table, write_csv

    Image.fromarray(photo).save(tmp_path / "=2+5.png")
    Image.fromarray(photo).save(tmp_path / "@SUM(1,2).png")
    (tmp_path / "-bad.png").write_bytes(b"not an image")
    table = score_table(tiny_model, [tmp_path / "=2+5.png", tmp_path / "@SUM(1,2).png", tmp_path / "-bad.png"])
    cells = _raw_cells(write_csv(table))
    header, rows = cells[0], cells[1:]
    assert [row[header.index("file")] for row in rows] == ["'=2+5.png", "'@SUM(1,2).png", "'-bad.png"]
    assert rows[2][header.index("error")] == "'-bad.png is not an image file Pillow can read"
    score = rows[0][header.index("score")]
    assert float(score) == pytest.approx(table["score"][0]) and not score.startswith("'")


def test_check_writable_refuses_in_a_second_and_leaves_nothing(tmp_path: Path, make_fifo) -> None:
    fine = tmp_path / "new" / "scores.csv"
    check_writable(fine)
    assert not fine.exists(), "the probe leaves no file behind"
    existing = tmp_path / "kept.csv"
    existing.write_text("a,b\n")
    check_writable(existing)
    assert existing.read_text() == "a,b\n", "an existing file is not truncated"
    (tmp_path / "file.txt").write_text("x")
    for bad, reason in ((tmp_path, "not a regular file"), (tmp_path / "file.txt" / "x.csv", "cannot write"),
                        (make_fifo(tmp_path / "pipe.csv"), "not a regular file")):
        with pytest.raises(QualiCLIPError, match=reason):
            check_writable(bad)
