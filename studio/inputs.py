"""User input to model-ready tensors, with every library error turned into a plain ``gr.Error``.

Images go through :mod:`qualiclip.imaging`: the decompression-bomb guard (``MAX_PIXELS``), the
``MIN_SIDE`` check and, when the image is larger than the model's ``max_side``, a downscale that
the UI reports as a visible notice.
"""
from __future__ import annotations

import functools
import os

import gradio as gr
from PIL import Image

from qualiclip import QualityModel
from qualiclip.imaging import MAX_PIXELS, MIN_SIDE, ImageInput, PreparedImage, prepare

from .public_errors import user_errors

#: Decoded uploads kept (a few: each upload's callbacks run back to back on the same file).
DECODED_FILES = 4
LIMITS_TEXT = (f"Images must be at least {MIN_SIDE}x{MIN_SIDE} px and at most {MAX_PIXELS:,} pixels "
               "(about 89 megapixels, Pillow's decompression-bomb limit).")


def checked_image(**options) -> gr.Image:
    """A ``gr.Image`` that hands callbacks the uploaded file itself and reports unreadable files plainly.

    ``type="filepath"`` with ``image_mode=None``: Gradio passes the uploaded file through untouched
    (no RGB re-encoding that would drop alpha, 16-bit depth or CMYK), so the app scores exactly what
    the library scores. Gradio still opens the upload's header with Pillow before any callback runs;
    a non-image or a decompression bomb would otherwise surface as an internal "could not
    preprocess" error.
    (Wrapping this instance's ``preprocess`` rather than subclassing: gradio writes a ``.pyi``
    stub next to every module that defines a component class.)
    """
    image = gr.Image(type="filepath", image_mode=None, **options)
    preprocess = image.preprocess

    def checked_preprocess(payload):
        try:
            return preprocess(payload)
        except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as err:
            name = getattr(payload, "orig_name", None) or "The uploaded file"
            raise gr.Error(f"{name} is not an image file that can be read ({type(err).__name__}). {LIMITS_TEXT}",
                           title="This image cannot be used") from err

    image.preprocess = checked_preprocess
    return image


def load_input(model: QualityModel, image: ImageInput | None) -> PreparedImage:
    """Decode and validate ``image`` and cap it at ``model.max_side``; raises ``gr.Error`` when unusable.

    A file path is decoded once for all the callbacks one upload triggers (score, heat maps,
    robustness preview): the result is cached per path, modification time, size and ``max_side``
    (a :class:`PreparedImage` never hands out its pixels writable, so no callback can alter another's).
    """
    if image is None:
        raise gr.Error("Upload an image first (or click one of the examples).", title="No image")
    path = image if isinstance(image, (str, os.PathLike)) else ""
    with user_errors(path):
        if path and os.path.isfile(path):
            stat = os.stat(path)
            return _decoded_file(os.fspath(path), stat.st_mtime_ns, stat.st_size, model.max_side)
        return prepare(image, model.max_side)


@functools.lru_cache(maxsize=DECODED_FILES)
def _decoded_file(path: str, mtime_ns: int, size: int, max_side: int | None) -> PreparedImage:
    """:func:`prepare` for a file, keyed by what identifies its content (errors are not cached)."""
    return prepare(path, max_side)
