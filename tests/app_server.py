"""Serve a demo in this process on a free localhost port: a test helper (the end-to-end and browser tests,
the screenshots) that the benchmarks also use (``from tests.app_server import free_port``)."""
from __future__ import annotations

import contextlib
import socket
from typing import Iterator

from qualiclip.studio.layout import build_demo, launch
from qualiclip.studio.model_slots import Studio

HOST = "127.0.0.1"


def free_port() -> int:
    """A TCP port on localhost that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def running_app(studio: Studio, example_results: bool = False) -> Iterator[str]:
    """Build a fresh demo on ``studio`` (``example_results``: as ``app.py`` does), serve it from a background
    thread and yield its URL; closed on exit."""
    demo = build_demo(studio, example_results=example_results)
    launch(demo, server_name=HOST, server_port=free_port(), prevent_thread_lock=True, quiet=True)
    try:
        yield demo.local_url
    finally:
        demo.close()
