"""Image files on disk: which files count as images, finding them in folders, scoring them in batches.

Used by every tool that works on files (the ``score``/``eval`` commands, MOS evaluation,
training data, the app's batch tab), so they all see the same files and the same errors.
Only regular files are ever opened: a FIFO or a device could block or never end.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Iterator, Sequence, Union

from PIL import Image

from .errors import QualiCLIPError, listed
from .imaging import DECODED_FORMATS, PreparedImage
from .scoring import ImageScore, QualityScorer


def _pillow_suffixes() -> frozenset[str]:
    """Suffixes (lower case) of every format the decoder accepts, e.g. .avif when Pillow has AVIF."""
    return frozenset(suffix for suffix, kind in Image.registered_extensions().items() if kind in DECODED_FORMATS)


#: Suffixes (lower case) of the files that a folder search picks up.
IMAGE_SUFFIXES = _pillow_suffixes()


@dataclass(frozen=True)
class FoundFiles:
    """What a search found: the image files to use, and what it passed over and why."""

    #: In the order given: each named file (whatever its suffix), each folder's image files (sorted).
    images: list[Path]
    #: FIFOs, devices, sockets and broken links, named or found: never opened.
    not_regular: list[Path]
    #: Regular files found in folders whose suffix no image format uses.
    not_images: list[Path]

    def notices(self) -> list[str]:
        """One line per file that is not a regular file, one line for all the non-images."""
        return skipped_notices(list(map(str, self.not_regular)), list(map(str, self.not_images)))


def skipped_notices(not_regular: Sequence[str], not_images: Sequence[str]) -> list[str]:
    """The lines that report files passed over: each non-regular file, then all non-images in one line."""
    lines = [f"skipped {path}: not a regular file" for path in not_regular]
    if not_images:
        count = len(not_images)
        lines.append(f"skipped {count} {'file that is not an image' if count == 1 else 'files that are not images'}"
                     f": {listed(list(not_images))}")
    return lines


def find_images(paths: Iterable[str | Path]) -> FoundFiles:
    """Files as given; folders replaced by the image files below them (recursive, sorted per folder).

    A named path that does not exist is kept, so that scoring reports it like any unreadable file.
    """
    images: list[Path] = []
    not_regular: list[Path] = []
    not_images: list[Path] = []
    for path in map(Path, paths):
        if path.is_dir():
            for entry in sorted(path.rglob("*")):
                if entry.is_dir():
                    continue
                if not entry.is_file():
                    not_regular.append(entry)
                elif entry.suffix.lower() in IMAGE_SUFFIXES:
                    images.append(entry)
                else:
                    not_images.append(entry)
        elif path.exists() and not path.is_file():
            not_regular.append(path)
        else:
            images.append(path)
    return FoundFiles(images, not_regular, not_images)


def images_below(folder: str | Path) -> list[Path]:
    """The image files below ``folder`` (recursive), sorted so that runs are reproducible."""
    return find_images([folder]).images


#: Any source a loader understands: a local path, or a string such as an object-store URI.
FileSource = Union[str, Path]
#: Turns one source into the image to score, or the error that makes it unusable (never raises it).
Loader = Callable[[FileSource], Union[PreparedImage, QualiCLIPError]]


@dataclass(frozen=True)
class ScoredFile:
    """One file's outcome: its result, or the reason it has none.

    Unpacks as ``(path, result, error)``, like ``os.stat_result``, which also has more attributes
    than tuple items.
    """

    path: FileSource
    result: ImageScore | None
    error: str | None
    #: Frames in the file (animations, multi-page TIFFs); the score is of the first one.
    frames: int = 1
    #: (width, height) of the image before any ``max_side`` downscale; None when it has no result.
    original_size: tuple[int, int] | None = None

    def __iter__(self) -> Iterator[object]:
        return iter((self.path, self.result, self.error))


def failure_line(path: FileSource, error: str) -> str:
    """One stderr line for a file that was skipped, naming its path once (errors from decoding
    already start with it; others, such as a size check, do not)."""
    return f"skipped {error}" if error.startswith(f"{path} ") else f"skipped {path}: {error}"


def score_prepared(model: QualityScorer, paths: Sequence[FileSource],
                   prepared: Sequence[PreparedImage | QualiCLIPError], batch_size: int = 8) -> list[ScoredFile]:
    """One :class:`ScoredFile` per path from its prepared image (or the error preparing it), in order.

    Same-sized images share a forward pass; an error costs only its own result.
    """
    results = iter(model.score([image for image in prepared if isinstance(image, PreparedImage)], batch_size))
    return [ScoredFile(path, next(results), None, image.frames, image.original_size)
            if isinstance(image, PreparedImage) else ScoredFile(path, None, str(image))
            for path, image in zip(paths, prepared)]


def score_files(model: QualityScorer, paths: Sequence[FileSource], batch_size: int = 8,
                load: Loader | None = None) -> Iterator[ScoredFile]:
    """Yield one :class:`ScoredFile` per path, in order, ``batch_size`` files prepared at a time.

    ``load`` prepares one source (default: ``model.prepare``, for local files); a file that cannot
    be used yields its error message and no result, and the others are unaffected.
    """
    load = load or (lambda path: model.prepare(path, errors="keep"))
    for start in range(0, len(paths), batch_size):
        chunk = paths[start:start + batch_size]
        yield from score_prepared(model, chunk, [load(path) for path in chunk], batch_size)
