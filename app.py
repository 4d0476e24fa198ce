"""QualiCLIP Studio: ``python app.py`` serves the Gradio app (also the entry point of a Hugging Face Space).

The same as ``python -m qualiclip.studio`` and the installed ``qualiclip-studio`` command: see
:mod:`qualiclip.studio.serve` (models from ``$QUALICLIP_STUDIO_WEIGHTS`` or the registry, allocator tuned for
serving, UI from :func:`qualiclip.studio.layout.build_demo`).
"""
from __future__ import annotations

from qualiclip.studio.serve import main

if __name__ == "__main__":
    main()
