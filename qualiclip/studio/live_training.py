"""The Learn tab's "train N steps": what :func:`qualiclip.training.live_demo.train_steps` did, as tables and a plot.

The training itself is the library's (a throw-away copy of the model; the served one never changes);
here are the app's bound on the steps (:data:`APP_MAX_STEPS`, so the call's GPU booking stays within
the interactive cap of :mod:`qualiclip.studio.bookings`) and the views of its result.
"""
from __future__ import annotations

import pandas as pd

from qualiclip.training.live_demo import TrainingDemo

from .formatting import Column

#: Most steps one request runs (the library allows more; this keeps a request interactive).
APP_MAX_STEPS = 20
#: Steps the slider starts at.
DEFAULT_STEPS = 5
#: The losses in the order the tables show them, with the words a visitor reads.
LOSS_NAMES = {"consistency": "consistency", "positive": "positive ranking", "negative": "negative ranking",
              "total": "total (weighted)"}
LOSS_TABLE = [Column("loss", "170px"), Column("before", "90px"), Column("after", "90px")]
#: Per crop and level: the mean cosine similarity with the positive prompts, then the negative ones, before and after.
SIMILARITY_TABLE = [Column("crop"), Column("level"),  # no widths: the page sizes the columns to their headers
                    *(Column(f"{prompt} {when}") for prompt in ("positive", "negative") for when in ("before", "after"))]
DECIMALS = 4


def losses_table(demo: TrainingDemo) -> pd.DataFrame:
    """One row per loss: its value before and after the steps."""
    losses = demo.losses
    rows = [[label, losses["before"][name], losses["after"][name]] for name, label in LOSS_NAMES.items()]
    return pd.DataFrame(rows, columns=[column.name for column in LOSS_TABLE]).round(DECIMALS)


def similarity_table(demo: TrainingDemo) -> pd.DataFrame:
    """Per crop and level, the mean similarity with the positive and with the negative prompts, before and after."""
    rows = [[before["crop"], before["level"], before["positive"], after["positive"], before["negative"],
             after["negative"]] for before, after in zip(demo.similarities["before"], demo.similarities["after"])]
    return pd.DataFrame(rows, columns=[column.name for column in SIMILARITY_TABLE]).round(DECIMALS)


def history_frame(demo: TrainingDemo) -> pd.DataFrame:
    """Every loss at every step (0: before the first update; the last: after the last one), long format for a plot."""
    steps = [*demo.history, demo.losses["after"]]
    return pd.DataFrame([{"step": step, "loss": LOSS_NAMES[name], "value": losses[name]}
                         for step, losses in enumerate(steps) for name in LOSS_NAMES])


def summary(demo: TrainingDemo, steps: int) -> str:
    """What happened, in words: the distortion, the total loss before and after (no time: the page shows it)."""
    before, after = demo.losses["before"]["total"], demo.losses["after"]["total"]
    kinds = ", ".join(demo.crops.distortions)
    return (f"{steps} step{'s' * (steps != 1)} on crops degraded by **{kinds}**: the total loss went from "
            f"{before:.4f} to {after:.4f}. These steps trained a throw-away copy: the model that scores your "
            "photos is unchanged.")
