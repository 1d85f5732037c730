"""Opening a database file and checking it: the header, the schema version, migrations, backups.

Opening an existing file: it is checked read-only first; a file from a newer Abrasio is refused
untouched; before pending migrations run, a backup copy is taken beside it (SQLite's online backup).
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

from sqlite_utils import Database

from desktop.store.connection import connect
from desktop.store.errors import (
    DatabaseFileError,
    DatabaseTooNewError,
    StoreBugError,
    StoreError,
    from_sqlite,
)
from desktop.store.migrations import MIGRATION_NAMES, MIGRATION_SET, SCHEMA_VERSION, migrations

SQLITE_MAGIC = b"SQLite format 3\x00"


def inspect_file(path: Path) -> tuple[list[str], int]:
    """Read-only look at an existing file: (applied migration names, user_version).

    Raises DatabaseFileError when it is not a usable SQLite database. Call it only before this process
    has SQLite connections to the file (see ``Store.connect``).
    """
    try:
        with open(path, "rb") as fh:
            head = fh.read(16)
    except OSError as exc:
        raise DatabaseFileError(f"Cannot read the database file {path}: {exc.strerror}.") from exc
    if head and head != SQLITE_MAGIC:
        raise DatabaseFileError(f"{path} is not an Abrasio database (it is not an SQLite file).")
    # Read-only; and where no -wal file is beside it, immutable, so not even -shm/-wal files appear.
    wal = Path(f"{path}-wal").exists()
    try:
        conn = connect(path, mode="ro", immutable=not wal)
    except StoreError as exc:
        raise DatabaseFileError(f"{path} is damaged or not a database: {exc}") from exc
    try:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        names: list[str] = []
        if "_sqlite_migrations" in tables:
            names = [
                r[0]
                for r in conn.execute(
                    "SELECT name FROM _sqlite_migrations WHERE migration_set = ? ORDER BY rowid",
                    [MIGRATION_SET],
                )
            ]
    except sqlite3.DatabaseError as exc:
        raise DatabaseFileError(f"{path} is damaged or not a database: {exc}.") from exc
    finally:
        conn.close()
    if tables and "_sqlite_migrations" not in tables:
        raise DatabaseFileError(
            f"{path} is an SQLite database, but not one of Abrasio's (it has other tables)."
        )
    return names, version


def check_version(path: Path, names: list[str], version: int) -> None:
    unknown = [n for n in names if n not in MIGRATION_NAMES]
    if unknown or version > SCHEMA_VERSION:
        raise DatabaseTooNewError(
            f"{path} was written by a newer version of Abrasio (schema {max(version, len(names))}; "
            f"this version knows up to {SCHEMA_VERSION}). Install the newer Abrasio to open it. "
            "The file has not been changed."
        )


def backup_copy(src: sqlite3.Connection, path: Path, version: int) -> Path:
    """A copy of the open database beside it, named after the schema version and the time."""
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    dest = path.with_name(f"{path.name}.v{version}-{stamp}.bak")
    n = 1
    while dest.exists():
        n += 1
        dest = path.with_name(f"{path.name}.v{version}-{stamp}-{n}.bak")
    backup_into(src, dest)
    return dest


def backup_into(src: sqlite3.Connection, dest: Path) -> None:
    """SQLite's online backup of ``src`` into a new file ``dest`` (rollback journal, self-contained)."""
    target = connect(dest, mode="rwc", wal=False)
    try:
        src.backup(target)
    finally:
        target.close()


def open_connection(path: Path, stop_before: str | None = None) -> tuple[sqlite3.Connection, Path | None]:
    """Open (creating if needed) and migrate: (the connection, the backup taken before migrating)."""
    existing = path.exists() and path.stat().st_size > 0
    if existing:
        names, version = inspect_file(path)
        check_version(path, names, version)
    else:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise DatabaseFileError(f"Cannot create the folder {path.parent}: {exc.strerror}.") from exc
        names = []
    try:
        conn = connect(path, mode="rwc", synchronous="FULL")
    except StoreError as exc:
        raise DatabaseFileError(f"Cannot open {path}: {exc}") from exc
    db = Database(conn, execute_plugins=False)
    backup: Path | None = None
    try:
        pending = [m.name for m in migrations.pending(db)]
        if stop_before in pending:
            pending = pending[: pending.index(stop_before)]
        if pending and existing and names:
            backup = backup_copy(conn, path, len(names))
        migrations.apply(db, stop_before=stop_before)
    except sqlite3.Error as exc:
        conn.close()
        err = from_sqlite(exc, f"updating {path}")
        if isinstance(err, DatabaseFileError):
            raise err from exc
        raise StoreBugError(f"Upgrading {path} failed and was rolled back: {exc}") from exc
    except DatabaseFileError:
        conn.close()
        raise
    except Exception as exc:
        conn.close()
        raise StoreBugError(f"Upgrading {path} failed and was rolled back: {exc!r}") from exc
    return conn, backup
