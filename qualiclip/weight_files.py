"""Find model weights: an explicit path, then an environment variable, then a cached download.

A model may need several files (QualiCLIP+: a CLIP checkpoint and a prompt file); they are found
together, and the ones that cannot be had are named together in one error. Downloads go once into
the torch hub cache (``$TORCH_HOME/hub/checkpoints``) with a progress bar (on stderr, so it shows
in a server's log). Where the publisher states a file's SHA-256 (:attr:`RemoteWeights.sha256`), a
download is checked against it before it enters the cache, and a mismatch is refused
(:class:`~qualiclip.errors.WeightsHashError`). Offline machines must not hang: the server is probed
with a short timeout first, the transfer has a per-read timeout of its own, and every failure
becomes one :class:`WeightsUnavailableError` that names all the ways to supply weights. A file
is only ever renamed into the cache once complete.
"""
from __future__ import annotations

import hashlib
import os
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from tqdm import tqdm

from .errors import WeightsHashError, WeightsUnavailableError

QUALICLIP_URL = "https://github.com/miccunifi/QualiCLIP/releases/download/weights/qualiclip.pth"
QUALICLIP_ENV = "QUALICLIP_WEIGHTS"
PROBE_TIMEOUT_S = 5.0
DOWNLOAD_STALL_TIMEOUT_S = 60.0
_CHUNK_BYTES = 1 << 20


@dataclass(frozen=True)
class RemoteWeights:
    """Where a model's weights file lives online and how it is cached and overridden."""

    url: str
    filename: str
    env_var: str | None = None
    #: The ``load_model`` keyword (and, dashed, the command-line flag) that gives a local file instead.
    option: str = "weights"
    #: The file's SHA-256 (hex) as its publisher states it; None where none is published.
    sha256: str | None = None


def cache_dir() -> Path:
    """The torch hub checkpoint cache, shared with every other torch project on the machine.

    torch is imported here, not at the top: the model registry (and so ``qualiclip --help``) imports
    this module for :class:`RemoteWeights` alone.
    """
    import torch.hub

    return Path(torch.hub.get_dir()) / "checkpoints"


def resolve_weights(remote: RemoteWeights, explicit: str | Path | None = None,
                    probe_timeout: float = PROBE_TIMEOUT_S) -> Path:
    """Return a local file: ``explicit``, else ``$env_var``, else the cached/downloaded ``remote.url``."""
    [path] = resolve_all([(remote, explicit)], probe_timeout)
    return path


def resolve_all(sources: Sequence[tuple[RemoteWeights, str | Path | None]],
                probe_timeout: float = PROBE_TIMEOUT_S) -> list[Path]:
    """:func:`resolve_weights` for each (remote, explicit file) pair, in order.

    An explicit file or environment variable naming no file fails at once; remote files that can
    be neither found in the cache nor downloaded fail together, in one message naming every URL.
    """
    paths: list[Path] = []
    missing: list[tuple[RemoteWeights, Path, BaseException]] = []
    for remote, explicit in sources:
        if explicit is not None:
            paths.append(_existing(Path(explicit), "the path given"))
        elif remote.env_var and os.environ.get(remote.env_var):
            paths.append(_existing(Path(os.environ[remote.env_var]), f"${remote.env_var}"))
        else:
            cached = cache_dir() / remote.filename
            try:
                if not cached.is_file():
                    _probe(remote.url, probe_timeout)
                    download(remote.url, cached, sha256=remote.sha256)
            except (OSError, urllib.error.URLError) as err:  # URLError/HTTPError/timeouts are OSErrors
                missing.append((remote, cached, err))
            paths.append(cached)
    if missing:
        raise WeightsUnavailableError(_unavailable_message(missing))
    return paths


def _existing(path: Path, origin: str) -> Path:
    if not path.is_file():
        problem = "is not a regular file" if path.exists() else "does not exist"
        raise WeightsUnavailableError(f"Weights file {path} (from {origin}) {problem}.")
    return path


def _probe(url: str, timeout: float) -> None:
    """Fail within ``timeout`` seconds when the server cannot be reached or the file is missing."""
    request = urllib.request.Request(url, method="HEAD")
    with urllib.request.urlopen(request, timeout=timeout):
        pass


def download(url: str, destination: Path, stall_timeout: float = DOWNLOAD_STALL_TIMEOUT_S,
             sha256: str | None = None) -> None:
    """Stream ``url`` into ``destination`` with a progress bar; no read may wait over ``stall_timeout`` s.

    The data goes to a temporary file beside ``destination``, renamed over it only when complete and,
    given ``sha256``, only when its hash is that one (else the file is deleted and
    :class:`WeightsHashError` raised).
    """
    destination.parent.mkdir(parents=True, exist_ok=True)
    with urllib.request.urlopen(url, timeout=stall_timeout) as response:
        total = int(response.headers.get("Content-Length") or 0) or None
        digest = hashlib.sha256()
        with tempfile.NamedTemporaryFile(dir=destination.parent, suffix=".part", delete=False) as part, \
                tqdm(total=total, unit="B", unit_scale=True, desc=destination.name) as progress:
            try:
                while chunk := response.read(_CHUNK_BYTES):
                    part.write(chunk)
                    digest.update(chunk)
                    progress.update(len(chunk))
            except BaseException:
                os.unlink(part.name)
                raise
    if sha256 is not None and digest.hexdigest() != sha256.lower():
        os.unlink(part.name)
        raise WeightsHashError(
            f"{url} downloaded with SHA-256 {digest.hexdigest()}, but its publisher states {sha256.lower()}: "
            "the file was changed or damaged, so it was deleted and not used. Try again; if it persists, "
            "check the file's page and pass a file you trust with its --weights/--prompt-learner option.")
    os.replace(part.name, destination)


def _unavailable_message(missing: Sequence[tuple[RemoteWeights, Path, BaseException]]) -> str:
    """One line: what failed, then every way to supply the files (local paths, variables, downloading)."""
    files = "local files" if len(missing) > 1 else "a local file"
    flags = " and ".join(f"--{remote.option.replace('_', '-')} PATH" for remote, _, _ in missing)
    keywords = " and ".join(f"{remote.option}=PATH" for remote, _, _ in missing)
    ways = [f"pass {files} ({flags} on the command line, {keywords} in load_model)"]
    variables = [f"{remote.env_var}=PATH" for remote, _, _ in missing if remote.env_var]
    if variables:
        ways.append(f"set the environment variable {' and '.join(variables)}")
    downloads = " and ".join(f"{remote.url} downloads into {cached}" for remote, cached, _ in missing)
    ways.append(f"go online once so that {downloads}")
    listed = "; ".join(f"({i}) {way}" for i, way in enumerate(ways, start=1))
    failed = ", ".join(f"{remote.url} ({err})" for remote, _, err in missing)
    return f"Could not get the weights from {failed}. Provide them in one of these ways: {listed}."
