"""Health data is private: the clinic's files are readable by this account only (POSIX), whatever the umask.

The database is created 0600 before SQLite opens it; SQLite gives its ``-wal`` and ``-shm`` the
database's own mode. Folders Abrasio creates are 0700. Files from an older Abrasio are tightened when
opened. (On Windows the per-user data folder already belongs to the user alone.)
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

PRIVATE_FILE = 0o600
PRIVATE_FOLDER = 0o700
POSIX = os.name == "posix"


def make_private_folder(folder: Path) -> None:
    """Create ``folder`` (and missing parents) 0700; an existing folder is left as it is."""
    missing = []
    f = folder
    while not f.exists():
        missing.append(f)
        f = f.parent
    folder.mkdir(parents=True, exist_ok=True)
    if POSIX:
        for f in missing:
            os.chmod(f, PRIVATE_FOLDER)


def make_private(folder: Path) -> None:
    """Create ``folder`` if needed and make it 0700 (the data folder, the backups folder)."""
    make_private_folder(folder)
    if POSIX:
        os.chmod(folder, PRIVATE_FOLDER)


def create_private(path: Path) -> None:
    """Create an empty file ``path`` 0600 (it must not exist)."""
    fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, PRIVATE_FILE)
    os.close(fd)
    if POSIX:
        os.chmod(path, PRIVATE_FILE)


def tighten(path: Path) -> None:
    """The database and its -wal/-shm 0600 (files an older Abrasio left 0644)."""
    if not POSIX:
        return
    for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        with contextlib.suppress(FileNotFoundError, PermissionError):
            if p.stat().st_mode & 0o077:
                os.chmod(p, PRIVATE_FILE)


def write_private(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (a private temporary file beside it, synced, renamed)."""
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_CREAT | os.O_TRUNC | os.O_WRONLY, PRIVATE_FILE)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
    finally:
        os.close(fd)
    if POSIX:
        os.chmod(tmp, PRIVATE_FILE)
    os.replace(tmp, path)
