"""QualiCLIP Studio, the app: model loading, input checks, the callbacks, and the layout that wires them
(:func:`qualiclip.studio.layout.build_demo`); ``app.py`` only starts it.

Everything here takes and returns plain values (paths, arrays, strings, DataFrames), so it is
tested without a running server. Only this package and ``app.py`` import gradio; the library
(``qualiclip``) and the explanations (:mod:`qualiclip.explain`) never do.
"""
from pathlib import Path

#: The app's clickable example photos, shipped as package data (see its README.md).
EXAMPLES_DIR = Path(__file__).parent / "examples"

