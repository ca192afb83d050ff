"""Ctrl-C (or the notebook's Stop button) between two steps, never in the middle of one.

An optimiser update changes every parameter and its optimiser state one tensor after the
other; a ``KeyboardInterrupt`` arriving half-way would leave a run that no longer matches
any step (some parameters moved, others not). :class:`InterruptGuard` installs a SIGINT
handler for a block of steps; inside ``with guard.deferred():`` an interrupt is only
recorded, and raised as soon as the block's critical part is over. Outside it, and when
training runs off the main thread (where Python delivers no signals anyway), nothing
changes.
"""

from __future__ import annotations

import signal
import threading
from contextlib import contextmanager


class InterruptGuard:
    """``with guard:`` around a block of steps; ``with guard.deferred():`` around an update."""

    def __init__(self):
        self._previous = None
        self._installed = False
        self._depth = 0
        self._deferring = False
        self._pending = None  # (signum, frame) of an interrupt that arrived while deferring

    def __enter__(self) -> InterruptGuard:
        self._depth += 1
        if self._depth == 1 and threading.current_thread() is threading.main_thread():
            previous = signal.getsignal(signal.SIGINT)
            if callable(previous):  # SIG_IGN / SIG_DFL: nothing to defer to
                self._previous = previous
                signal.signal(signal.SIGINT, self._handle)
                self._installed = True
        return self

    def __exit__(self, *exc_info) -> None:
        self._depth -= 1
        if self._depth == 0 and self._installed:
            signal.signal(signal.SIGINT, self._previous)
            self._installed, self._previous = False, None

    def _handle(self, signum, frame) -> None:
        if self._deferring:
            self._pending = (signum, frame)
        else:
            self._previous(signum, frame)

    @contextmanager
    def deferred(self):
        """Run the body whole; an interrupt that arrives meanwhile is raised after it."""
        if self._deferring:  # nested: the outer one raises
            yield
            return
        self._deferring, self._pending = True, None
        try:
            yield
        finally:
            self._deferring = False
            pending, self._pending = self._pending, None
            if pending is not None and self._previous is not None:
                self._previous(*pending)
