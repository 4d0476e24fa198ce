"""QualiCLIP's antonym prompt pairs (positive first), in the order of the official prompt features."""
from __future__ import annotations

PromptPair = tuple[str, str]

PROMPT_PAIRS: tuple[PromptPair, ...] = (
    ("Good photo.", "Bad photo."),
    ("Sharp image.", "Blurry image."),
    ("Sharp edges.", "Blurry edges."),
    ("High-resolution image.", "Low-resolution image."),
    ("Noise-free image.", "Noisy image."),
    ("High-quality image.", "Low-quality image."),
    ("Good picture.", "Bad picture."),
)

