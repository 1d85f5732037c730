"""Real faults for tests: read-only files and folders (also as root), damaged pages, digests."""

from __future__ import annotations

import contextlib
import hashlib
import os
import random
import shutil
import stat
import subprocess
from pathlib import Path

PAGE = 4096


def digest(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


class ReadOnly:
    """Makes files and folders read-only for this process, the way a clinic PC would: by permissions
    (chmod) and, where this process is root (which ignores permissions), by the immutable attribute
    (``chattr +i``), which root's writes are refused by too. ``undo`` restores everything."""

    def __init__(self):
        self._done: list[tuple[Path, int, bool]] = []

    def __call__(self, path: Path) -> Path:
        path = Path(path)
        mode = path.stat().st_mode
        os.chmod(path, stat.S_IMODE(mode) & ~0o222)
        immutable = False
        if os.access(path, os.W_OK):  # root: permissions do not stop it
            subprocess.run(["chattr", "+i", str(path)], check=True, capture_output=True)
            immutable = True
        self._done.append((path, stat.S_IMODE(mode), immutable))
        assert not os.access(path, os.W_OK), f"could not make {path} read-only"
        return path

    def undo(self) -> None:
        for path, mode, immutable in reversed(self._done):
            if immutable:
                subprocess.run(["chattr", "-i", str(path)], check=False, capture_output=True)
            with contextlib.suppress(FileNotFoundError):
                os.chmod(path, mode)
        self._done.clear()


def damage_pages(src: Path, dest: Path, seed: int, hits: int = 3) -> Path:
    """A copy of ``src`` with a few bytes overwritten in random pages (never page 1, the schema):
    in a b-tree page's header (structure SQLite's checks see) or anywhere in it (content)."""
    shutil.copyfile(src, dest)
    data = bytearray(dest.read_bytes())
    rng = random.Random(seed)
    pages = len(data) // PAGE
    for _ in range(hits):
        page = rng.randrange(1, pages)
        offset = page * PAGE + (rng.randrange(0, 12) if rng.random() < 0.6 else rng.randrange(0, PAGE - 8))
        for k in range(rng.randrange(2, 8)):
            data[offset + k] = rng.randrange(256)
    dest.write_bytes(bytes(data))
    return dest
