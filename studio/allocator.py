"""Keep a long-running server's memory flat: two glibc malloc settings, applied by the app at start-up.

A Gradio server runs callbacks on many worker threads; glibc gives threads their own malloc arenas
and, after a large block is freed, raises its mmap threshold so later image-sized buffers come
from those arenas and stay there. Measured with ``benchmarks/load_check.py`` (RN50, 2 cores): RSS
grew by 60-140 MB over 100 sequential requests and idled at 1.9 GB; with at most two arenas and a
fixed 1 MB mmap threshold (large buffers go straight back to the system) it grew by 4 MB and idled
at 1.4 GB. Only the process's owner (:mod:`studio.serve`) should call this; elsewhere (other libcs) it does nothing.
"""
from __future__ import annotations

import ctypes
import ctypes.util

_M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter numbers (malloc.h)
_M_ARENA_MAX = -8
ARENAS = 2
MMAP_THRESHOLD = 1 << 20


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
