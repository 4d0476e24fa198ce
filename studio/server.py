"""Run the app in this process on a free localhost port: for the end-to-end tests and the load check."""
from __future__ import annotations

import contextlib
import importlib
import os
import socket
from pathlib import Path
from typing import Iterator

from .models import WEIGHTS_ENV

HOST = "127.0.0.1"


def free_port() -> int:
    """A TCP port on localhost that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def running_app(weights: str | Path | None = None) -> Iterator[str]:
    """Launch ``app.demo`` (on ``weights`` when given, see ``$QUALICLIP_STUDIO_WEIGHTS``); yield its URL.

    The server runs in a background thread and is closed on exit. ``weights`` must be the same
    for every call in one process: the models are loaded once, on the app's first import.
    """
    previous = os.environ.get(WEIGHTS_ENV)
    if weights is not None:
        os.environ[WEIGHTS_ENV] = str(weights)
    try:
        app = importlib.import_module("app")
        app.launch(server_name=HOST, server_port=free_port(), prevent_thread_lock=True, quiet=True)
        try:
            yield app.demo.local_url
        finally:
            app.demo.close()
    finally:
        if previous is None:
            os.environ.pop(WEIGHTS_ENV, None)
        else:
            os.environ[WEIGHTS_ENV] = previous
