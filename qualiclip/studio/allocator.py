"""Keep a long-running server's memory flat: two glibc malloc settings, applied by the app at start-up.

A Gradio server runs callbacks on many worker threads; glibc gives threads their own malloc arenas
and moves its mmap threshold as blocks come and go, so freed image-sized buffers pile up in those
arenas. Measured with ``benchmarks/load_check.py`` (RN50, 2 cores):

- glibc's defaults: RSS grew by 60-140 MB over 100 sequential requests;
- at most two arenas and a fixed 1 MB mmap threshold: +4 MB, but every forward pass 1.7x slower
  (each activation buffer became a fresh mmap, zeroed page by page);
- at most two arenas and a fixed 64 MB threshold (these settings): +10 MB, forward speed unchanged.

Only the process's owner (:mod:`qualiclip.studio.serve`) should call this; elsewhere (other libcs) it does nothing.
"""
from __future__ import annotations

import ctypes
import ctypes.util

_M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter numbers (malloc.h)
_M_ARENA_MAX = -8
ARENAS = 2
MMAP_THRESHOLD = 64 << 20


def tune_for_serving() -> bool:
    """Apply the two settings; True when the C library is glibc and accepted them."""
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    try:
        mallopt = ctypes.CDLL(name).mallopt
    except (OSError, AttributeError):
        return False
    return bool(mallopt(_M_ARENA_MAX, ARENAS)) and bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD))
