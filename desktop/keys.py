"""The database key and who can unwrap it. No Qt, no SQL.

One random 256-bit key encrypts the database (SQLCipher, ``desktop.store.cipher``). It is never stored
as it is: the *key file* beside the database (``abrasio.db.keys``) holds it *wrapped* once per person,
and once for the clinic's recovery key::

    argon2id(passphrase, salt: 16 fresh random bytes, t=3, m=64 MiB, p=1) -> 64 bytes = pad ‖ mac_key
    wrapped = database_key XOR pad                          (a one-time pad: the salt is new per wrap)
    mac     = HMAC-SHA256(mac_key, "abrasio-wrap-v1" ‖ who ‖ salt ‖ t ‖ m ‖ p ‖ wrapped)

A wrong passphrase yields another pad and MAC key, so the MAC does not match: nothing is unwrapped and
nothing is written. ``who`` is inside the MAC, so one person's entry cannot be passed off as another's.
The whole file also carries ``file_mac``, an HMAC keyed by a key derived from the database key, checked
after every unwrap: an entry added, removed or altered by someone without the key is detected.

Changing a passphrase rewraps the same key (one entry replaced); the database is never re-encrypted.
The file is written whole to a temporary file (mode 0600), flushed, then renamed over the old one.

The recovery key (printed or saved at setup) is 128 random bits written as 32 characters of Crockford
base32 with a 32-bit checksum (``XXXX-XXXX-…``, 8 groups): a typo is caught before any unwrap is tried.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import os
import secrets
import tempfile
from dataclasses import dataclass
from pathlib import Path

from argon2.low_level import Type, hash_secret_raw

KEY_BYTES = 32
FORMAT = "abrasio-keys"
VERSION = 1
RECOVERY = "recovery"  # the ``who`` of the recovery key's entry

# Tuned on the 2-core development machine: one unwrap (a login) ~0.15–0.2 s, measured by
# tests/test_keys.py::test_login_unwrap_cost and the benchmarks (docs/security-design.md).
# RFC 9106's second recommended setting (t=3, 64 MiB), with one lane: the machine is shared.
ARGON2 = {"t": 3, "m": 64 * 1024, "p": 1}
_LIMITS = {"t": (1, 64), "m": (8 * 1024, 4 * 1024 * 1024), "p": (1, 16)}


class KeyFileError(Exception):
    """The key file cannot be used: missing, unreadable, damaged, altered or from a newer Abrasio."""


class WrongPassphraseError(KeyFileError):
    """The passphrase (or recovery key) does not unwrap this person's key. Nothing was changed."""


class RecoveryKeyTypoError(WrongPassphraseError):
    """The recovery key as typed is not a valid recovery key (its checksum or characters are wrong)."""


def new_database_key() -> bytes:
    return secrets.token_bytes(KEY_BYTES)


def derive(database_key: bytes, purpose: str) -> bytes:
    """A separate 256-bit key for one purpose (key file MAC, audit chain, record seals)."""
    return hmac.new(database_key, b"abrasio-derive-v1\x00" + purpose.encode(), hashlib.sha256).digest()


# -- recovery key: 16 random bytes + 4 checksum bytes, Crockford base32 --------------------------------
_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_DECODE = {c: i for i, c in enumerate(_ALPHABET)} | {"O": 0, "I": 1, "L": 1}


def _check(raw: bytes) -> bytes:
    return hashlib.sha256(b"abrasio-recovery-v1" + raw).digest()[:4]


def new_recovery_key() -> str:
    raw = secrets.token_bytes(16)
    n = int.from_bytes(raw + _check(raw), "big")  # 160 bits = 32 characters of 5 bits
    chars = "".join(_ALPHABET[(n >> (5 * i)) & 31] for i in reversed(range(32)))
    return "-".join(chars[i : i + 4] for i in range(0, 32, 4))


def parse_recovery_key(text: str) -> bytes:
    """The recovery key's 16 secret bytes; ``RecoveryKeyTypoError`` says what is wrong with ``text``."""
    chars = "".join(ch for ch in text.upper() if ch not in " -\t\n")
    bad = sorted({ch for ch in chars if ch not in _DECODE})
    if bad:
        raise RecoveryKeyTypoError(f"The recovery key has characters it never uses: {' '.join(bad)}.")
    if len(chars) != 32:
        raise RecoveryKeyTypoError(
            f"A recovery key has 32 characters (8 groups of 4); this one has {len(chars)}."
        )
    n = 0
    for ch in chars:
        n = (n << 5) | _DECODE[ch]
    data = n.to_bytes(20, "big")
    raw, check = data[:16], data[16:]
    if not hmac.compare_digest(_check(raw), check):
        raise RecoveryKeyTypoError("The recovery key has a typo: its check characters do not match.")
    return raw


# -- wrapping ------------------------------------------------------------------------------------------
def _b64(b: bytes) -> str:
    return base64.b64encode(b).decode("ascii")


def _unb64(s: str) -> bytes:
    return base64.b64decode(s.encode("ascii"), validate=True)


def _secret(who: str, secret: str | bytes) -> bytes:
    if who == RECOVERY:
        return parse_recovery_key(secret) if isinstance(secret, str) else secret
    if isinstance(secret, bytes):
        return secret
    return secret.encode("utf-8")


def _mac_input(who: str, salt: bytes, params: dict, wrapped: bytes) -> bytes:
    head = json.dumps([who, params["t"], params["m"], params["p"]], separators=(",", ":")).encode()
    return b"abrasio-wrap-v1\x00" + head + b"\x00" + salt + wrapped


def _pad_and_mac_key(secret: bytes, salt: bytes, params: dict) -> tuple[bytes, bytes]:
    out = hash_secret_raw(
        secret, salt, time_cost=params["t"], memory_cost=params["m"], parallelism=params["p"],
        hash_len=2 * KEY_BYTES, type=Type.ID,
    )  # fmt: skip
    return out[:KEY_BYTES], out[KEY_BYTES:]


def wrap(database_key: bytes, who: str, secret: str | bytes, params: dict | None = None) -> dict:
    params = dict(params or ARGON2)
    salt = secrets.token_bytes(16)
    pad, mac_key = _pad_and_mac_key(_secret(who, secret), salt, params)
    wrapped = bytes(a ^ b for a, b in zip(database_key, pad, strict=True))
    mac = hmac.new(mac_key, _mac_input(who, salt, params, wrapped), hashlib.sha256).digest()
    return {
        "who": who,
        "kdf": "argon2id",
        **params,
        "salt": _b64(salt),
        "wrapped": _b64(wrapped),
        "mac": _b64(mac),
    }


def unwrap(entry: dict, secret: str | bytes) -> bytes:
    who = entry["who"]
    params = {k: entry[k] for k in ("t", "m", "p")}
    salt, wrapped, mac = _unb64(entry["salt"]), _unb64(entry["wrapped"]), _unb64(entry["mac"])
    pad, mac_key = _pad_and_mac_key(_secret(who, secret), salt, params)
    expected = hmac.new(mac_key, _mac_input(who, salt, params, wrapped), hashlib.sha256).digest()
    if not hmac.compare_digest(expected, mac):
        if who == RECOVERY:
            raise WrongPassphraseError("This is not the recovery key of this database.")
        raise WrongPassphraseError(f"The passphrase for {who} is not right.")
    return bytes(a ^ b for a, b in zip(wrapped, pad, strict=True))


# -- the key file -------------------------------------------------------------------------------------
def key_file_path(database: str | os.PathLike) -> Path:
    return Path(f"{database}.keys")


@dataclass
class KeyFile:
    """The key file's content: entries by person (login name) and the recovery entry."""

    path: Path
    database_id: str
    entries: dict[str, dict]
    created_at: str

    # creating ------------------------------------------------------------------------------------
    @classmethod
    def create(cls, path: str | os.PathLike, database_key: bytes, recovery_key: str) -> KeyFile:
        """A new key file holding only the recovery entry (people are added with ``add``)."""
        path = Path(path)
        if path.exists():
            raise KeyFileError(f"{path} already exists; Abrasio never overwrites a key file.")
        kf = cls(
            path=path,
            database_id=secrets.token_hex(16),
            entries={},
            created_at=dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        )
        kf.entries[RECOVERY] = wrap(database_key, RECOVERY, recovery_key)
        kf.save(database_key)
        return kf

    # reading -------------------------------------------------------------------------------------
    @classmethod
    def load(cls, path: str | os.PathLike) -> KeyFile:
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError as exc:
            raise KeyFileError(
                f"The key file {path} is missing. Without it the database cannot be opened: restore it "
                "from the clinic's backup (it is backed up with the database)."
            ) from exc
        except (OSError, UnicodeDecodeError) as exc:
            raise KeyFileError(f"Cannot read the key file {path}: {exc}.") from exc
        try:
            data = json.loads(text)
            if data.get("format") != FORMAT:
                raise ValueError("not an Abrasio key file")
            if data.get("version") != VERSION:
                raise KeyFileError(
                    f"The key file {path} was written by a newer Abrasio (format {data.get('version')}; "
                    f"this version reads {VERSION}). It has not been changed."
                )
            entries = {}
            for e in data["entries"]:
                for k, (lo, hi) in _LIMITS.items():
                    if not isinstance(e[k], int) or not lo <= e[k] <= hi:
                        raise ValueError(f"argon2 parameter {k} out of range")
                if e["kdf"] != "argon2id" or len(_unb64(e["wrapped"])) != KEY_BYTES:
                    raise ValueError("unknown entry")
                _unb64(e["salt"]), _unb64(e["mac"])
                if e["who"] in entries:
                    raise ValueError(f"two entries for {e['who']}")
                entries[e["who"]] = e
            kf = cls(path, data["database_id"], entries, data["created_at"])
            kf._file_mac = _unb64(data["file_mac"])
        except KeyFileError:
            raise
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise KeyFileError(f"The key file {path} is damaged or not an Abrasio key file ({exc}).") from exc
        if RECOVERY not in kf.entries:
            raise KeyFileError(f"The key file {path} has no recovery entry: it was altered.")
        return kf

    def people(self) -> list[str]:
        """Login names that have an entry (for the login dialog's list)."""
        return sorted((w for w in self.entries if w != RECOVERY), key=str.casefold)

    def _find(self, who: str) -> dict:
        for name, entry in self.entries.items():
            if name.casefold() == who.strip().casefold():
                return entry
        raise WrongPassphraseError(f"There is no one called {who.strip()!r} here.")

    def unlock(self, who: str, passphrase: str) -> bytes:
        """The database key, unwrapped with ``who``'s passphrase; the whole file is then verified."""
        key = unwrap(self._find(who), passphrase)
        self.verify(key)
        return key

    def recover(self, recovery_key: str) -> bytes:
        key = unwrap(self.entries[RECOVERY], parse_recovery_key(recovery_key))
        self.verify(key)
        return key

    # integrity -----------------------------------------------------------------------------------
    def _body(self) -> dict:
        return {
            "format": FORMAT,
            "version": VERSION,
            "database_id": self.database_id,
            "created_at": self.created_at,
            "entries": [self.entries[w] for w in sorted(self.entries)],
        }

    def _mac(self, database_key: bytes) -> bytes:
        canonical = json.dumps(self._body(), sort_keys=True, separators=(",", ":")).encode()
        return hmac.new(derive(database_key, "key-file"), canonical, hashlib.sha256).digest()

    def verify(self, database_key: bytes) -> None:
        if not hmac.compare_digest(self._mac(database_key), getattr(self, "_file_mac", b"")):
            raise KeyFileError(
                f"The key file {self.path} was altered outside Abrasio (an entry was added, removed or "
                "changed). Restore it from the clinic's backup; tell the clinic's administrator."
            )

    # changing (each needs the database key: only someone logged in changes the file) -------------------
    def add(self, database_key: bytes, who: str, passphrase: str) -> None:
        self.verify(database_key)
        who = who.strip()
        if not who or who == RECOVERY:
            raise ValueError("a person needs a name")
        if any(w.casefold() == who.casefold() for w in self.entries):
            raise ValueError(f"{who} already has a key entry")
        self._change(database_key, who, wrap(database_key, who, passphrase))

    def rewrap(self, database_key: bytes, who: str, new_secret: str) -> None:
        """A new passphrase for ``who`` (or a new recovery key): one entry replaced, nothing re-encrypted."""
        self.verify(database_key)
        name = RECOVERY if who == RECOVERY else self._find(who)["who"]
        self._change(database_key, name, wrap(database_key, name, new_secret))

    def remove(self, database_key: bytes, who: str) -> None:
        """A deactivated person's entry goes: their passphrase no longer opens the file."""
        self.verify(database_key)
        self._change(database_key, self._find(who)["who"], None)

    def _change(self, database_key: bytes, who: str, entry: dict | None) -> None:
        """Apply one change and save; if saving fails, the file and this object stay as they were."""
        before, mac = dict(self.entries), getattr(self, "_file_mac", b"")
        if entry is None:
            del self.entries[who]
        else:
            self.entries[who] = entry
        try:
            self.save(database_key)
        except BaseException:
            self.entries, self._file_mac = before, mac
            raise

    def save(self, database_key: bytes) -> None:
        """Written whole, 0600, fsynced, renamed over the old file (never half a key file)."""
        self._file_mac = self._mac(database_key)
        data = self._body() | {"file_mac": _b64(self._file_mac)}
        text = json.dumps(data, indent=1, sort_keys=True) + "\n"
        folder = self.path.parent
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp", dir=folder)
        try:
            os.chmod(tmp, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(text)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        if hasattr(os, "O_DIRECTORY"):  # the rename itself reaches the disk (POSIX)
            dfd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
            try:
                os.fsync(dfd)
            finally:
                os.close(dfd)
