"""The session views' code, imported ahead of the first session on a thread of its own.

The live view and the review import pyqtgraph and the PDF outputs: about 0.6 s at the first session
of the day (measured; 0.9 s on a busy machine), which the GUI thread would otherwise spend frozen
the moment the practitioner presses Start. Imported here once the main window is up, while the
practitioner is still finding the client; a session started before it has finished simply waits
for the rest of the import, as it did before.
"""

from __future__ import annotations

import importlib
import logging
import threading

log = logging.getLogger(__name__)

MODULES = ("desktop.session.live", "desktop.session.review", "desktop.session_outputs")
_started = False


def preload_session_views() -> None:
    """Start the import in the background (once per process)."""
    global _started
    if _started:
        return
    _started = True
    threading.Thread(target=_import, name="preload session views", daemon=True).start()


def _import() -> None:
    for name in MODULES:
        try:
            importlib.import_module(name)
        except Exception:  # it fails again, and is reported, where the GUI thread imports it
            log.exception("Preloading %s failed", name)
