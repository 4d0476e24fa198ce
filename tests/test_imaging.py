"""Input decoding: colour modes, EXIF orientation, corrupt and out-of-range inputs."""
from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from qualiclip import ImageLoadError, QualityScorer
from qualiclip import imaging
from qualiclip.imaging import open_image, to_unit_tensor


def _png_bytes(img: Image.Image, fmt: str = "PNG") -> bytes:
    buffer = io.BytesIO()
    img.save(buffer, format=fmt)
    return buffer.getvalue()


@pytest.fixture()
def rgb(photo: np.ndarray) -> Image.Image:
    return Image.fromarray(photo)


def _as_unit(img: Image.Image) -> np.ndarray:
    return np.asarray(img.convert("RGB"), dtype=np.float32) / 255.0


def test_grey_and_palette_modes_become_rgb(rgb: Image.Image) -> None:
    grey = rgb.convert("L")
    tensor = to_unit_tensor(open_image(_png_bytes(grey)))
    assert tensor.shape == (3, grey.height, grey.width)
    torch.testing.assert_close(tensor[0], tensor[2])
    np.testing.assert_allclose(tensor[0].numpy(), np.asarray(grey) / 255.0, atol=1e-6)
    palette = rgb.convert("P", palette=Image.Palette.ADAPTIVE, colors=64)
    decoded = to_unit_tensor(open_image(_png_bytes(palette))).permute(1, 2, 0).numpy()
    np.testing.assert_allclose(decoded, _as_unit(palette), atol=1e-6)
    assert np.abs(decoded - _as_unit(rgb)).mean() < 0.05, "palette is a close approximation of the photo"


@pytest.mark.parametrize("mode", ["RGBA", "LA", "PA"])
def test_transparency_is_composited_on_white(rgb: Image.Image, mode: str) -> None:
    source = rgb.convert("LA" if mode == "LA" else "RGBA")
    alpha = Image.new("L", rgb.size, 0)
    alpha.paste(255, (0, 0, rgb.width // 2, rgb.height))  # left half opaque, right half transparent
    source.putalpha(alpha)
    if mode == "PA":  # PA cannot be saved as a file; it reaches us as an in-memory PIL image
        source = source.convert("PA")
    tensor = to_unit_tensor(source)
    right = tensor[:, :, rgb.width // 2 + 1:]
    assert torch.all(right == 1.0), "fully transparent pixels are white"
    left = tensor[:, :, : rgb.width // 2]
    assert left.mean() < 0.9, "opaque pixels keep the photo"


def test_palette_with_transparency_index(rgb: Image.Image) -> None:
    palette = rgb.convert("P", palette=Image.Palette.ADAPTIVE, colors=16)
    index = palette.getpixel((0, 0))
    palette.info["transparency"] = index
    tensor = to_unit_tensor(open_image(_png_bytes(palette)))
    assert torch.all(tensor[:, 0, 0] == 1.0)


def test_cmyk_jpeg_is_converted(rgb: Image.Image) -> None:
    cmyk = rgb.convert("CMYK")
    tensor = to_unit_tensor(open_image(_png_bytes(cmyk, "JPEG")))
    assert tensor.shape == (3, rgb.height, rgb.width)
    assert (tensor.permute(1, 2, 0).numpy() - _as_unit(rgb)).__abs__().mean() < 0.05


def test_sixteen_bit_grey_is_scaled_not_clipped(rgb: Image.Image) -> None:
    grey8 = np.asarray(rgb.convert("L"), dtype=np.uint16)
    sixteen = Image.fromarray(grey8 * 257)  # full 16-bit range
    assert sixteen.mode.startswith("I")
    tensor = to_unit_tensor(open_image(_png_bytes(sixteen)))
    np.testing.assert_allclose(tensor[1].numpy(), grey8 / 255.0, atol=1 / 255 + 1e-6)
    assert (tensor == 1.0).float().mean() < 0.01, "not saturated to white"


def test_exif_orientation_is_applied(rgb: Image.Image, tmp_path: Path) -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display
    path = tmp_path / "rotated.jpg"
    rgb.save(path, exif=exif, quality=95)
    tensor = to_unit_tensor(path)
    assert tensor.shape == (3, rgb.width, rgb.height)
    expected = _as_unit(rgb.transpose(Image.Transpose.ROTATE_270))
    assert np.abs(tensor.permute(1, 2, 0).numpy() - expected).mean() < 0.02


@pytest.mark.parametrize("array", [
    np.zeros((40, 50), dtype=np.uint8),
    np.zeros((40, 50, 1), dtype=np.float32),
    np.zeros((40, 50, 4), dtype=np.uint8),
    np.zeros((40, 50, 3), dtype=np.uint16),
])
def test_array_layouts(array: np.ndarray) -> None:
    assert to_unit_tensor(array).shape == (3, 40, 50)


def test_rgba_array_composites_on_white() -> None:
    array = np.zeros((40, 50, 4), dtype=np.uint8)
    assert torch.all(to_unit_tensor(array) == 1.0)


def test_every_mode_scores(tiny_model: QualityScorer, rgb: Image.Image) -> None:
    modes = ["1", "L", "LA", "P", "RGBA", "CMYK", "I", "I;16", "F", "YCbCr"]
    results = tiny_model.score([rgb.convert(mode) if mode != "I;16" else
                                Image.fromarray(np.asarray(rgb.convert("L"), dtype=np.uint16) * 257)
                                for mode in modes])
    assert all(0.0 <= r.score <= 1.0 for r in results)


@pytest.mark.parametrize("content, message", [
    (b"", "not an image"),
    (b"hello, I am text", "not an image"),
    (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "not an image"),
])
def test_non_images_are_refused(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "file.jpg"
    path.write_bytes(content)
    with pytest.raises(ImageLoadError, match=message):
        to_unit_tensor(path)


def test_truncated_jpeg_is_refused(rgb: Image.Image) -> None:
    data = _png_bytes(rgb, "JPEG")
    with pytest.raises(ImageLoadError, match="corrupt or truncated"):
        open_image(data[: len(data) // 2])


def test_missing_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ImageLoadError, match="does not exist"):
        open_image(tmp_path / "nope.png")


def test_tiny_images_are_refused() -> None:
    with pytest.raises(ImageLoadError, match="at least 32 px"):
        to_unit_tensor(np.zeros((31, 400, 3), dtype=np.uint8))
    assert to_unit_tensor(np.zeros((32, 32, 3), dtype=np.uint8)).shape == (3, 32, 32)


def test_decompression_bombs_are_refused(rgb: Image.Image, monkeypatch: pytest.MonkeyPatch) -> None:
    limit = rgb.width * rgb.height // 4
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", limit)
    monkeypatch.setattr(imaging, "MAX_PIXELS", limit)
    with pytest.raises(ImageLoadError, match="too large"):
        open_image(_png_bytes(rgb))
    with pytest.raises(ImageLoadError, match="more than"):
        to_unit_tensor(np.zeros((rgb.height, rgb.width, 3), dtype=np.uint8))


@pytest.mark.parametrize("bad", [
    torch.full((3, 40, 40), 2.0),
    torch.full((3, 40, 40), float("nan")),
    torch.zeros((1, 3, 40, 40)),
    np.full((40, 40, 3), -0.5, dtype=np.float32),
    np.zeros((40, 40, 5), dtype=np.float32),
])
def test_out_of_contract_arrays_are_refused(bad) -> None:
    with pytest.raises(ImageLoadError):
        to_unit_tensor(bad)


def test_formats_that_run_external_programs_are_refused_whatever_the_name(tmp_path: Path) -> None:
    eps = b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 64 64\nshowpage\n"
    disguised = tmp_path / "holiday.png"
    disguised.write_bytes(eps)
    assert Image.open(io.BytesIO(eps)).format == "EPS"  # Pillow itself would open it (and run Ghostscript)
    with pytest.raises(ImageLoadError, match="not an image file Pillow can read"):
        to_unit_tensor(disguised)
    from qualiclip.image_files import IMAGE_SUFFIXES
    assert ".eps" not in IMAGE_SUFFIXES and ".png" in IMAGE_SUFFIXES
