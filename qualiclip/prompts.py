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


def flatten_pairs(pairs: tuple[PromptPair, ...] | list[PromptPair]) -> list[str]:
    """Interleave pairs as [pos0, neg0, pos1, neg1, ...], the row order of ``prompts_features``."""
    return [text for pair in pairs for text in pair]


def pair_label(pair: PromptPair) -> str:
    """Short label such as 'Sharp image. / Blurry image.' for tables and charts."""
    return f"{pair[0]} / {pair[1]}"
