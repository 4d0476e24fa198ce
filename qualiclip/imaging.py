"""Turn user inputs (paths, bytes, PIL images, numpy arrays, tensors) into CLIP-ready tensors.

Matches the official preprocessing: RGB, ``ToTensor`` values in [0, 1], CLIP mean/std
normalisation, native resolution. ``max_side`` is an optional deviation from the official code
that caps the longer side (aspect kept, antialiased) to bound memory and time on CPU.

:func:`prepare` is the one way an input becomes an image a model scores (a :class:`PreparedImage`);
the display and layout helpers at the end convert between the model's (3, H, W) tensors and the
(H, W, 3) arrays that degradations and displays use.
"""
from __future__ import annotations

import io
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Union

import numpy as np
import torch
import torch.nn.functional as F
from open_clip.constants import OPENAI_DATASET_MEAN, OPENAI_DATASET_STD
from PIL import Image, ImageOps, UnidentifiedImageError

from .errors import ImageLoadError

ImageInput = Union[str, Path, bytes, BinaryIO, Image.Image, np.ndarray, torch.Tensor]

MIN_SIDE = 32
#: Decompression-bomb guard: Pillow's own default limit (about 89.5 megapixels).
MAX_PIXELS = Image.MAX_IMAGE_PIXELS
_SIXTEEN_BIT_MODES = ("I;16", "I;16B", "I;16L", "I")
_MEAN = torch.tensor(OPENAI_DATASET_MEAN).view(3, 1, 1)
_STD = torch.tensor(OPENAI_DATASET_STD).view(3, 1, 1)


@dataclass(frozen=True)
class PreparedImage:
    """An image as a model scores it, (3, H, W) float32 in [0, 1], and its size before ``max_side``.

    Decoded once, then shared (e.g. by every callback of one upload), so its pixels are never
    handed out writable: :meth:`tensor` is a copy, :meth:`array` a read-only view.
    """

    pixels: torch.Tensor = field(repr=False)
    #: (width, height) of the decoded image, before any downscale.
    original_size: tuple[int, int]
    #: Frames in the source file (animations, multi-page TIFFs); only the first one is scored.
    frames: int = 1

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) as scored."""
        return self.pixels.shape[2], self.pixels.shape[1]

    @property
    def downscaled(self) -> bool:
        """True when ``max_side`` made the image smaller than it was decoded."""
        return self.size != self.original_size

    def tensor(self) -> torch.Tensor:
        """A fresh (3, H, W) copy, free to modify."""
        return self.pixels.clone()

    def array(self) -> np.ndarray:
        """Read-only (H, W, 3) float32 view in [0, 1], the degradations' input format."""
        view = to_hwc(self.pixels).numpy()
        view.flags.writeable = False
        return view


def prepare(image: ImageInput | PreparedImage, max_side: int | None = None) -> PreparedImage:
    """Decode and validate ``image``, then cap its longer side at ``max_side`` (None: native size).

    An already prepared image is not decoded again; it is only downscaled further if it exceeds
    ``max_side``.
    """
    if isinstance(image, PreparedImage):
        if max_side is None or max(image.size) <= max_side:
            return image
        return PreparedImage(limit_side(image.pixels, max_side), image.original_size, image.frames)
    full = to_unit_tensor(image)
    return PreparedImage(limit_side(full, max_side), (full.shape[2], full.shape[1]))


def open_image(source: str | Path | bytes | BinaryIO) -> Image.Image:
    """Decode a file, bytes or file object into an RGB PIL image with EXIF orientation applied."""
    name = str(source) if isinstance(source, (str, Path)) else "the uploaded data"
    stream = io.BytesIO(source) if isinstance(source, bytes) else source
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(stream) as img:
                img.load()
                return to_rgb(ImageOps.exif_transpose(img))
    except (Image.DecompressionBombWarning, Image.DecompressionBombError) as err:
        raise ImageLoadError(f"{name} is too large: more than {MAX_PIXELS:,} pixels ({err})") from err
    except FileNotFoundError as err:
        raise ImageLoadError(f"{name} does not exist") from err
    except UnidentifiedImageError as err:
        raise ImageLoadError(f"{name} is not an image file Pillow can read") from err
    except (OSError, SyntaxError, ValueError) as err:
        raise ImageLoadError(f"{name} is corrupt or truncated: {err}") from err


def to_rgb(img: Image.Image) -> Image.Image:
    """Convert any Pillow mode to RGB: transparency over white, 16-bit scaled, CMYK/L/P converted."""
    if img.mode in _SIXTEEN_BIT_MODES:
        levels = np.asarray(img, dtype=np.float64) / 65535.0
        grey = Image.fromarray(np.clip(np.rint(levels * 255), 0, 255).astype(np.uint8))
        return grey.convert("RGB")
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    return img if img.mode == "RGB" else img.convert("RGB")


def to_unit_tensor(image: ImageInput) -> torch.Tensor:
    """Any supported input -> float32 tensor (3, H, W) with values in [0, 1].

    numpy arrays: HxW or HxWx{1,3,4}; uint8 (0..255) or float (0..1). Tensors: (3, H, W) float
    in [0, 1], the ``ToTensor`` convention. Everything else is decoded by :func:`open_image`.
    """
    if isinstance(image, torch.Tensor):
        return _checked(image.detach().float().cpu())
    if isinstance(image, np.ndarray):
        return _checked(_array_to_tensor(image))
    pil = to_rgb(ImageOps.exif_transpose(image)) if isinstance(image, Image.Image) else open_image(image)
    array = np.asarray(pil, dtype=np.float32) / 255.0
    return _checked(torch.from_numpy(array).permute(2, 0, 1).contiguous())


def _array_to_tensor(array: np.ndarray) -> torch.Tensor:
    if array.dtype in (np.uint8, np.uint16):
        array = array.astype(np.float32) / float(np.iinfo(array.dtype).max)
    array = np.asarray(array, dtype=np.float32)
    if array.ndim == 3 and array.shape[2] == 4:  # straight alpha, composited over white
        alpha = array[..., 3:]
        array = array[..., :3] * alpha + (1.0 - alpha)
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[..., 0]
    if array.ndim == 2:
        array = np.repeat(array[..., None], 3, axis=2)
    if array.ndim != 3 or array.shape[2] != 3:
        raise ImageLoadError(f"array of shape {array.shape} is not an image (expected HxW or HxWx1/3/4)")
    return torch.from_numpy(np.ascontiguousarray(array)).permute(2, 0, 1)


def _checked(tensor: torch.Tensor) -> torch.Tensor:
    """Validate shape, value range and size of a (3, H, W) unit-range tensor."""
    if tensor.ndim != 3 or tensor.shape[0] != 3:
        raise ImageLoadError(f"tensor of shape {tuple(tensor.shape)} is not a (3, H, W) RGB image")
    if not torch.isfinite(tensor).all():
        raise ImageLoadError("image contains NaN or infinite values")
    if tensor.min() < -1e-3 or tensor.max() > 1 + 1e-3:
        raise ImageLoadError(
            f"float image values must lie in [0, 1], got [{tensor.min():.3g}, {tensor.max():.3g}]"
        )
    height, width = tensor.shape[1:]
    if min(height, width) < MIN_SIDE:
        raise ImageLoadError(f"image is {width}x{height}; both sides must be at least {MIN_SIDE} px")
    if height * width > MAX_PIXELS:
        raise ImageLoadError(f"image is {width}x{height}: more than {MAX_PIXELS:,} pixels")
    return tensor.clamp(0.0, 1.0)


def limit_side(tensor: torch.Tensor, max_side: int | None) -> torch.Tensor:
    """Downscale (3, H, W) so its longer side is at most ``max_side``; antialiased, aspect kept.

    The shorter side never drops below ``MIN_SIDE`` (the model's smallest input), so a very
    elongated image keeps a longer side somewhat above ``max_side`` rather than becoming unusable.
    """
    height, width = tensor.shape[-2:]
    if max_side is None or max(height, width) <= max_side:
        return tensor
    scale = max(max_side / max(height, width), MIN_SIDE / min(height, width))
    if scale >= 1.0:
        return tensor
    size = (max(MIN_SIDE, round(height * scale)), max(MIN_SIDE, round(width * scale)))
    resized = F.interpolate(tensor[None], size=size, mode="bicubic", antialias=True, align_corners=False)
    return resized[0].clamp(0.0, 1.0)


def normalize(batch: torch.Tensor) -> torch.Tensor:
    """Apply CLIP's mean/std normalisation to (..., 3, H, W) unit-range tensors."""
    return (batch - _MEAN.to(batch.device)) / _STD.to(batch.device)


def to_hwc(image: torch.Tensor) -> torch.Tensor:
    """(..., 3, H, W) -> (..., H, W, 3) view: the model's layout to the degradations' and displays'."""
    return image.movedim(-3, -1)


def to_chw(image: torch.Tensor | np.ndarray) -> torch.Tensor:
    """(..., H, W, 3) array or tensor -> (..., 3, H, W) tensor (a view where possible)."""
    return torch.as_tensor(image).movedim(-1, -3)


def to_uint8_rgb(image: torch.Tensor | np.ndarray) -> np.ndarray:
    """A (3, H, W) float tensor or an (H, W, 3) float array in [0, 1] -> (H, W, 3) uint8 RGB for display."""
    array = to_hwc(image).numpy() if isinstance(image, torch.Tensor) else image
    return np.clip(np.rint(array * 255), 0, 255).astype(np.uint8)
