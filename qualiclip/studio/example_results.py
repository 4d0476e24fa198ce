"""The example photos' results, computed in the background after start-up, so a first click shows them at once.

What an upload shows depends on the photo and on the page's settings (heatmap method, pair, opacity,
the Robustness tab's type and level, the tab shown). :class:`ExampleResults` keeps the complete
outputs of :meth:`~qualiclip.studio.callbacks.Callbacks.analyse_upload` for each example photo with
the settings the page starts with, keyed by the photo's content (the copy Gradio serves has another
path) and those settings: a visitor who clicks an example before changing a setting gets them with
no model call; any other click computes as usual. The results are what the call itself returns,
computed by it. On ZeroGPU nothing is computed ahead (no GPU outside a visitor's request): the first
click on an example costs one GPU call, as any upload.
"""
from __future__ import annotations

import logging
import os
import threading
from typing import Any, Callable, Hashable, Sequence

from .analysis import file_digest, is_file

LOG = logging.getLogger("qualiclip.studio")
#: ``Settings``: the upload call's arguments after the image, as the page starts with them.
Settings = tuple[Hashable, ...]


class ExampleResults:
    """The upload outputs of the example photos with the starting settings (thread-safe; filled once)."""

    def __init__(self) -> None:
        self._results: dict[tuple[str, Settings], tuple] = {}
        #: The examples' file sizes: an upload of another size is no example, told without hashing it
        #: (the analysis cache hashes every upload already; most uploads are not examples).
        self._sizes: set[int] = set()
        self._lock = threading.Lock()
        #: Set when :meth:`compute` has gone through every example (used or not).
        self.ready = threading.Event()

    def get(self, image: Any, settings: Settings) -> tuple | None:
        """The kept outputs for ``image`` (a file) with ``settings``, or None."""
        if not self._results or not is_file(image) or os.path.getsize(image) not in self._sizes:
            return None
        with self._lock:
            return self._results.get((file_digest(image), tuple(settings)))

    def compute(self, upload: Callable[..., tuple], examples: Sequence[str], settings: Settings) -> None:
        """``upload(example, *settings)`` for each example, kept; an example that fails is logged and skipped."""
        for example in examples:
            try:
                outputs = upload(example, *settings)
            except Exception:  # a broken example must not stop the others or the app
                LOG.exception("the results of example %s could not be computed ahead", example)
                continue
            with self._lock:
                self._results[file_digest(example), tuple(settings)] = outputs
                self._sizes.add(os.path.getsize(example))
        self.ready.set()
        LOG.info("results of %d example photos ready", len(self._results))

    def start(self, upload: Callable[..., tuple], examples: Sequence[str], settings: Settings) -> threading.Thread:
        """:meth:`compute` in a thread (the server starts meanwhile); the thread. Not a daemon: a process
        ending meanwhile waits for it (seconds) rather than tearing down torch under it."""
        thread = threading.Thread(target=self.compute, args=(upload, examples, settings),
                                  name="qualiclip-example-results")
        thread.start()
        return thread
