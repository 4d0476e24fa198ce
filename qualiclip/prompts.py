"""Antonym prompt pairs (positive first): QualiCLIP's, in the order of the official prompt features, and CLIP-IQA's."""
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

#: CLIP-IQA's pair (Wang, Chan, Loy, AAAI 2023): its quality score is P("Good photo.").
CLIP_IQA_PAIRS: tuple[PromptPair, ...] = (("Good photo.", "Bad photo."),)

#: CLIP-IQA's degradation attributes: its quality pair and five more, in its order (noisiness: "Noisy" first).
CLIP_IQA_ATTRIBUTE_PAIRS: tuple[PromptPair, ...] = (
    *CLIP_IQA_PAIRS,
    ("Bright photo.", "Dark photo."),
    ("Sharp photo.", "Blurry photo."),
    ("Noisy photo.", "Clean photo."),
    ("Colorful photo.", "Dull photo."),
    ("High contrast photo.", "Low contrast photo."),
)


def pair_column(pair: PromptPair) -> str:
    """The column name of a pair's probability in tables and files, e.g. ``p_good_photo``."""
    return "p_" + pair[0].rstrip(".").lower().replace(" ", "_")


#: Column names of the per-pair probabilities, in ``PROMPT_PAIRS`` order (CSV, Parquet, tables).
PAIR_COLUMNS: tuple[str, ...] = tuple(pair_column(pair) for pair in PROMPT_PAIRS)
