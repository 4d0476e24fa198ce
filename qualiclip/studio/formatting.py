"""How results are shown: plain-language labels, the score gauge and error cards (HTML), the frames the
charts are drawn from, the tables' columns, and pictures sized for display. (The page's prose is
:mod:`qualiclip.studio.page_text`.)

Everything here is a pure function of numbers, so the UI's content is testable without a server.
"""
from __future__ import annotations

import html
from typing import NamedTuple, Sequence

import numpy as np
import pandas as pd
from PIL import Image

from qualiclip.imaging import PreparedImage, downscale_reason
from qualiclip.prompts import PromptPair

#: (upper bound, label): a score below the bound gets the label. QualiCLIP scores are relative
#: (they rank images well), so these bands are a reading aid, not calibrated opinion scores.
BANDS: tuple[tuple[float, str], ...] = (
    (0.2, "Very poor"), (0.4, "Poor"), (0.6, "Fair"), (0.8, "Good"), (float("inf"), "Excellent"),
)
_BAND_COLOURS = ("#c0392b", "#e67e22", "#f1c40f", "#7cb342", "#2e7d32")


#: What the score area shows before an image is given.
NO_SCORE_HTML = '<div class="qc-caption">Upload an image, paste one or click an example to see its score.</div>'
#: What the score area shows while a new image is being scored (nothing of the previous image stays).
SCORING_HTML = '<div class="qc-caption">Scoring the new image…</div>'


def band_key() -> str:
    """One line under the gauge: every band with its range, and what the number is (and is not)."""
    lower = (0.0, *(bound for bound, _ in BANDS[:-1]))
    bands = " · ".join(f'<span style="color:{colour}">■</span> {label} {low:.1f}–{min(bound, 1.0):.1f}'
                       for (bound, label), low, colour in zip(BANDS, lower, _BAND_COLOURS))
    return (f'<div class="qc-caption" id="band-key">{bands}. The score ranks images (higher looks better '
            "to the model); it is not a human opinion score.</div>")


def error_html(message: str) -> str:
    """The score area when the input cannot be used: the message (naming the file and what to do) in its place."""
    return f'<div class="qc-error" role="alert">{html.escape(message)}</div>'


def quality_label(score: float) -> str:
    """Plain-language band of a score in [0, 1], e.g. 'Good'."""
    return next(label for bound, label in BANDS if score < bound)


def gauge_html(score: float, caption: str = "") -> str:
    """A big number, its label and a coloured bar; ``.qc-score-value`` holds the score for scripts."""
    index = next(i for i, (bound, _) in enumerate(BANDS) if score < bound)
    label, colour = BANDS[index][1], _BAND_COLOURS[index]
    note = f'<div class="qc-caption">{html.escape(caption)}</div>' if caption else ""
    return (
        f'<div class="qc-gauge" data-score="{score:.4f}">'
        f'<span class="qc-score-value">{score:.3f}</span> <span class="qc-label">{label}</span>'
        f'<div class="qc-bar"><div style="width:{100 * score:.1f}%;background:{colour}"></div></div>'
        f"{note}</div>"
    )


#: Longer side (px) of images sent to the browser: within WebP's 16383 px and light to transfer.
DISPLAY_MAX_SIDE = 2048


def for_display(image: np.ndarray) -> np.ndarray:
    """An (H, W, 3) uint8 picture shrunk (area-averaged) so its longer side is at most ``DISPLAY_MAX_SIDE``."""
    height, width = image.shape[:2]
    if max(height, width) <= DISPLAY_MAX_SIDE:
        return image
    scale = DISPLAY_MAX_SIDE / max(height, width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return np.asarray(Image.fromarray(image).resize(size, Image.Resampling.BOX))


def scale_notice(image: PreparedImage) -> str:
    """One sentence saying whether the image was downscaled for scoring (and which frame was scored)."""
    (w, h), (ow, oh) = image.size, image.original_size
    frames = f" The file has {image.frames} frames; the first one was scored." if image.frames > 1 else ""
    if not image.downscaled:
        return f"Scored at full resolution, {w}x{h} px.{frames}"
    return f"Downscaled from {ow}x{oh} to {w}x{h} px for scoring ({downscale_reason(image.original_size, image.size)}).{frames}"


def pair_name(pair: PromptPair) -> str:
    """Column-friendly name of a pair: its positive prompt without the full stop."""
    return pair[0].rstrip(".")


def pair_chart_label(pair: PromptPair) -> str:
    """Compact chart label of a pair, e.g. 'Good photo / Bad photo'."""
    return " / ".join(prompt.rstrip(".") for prompt in pair)


def pair_names(pairs: Sequence[PromptPair]) -> list[str]:
    """Table column names of the pairs, see :func:`pair_name`."""
    return [pair_name(pair) for pair in pairs]


class Column(NamedTuple):
    """A results table's column: its header (the key the handler's DataFrame uses), its width on the
    page and the datatype the page shows it as."""

    name: str
    width: str | None = None
    datatype: str = "str"


def pair_column_specs(pairs: Sequence[PromptPair], width: str = "100px", datatype: str = "str") -> list[Column]:
    """One :class:`Column` per pair (named by :func:`pair_names`), for the tables that end with the pairs."""
    return [Column(name, width, datatype) for name in pair_names(pairs)]


def pair_frame(pairs: Sequence[PromptPair], probabilities: Sequence[float]) -> pd.DataFrame:
    """One row per antonym pair: its label and P(positive prompt), for the bar chart."""
    return pd.DataFrame({
        "pair": [pair_chart_label(pair) for pair in pairs],
        "probability": [round(float(p), 4) for p in probabilities],
    })


def pair_columns(pairs: Sequence[PromptPair], probabilities: Sequence[float] | None) -> dict[str, float | None]:
    """``{pair name: P(positive)}`` for a table row; None values when there is no result."""
    values = probabilities if probabilities is not None else [None] * len(pairs)
    return {name: None if p is None else round(float(p), 4) for name, p in zip(pair_names(pairs), values)}
