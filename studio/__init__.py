"""QualiCLIP Studio's app logic: model loading, input checks and the callbacks ``app.py`` wires.

Everything here takes and returns plain values (paths, arrays, strings, DataFrames), so it is
tested without a running server. Only this package and ``app.py`` import gradio; the library
(``qualiclip``) and the explanations (``explain``) never do.
"""
