"""Image files on disk: which files count as images, finding them in folders, scoring them in batches.

Used by every tool that works on files (the ``score``/``eval`` commands, MOS evaluation,
training data, the app's batch tab), so they all see the same files and the same errors.
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterable, Iterator, Sequence

from .imaging import PreparedImage
from .scoring import QualityModel, QualityScore

#: Suffixes (lower case) of the files that a folder search picks up.
IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp", ".gif", ".jp2",
                            ".ppm", ".pgm"})


def images_below(folder: str | Path) -> list[Path]:
    """The image files below ``folder`` (recursive), sorted so that runs are reproducible."""
    return sorted(p for p in Path(folder).rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)


def expand_paths(paths: Iterable[str | Path]) -> list[Path]:
    """Files as given; folders replaced by the image files below them."""
    found: list[Path] = []
    for path in map(Path, paths):
        found.extend(images_below(path) if path.is_dir() else [path])
    return found


def score_files(model: QualityModel, paths: Sequence[Path], batch_size: int = 8
                ) -> Iterator[tuple[Path, QualityScore | None, str | None]]:
    """Yield (path, result, error) per file, in order; same-sized files share a forward pass.

    A file that cannot be used yields its error message and no result; the others are unaffected.
    """
    for start in range(0, len(paths), batch_size):
        chunk = paths[start:start + batch_size]
        prepared = [model.prepare(path, errors="keep") for path in chunk]
        results = iter(model.score([image for image in prepared if isinstance(image, PreparedImage)], batch_size))
        for path, image in zip(chunk, prepared):
            if isinstance(image, PreparedImage):
                yield path, next(results), None
            else:
                yield path, None, str(image)
