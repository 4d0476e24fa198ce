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
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Union

import numpy as np
import torch
import torch.nn.functional as F
from open_clip.constants import OPENAI_DATASET_MEAN, OPENAI_DATASET_STD
from PIL import Image, ImageOps, UnidentifiedImageError

from .constants import MIN_SIDE
from .errors import ImageLoadError

ImageInput = Union[str, Path, bytes, BinaryIO, Image.Image, np.ndarray, torch.Tensor]

#: Decompression-bomb guard: Pillow's own default limit (about 89.5 megapixels).
MAX_PIXELS = Image.MAX_IMAGE_PIXELS
_SIXTEEN_BIT_MODES = ("I;16", "I;16B", "I;16L", "I")
#: Formats Pillow can decode at 1/2, 1/4 or 1/8 size (DCT scaling).
_DRAFT_FORMATS = ("JPEG", "MPO")
#: Multi-frame formats whose extra frames are not pictures of their own (MPO: a phone photo's previews).
_ONE_PICTURE_FORMATS = ("MPO",)
#: Formats whose decoding would run an external program (EPS: Ghostscript) on untrusted input.
_EXTERNAL_DECODERS = frozenset({"EPS"})
_ORIENTATION = 0x0112
#: EXIF orientations that swap width and height.
_TRANSPOSED = (5, 6, 7, 8)


def _decoded_formats() -> tuple[str, ...]:
    """Every format this Pillow opens (``Image.init`` registers all its plugins) but those that run
    external programs: Pillow detects formats from content, so a renamed EPS file would still reach
    Ghostscript without this list."""
    Image.init()
    return tuple(sorted(set(Image.OPEN) - _EXTERNAL_DECODERS))


#: The formats :func:`decode` accepts.
DECODED_FORMATS = _decoded_formats()
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


def prepare(image: ImageInput | PreparedImage, max_side: int | None = None, name: str | None = None) -> PreparedImage:
    """Decode and validate ``image``, then cap its longer side at ``max_side`` (None: native size).

    Files and bytes that will be scored smaller are decoded at reduced size (JPEG DCT scaling, then
    integer box reduction in 8 bits, never below the final size) before the one float resize, so
    memory follows the scored size, not the upload's. An already prepared image is not
    decoded again; it is only downscaled further if it exceeds ``max_side``. ``name`` is how
    errors refer to file data (see :func:`decode`).
    """
    if isinstance(image, PreparedImage):
        if max_side is None or max(image.size) <= max_side:
            return image
        return PreparedImage(limit_side(image.pixels, max_side), image.original_size, image.frames)
    if isinstance(image, (torch.Tensor, np.ndarray, Image.Image)):
        full = to_unit_tensor(image)
        return PreparedImage(limit_side(full, max_side), (full.shape[2], full.shape[1]))
    decoded = decode(image, max_side, name)
    tensor = _rgb_to_tensor(decoded.image)
    return PreparedImage(resize(tensor, scaled_size(decoded.original_size, max_side)), decoded.original_size,
                         decoded.frames)


@dataclass(frozen=True)
class Decoded:
    """An image file decoded to RGB (perhaps at reduced size) and what is known of the file."""

    image: Image.Image
    #: (width, height) of the full image, EXIF orientation applied.
    original_size: tuple[int, int]
    frames: int


def decode(source: str | Path | bytes | BinaryIO, max_side: int | None = None, name: str | None = None) -> Decoded:
    """Decode a file, bytes or file object to RGB with EXIF orientation applied.

    With ``max_side``, an image that will be scored smaller is decoded at reduced size, between
    once and twice its scored size (the final antialiased resize does the rest). The pixel count is
    checked from the header, before anything is decoded. Errors name ``name``, by default the path
    or "the uploaded data" (a file object's own name may be a server path, so it is never used).
    """
    name = name or (str(source) if isinstance(source, (str, Path)) else "the uploaded data")
    stream = io.BytesIO(source) if isinstance(source, bytes) else source
    try:
        with Image.open(stream, formats=DECODED_FORMATS) as img:
            width, height = img.size
            if width * height > MAX_PIXELS:
                raise ImageLoadError(f"{name} is too large: {width}x{height} is more than {MAX_PIXELS:,} pixels")
            oriented = (height, width) if img.getexif().get(_ORIENTATION, 1) in _TRANSPOSED else (width, height)
            target = scaled_size(oriented, max_side)
            shrink = max(width, height) / max(target)  # how far the decode may reduce
            if shrink > 1 and img.format in _DRAFT_FORMATS:
                img.draft(img.mode, (math.ceil(width / shrink), math.ceil(height / shrink)))
            img.load()
            rgb = to_rgb(ImageOps.exif_transpose(img))
            frames = getattr(img, "n_frames", 1) if img.format not in _ONE_PICTURE_FORMATS else 1
    except Image.DecompressionBombError as err:
        raise ImageLoadError(f"{name} is too large: more than {MAX_PIXELS:,} pixels ({err})") from err
    except FileNotFoundError as err:
        raise ImageLoadError(f"{name} does not exist") from err
    except UnidentifiedImageError as err:
        raise ImageLoadError(f"{name} is not an image file Pillow can read") from err
    except (OSError, SyntaxError, ValueError) as err:
        raise ImageLoadError(f"{name} is corrupt or truncated: {err}") from err
    factor = math.floor(max(rgb.size) / max(target))
    if factor >= 2:
        rgb = rgb.reduce(factor)
    return Decoded(rgb, oriented, frames)


def open_image(source: str | Path | bytes | BinaryIO) -> Image.Image:
    """Decode a file, bytes or file object into an RGB PIL image with EXIF orientation applied."""
    return decode(source).image


def to_rgb(img: Image.Image) -> Image.Image:
    """Convert any Pillow mode to RGB: transparency over white, 16-bit scaled, CMYK/L/P converted."""
    if img.mode in _SIXTEEN_BIT_MODES:
        # round(v * 255 / 65535) in integers (exact: v * 255 / 65535 is never a tie), 4-8 bytes a pixel
        levels = np.asarray(img).astype(np.uint32 if img.mode != "I" else np.int64)
        grey = np.clip((levels * 510 + 65535) // 131070, 0, 255).astype(np.uint8)
        return Image.fromarray(grey).convert("RGB")
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
    return _rgb_to_tensor(pil)


def _rgb_to_tensor(rgb: Image.Image) -> torch.Tensor:
    """An RGB PIL image -> checked (3, H, W) float32 in [0, 1] (``ToTensor``'s values), one float copy."""
    array = np.asarray(rgb, dtype=np.float32)
    array /= 255.0
    return _checked(to_chw(array))


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
    low, high = float(tensor.min()), float(tensor.max())  # NaN propagates into both
    if not (math.isfinite(low) and math.isfinite(high)):
        raise ImageLoadError("image contains NaN or infinite values")
    if low < -1e-3 or high > 1 + 1e-3:
        raise ImageLoadError(f"float image values must lie in [0, 1], got [{low:.3g}, {high:.3g}]")
    height, width = tensor.shape[1:]
    if min(height, width) < MIN_SIDE:
        raise ImageLoadError(f"image is {width}x{height}; both sides must be at least {MIN_SIDE} px")
    if height * width > MAX_PIXELS:
        raise ImageLoadError(f"image is {width}x{height}: more than {MAX_PIXELS:,} pixels")
    return tensor.clamp(0.0, 1.0) if low < 0.0 or high > 1.0 else tensor


def scaled_size(size: tuple[int, int], max_side: int | None) -> tuple[int, int]:
    """(width, height) at which an image of ``size`` is scored under ``max_side`` (None: as it is).

    The longer side is capped at ``max_side`` (aspect kept) but the shorter never drops below
    ``MIN_SIDE``, the model's smallest input; so a thin strip may keep a longer side above
    ``max_side``, as long as its area stays within ``max_side`` squared. A strip too elongated for
    that cannot be scored within the cap and is refused.
    """
    width, height = size
    if max_side is None or max(width, height) <= max_side:
        return size
    scale = max(max_side / max(width, height), MIN_SIDE / min(width, height))
    if scale >= 1.0:
        scaled = size
    else:
        scaled = (max(MIN_SIDE, round(width * scale)), max(MIN_SIDE, round(height * scale)))
    if scaled[0] * scaled[1] > max_side * max_side:
        raise ImageLoadError(f"image is {width}x{height}: too elongated to score within the {max_side} px cap "
                             f"(at most {max_side * max_side // MIN_SIDE} px long at {MIN_SIDE} px wide)")
    return scaled


def downscale_reason(original: tuple[int, int], scored: tuple[int, int]) -> str:
    """Why an image of size ``original`` was scored at the smaller ``scored`` size (both (width, height)),
    as :func:`scaled_size` decided: its longer side was capped, or, for a strip too thin for that, it
    was shrunk only until its shorter side reached ``MIN_SIDE`` (its longer side may stay above the cap)."""
    if min(scored) <= MIN_SIDE < min(original):
        return f"shrunk only until its shorter side reached the model's {MIN_SIDE} px minimum"
    return "longer side capped for speed"


def resize(tensor: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """(3, H, W) resized to ``size`` = (width, height): bicubic, antialiased, clamped to [0, 1]."""
    if (tensor.shape[2], tensor.shape[1]) == size:
        return tensor
    width, height = size
    resized = F.interpolate(tensor.contiguous()[None], size=(height, width), mode="bicubic", antialias=True,
                            align_corners=False)
    return resized[0].clamp(0.0, 1.0)


def limit_side(tensor: torch.Tensor, max_side: int | None) -> torch.Tensor:
    """Downscale (3, H, W) to its :func:`scaled_size` under ``max_side``."""
    return resize(tensor, scaled_size((tensor.shape[2], tensor.shape[1]), max_side))


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
