"""What a public user may see of an error: plain messages, never server paths or internals.

Library errors (:class:`QualiCLIPError`) are written for people; the app shows them with the
upload's server path replaced by its bare file name. Anything else is a bug or an attack: it is
logged in full on the server and the user gets one plain sentence.
"""
from __future__ import annotations

import contextlib
import functools
import logging
import os
import threading
from collections import OrderedDict
from typing import Callable, Iterator, TypeVar

import gradio as gr

from qualiclip import QualiCLIPError

LOG = logging.getLogger("qualiclip.studio")
UNEXPECTED = "Something went wrong on the server while handling this request; it has been logged."
#: What to do after an unusable image, said once, after the reason.
WHAT_TO_DO = "Try another image (a JPEG, PNG or WebP photo) or click an example."
Handler = TypeVar("Handler", bound=Callable)


def without_paths(message: str, *paths: str | os.PathLike) -> str:
    """``message`` with each of ``paths`` (and its folder) replaced by the bare file name."""
    for path in paths:
        text = os.fspath(path)
        if text:
            message = message.replace(text, os.path.basename(text))
            folder = os.path.dirname(text)
            if len(folder) > 1:
                message = message.replace(folder + os.sep, "")
    return message


def image_error_message(error: QualiCLIPError, *paths: str | os.PathLike) -> str:
    """One message for an unusable image: the file's name, the reason (server paths removed), what to do."""
    message = without_paths(str(error), *paths).rstrip(".")
    name = next((os.path.basename(os.fspath(path)) for path in paths if os.fspath(path)), "")
    if name and name not in message:
        message = f"{name}: {message}"
    return f"{message}. {WHAT_TO_DO}"


@contextlib.contextmanager
def user_errors(*paths: str | os.PathLike) -> Iterator[None]:
    """Show the library's errors as a ``gr.Error``, see :func:`image_error_message`."""
    try:
        yield
    except QualiCLIPError as err:
        raise gr.Error(image_error_message(err, *paths), title="This image cannot be used") from err


class RecentErrors:
    """The last messages of quiet handlers, by their first input when it is a path (an upload's), so the
    card said in place shows the very message without decoding the image again (thread-safe, bounded)."""

    def __init__(self, size: int = 64) -> None:
        self.size = size
        self._messages: OrderedDict[str, str] = OrderedDict()
        self._lock = threading.Lock()

    def note(self, key: object, message: str) -> None:
        if isinstance(key, (str, os.PathLike)):
            with self._lock:
                self._messages[os.fspath(key)] = message
                while len(self._messages) > self.size:
                    self._messages.popitem(last=False)

    def pop(self, key: object) -> str | None:
        """The message noted for ``key`` (then forgotten), or None."""
        if not isinstance(key, (str, os.PathLike)):
            return None
        with self._lock:
            return self._messages.pop(os.fspath(key), None)


def quiet(handler: Handler, noted: RecentErrors | None = None) -> Handler:
    """``handler`` whose ``gr.Error`` reaches API callers as it is but raises no pop-up in the page.

    For the callbacks that run by themselves on every new image (score, heatmaps, preview): the
    page shows the error once, in place of the score (see ``Callbacks.input_error``), from the
    message noted in ``noted`` under the handler's first argument.
    """
    @functools.wraps(handler)
    def run(*args, **kwargs):
        try:
            return handler(*args, **kwargs)
        except gr.Error as err:
            if noted is not None and args:
                noted.note(args[0], err.message)
            raise gr.Error(err.message, title=err.title, visible=False, print_exception=False) from err
    return run  # type: ignore[return-value]


def guarded(handler: Handler) -> Handler:
    """``handler`` with unexpected exceptions logged in full and shown as one plain sentence."""
    @functools.wraps(handler)
    def run(*args, **kwargs):
        try:
            return handler(*args, **kwargs)
        except gr.Error:
            raise
        except Exception as err:  # noqa: BLE001 - the point: nothing internal reaches the client
            LOG.exception("unexpected error in %s", handler.__name__)
            raise gr.Error(UNEXPECTED, title="Server error") from err
    return run  # type: ignore[return-value]
