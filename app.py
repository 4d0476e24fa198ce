"""QualiCLIP Studio: ``python app.py`` serves the Gradio app (also the entry point of a Hugging Face Space).

The models load once, here: the official QualiCLIP weights, else the bundled offline model; set
``QUALICLIP_STUDIO_WEIGHTS=PATH`` to start on one checkpoint instead. The process's allocator is
tuned for a long-running server first (:mod:`studio.allocator`). The UI is built by
:func:`studio.layout.build_demo`.
"""
from __future__ import annotations

import os

from studio.allocator import tune_for_serving
from studio.layout import build_demo, launch
from studio.model_slots import WEIGHTS_ENV, load_studio

if __name__ == "__main__":
    tune_for_serving()
    launch(build_demo(load_studio(os.environ.get(WEIGHTS_ENV))))
