"""The functions ``app.py`` wires to events: plain values in, plain values out, one per endpoint.

Each takes what the UI components hold (an image file path or array, strings, numbers, file
paths) and returns what the output components show. The model comes from
:func:`studio.models.get_studio`, loaded once per process. Unusable input raises ``gr.Error``.
The three callbacks that run whenever the image changes (score, heatmaps, robustness preview)
return empty outputs for no image, so removing the image clears them instead of showing an error.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import gradio as gr
import numpy as np
import pandas as pd

from explain.render import to_uint8_rgb
from qualiclip.degradations import DEGRADATIONS
from qualiclip.imaging import ImageInput
from qualiclip.prompts import PromptPair

from . import batch, robustness
from .explanations import Maps, caption, compute_maps
from .inputs import InputImage, load_input, user_errors
from .models import get_studio
from .views import NO_SCORE_HTML, gauge_html, pair_columns, pair_frame, pair_names, quality_label


def _input(image: ImageInput | None) -> InputImage:
    return load_input(get_studio().primary, image)


def _check_degradation(name: str) -> None:
    if name not in DEGRADATIONS:
        raise gr.Error(f"Unknown distortion type {name!r}.", title="Invalid choice")


def score_image(image: ImageInput | None) -> tuple[str, pd.DataFrame | None, dict[str, Any] | None]:
    """Score tab: gauge HTML, per-pair probabilities (bar chart) and the result as a dict."""
    if image is None:
        return NO_SCORE_HTML, None, None
    model = get_studio().primary
    prepared = _input(image)
    scores, pairs, _ = model.score_batch(prepared.tensor[None])
    score, probabilities = float(scores[0]), pairs[0].tolist()
    result = {
        "score": round(score, 4),
        "label": quality_label(score),
        "pair_probabilities": pair_columns(model.prompt_pairs, probabilities),
        "scored_size": list(prepared.size),
        "original_size": list(prepared.original_size),
        "notice": prepared.notice,
        "model": model.name,
    }
    return gauge_html(score, prepared.notice), pair_frame(model.prompt_pairs, probabilities), result


def explain_image(image: ImageInput | None, method: str, pair: int, opacity: float
                  ) -> tuple[np.ndarray | None, np.ndarray | None, str, str, Maps | None]:
    """Score tab heatmaps: "good" and "bad" overlays, their captions, and the maps for re-blending."""
    if image is None:
        return None, None, "", "", None
    prepared = _input(image)
    with user_errors():
        try:
            maps = compute_maps(get_studio().primary, prepared.tensor, method, pair)
        except ValueError as err:  # unknown method or pair index: a wrong choice, not a crash
            raise gr.Error(str(err), title="Invalid choice") from err
    good, bad = maps.overlays(opacity)
    return good, bad, caption(maps.positive, "good"), caption(maps.negative, "bad"), maps


def reblend(maps: Maps | None, opacity: float) -> tuple[np.ndarray | None, np.ndarray | None]:
    """Opacity slider: the same maps blended again, no model call."""
    return maps.overlays(opacity) if maps is not None else (None, None)


def robustness_preview(image: ImageInput | None, degradation: str, level: int
                       ) -> tuple[np.ndarray | None, str, str]:
    """Robustness tab: the degraded image, the original's and the degraded image's gauges.

    Both images are scored in a single batched forward pass.
    """
    _check_degradation(degradation)
    if image is None:
        return None, "", ""
    prepared = _input(image)
    original = prepared.to_array()
    degraded = robustness.degrade(original, degradation, int(level))
    scores = robustness.score_levels(get_studio().primary, original, degradation, (0, int(level)))[0]
    label = f"{robustness.type_label(degradation)}, level {int(level)}"
    return to_uint8_rgb(degraded), gauge_html(float(scores[0]), "original"), gauge_html(float(scores[1]), label)


def sweep_image(image: ImageInput | None, degradation: str, every_type: bool,
                progress: gr.Progress = gr.Progress()) -> tuple[pd.DataFrame, pd.DataFrame, str]:
    """Robustness tab sweep: score vs level lines, the score table, and which types do not fall.

    One batched forward per type (levels 0..5, level 0 shared by all types).
    """
    prepared = _input(image)
    if not every_type:
        _check_degradation(degradation)
    names = list(DEGRADATIONS) if every_type else [degradation]
    table = robustness.sweep(get_studio().primary, prepared.to_array(), names,
                             lambda index, name: progress((index, len(names)), desc=f"Scoring {name}", unit="types"))
    rising = table.loc[~table["monotone"], "label"].tolist()
    summary = (f"The score falls monotonically with the level for all {len(table)} type(s)." if not rising else
               f"**Not monotone** (the score rises somewhere as the level grows): {', '.join(rising)}.")
    if any(not DEGRADATIONS[name].monotone for name in names):
        summary += " Types marked '(original table)' are not ordered by severity by design."
    return robustness.sweep_lines(table), table, summary


def batch_score(files: Sequence[str] | None, progress: gr.Progress = gr.Progress()
                ) -> tuple[pd.DataFrame, str]:
    """Batch tab: the sortable results table and the CSV file's path; bad files get an error row."""
    if not files:
        raise gr.Error("Add one or more image files first.", title="No files")
    if len(files) > batch.MAX_BATCH_FILES:
        raise gr.Error(f"{len(files)} files given; at most {batch.MAX_BATCH_FILES} per batch.",
                       title="Too many files")
    paths = [Path(f) for f in files]
    progress((0, len(paths)), desc="Scoring", unit="files")
    table = batch.score_table(get_studio().primary, paths,
                              lambda done: progress((done, len(paths)), desc="Scoring", unit="files"))
    return table, str(batch.write_csv(table))


def compare_columns(pairs: Sequence[PromptPair]) -> list[str]:
    """The Compare tab table's columns, in order."""
    return ["model", "status", "score", "label", "details", *pair_names(pairs)]


def compare_models(image: ImageInput | None) -> pd.DataFrame:
    """Compare tab: one row per model, scored on the same image, or the reason it is unavailable."""
    rows = []
    for slot in get_studio().slots:
        row: dict[str, Any] = {"model": slot.title, "status": "loaded" if slot.model else "unavailable"}
        if slot.model is None:
            rows.append({**row, "score": None, "label": "", "details": slot.reason})
            continue
        prepared = load_input(slot.model, image)
        scores, pairs, _ = slot.model.score_batch(prepared.tensor[None])
        rows.append({**row, "score": round(float(scores[0]), 4), "label": quality_label(float(scores[0])),
                     "details": slot.model.weights_origin, **pair_columns(slot.model.prompt_pairs, pairs[0].tolist())})
    return pd.DataFrame(rows, columns=compare_columns(get_studio().primary.prompt_pairs))


def learn_similarities(image: ImageInput | None, degradation: str, pair: int
                       ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Learn tab: cosine similarity with one pair's two prompts across levels, and the numbers."""
    _check_degradation(degradation)
    model = get_studio().primary
    if not 0 <= int(pair) < len(model.prompt_pairs):
        raise gr.Error(f"Pair must be 0..{len(model.prompt_pairs) - 1}.", title="Invalid choice")
    pair = int(pair)
    positive, negative = model.prompt_pairs[pair]
    scores, probabilities, sims = robustness.score_levels(model, _input(image).to_array(), degradation)
    table = pd.DataFrame({
        "level": list(robustness.LEVELS),
        f"sim({positive})": sims[:, 2 * pair],
        f"sim({negative})": sims[:, 2 * pair + 1],
        f"P({positive})": probabilities[:, pair],
        "score": scores,
    }).astype(float).round(4).astype({"level": int})
    lines = table.melt(id_vars="level", value_vars=list(table.columns[1:3]), var_name="prompt",
                       value_name="cosine similarity").astype({"level": str})  # whole levels on the axis
    return lines, table
