"""The bundled model's held-out evaluation, recorded: ``tests/data/bundled_holdout.json`` holds the table
``python -m qualiclip eval-synthetic`` gives on the held-out photos (about a minute of CPU) and the key of
what made it, so tests/test_bundled_model.py re-runs the evaluation only when that key changes.

The key is the SHA-256 of the weights file and of the code that decides the table: the distortions
(``qualiclip/degradations/``), the evaluation (``qualiclip/evaluation/``) and the held-out photos' export
(``qualiclip/training/sample_photos.py``). Re-record after a change, from the repository root:
``python -m tests.bundled_holdout``.
"""
from __future__ import annotations

import csv
import hashlib
import json
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RECORD = ROOT / "tests" / "data" / "bundled_holdout.json"
WEIGHTS = ROOT / "qualiclip" / "weights" / "qualiclip-offline.pth"
#: What decides the table besides the weights (globs under the repository root).
SOURCES = ("qualiclip/degradations/*.py", "qualiclip/evaluation/*.py", "qualiclip/training/sample_photos.py")


def current_key() -> dict[str, str]:
    """SHA-256 of the weights, and one over the sources (their paths and contents, in path order)."""
    sources = hashlib.sha256()
    for path in sorted({p for pattern in SOURCES for p in ROOT.glob(pattern)}):
        sources.update(path.relative_to(ROOT).as_posix().encode() + b"\0" + path.read_bytes())
    return {"weights_sha256": hashlib.sha256(WEIGHTS.read_bytes()).hexdigest(), "sources_sha256": sources.hexdigest()}


def evaluate(folder: Path) -> dict[str, dict[str, float]]:
    """The table, per distortion and overall, as ``eval-synthetic`` writes it (run in this process)."""
    from qualiclip.cli import main
    from qualiclip.training.sample_photos import export_sample_photos

    photos = export_sample_photos(folder / "photos")
    table = folder / "synthetic.csv"
    holdout = photos["holdout"][0].parent
    if main(["eval-synthetic", str(holdout), "--model", "qualiclip-offline", "--csv", str(table)]) != 0:
        raise RuntimeError("eval-synthetic failed")
    with table.open() as handle:
        return {row["distortion"]: {k: float(v) for k, v in row.items() if k != "distortion"}
                for row in csv.DictReader(handle)}


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        table = evaluate(Path(tmp))
    RECORD.write_text(json.dumps({**current_key(), "table": table}, indent=1) + "\n")
    print(f"wrote {RECORD}: overall Spearman {table['overall']['spearman']:.3f}")


if __name__ == "__main__":
    main()
