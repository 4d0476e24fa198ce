"""Run ``python app.py`` (the production entry point) in a subprocess for the app benchmarks."""
from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from qualiclip.studio.model_slots import WEIGHTS_ENV

START_TIMEOUT_S = 300


def start_app(root: Path, port: int, weights: Path | None,
              extra_env: dict[str, str] | None = None) -> tuple[subprocess.Popen, float]:
    """``python app.py`` in ``root`` on ``port`` (on ``weights``, else the production choice of models),
    with ``extra_env`` added to this process's environment.

    Returns the process and the seconds until it answered HTTP.
    """
    env = {**os.environ, **(extra_env or {}), "GRADIO_SERVER_PORT": str(port), "GRADIO_ANALYTICS_ENABLED": "False"}
    env.pop(WEIGHTS_ENV, None)
    if weights is not None:
        env[WEIGHTS_ENV] = str(weights)
    started = time.perf_counter()
    server = subprocess.Popen([sys.executable, "app.py"], cwd=root, env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True)
    while time.perf_counter() - started < START_TIMEOUT_S:
        if server.poll() is not None:
            raise RuntimeError(f"app.py in {root} exited with {server.returncode}: {server.stderr.read()[-2000:]}")
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/config", timeout=2).close()
            return server, time.perf_counter() - started
        except OSError:
            time.sleep(0.1)
    server.kill()
    raise RuntimeError(f"app.py did not start within {START_TIMEOUT_S} s")


def stop(server: subprocess.Popen) -> None:
    """Terminate the app and wait for it."""
    server.terminate()
    server.wait(timeout=60)
