"""Automatic backups of the clinic file, what is kept, and restoring one.

A backup is SQLite's online backup of the open file into ``backups/`` beside it (through
``connection.connect``, so an encrypted file gives encrypted backups), checked with
``PRAGMA integrity_check`` before it counts; a copy goes to an optional second folder (a USB drive, a
network share). Kept: the newest backup of each of the last 7 days that have one, of each of the last
4 weeks and of each of the last 12 months; older ones are deleted (only files named as Abrasio names
its backups are ever deleted).

Restoring: the backup is checked, the current file is backed up first (copied byte for byte when it is
too damaged to be read), then the backup replaces the file (no connection may be open on it).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from desktop.store import files
from desktop.store.connection import connect
from desktop.store.errors import SQL_ERRORS, DatabaseFileError, StoreError
from desktop.store.migrations import MIGRATION_NAMES, MIGRATION_SET, SCHEMA_VERSION

FOLDER = "backups"
KEEP_DAILY, KEEP_WEEKLY, KEEP_MONTHLY = 7, 4, 12
_STAMP = "%Y%m%d-%H%M%S"


class BackupError(DatabaseFileError):
    """A backup could not be taken, checked or restored; the message says why, in words."""


@dataclass(frozen=True)
class Backup:
    path: Path
    taken: dt.datetime
    size: int
    clients: int | None  # None: the copy cannot be read
    sessions: int | None
    note: str = ""  # "before restore", "damaged file"…

    @property
    def readable(self) -> bool:
        return self.clients is not None


def folder_for(db_path: Path) -> Path:
    return db_path.parent / FOLDER


def _pattern(db_path: Path) -> re.Pattern:
    return re.compile(rf"^{re.escape(db_path.stem)}-(\d{{8}}-\d{{6}})(?:-(\d+))?(?:-([a-z-]+))?\.db$")


def _name(db_path: Path, folder: Path, taken: dt.datetime, note: str = "") -> Path:
    base = f"{db_path.stem}-{taken.strftime(_STAMP)}"
    suffix = f"-{note}" if note else ""
    dest, n = folder / f"{base}{suffix}.db", 1
    while dest.exists():
        n += 1
        dest = folder / f"{base}-{n}{suffix}.db"
    return dest


def _integrity(path: Path, key: bytes | None = None) -> str:
    conn = connect(path, mode="ro", immutable=True, key=key)
    try:
        rows = [r[0] for r in conn.execute("PRAGMA integrity_check")]
    finally:
        conn.close()
    return "ok" if rows == ["ok"] else "; ".join(rows[:3])


def take_backup(
    db_path: Path,
    second_folder: Path | None = None,
    *,
    note: str = "",
    now: dt.datetime | None = None,
    prune: bool = True,
    key: bytes | None = None,
) -> Path:
    """Back the file up into ``backups/`` (and ``second_folder``), check the copy, apply retention.

    Opens its own connection: call it from any thread. Returns the checked copy in ``backups/``.
    ``key``: the file's database key (``store.key``); the copy is encrypted with it too.
    A failure to reach ``second_folder`` is raised after the first copy is safe (``BackupError``).
    """
    now = now or dt.datetime.now()
    folder = folder_for(db_path)
    try:
        files.make_private(folder)
        dest = _name(db_path, folder, now, note)
        partial = dest.with_name(f".{dest.name}.partial")  # never listed, never restored
        with contextlib.suppress(FileNotFoundError):
            partial.unlink()
        files.create_private(partial)
    except OSError as exc:
        raise BackupError(f"Cannot write a backup into {folder}: {exc.strerror}.") from exc
    try:
        src = connect(db_path, mode="ro", key=key)
        try:
            target = connect(partial, mode="rw", wal=False, key=key)
            try:
                src.backup(target)
            finally:
                target.close()
        finally:
            src.close()
        verdict = _integrity(partial, key)
        if verdict == "ok":
            os.replace(partial, dest)
    except (StoreError, *SQL_ERRORS, OSError) as exc:
        with contextlib.suppress(OSError):
            partial.unlink()
        raise BackupError(f"The backup of {db_path.name} failed: {exc}") from exc
    if verdict != "ok":
        partial.unlink()
        raise BackupError(f"The backup copy of {db_path.name} failed its integrity check ({verdict}).")
    if prune:
        prune_backups(db_path, folder, now)
    if second_folder:
        try:
            files.make_private_folder(second_folder)
            other = _name(db_path, second_folder, now, note)
            files.write_private(other, dest.read_bytes())
        except OSError as exc:
            raise BackupError(
                f"The backup is safe in {folder}, but it could not be copied to {second_folder}: "
                f"{exc.strerror}."
            ) from exc
        if prune:
            prune_backups(db_path, second_folder, now)
    return dest


def keep(stamps: Iterable[dt.datetime]) -> set[dt.datetime]:
    """Which backup times to keep: the newest of each of the last 7 days, 4 ISO weeks and 12 months
    that have a backup."""
    newest_first = sorted(set(stamps), reverse=True)
    kept: set[dt.datetime] = set()
    for count, key in (
        (KEEP_DAILY, lambda t: t.date()),
        (KEEP_WEEKLY, lambda t: t.isocalendar()[:2]),
        (KEEP_MONTHLY, lambda t: (t.year, t.month)),
    ):
        seen: list = []
        for t in newest_first:
            k = key(t)
            if k not in seen:
                seen.append(k)
                if len(seen) > count:
                    break
                kept.add(t)
    return kept


def _stamped(db_path: Path, folder: Path) -> list[tuple[dt.datetime, Path, str]]:
    pattern = _pattern(db_path)
    found = []
    with contextlib.suppress(FileNotFoundError):
        for p in folder.iterdir():
            m = pattern.match(p.name)
            if m:
                found.append((dt.datetime.strptime(m.group(1), _STAMP), p, m.group(3) or ""))
    return found


def prune_backups(db_path: Path, folder: Path, now: dt.datetime | None = None) -> list[Path]:
    """Delete the automatic backups retention does not keep; returns what was deleted. Backups taken
    before a restore or of a damaged file are kept for 12 months whatever."""
    now = now or dt.datetime.now()
    found = _stamped(db_path, folder)
    automatic = [(t, p) for t, p, note in found if not note]
    kept = keep(t for t, _ in automatic)
    pattern = _pattern(db_path)
    latest: dict[dt.datetime, Path] = {}  # two backups in one second: the later (``-2``) is the one kept
    for t, p in sorted(automatic, key=lambda tp: (tp[0], int(pattern.match(tp[1].name).group(2) or 1))):
        latest[t] = p
    gone = [p for t, p in automatic if t not in kept or latest[t] != p]
    gone += [p for t, p, note in found if note and (now - t).days > 366]
    for p in gone:
        with contextlib.suppress(FileNotFoundError):
            p.unlink()
    return gone


def _counts(path: Path, key: bytes | None = None) -> tuple[int | None, int | None]:
    try:
        conn = connect(path, mode="ro", immutable=True, key=key)
        try:
            clients = conn.execute("SELECT count(*) FROM clients").fetchone()[0]
            sessions = conn.execute("SELECT count(*) FROM treatment_sessions").fetchone()[0]
        finally:
            conn.close()
    except (StoreError, *SQL_ERRORS):
        return None, None
    return clients, sessions


def list_backups(
    db_path: Path, second_folder: Path | None = None, *, key: bytes | None = None
) -> list[Backup]:
    """Backups in ``backups/`` and ``second_folder``, newest first, each with its counts (read with
    ``key``: a backup it does not open counts as unreadable)."""
    out = []
    for folder in (folder_for(db_path), second_folder):
        if folder is None:
            continue
        for taken, p, note in _stamped(db_path, folder):
            clients, sessions = _counts(p, key)
            out.append(Backup(p, taken, p.stat().st_size, clients, sessions, note.replace("-", " ")))
    return sorted(out, key=lambda b: (b.taken, str(b.path)), reverse=True)


def latest_good(
    db_path: Path, second_folder: Path | None = None, *, key: bytes | None = None
) -> Backup | None:
    """The newest backup that is readable and passes ``integrity_check``."""
    for b in list_backups(db_path, second_folder, key=key):
        if b.readable and b.note in ("", "before restore") and _check(b.path, key) is None:
            return b
    return None


def _check(path: Path, key: bytes | None = None) -> str | None:
    """Why ``path`` cannot be restored, or None."""
    try:
        conn = connect(path, mode="ro", immutable=True, key=key)
        try:
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            names = [
                r[0]
                for r in conn.execute(
                    "SELECT name FROM _sqlite_migrations WHERE migration_set = ?", [MIGRATION_SET]
                )
            ]
        finally:
            conn.close()
        verdict = _integrity(path, key)
    except (StoreError, *SQL_ERRORS) as exc:
        return f"it is not a readable Abrasio database ({exc})"
    if verdict != "ok":
        return f"it is damaged ({verdict})"
    if version > SCHEMA_VERSION or any(n not in MIGRATION_NAMES for n in names):
        return "it was written by a newer version of Abrasio"
    return None


def restore_file(
    db_path: Path, backup: Path, second_folder: Path | None = None, *, key: bytes | None = None
) -> Path | None:
    """Replace the clinic file with ``backup``, after backing the current file up (``key``: the
    database key of both: a backup of an encrypted file is encrypted with the same key).

    No connection may be open on ``db_path`` (the caller closes its own; the single-instance lock keeps
    other Abrasio processes away). Returns the copy of the file as it was (None if it was empty).
    """
    problem = _check(backup, key)
    if problem:
        raise BackupError(f"{backup.name} cannot be restored: {problem}. Nothing was changed.")
    safety = _save_current(db_path, second_folder, key)
    tmp = db_path.with_name(f".{db_path.name}.restoring")
    try:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        files.create_private(tmp)
        target = connect(tmp, mode="rw", wal=False, key=key)
        try:
            source = connect(backup, mode="ro", immutable=True, key=key)
            try:
                source.backup(target)
            finally:
                source.close()
        finally:
            target.close()
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        for extra in (f"{db_path}-wal", f"{db_path}-shm"):
            with contextlib.suppress(FileNotFoundError):
                os.remove(extra)
        os.replace(tmp, db_path)
    except (StoreError, *SQL_ERRORS, OSError) as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        where = f" The file as it was is in {safety}." if safety else ""
        raise BackupError(f"Restoring {backup.name} failed: {exc}.{where}") from exc
    return safety


def _save_current(db_path: Path, second_folder: Path | None, key: bytes | None = None) -> Path | None:
    """The current file, kept before a restore: a checked backup, or its bytes if it cannot be read."""
    if not db_path.exists() or db_path.stat().st_size == 0:
        return None
    try:
        return take_backup(db_path, second_folder, note="before-restore", prune=False, key=key)
    except BackupError:
        pass
    folder = folder_for(db_path)
    try:
        files.make_private(folder)
        dest = _name(db_path, folder, dt.datetime.now(), "damaged")
        files.write_private(dest, db_path.read_bytes())
        wal = Path(f"{db_path}-wal")
        if wal.exists():
            files.write_private(Path(f"{dest}-wal"), wal.read_bytes())
    except OSError as exc:
        raise BackupError(
            f"The current file could not be kept before restoring ({exc.strerror}); nothing was changed."
        ) from exc
    return dest


def describe(b: Backup) -> str:
    when = f"{b.taken.day} {b.taken.strftime('%b %Y %H:%M')}"
    return when if not b.note else f"{when} ({b.note})"
