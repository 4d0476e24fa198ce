"""torch.hub entries, one per named model (``hubconf.py`` at the top level publishes them).

Each returns the model as a :class:`~qualiclip.quality_module.QualityModule` taking **CLIP-normalised**
(B, 3, H, W) images at any resolution (``normalised_input=True``), (B,) scores out, as the official
repository's entry; ``scorer.as_module()`` in Python takes images in [0, 1] instead.
``QualiCLIP`` (the official entry's name) is the official model too, so the official README's
example works by changing only the repository. Weights come the way :func:`load_model` finds them
(``weights=PATH``, the environment variable, the torch hub cache); nothing else is downloaded
(the official entry first fetches OpenAI's RN50 just to build the architecture).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from .loading import load_model
from .model_registry import MODELS
from .quality_module import QualityModule

#: The official repository's entry name; here an alias of ``qualiclip``.
OFFICIAL_ENTRY = "QualiCLIP"

HubEntry = Callable[..., QualityModule]


def entry_name(model: str) -> str:
    """A model's entry: its name as a Python identifier (``qualiclip+-clive`` -> ``qualiclip_plus_clive``)."""
    return model.replace("+", "_plus").replace("-", "_")


def load_module(model: str = "qualiclip", weights: str | Path | None = None, **options: Any) -> QualityModule:
    """``load_model(model, weights, **options).as_module(normalised_input=True)`` (CLIP-normalised input, the
    official entry's convention), on the CPU unless ``device`` says otherwise (move it with ``.to(device)``)."""
    options.setdefault("device", "cpu")
    return load_model(model, weights, **options).as_module(normalised_input=True)


def _entry(model: str) -> HubEntry:
    def entry(weights: str | Path | None = None, **options: Any) -> QualityModule:
        return load_module(model, weights, **options)

    entry.__name__ = entry.__qualname__ = entry_name(model)
    entry.__doc__ = (f"{MODELS[model].title}: a torch.nn.Module, CLIP-normalised (B, 3, H, W) images -> (B,) "
                     "scores in [0, 1], higher is better. weights=PATH replaces its checkpoint; other keywords "
                     "(prompt_learner, formula, prompt_pairs, device) are load_model's.")
    return entry


def hub_entries() -> dict[str, HubEntry]:
    """Every entry by name: one per model in ``MODELS``, plus :data:`OFFICIAL_ENTRY`."""
    entries = {entry_name(model): _entry(model) for model in MODELS}
    entries[OFFICIAL_ENTRY] = entries[entry_name("qualiclip")]
    return entries
