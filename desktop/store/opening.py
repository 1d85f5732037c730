"""Opening a database file and checking it: the header, the schema version, soundness, permissions,
migrations, backup copies.

- A missing file is created (0600, in a folder created 0700). An existing empty file is refused
  (``EmptyFileError``): a sync tool or a disk error may have emptied the clinic's file, so a new one
  is made there only when the user says so (``replace_empty``).
- An existing file is first looked at read-only: not an SQLite file, another program's database or a
  file from a newer Abrasio is refused untouched; a file whose clinical tables fail ``quick_check`` is
  opened read-only (``Access.kind == "damaged"``), never written.
- A file or folder this account cannot write is opened read-only (``"read_only"``), the cause named.
- Otherwise the file is opened read-write; before pending migrations run, the whole file is checked
  and a backup copy is taken beside it (SQLite's online backup).
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import sqlite3
import tempfile
from dataclasses import dataclass
from pathlib import Path

from sqlite_utils import Database

from desktop.store import checks, files
from desktop.store.access import CHECKING, WRITABLE, Access, damaged_access, read_only_access
from desktop.store.connection import connect
from desktop.store.errors import (
    DATABASE_ERRORS,
    SQL_ERRORS,
    DamagedError,
    DatabaseFileError,
    DatabaseTooNewError,
    EmptyFileError,
    NotEncryptedError,
    ReadOnlyError,
    StoreBugError,
    StoreError,
    WrongKeyError,
    from_sqlite,
)
from desktop.store.migrations import MIGRATION_NAMES, MIGRATION_SET, SCHEMA_VERSION, migrations

SQLITE_MAGIC = b"SQLite format 3\x00"


@dataclass
class Opened:
    conn: sqlite3.Connection
    access: Access
    backup: Path | None = None  # the copy taken before this open's migrations
    copy_dir: Path | None = None  # a private copy read instead of the file (read-only folder + -wal)


@dataclass
class _Look:
    names: list[str]
    version: int
    check: checks.CheckResult


def inspect_file(path: Path, full: bool = False, key: bytes | None = None) -> _Look:
    """Read-only look at an existing file: applied migrations, user_version, ``quick_check`` (the
    clinical tables, or with ``full`` the whole file).

    Raises DatabaseFileError when it is not a usable SQLite database. Call it only before this process
    has SQLite connections to the file (see ``Store.connect``).

    Without a key, the file must start with SQLite's header. With one, an encrypted file's first bytes
    are random (its salt): SQLCipher decides (``WrongKeyError`` when the key does not open it), and a
    plaintext file is refused (``NotEncryptedError``: it is converted, never keyed in place).
    """
    try:
        with open(path, "rb") as fh:
            head = fh.read(16)
    except OSError as exc:
        raise DatabaseFileError(f"Cannot read the database file {path}: {exc.strerror}.") from exc
    if key is None and head and head != SQLITE_MAGIC:
        if keys_beside(path):
            raise DatabaseFileError(
                f"{path} is an encrypted clinic file: it opens only when someone logs in. "
                "The file has not been changed."
            )
        raise DatabaseFileError(f"{path} is not an Abrasio database (it is not an SQLite file).")
    if key is not None and head == SQLITE_MAGIC:
        raise NotEncryptedError(
            f"{path} is not encrypted yet: it is converted (after a backup) before it is opened with a "
            "key. The file has not been changed."
        )
    conn, copy_dir = read_only_connection(path, key)
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
        elif tables:
            raise DatabaseFileError(
                f"{path} is an SQLite database, but not one of Abrasio's (it has other tables)."
            )
        skip = () if full else (checks.TRACE_TABLE, *checks.search_index_tables(conn))
        check = checks.quick_check(conn, skip=skip)
    except DATABASE_ERRORS as exc:
        raise DamagedError(
            f"{path} is damaged or not a database: {exc}. Nothing in it can be read; restore a backup."
        ) from exc
    finally:
        conn.close()
        if copy_dir:
            shutil.rmtree(copy_dir, ignore_errors=True)
    return _Look(names, version, check)


def check_version(path: Path, names: list[str], version: int) -> None:
    unknown = [n for n in names if n not in MIGRATION_NAMES]
    if unknown or version > SCHEMA_VERSION:
        raise DatabaseTooNewError(
            f"{path} was written by a newer version of Abrasio (schema {max(version, len(names))}; "
            f"this version knows up to {SCHEMA_VERSION}). Install the newer Abrasio to open it. "
            "The file has not been changed."
        )


def keys_beside(path: Path) -> bool:
    """Whether the file has a key file beside it (``abrasio.db.keys``: it is an encrypted clinic file)."""
    return Path(f"{path}.keys").exists()


def backup_copy(src: sqlite3.Connection, path: Path, version: int, key: bytes | None = None) -> Path:
    """A copy of the open database beside it, named after the schema version and the time (encrypted
    with ``key``, the key ``src`` was opened with)."""
    dest = _bak_name(path, version)
    backup_into(src, dest, key)
    return dest


def _bak_name(path: Path, version: int) -> Path:
    """``<name>.v<version>-<time>.bak`` beside the file, numbered when that name is taken."""
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    dest = path.with_name(f"{path.name}.v{version}-{stamp}.bak")
    n = 1
    while dest.exists():
        n += 1
        dest = path.with_name(f"{path.name}.v{version}-{stamp}-{n}.bak")
    return dest


def backup_into(src: sqlite3.Connection, dest: Path, key: bytes | None = None) -> None:
    """SQLite's online backup of ``src`` into a new private file ``dest`` (rollback journal, one
    self-contained file). ``key``: the key ``src`` was opened with; the copy is encrypted alike."""
    files.create_private(dest)
    target = connect(dest, mode="rw", wal=False, key=key)
    try:
        src.backup(target)
    finally:
        target.close()


def read_only_connection(path: Path, key: bytes | None = None) -> tuple[sqlite3.Connection, Path | None]:
    """A connection that never writes the file: (connection, private copy's folder or None).

    Without a ``-wal`` beside it the file is opened immutable (no ``-shm``/``-wal`` appear). With one,
    SQLite needs a ``-shm`` beside it; where the folder is read-only and there is none, the file and
    its ``-wal`` are copied into a private temporary folder and the copy is read instead.
    """
    wal = Path(f"{path}-wal").exists()
    try:
        conn = connect(path, mode="ro", immutable=not wal, key=key)
        try:
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        except SQL_ERRORS as exc:
            conn.close()
            raise from_sqlite(exc, f"reading {path}") from exc
        return conn, None
    except (DamagedError, StoreBugError, WrongKeyError):
        raise
    except StoreError:
        if not wal:
            raise
    copy_dir = Path(tempfile.mkdtemp(prefix="abrasio-read-only-"))
    try:
        copy = copy_dir / path.name
        shutil.copyfile(path, copy)
        shutil.copyfile(f"{path}-wal", f"{copy}-wal")
        return connect(copy, mode="ro", key=key), copy_dir
    except BaseException:
        shutil.rmtree(copy_dir, ignore_errors=True)
        raise


def write_problem(path: Path) -> str | None:
    """Why this account cannot write the file or its folder (SQLite writes ``-wal``/``-shm`` beside it)."""
    if not os.access(path, os.W_OK):
        return f"the file {path} is read-only for this account"
    if not os.access(path.parent, os.W_OK | os.X_OK):
        return f"its folder {path.parent} is read-only for this account"
    return None


def _read_only(path: Path, access: Access, pending: list[str], key: bytes | None = None) -> Opened:
    if pending:
        raise ReadOnlyError(
            f"{path} needs upgrading to this version of Abrasio, but cannot be written now: "
            f"{access.reason} The file has not been changed."
        )
    conn, copy_dir = read_only_connection(path, key)
    return Opened(conn, access, copy_dir=copy_dir)


def open_connection(
    path: Path,
    stop_before: str | None = None,
    *,
    replace_empty: bool = False,
    full_check: bool = True,
    key: bytes | None = None,
) -> Opened:
    """Open (creating if needed), check and migrate; see the module's docstring. ``key``: the database
    key of an encrypted file (a new file is created encrypted with it); every connection, check and
    backup copy made here uses it.

    ``full_check=False``: only the clinical tables are checked here; the file opens read-only with
    ``Access.kind == "checking"`` and the caller runs ``full_check`` in the background, then
    ``Store.finish_check``.
    """
    if not path.exists():
        try:
            files.make_private_folder(path.parent)
            files.create_private(path)
        except OSError as exc:
            raise DatabaseFileError(f"Cannot create {path}: {exc.strerror}.") from exc
        existing = False
    elif path.stat().st_size == 0:
        if not replace_empty:
            raise EmptyFileError(
                f"The clinic file {path} is empty (0 bytes): something (a sync tool, a disk error) "
                "has emptied it. Restore a backup, or start a new clinic file there."
            )
        existing = False
    else:
        existing = True

    names: list[str] = []
    if existing:
        look = inspect_file(path, key=key)
        names = look.names
        check_version(path, names, look.version)
        pending = [n for n in MIGRATION_NAMES if n not in names]
        if not look.check.ok:
            return _read_only(path, damaged_access(path, look.check), pending, key)
        problem = write_problem(path)
        if problem:
            return _read_only(path, read_only_access(problem), pending, key)
        if pending or full_check:
            look = inspect_file(path, full=True, key=key)
            if not look.check.ok:
                return _read_only(path, damaged_access(path, look.check), pending, key)
        elif not full_check:
            conn, copy_dir = read_only_connection(path, key)
            return Opened(conn, CHECKING, copy_dir=copy_dir)

    try:
        conn = connect(path, mode="rw", synchronous="FULL", key=key)
    except StoreError as exc:
        if existing and isinstance(exc, ReadOnlyError | DatabaseFileError) and _refuses_writes(exc):
            return _read_only(path, read_only_access(str(exc)), [], key)
        raise DatabaseFileError(f"Cannot open {path}: {exc}") from exc
    if existing:
        refused = probe_write(conn, path)
        if refused:
            conn.close()
            return _read_only(path, read_only_access(refused), pending, key)
    files.tighten(path)
    db = Database(conn, execute_plugins=False)
    backup: Path | None = None
    try:
        todo = [m.name for m in migrations.pending(db)]
        if stop_before in todo:
            todo = todo[: todo.index(stop_before)]
        if todo and existing and names:
            backup = backup_copy(conn, path, len(names), key)
        migrations.apply(db, stop_before=stop_before)
    except SQL_ERRORS as exc:
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
    return Opened(conn, WRITABLE, backup)


def _refuses_writes(exc: StoreError) -> bool:
    return isinstance(exc, ReadOnlyError) or getattr(exc, "code", "") in ("SQLITE_CANTOPEN", "SQLITE_PERM")


def probe_write(conn: sqlite3.Connection, path: Path) -> str | None:
    """Take the write lock for a moment: where SQLite refuses it, why (nothing is written)."""
    try:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("ROLLBACK")
    except SQL_ERRORS as exc:
        err = from_sqlite(exc, f"opening {path} for writing")
        if _refuses_writes(err):
            return f"SQLite cannot write {path} ({exc})"
        raise err from exc
    return None


def full_check(path: Path, key: bytes | None = None) -> checks.CheckResult:
    """The whole file's ``quick_check`` on a connection of its own (run it off the GUI thread).

    A file too damaged to be read counts as damaged everywhere."""
    conn, copy_dir = read_only_connection(path, key)
    try:
        return checks.quick_check(conn)
    except DATABASE_ERRORS as exc:
        return checks.CheckResult((str(exc),), ("the whole file",))
    finally:
        conn.close()
        if copy_dir:
            shutil.rmtree(copy_dir, ignore_errors=True)


# -- converting a plaintext file ---------------------------------------------------------------------
# Tables the conversion itself writes (the migrations a pre-#11 file still needs, the seals, the people
# and audit entries ``prepare`` adds); every other table must hold exactly the rows it held before.
_CONVERSION_WRITES = frozenset(
    {
        "_sqlite_migrations",
        "people",
        "audit_log",
        "audit_head",
        "record_seals",
        "seal_counts",
        "change_log",
        "settings",
    }
)


@dataclass
class Converted:
    backup: Path  # the encrypted copy of the file as it was, beside it (``*.v<N>-<stamp>.bak``)
    reencrypted: list[Path]  # earlier plaintext backups that are now encrypted too
    left_plaintext: list[str]  # earlier backups that could not be encrypted, and why (in words)


def convert_to_encrypted(
    path: Path, key: bytes, prepare=None, second_folder: Path | None = None
) -> Converted:
    """Convert the plaintext clinic file ``path`` to an encrypted one keyed with ``key``.

    1. The file is checked (an Abrasio database, not from a newer version, sound) and its ``-wal`` is
       checkpointed into it (the content is unchanged; a plaintext ``-wal`` must never outlive it).
    2. An **encrypted** backup is taken first, beside it: ``<name>.v<N>-<stamp>.bak``.
    3. ``cipher.encrypt_copy`` writes ``<name>.converting`` (checked: integrity, rows, version); it is
       opened as a ``Store`` with the key: pending migrations run, every row is sealed, ``prepare(store)``
       runs (accounts adds the administrator there), then it is checked again (integrity, the seals,
       the same rows in every table the conversion does not write) and closed.
    4. ``os.replace`` puts it in place; the plaintext ``-wal``/``-shm`` go. Then earlier plaintext
       backups (``backups/``, ``second_folder``, ``*.bak`` beside the file) are encrypted in place.

    Any failure before step 4 leaves the original as it was (the partial copy and the backup, whose key
    is discarded with the failure, removed) and raises.
    Call it with no connection open on ``path``.
    """
    from desktop.store import Store, cipher, security

    path = Path(path)
    if not path.exists() or path.stat().st_size == 0:
        raise DatabaseFileError(f"There is no clinic file to convert at {path}.")
    if not cipher.is_plaintext_sqlite(path):
        raise DatabaseFileError(f"{path} is not a plaintext SQLite file (is it encrypted already?).")
    problem = write_problem(path)
    if problem:
        raise ReadOnlyError(f"{path} cannot be converted: {problem}. The file has not been changed.")
    conn = connect(path, mode="rw")
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    except SQL_ERRORS as exc:
        raise from_sqlite(exc, f"preparing {path} for encryption") from exc
    finally:
        conn.close()
    look = inspect_file(path, full=True)
    check_version(path, look.names, look.version)
    if not look.check.ok:
        raise DamagedError(
            f"{path} is damaged ({', '.join(look.check.affected)}); it is not converted. "
            "Restore a backup first. The file has not been changed."
        )
    before = _row_counts(path, None)

    backup = _bak_name(path, len(look.names))
    cipher.encrypt_copy(path, backup, key)
    files.tighten(backup)

    converting = path.with_name(f"{path.name}.converting")
    leftovers = [converting, Path(f"{converting}-wal"), Path(f"{converting}-shm")]
    for p in leftovers:  # a conversion interrupted earlier: only ever Abrasio's own partial copy
        p.unlink(missing_ok=True)
    try:
        cipher.encrypt_copy(path, converting, key)
        files.tighten(converting)
        store = Store.open(converting, key=key)
        try:
            if store.backup_path:  # the migrations' own copy: the encrypted .bak above is the one
                store.backup_path.unlink(missing_ok=True)
            if not security.is_sealed(store.db):
                with store.db.atomic():
                    security.seal_tables(store.db)
            if prepare is not None:
                prepare(store)
            if store.integrity_check() != "ok":
                raise DatabaseFileError(f"The converted copy of {path.name} failed its integrity check.")
            broken = security.verify_records(store.db)
            if broken:
                raise DatabaseFileError(f"The converted copy's seals do not verify: {broken[0].describe()}")
        finally:
            store.close()
        if Path(f"{converting}-wal").exists():
            raise DatabaseFileError(f"The converted copy of {path.name} was not closed cleanly.")
        after = _row_counts(converting, key)
        changed = [t for t, n in before.items() if t not in _CONVERSION_WRITES and after.get(t) != n]
        if changed:
            raise DatabaseFileError(
                f"The converted copy of {path.name} does not hold the same rows ({', '.join(changed)})."
            )
        with open(converting, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(converting, path)
    except BaseException:
        for p in leftovers:
            p.unlink(missing_ok=True)
        backup.unlink(missing_ok=True)  # keyed with a key that is discarded with this failure
        raise
    for extra in (Path(f"{path}-wal"), Path(f"{path}-shm")):
        extra.unlink(missing_ok=True)
    done, left = _encrypt_old_backups(path, key, second_folder, keep={backup})
    return Converted(backup, done, left)


def _row_counts(path: Path, key: bytes | None) -> dict[str, int]:
    conn = connect(path, mode="ro", immutable=True, key=key)
    try:
        names = [
            r[0]
            for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND sql NOT LIKE 'CREATE VIRTUAL%'"
            )
        ]
        return {n: conn.execute(f'SELECT count(*) FROM "{n}"').fetchone()[0] for n in names}
    finally:
        conn.close()


def _encrypt_old_backups(
    path: Path, key: bytes, second_folder: Path | None, keep: set[Path]
) -> tuple[list[Path], list[str]]:
    """Earlier plaintext copies of the clinic file (automatic backups, copies taken before an upgrade)
    encrypted in place: a plaintext backup beside an encrypted file would leave every record readable."""
    from desktop.store import backups, cipher

    found: list[Path] = []
    for folder in (backups.folder_for(path), second_folder):
        if folder is not None:
            found += [p for _, p, _ in backups._stamped(path, folder)]
    found += sorted(path.parent.glob(f"{path.name}.v*.bak"))
    done, left = [], []
    for old in found:
        if old in keep or not old.is_file():
            continue
        try:
            if not cipher.is_plaintext_sqlite(old):
                continue
            tmp = old.with_name(f".{old.name}.encrypting")
            tmp.unlink(missing_ok=True)
            cipher.encrypt_copy(old, tmp, key)
            files.tighten(tmp)
            os.replace(tmp, old)
            for extra in (Path(f"{old}-wal"), Path(f"{old}-shm")):
                extra.unlink(missing_ok=True)
            done.append(old)
        except (StoreError, *SQL_ERRORS, OSError) as exc:
            left.append(f"{old}: {exc}")
    return done, left
