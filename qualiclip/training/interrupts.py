"""Ctrl-C during training: taken between steps, so a checkpoint never holds half a step."""
from __future__ import annotations

import contextlib
import signal
import threading
from typing import Iterator


@contextlib.contextmanager
def deferred_interrupt(distributed: bool = False) -> Iterator[list[bool]]:
    """Turn the first Ctrl-C into a flag checked between steps (a second one interrupts at once).

    A step interrupted half-way (weights updated, schedule not) could not be resumed exactly.
    With several processes, SIGTERM too (``torchrun`` forwards Ctrl-C as SIGINT and stops workers
    with SIGTERM) and every one of them only sets the flag: a rank leaving mid-step would leave the
    others waiting in a collective; ``torchrun`` kills workers that outstay its grace period.
    Outside the main thread signals cannot be caught; the flag then simply stays False.
    """
    flag = [False]
    if threading.current_thread() is not threading.main_thread():
        yield flag
        return

    def handler(signum: int, frame: object) -> None:
        if flag[0] and not distributed:
            raise KeyboardInterrupt
        flag[0] = True

    signals = (signal.SIGINT, signal.SIGTERM) if distributed else (signal.SIGINT,)
    previous = {signum: signal.signal(signum, handler) for signum in signals}
    try:
        yield flag
    finally:
        for signum, old in previous.items():
            signal.signal(signum, old)
