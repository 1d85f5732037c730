"""People, roles and what each role may do; setting up a clinic and logging in. No Qt.

Every person logs in with their own name and passphrase. A passphrase does two things: it unwraps the
database key from the key file (``desktop.keys``: needed to open the encrypted file at all), and its
argon2id hash in the ``people`` table checks a person at the lock screen while the file is already open.
Deactivating a person removes their key-file entry (their passphrase no longer opens the file) and keeps
their row, so every record and audit entry still names them.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from desktop import keys
from desktop.keys import KeyFile, WrongPassphraseError
from desktop.store import Actor, Store, security


class Role(StrEnum):
    PRACTITIONER = "practitioner"
    FRONT_DESK = "front_desk"
    ADMINISTRATOR = "administrator"

    @property
    def label(self) -> str:
        return {"practitioner": "Practitioner", "front_desk": "Front desk", "administrator": "Administrator"}[
            self.value
        ]


class Permission(StrEnum):
    CONTACTS_VIEW = "contacts_view"  # name, phone, email, date of birth, last visit
    CONTACTS_EDIT = "contacts_edit"
    RECALL_LIST = "recall_list"
    CLINICAL_VIEW = "clinical_view"  # screening, ceiling, sessions, notes, traces, photos
    CLINICAL_EDIT = "clinical_edit"
    SESSION_RUN = "session_run"
    EXPORT_PRINT = "export_print"  # a client's clinical record out of the app
    PEOPLE_MANAGE = "people_manage"
    SETTINGS_EDIT = "settings_edit"  # clinic settings: ceilings, screening rules, alarm times
    BACKUPS = "backups"
    AUDIT_VIEW = "audit_view"


P = Permission
# The table the windows consult (``Person.may``). A person may hold several roles: the clinic owner is
# usually administrator and practitioner.
PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.PRACTITIONER: frozenset(
        {
            P.CONTACTS_VIEW,
            P.CONTACTS_EDIT,
            P.RECALL_LIST,
            P.CLINICAL_VIEW,
            P.CLINICAL_EDIT,
            P.SESSION_RUN,
            P.EXPORT_PRINT,
        }
    ),
    Role.FRONT_DESK: frozenset({P.CONTACTS_VIEW, P.CONTACTS_EDIT, P.RECALL_LIST}),
    Role.ADMINISTRATOR: frozenset(
        {P.CONTACTS_VIEW, P.PEOPLE_MANAGE, P.SETTINGS_EDIT, P.BACKUPS, P.AUDIT_VIEW}
    ),
}

MIN_PASSPHRASE = 10

# One argon2id hash ~0.15–0.2 s here (the same cost as a key-file unwrap, see desktop/keys.py).
_hasher = PasswordHasher(
    time_cost=keys.ARGON2["t"], memory_cost=keys.ARGON2["m"], parallelism=keys.ARGON2["p"]
)


class AccountError(Exception):
    """Shown to the user as it is: what is wrong, in words."""


class LoginError(AccountError):
    pass


@dataclass(frozen=True)
class Person:
    id: int
    name: str
    roles: frozenset[Role]
    active: bool = True

    def may(self, permission: Permission) -> bool:
        return self.active and any(permission in PERMISSIONS[r] for r in self.roles)

    @property
    def roles_label(self) -> str:
        return ", ".join(r.label for r in sorted(self.roles))


def _person(row: dict) -> Person:
    return Person(row["id"], row["name"], frozenset(Role(r) for r in row["roles"]), bool(row["active"]))


def passphrase_problem(passphrase: str, name: str = "") -> str | None:
    """What is wrong with a new passphrase, in words; None if it will do."""
    if len(passphrase) < MIN_PASSPHRASE:
        return f"A passphrase needs at least {MIN_PASSPHRASE} characters (a few words are easiest)."
    if passphrase.strip() != passphrase:
        return "A passphrase cannot start or end with a space."
    if name and name.strip().casefold() in passphrase.casefold():
        return "A passphrase cannot contain your name."
    if len(set(passphrase)) < 4:
        return "That passphrase is too easy to guess."
    return None


def _name_problem(name: str) -> str | None:
    if not name.strip():
        return "Enter the person's name."
    if any(not ch.isprintable() for ch in name):
        return "A name cannot contain control characters."
    if name.strip() == keys.RECOVERY:
        return "That name is reserved."
    if len(name.strip()) > 80:
        return "A name can have at most 80 characters."
    return None


@dataclass
class Clinic:
    """An open clinic database with a logged-in person (what the main window will hold).

    ``store`` is the encrypted ``desktop.store.Store`` (``store.key`` is the database key,
    ``store.protection`` the keys its audit trail and seals verify with). Whenever ``person`` is set
    (login, a switch at the lock screen, a change of one's own roles) the store's ``actor`` follows, so
    every write through the store (and through ``store.reopen()``, the recorder's connection…) is
    attributed to that person in the audit trail.
    """

    store: Store
    keyfile: KeyFile
    database_key: bytes = field(repr=False)
    person: Person

    def __setattr__(self, name, value) -> None:
        object.__setattr__(self, name, value)
        if name == "person" and value is not None and getattr(self, "store", None) is not None:
            self.store.actor = Actor(value.id, value.name)

    # -- the audit trail ---------------------------------------------------------------------------
    def audit(self, action: str, record_type: str, record_id=None, client_id=None, **details) -> int:
        """Append an audit entry as ``person`` (reads: "open", "review", "export", "print"…).

        While the file is being checked at start-up (``store.access.kind == "checking"``: opened with
        ``full_check=False``, writes held) the entry is held with its time and written by
        ``Store.finish_check`` once the file is writable; returns 0 then."""
        entry = dict(
            person_id=self.person.id,
            person=self.person.name,
            action=action,
            record_type=record_type,
            record_id=record_id,
            client_id=client_id,
            details=details,
        )
        if not self.store.writable:
            self.store.hold_audit(entry)
            return 0
        return security.audit_append(self.store.db, **entry)

    # -- people ------------------------------------------------------------------------------------
    def people(self) -> list[Person]:
        return [_person(r) for r in security.people(self.store.db)]

    def _require(self, permission: Permission) -> None:
        if not self.person.may(permission):
            raise AccountError(f"{self.person.name} ({self.person.roles_label}) may not do this.")

    def add_person(self, name: str, roles, passphrase: str) -> Person:
        """A new person: their row, their key-file entry, an audit entry. The path the wizard uses too."""
        self._require(P.PEOPLE_MANAGE)
        return _add_person(self, name, roles, passphrase)

    def verify(self, name: str, passphrase: str) -> Person:
        """Check a person against the open database (the lock screen): active, and the passphrase's hash."""
        person, stored = self.passphrase_hash(name)
        check_passphrase(stored, passphrase, person.name)
        return person

    def passphrase_hash(self, name: str) -> tuple[Person, str]:
        """The active person called ``name`` and their stored hash (read here, on the connection's
        thread; ``check_passphrase`` may then run anywhere: it is the slow part)."""
        row = security.person_by_name(self.store.db, name)
        if row is None:
            raise LoginError(f"There is no one called {name.strip()!r} here.")
        if not row["active"]:
            raise LoginError(f"{row['name']} was deactivated; ask the clinic's administrator.")
        return _person(row), row["passphrase_hash"]

    def switch_to(self, name: str, passphrase: str) -> Person:
        """Unlock as ``name`` (the same person or another): verified, then recorded."""
        return self.switch_to_verified(self.verify(name, passphrase))

    def switch_to_verified(self, person: Person) -> Person:
        previous = self.person
        self.person = person
        self.audit("unlock", "person", person.id, previous=previous.name)
        return person

    def change_passphrase(self, old: str, new: str) -> None:
        """Rewraps the database key for this person (never re-encrypts) and replaces their hash."""
        self.verify(self.person.name, old)
        problem = passphrase_problem(new, self.person.name)
        if problem:
            raise AccountError(problem)
        with self.store.db.atomic():
            security.update_person(self.store.db, self.person.id, passphrase_hash=_hasher.hash(new))
            self.audit("change passphrase", "person", self.person.id)
            # Inside the transaction: if the key file cannot be written, the new hash is rolled back.
            self.keyfile.rewrap(self.database_key, self.person.name, new)

    def deactivate(self, person_id: int) -> None:
        self._require(P.PEOPLE_MANAGE)
        row = security.person_by_id(self.store.db, person_id)
        if row is None or not row["active"]:
            raise AccountError("That person is not active.")
        if person_id == self.person.id:
            raise AccountError("You cannot deactivate yourself; another administrator can.")
        # (The one deactivating is an active administrator other than this person: one always remains.)
        with self.store.db.atomic():
            security.update_person(self.store.db, person_id, active=0, deactivated_at=_now())
            self.audit("deactivate", "person", person_id, name=row["name"])
            self.keyfile.remove(self.database_key, row["name"])

    def set_roles(self, person_id: int, roles) -> None:
        self._require(P.PEOPLE_MANAGE)
        roles = sorted({Role(r) for r in roles})
        if not roles:
            raise AccountError("A person needs at least one role.")
        admins = {p.id for p in self.people() if p.active and Role.ADMINISTRATOR in p.roles}
        if Role.ADMINISTRATOR not in roles and admins == {person_id}:
            raise AccountError("The clinic needs at least one active administrator.")
        with self.store.db.atomic():
            security.update_person(self.store.db, person_id, roles=[r.value for r in roles])
            self.audit("set roles", "person", person_id, roles=[r.value for r in roles])
        if person_id == self.person.id:  # what this session may do changes at once
            self.person = _person(security.person_by_id(self.store.db, person_id))

    def new_recovery_key(self) -> str:
        """Replace the recovery key (after it was used, or lost); the old one stops working."""
        self._require(P.PEOPLE_MANAGE)
        recovery = keys.new_recovery_key()
        self.keyfile.rewrap(self.database_key, keys.RECOVERY, recovery)
        self.audit("new recovery key", "clinic")
        return recovery

    def close(self) -> None:
        self.store.close()


def _now() -> str:
    return dt.datetime.now().astimezone().isoformat(timespec="seconds")


def _add_person(clinic: Clinic, name: str, roles, passphrase: str) -> Person:
    name = name.strip()
    problem = _name_problem(name) or passphrase_problem(passphrase, name)
    if problem:
        raise AccountError(problem)
    roles = sorted({Role(r) for r in roles})
    if not roles:
        raise AccountError("A person needs at least one role.")
    if security.person_by_name(clinic.store.db, name) is not None:
        raise AccountError(f"There is already someone called {name}.")
    with clinic.store.db.atomic():
        pid = security.add_person(clinic.store.db, name, [r.value for r in roles], _hasher.hash(passphrase))
        person = Person(pid, name, frozenset(roles))
        security.audit_append(
            clinic.store.db,
            person_id=clinic.person.id if clinic.person else pid,
            person=clinic.person.name if clinic.person else name,
            action="add person",
            record_type="person",
            record_id=pid,
            details={"name": name, "roles": [r.value for r in roles]},
        )
        clinic.keyfile.add(clinic.database_key, name, passphrase)
    return person


@dataclass
class Setup:
    clinic: Clinic
    recovery_key: str  # shown once, printed or saved; never stored as it is
    # convert_plaintext only: the encrypted copy of the file as it was, and what became of the
    # earlier plaintext backups (``opening.Converted``); None for a new clinic
    converted: object | None = None


def _checked_admin(admin_name: str, passphrase: str) -> str:
    """The first administrator's name, stripped, once it and the passphrase are acceptable."""
    name = admin_name.strip()
    problem = _name_problem(name) or passphrase_problem(passphrase, name)
    if problem:
        raise AccountError(problem)
    return name


def create_clinic(
    path: str | os.PathLike, admin_name: str, passphrase: str, practitioner: bool = True
) -> Setup:
    """A new encrypted clinic database with its administrator: what the first-start wizard runs, and
    what tests run to have accounts (the same code path)."""
    path = Path(path)
    name = _checked_admin(admin_name, passphrase)
    key_path = keys.key_file_path(path)
    if path.exists() or key_path.exists():
        raise AccountError(f"{path} or its key file already exists; a clinic is set up only once.")
    database_key = keys.new_database_key()
    recovery = keys.new_recovery_key()
    store = Store.open(path, key=database_key)
    try:
        keyfile = KeyFile.create(key_path, database_key, recovery)
        clinic = Clinic(store, keyfile, database_key, None)  # type: ignore[arg-type]
        roles = [Role.ADMINISTRATOR] + ([Role.PRACTITIONER] if practitioner else [])
        clinic.person = _add_person(clinic, name, roles, passphrase)
        clinic.audit("set up clinic", "clinic")
    except BaseException:
        store.close()
        for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm"), key_path):
            p.unlink(missing_ok=True)
        raise
    return Setup(clinic, recovery)


class FileState(StrEnum):
    """What is at a clinic file's path, before anything opens it (what ``app.py`` branches on)."""

    MISSING = "missing"  # no file: the first-start wizard (``create_clinic``)
    EMPTY = "empty"  # 0 bytes: restore a backup or start a new file (``startup``'s question)
    PLAINTEXT = "plaintext"  # an unencrypted SQLite file: protect it first (``convert_plaintext``)
    ENCRYPTED = "encrypted"  # a key file beside it: the login dialog (``login`` / ``unlock_key``)
    NO_KEY_FILE = "no_key_file"  # not plaintext, and no key file beside it: nothing can open it


def clinic_file_state(path: str | os.PathLike) -> FileState:
    """Look at ``path`` (its first 16 bytes and whether its key file exists). Call it before this
    process has opened the file with SQLite (closing a file handle drops SQLite's POSIX locks)."""
    from desktop.store import cipher

    path = Path(path)
    if not path.exists():
        return FileState.MISSING
    if path.stat().st_size == 0:
        return FileState.EMPTY
    if cipher.is_plaintext_sqlite(path):
        return FileState.PLAINTEXT
    return FileState.ENCRYPTED if keys.key_file_path(path).exists() else FileState.NO_KEY_FILE


def convert_plaintext(
    path: str | os.PathLike,
    admin_name: str,
    passphrase: str,
    practitioner: bool = True,
    *,
    second_backup_folder: str | os.PathLike | None = None,
) -> Setup:
    """Protect an existing unencrypted clinic file: what the app runs on the first open of a plaintext
    file (the first-start wizard's "protect this clinic's records" form). Like ``create_clinic``: a new
    database key and recovery key, the key file, the administrator (a person, their key-file entry, the
    audit trail's first entries) — but over the clinic's existing records.

    The file is backed up first (an *encrypted* ``<name>.v<N>-<stamp>.bak`` beside it), converted into
    ``<name>.converting`` (verified: integrity, the same rows, the schema version, every row sealed)
    and only then put in place of the original; the plaintext ``-wal``/``-shm`` go, and earlier
    plaintext backups (``backups/``, ``second_backup_folder``, ``*.bak``) are encrypted in place
    (``Setup.converted``). Any failure before the swap leaves the original file as it was, removes the
    partial copy and the new key file, and raises (``AccountError`` for the name or passphrase;
    ``store.DatabaseFileError`` kinds for the file). The files must not be open (the app's
    single-instance lock keeps other Abrasio processes away)."""
    from desktop.store import opening

    path = Path(path)
    name = _checked_admin(admin_name, passphrase)
    key_path = keys.key_file_path(path)
    if key_path.exists():
        raise AccountError(f"{key_path} already exists: this clinic file is protected already.")
    if not path.exists():
        raise AccountError(f"There is no clinic file at {path} to protect.")
    database_key = keys.new_database_key()
    recovery = keys.new_recovery_key()
    keyfile = KeyFile.create(key_path, database_key, recovery)
    roles = [Role.ADMINISTRATOR] + ([Role.PRACTITIONER] if practitioner else [])

    def add_admin(store: Store) -> None:
        clinic = Clinic(store, keyfile, database_key, None)  # type: ignore[arg-type]
        clinic.person = _add_person(clinic, name, roles, passphrase)
        clinic.audit("protect clinic file", "clinic")

    try:
        converted = opening.convert_to_encrypted(
            path,
            database_key,
            add_admin,
            Path(second_backup_folder) if second_backup_folder else None,
        )
    except BaseException:
        key_path.unlink(missing_ok=True)
        raise
    clinic = open_as(path, KeyFile.load(key_path), database_key, name, action="login")
    return Setup(clinic, recovery, converted)


def check_passphrase(stored_hash: str, passphrase: str, name: str) -> None:
    """argon2id verification (~0.2 s, no database: safe on a worker thread)."""
    try:
        _hasher.verify(stored_hash, passphrase)
    except (VerificationError, InvalidHashError):
        raise LoginError(f"The passphrase for {name} is not right.") from None


def unlock_key(path: str | os.PathLike, name: str, passphrase: str) -> tuple[KeyFile, bytes]:
    """The slow half of logging in (one argon2id, the key file only: safe on a worker thread)."""
    keyfile = KeyFile.load(keys.key_file_path(path))
    try:
        return keyfile, keyfile.unlock(name, passphrase)
    except WrongPassphraseError as exc:
        raise LoginError(str(exc)) from None


def login(path: str | os.PathLike, name: str, passphrase: str, *, full_check: bool = True) -> Clinic:
    """Open the clinic database as ``name``: unwrap the key (one argon2id), open, check the person.

    A wrong passphrase raises ``LoginError`` (in words) before the database file is touched."""
    keyfile, database_key = unlock_key(path, name, passphrase)
    return open_as(path, keyfile, database_key, name, full_check=full_check)


def recover(path: str | os.PathLike, recovery_key: str, admin_name: str, new_passphrase: str) -> Clinic:
    """Emergency access: the recovery key opens the file; ``admin_name`` (an administrator) gets a new
    passphrase; the recovery is recorded in the audit trail."""
    path = Path(path)
    keyfile = KeyFile.load(keys.key_file_path(path))
    try:
        database_key = keyfile.recover(recovery_key)
    except WrongPassphraseError as exc:
        raise LoginError(str(exc)) from None
    store = Store.open(path, key=database_key)
    row = security.person_by_name(store.db, admin_name)
    if row is None or Role.ADMINISTRATOR.value not in row["roles"]:
        store.close()
        raise LoginError(f"{admin_name.strip()!r} is not an administrator of this clinic.")
    problem = passphrase_problem(new_passphrase, row["name"])
    if problem:
        store.close()
        raise AccountError(problem)
    clinic = Clinic(store, keyfile, database_key, _person(row))
    with store.db.atomic():
        security.update_person(
            store.db, row["id"], passphrase_hash=_hasher.hash(new_passphrase), active=1, deactivated_at=None
        )
        clinic.person = _person(security.person_by_id(store.db, row["id"]))
        clinic.audit("recovery key used", "person", row["id"], name=row["name"])
        if any(w.casefold() == row["name"].casefold() for w in keyfile.entries):
            keyfile.rewrap(database_key, row["name"], new_passphrase)
        else:
            keyfile.add(database_key, row["name"], new_passphrase)
    return clinic


def open_as(
    path: str | os.PathLike,
    keyfile: KeyFile,
    database_key: bytes,
    name: str,
    action: str = "login",
    *,
    full_check: bool = True,
) -> Clinic:
    """The fast half of logging in: open the file with the unwrapped key, check the person, record it.

    ``full_check=False``: ``Store.open`` checks the clinical tables only and holds writes
    (``store.access.kind == "checking"``) until the caller's background ``opening.full_check(path,
    key=store.key)`` is passed to ``store.finish_check``; the login's audit entry is written then.
    Raises ``store.WrongKeyError`` if the key does not open the file (the file untouched)."""
    path = Path(path)
    store = Store.open(path, key=database_key, full_check=full_check)
    row = security.person_by_name(store.db, name)
    if row is None or not row["active"]:
        store.close()
        raise LoginError(f"{name.strip()} cannot log in here (deactivated); ask the clinic's administrator.")
    clinic = Clinic(store, keyfile, database_key, _person(row))
    clinic.audit(action, "person", row["id"])
    return clinic


def known_names(path: str | os.PathLike) -> list[str]:
    """The names the login dialog offers (from the key file: the database is still closed)."""
    try:
        return KeyFile.load(keys.key_file_path(path)).people()
    except keys.KeyFileError:
        return []
