"""User input to model-ready tensors, with every library error turned into a plain ``gr.Error``.

Images go through :mod:`qualiclip.imaging`: the decompression-bomb guard (``MAX_PIXELS``), the
``MIN_SIDE`` check and, when the image is larger than the model's ``max_side``, a downscale that
the UI reports as a visible notice.
"""
from __future__ import annotations

import os
from typing import Callable, TypeVar

import gradio as gr
from PIL import Image

from qualiclip.constants import MIN_SIDE
from qualiclip.imaging import MAX_PIXELS, ImageInput

from .public_errors import WHAT_TO_DO, user_errors

Loaded = TypeVar("Loaded")
#: Largest upload accepted (Gradio refuses bigger files before they reach any callback).
MAX_UPLOAD_MB = 50
LIMITS_TEXT = (f"Images must be at least {MIN_SIDE}x{MIN_SIDE} px and at most {MAX_PIXELS:,} pixels "
               f"(about {MAX_PIXELS / 1e6:.0f} megapixels, Pillow's decompression-bomb limit), in files of at most "
               f"{MAX_UPLOAD_MB} MB.")


def checked_image(**options) -> gr.Image:
    """A ``gr.Image`` that hands callbacks the uploaded file itself, readable or not.

    ``type="filepath"`` with ``image_mode=None``: Gradio passes the uploaded file through untouched
    (no RGB re-encoding that would drop alpha, 16-bit depth or CMYK), so the app scores exactly what
    the library scores. Gradio still opens the upload's header with Pillow before any callback runs;
    a file it cannot open is handed on as it is, so the library's checks say what is wrong with it
    (in one message naming the file, see :func:`load_input`), the same way as for every other
    unusable image, and a callback that handles errors in place can do so.
    (Wrapping this instance's ``preprocess`` rather than subclassing: gradio writes a ``.pyi``
    stub next to every module that defines a component class.)
    """
    image = gr.Image(type="filepath", image_mode=None, **options)
    preprocess = image.preprocess

    def checked_preprocess(payload):
        try:
            return preprocess(payload)
        except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as err:
            if getattr(payload, "path", None) and os.path.isfile(payload.path):
                return payload.path  # an uploaded file (in Gradio's cache): the library names what is wrong
            name = getattr(payload, "orig_name", None) or "The uploaded file"
            raise gr.Error(f"{name} is not an image file that can be read. {WHAT_TO_DO}",
                           title="This image cannot be used") from err

    image.preprocess = checked_preprocess
    return image


def load_input(image: ImageInput | None, load: Callable[[ImageInput], Loaded]) -> Loaded:
    """``load(image)`` with the app's error handling: no image, or an unusable one, is a plain ``gr.Error``.

    ``load`` is e.g. a model's ``prepare`` or an :class:`~qualiclip.studio.analysis.AnalysisCache`'s ``get``;
    an upload's server path is reduced to its file name in any message.
    """
    if image is None:
        raise gr.Error("Upload an image first (or click one of the examples).", title="No image")
    with user_errors(image if isinstance(image, (str, os.PathLike)) else ""):
        return load(image)
