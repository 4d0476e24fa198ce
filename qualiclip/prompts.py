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



def pair_column(pair: PromptPair) -> str:
    """The column name of a pair's probability in tables and files, e.g. ``p_good_photo``."""
    return "p_" + pair[0].rstrip(".").lower().replace(" ", "_")


#: Column names of the per-pair probabilities, in ``PROMPT_PAIRS`` order (CSV, Parquet, tables).
PAIR_COLUMNS: tuple[str, ...] = tuple(pair_column(pair) for pair in PROMPT_PAIRS)
