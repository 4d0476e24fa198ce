"""User input to model-ready tensors, with every library error turned into a plain ``gr.Error``.

Images go through :mod:`qualiclip.imaging`: the decompression-bomb guard (``MAX_PIXELS``), the
``MIN_SIDE`` check and, when the image is larger than the model's ``max_side``, a downscale that
the UI reports as a visible notice.
"""
from __future__ import annotations

import contextlib
import functools
import os
from dataclasses import dataclass
from typing import Iterator

import gradio as gr
import numpy as np
import torch
from PIL import Image

from qualiclip import QualiCLIPError, QualityModel
from qualiclip.imaging import MAX_PIXELS, MIN_SIDE, ImageInput, limit_side, to_unit_tensor

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


@dataclass(frozen=True)
class InputImage:
    """An image as the model sees it, (3, H, W) in [0, 1], plus its size before ``max_side``."""

    tensor: torch.Tensor
    original_size: tuple[int, int]

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) as scored."""
        return self.tensor.shape[2], self.tensor.shape[1]

    @property
    def notice(self) -> str:
        """One sentence saying whether the image was downscaled for scoring."""
        (w, h), (ow, oh) = self.size, self.original_size
        if (w, h) == (ow, oh):
            return f"Scored at full resolution, {w}x{h} px."
        return f"Downscaled from {ow}x{oh} to {w}x{h} px for scoring (longer side capped for speed)."

    def to_array(self) -> np.ndarray:
        """Float32 HxWx3 in [0, 1], the degradations' input format."""
        return self.tensor.permute(1, 2, 0).numpy()


def load_input(model: QualityModel, image: ImageInput | None) -> InputImage:
    """Decode and validate ``image`` and cap it at ``model.max_side``; raises ``gr.Error`` when unusable.

    A file path is decoded once for all the callbacks one upload triggers (score, heat maps,
    robustness preview): the result is cached per path, modification time, size and ``max_side``.
    Callers must not modify the returned tensor in place.
    """
    if image is None:
        raise gr.Error("Upload an image first (or click one of the examples).", title="No image")
    with user_errors():
        if isinstance(image, (str, os.PathLike)) and os.path.isfile(image):
            stat = os.stat(image)
            return _decoded_file(os.fspath(image), stat.st_mtime_ns, stat.st_size, model.max_side)
        return _decoded(image, model.max_side)


def _decoded(image: ImageInput, max_side: int | None) -> InputImage:
    full = to_unit_tensor(image)
    return InputImage(limit_side(full, max_side), (full.shape[2], full.shape[1]))


@functools.lru_cache(maxsize=DECODED_FILES)
def _decoded_file(path: str, mtime_ns: int, size: int, max_side: int | None) -> InputImage:
    """:func:`_decoded` for a file, keyed by what identifies its content (errors are not cached)."""
    return _decoded(path, max_side)
