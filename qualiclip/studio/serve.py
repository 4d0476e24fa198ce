"""Serve the app as its owner process: ``python app.py``, ``python -m qualiclip.studio`` or the installed
``qualiclip-studio`` command.

The models load once, here: the official QualiCLIP weights, else the bundled offline model; set
``QUALICLIP_STUDIO_WEIGHTS=PATH`` to start on one checkpoint instead. The process's allocator is
tuned for a long-running server first (:mod:`qualiclip.studio.allocator`), which only the owner of the
process may do; the UI is built by :func:`qualiclip.studio.layout.build_demo`.
"""
from __future__ import annotations

import os

from .allocator import tune_for_serving
from .layout import build_demo, launch
from .model_slots import WEIGHTS_ENV, load_studio
from .switches import switched_on


#: Set to 0 (or false, no, off) to skip computing the example photos' results in the background after start-up.
EXAMPLE_RESULTS_ENV = "QUALICLIP_STUDIO_EXAMPLE_RESULTS"


def main() -> None:
    """Load the models, build the UI (the examples' results computed meanwhile, unless
    ``$QUALICLIP_STUDIO_EXAMPLE_RESULTS=0``) and serve it on http://127.0.0.1:7860 until stopped."""
    tune_for_serving()
    launch(build_demo(load_studio(os.environ.get(WEIGHTS_ENV)), example_results=switched_on(EXAMPLE_RESULTS_ENV)))
