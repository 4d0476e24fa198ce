"""Every random generator's state, saved with a training checkpoint and restored on ``--resume``, so a
resumed run continues exactly as an uninterrupted one."""
from __future__ import annotations

import random

import numpy as np
import torch


def rng_states() -> dict[str, object]:
    """Python, numpy and torch (CPU and CUDA) random states, as types ``weights_only`` loading accepts."""
    name, keys, position, has_gauss, cached_gaussian = np.random.get_state()
    states: dict[str, object] = {
        "python": random.getstate(),
        "numpy": {"name": name, "keys": torch.from_numpy(keys.astype(np.int64)), "position": int(position),
                  "has_gauss": int(has_gauss), "cached_gaussian": float(cached_gaussian)},
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available():
        states["cuda"] = torch.cuda.get_rng_state_all()
    return states


def restore_rng_states(states: dict[str, object]) -> None:
    """Undo :func:`rng_states`: every generator continues where it was when the states were taken."""
    random.setstate(states["python"])
    numpy_state = states["numpy"]
    np.random.set_state((numpy_state["name"], numpy_state["keys"].numpy().astype(np.uint32),
                         numpy_state["position"], numpy_state["has_gauss"], numpy_state["cached_gaussian"]))
    torch.set_rng_state(states["torch"])
    if "cuda" in states and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(states["cuda"])
