"""One helper to find Abrasio's resource files, from the source tree and from the PyInstaller bundle.

The bundle (``build.spec``) mirrors the source layout: ``resources/`` sits at the bundle root
(``sys._MEIPASS``) exactly as it sits beside ``desktop/`` in the source tree.
"""

from __future__ import annotations

import sys
from pathlib import Path


def resources_root() -> Path:
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        return Path(bundle) / "resources"
    return Path(__file__).resolve().parent.parent / "resources"


def resource_path(name: str) -> Path:
    path = resources_root() / name
    if not path.exists():
        raise FileNotFoundError(f"Abrasio resource missing: {path}")
    return path
