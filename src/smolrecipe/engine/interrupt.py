"""Ctrl-C during training: finish the step, save a checkpoint, exit cleanly; a second Ctrl-C aborts at once.

    with StopOnInterrupt() as stop:
        while training:
            ...one step...
            if stop.requested: save(); break
"""
from __future__ import annotations

import signal
import sys


class StopOnInterrupt:
    def __init__(self):
        self.requested = False
        self._old = None

    def _handler(self, signum, frame):
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True
        print("\ninterrupt: saving a checkpoint after this step (Ctrl-C again to abort)", file=sys.stderr)

    def __enter__(self) -> "StopOnInterrupt":
        try:
            self._old = signal.signal(signal.SIGINT, self._handler)
        except ValueError:  # not the main thread (e.g. some test runners): no handler
            self._old = None
        return self

    def __exit__(self, *exc) -> None:
        if self._old is not None:
            signal.signal(signal.SIGINT, self._old)
