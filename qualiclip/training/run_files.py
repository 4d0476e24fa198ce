"""Where a training run keeps its files (see :mod:`qualiclip.training.trainer`) and the columns of its
logs; a resumed run drops the log rows written after its saved step."""
from __future__ import annotations

import csv
from pathlib import Path

LOG_COLUMNS = ("step", "lr", "total", "consistency", "positive", "negative", "seconds")
EVAL_COLUMNS = ("step", "spearman", "pairwise_accuracy", "logit_scale")


class RunFiles:
    """Paths of a run's files (see the module docstring)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.config = self.root / "config.json"
        self.weights = self.root / "last.pth"
        self.state = self.root / "train_state.pt"
        self.log = self.root / "log.csv"
        self.evals = self.root / "eval.csv"
        self.plot = self.root / "curves.png"
        self.final = self.root / "model.pth"
        self.synthetic = self.root / "synthetic_eval.csv"


def truncate_csv(path: Path, last_step: int) -> None:
    """Keep the header and the rows whose ``step`` is at most ``last_step``."""
    if not path.is_file():
        return
    with path.open(newline="") as handle:
        rows = list(csv.reader(handle))
    kept = rows[:1] + [row for row in rows[1:] if int(row[0]) <= last_step]
    with path.open("w", newline="") as handle:
        csv.writer(handle).writerows(kept)
