"""Results from worker threads back to the GUI thread, safely even when their window has closed.

A worker calls ``post(owner, fn, *args)``; ``fn(*args)`` then runs on the GUI thread, unless ``owner``
(the window or dialog that started the work) has been deleted meanwhile. The signal travels on one
long-lived object, so a worker never emits on an object that is being destroyed under it.
"""

from __future__ import annotations

import shiboken6
from PySide6.QtCore import QObject, Qt, Signal


class _Bus(QObject):
    call = Signal(object)

    def __init__(self):
        super().__init__()
        self.call.connect(self._run, Qt.ConnectionType.QueuedConnection)

    @staticmethod
    def _run(item) -> None:
        owner, fn, args = item
        if shiboken6.isValid(owner):
            fn(*args)


_bus: _Bus | None = None


def ensure_bus() -> None:
    """Create the bus on the GUI thread (call from a window's constructor, before starting work)."""
    global _bus
    if _bus is None:
        _bus = _Bus()


def post(owner: QObject, fn, *args) -> None:
    """From any thread: run ``fn(*args)`` on the GUI thread if ``owner`` still exists by then."""
    assert _bus is not None, "ensure_bus() first, on the GUI thread"
    _bus.call.emit((owner, fn, args))


class Relay:
    """A GUI object's named callbacks, callable from worker threads: ``relay.done(result)`` runs
    ``callbacks["done"](result)`` on the GUI thread if the owner still exists."""

    def __init__(self, owner: QObject, **callbacks):
        ensure_bus()
        self._owner = owner
        self._callbacks = callbacks

    def __getattr__(self, name: str):
        fn = self._callbacks[name]
        owner = self._owner
        return lambda *args: post(owner, fn, *args)
