"""User input to model-ready tensors, with every library error turned into a plain ``gr.Error``.

Images go through :mod:`qualiclip.imaging`: the decompression-bomb guard (``MAX_PIXELS``), the
``MIN_SIDE`` check and, when the image is larger than the model's ``max_side``, a downscale that
the UI reports as a visible notice.
"""
from __future__ import annotations

import contextlib
import functools
import os
from typing import Iterator

import gradio as gr
from PIL import Image

from qualiclip import QualiCLIPError, QualityModel
from qualiclip.imaging import MAX_PIXELS, MIN_SIDE, ImageInput, PreparedImage, prepare

#: Decoded uploads kept (a few: each upload's callbacks run back to back on the same file).
DECODED_FILES = 4
LIMITS_TEXT = (f"Images must be at least {MIN_SIDE}x{MIN_SIDE} px and at most {MAX_PIXELS:,} pixels "
               "(about 89 megapixels, Pillow's decompression-bomb limit).")


def checked_image(**options) -> gr.Image:
    """A ``gr.Image`` whose upload step reports unreadable files as a plain ``gr.Error``.

    Gradio opens every uploaded image with Pillow before any callback runs; a non-image or a
    decompression bomb would otherwise surface as an internal "could not preprocess" error.
    (Wrapping this instance's ``preprocess`` rather than subclassing: gradio writes a ``.pyi``
    stub next to every module that defines a component class.)
    """
    image = gr.Image(**options)
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


@contextlib.contextmanager
def user_errors() -> Iterator[None]:
    """Show the library's errors (written for people) as a ``gr.Error`` instead of a traceback."""
    try:
        yield
    except QualiCLIPError as err:
        raise gr.Error(str(err), title="This image cannot be used") from err


def load_input(model: QualityModel, image: ImageInput | None) -> PreparedImage:
    """Decode and validate ``image`` and cap it at ``model.max_side``; raises ``gr.Error`` when unusable.

    A file path is decoded once for all the callbacks one upload triggers (score, heat maps,
    robustness preview): the result is cached per path, modification time, size and ``max_side``
    (a :class:`PreparedImage` never hands out its pixels writable, so no callback can alter another's).
    """
    if image is None:
        raise gr.Error("Upload an image first (or click one of the examples).", title="No image")
    with user_errors():
        if isinstance(image, (str, os.PathLike)) and os.path.isfile(image):
            stat = os.stat(image)
            return _decoded_file(os.fspath(image), stat.st_mtime_ns, stat.st_size, model.max_side)
        return prepare(image, model.max_side)


@functools.lru_cache(maxsize=DECODED_FILES)
def _decoded_file(path: str, mtime_ns: int, size: int, max_side: int | None) -> PreparedImage:
    """:func:`prepare` for a file, keyed by what identifies its content (errors are not cached)."""
    return prepare(path, max_side)
