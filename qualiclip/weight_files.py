"""Find model weights: an explicit path, then an environment variable, then a cached download.

Downloads go once into the torch hub cache (``$TORCH_HOME/hub/checkpoints``) with a progress bar
(on stderr, so it shows in a server's log). Offline machines must not hang: the server is probed
with a short timeout first, the transfer has a per-read timeout of its own, and every failure
becomes one :class:`WeightsUnavailableError` that names all the ways to supply weights. A file
is only ever renamed into the cache once complete.
"""
from __future__ import annotations

import os
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import torch
from tqdm import tqdm

from .errors import WeightsUnavailableError

QUALICLIP_URL = "https://github.com/miccunifi/QualiCLIP/releases/download/weights/qualiclip.pth"
QUALICLIP_ENV = "QUALICLIP_WEIGHTS"
PROBE_TIMEOUT_S = 5.0
DOWNLOAD_STALL_TIMEOUT_S = 60.0
_CHUNK_BYTES = 1 << 20


@dataclass(frozen=True)
class RemoteWeights:
    """Where a model's weights live online and how they are cached and overridden."""

    url: str
    filename: str
    env_var: str | None = None


def cache_dir() -> Path:
    """The torch hub checkpoint cache, shared with every other torch project on the machine."""
    return Path(torch.hub.get_dir()) / "checkpoints"


def resolve_weights(remote: RemoteWeights, explicit: str | Path | None = None,
                    probe_timeout: float = PROBE_TIMEOUT_S) -> Path:
    """Return a local file: ``explicit``, else ``$env_var``, else the cached/downloaded ``remote.url``."""
    if explicit is not None:
        return _existing(Path(explicit), "the path given")
    if remote.env_var and os.environ.get(remote.env_var):
        return _existing(Path(os.environ[remote.env_var]), f"${remote.env_var}")
    cached = cache_dir() / remote.filename
    if cached.is_file():
        return cached
    try:
        _probe(remote.url, probe_timeout)
        download(remote.url, cached)
    except (OSError, urllib.error.URLError) as err:  # URLError/HTTPError/timeouts are OSErrors
        raise WeightsUnavailableError(_unavailable_message(remote, cached, err)) from err
    return cached


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


def download(url: str, destination: Path, stall_timeout: float = DOWNLOAD_STALL_TIMEOUT_S) -> None:
    """Stream ``url`` into ``destination`` with a progress bar; no read may wait over ``stall_timeout`` s.

    The data goes to a temporary file beside ``destination``, renamed over it only when complete.
    """
    destination.parent.mkdir(parents=True, exist_ok=True)
    with urllib.request.urlopen(url, timeout=stall_timeout) as response:
        total = int(response.headers.get("Content-Length") or 0) or None
        with tempfile.NamedTemporaryFile(dir=destination.parent, suffix=".part", delete=False) as part, \
                tqdm(total=total, unit="B", unit_scale=True, desc=destination.name) as progress:
            try:
                while chunk := response.read(_CHUNK_BYTES):
                    part.write(chunk)
                    progress.update(len(chunk))
            except BaseException:
                os.unlink(part.name)
                raise
    os.replace(part.name, destination)


def _unavailable_message(remote: RemoteWeights, cached: Path, err: BaseException) -> str:
    ways = ["pass a local file (--weights PATH on the command line, weights=PATH in load_model)"]
    if remote.env_var:
        ways.append(f"set the environment variable {remote.env_var}=PATH")
    ways.append(f"go online once so that {remote.url} downloads into {cached}")
    listed = "; ".join(f"({i}) {way}" for i, way in enumerate(ways, start=1))
    return f"Could not get the weights from {remote.url} ({err}). Provide them in one of these ways: {listed}."
