"""Tamper evidence: the audit trail's keyed hash chain and the seals on clinical records. No Qt, no SQL.

Two keys, each derived from the database key (``desktop.keys.derive``), so neither can be recomputed
without it:

- **Audit chain.** Entry *n* carries ``mac_n = HMAC(audit_key, mac_{n-1} ‖ encode(n, at, person, …))``;
  the first entry chains to a fixed genesis value. Changing, inserting or removing an entry breaks every
  MAC from there on; the verifier names the first entry that does not match. A *head* (the last id and
  its MAC, itself MACed) catches entries removed from the end, where no later entry would break.
- **Record seals.** Every row of a clinical table carries a seal, ``HMAC(seal_key, table ‖ rowid ‖
  encode(every column))``, kept in ``record_seals`` and written by triggers that call a SQL function only
  Abrasio's connections have (``desktop.store.security.register``). A row edited with the ``sqlite3``
  tool is therefore refused outright ("no such function"), and if someone drops the triggers first, the
  verifier finds the row whose seal no longer matches, the row without a seal, the seal without a row,
  and a per-table row count (also MACed) that no longer agrees.

What this proves and what it cannot: anyone without the database key can neither read the encrypted file
nor forge a seal or an audit entry. Someone who has the key and writes their own program can recompute
everything; restoring a whole earlier copy of the file (a backup) is also not detectable from inside it.
"""

from __future__ import annotations

import hashlib
import hmac
import struct
from dataclasses import dataclass

GENESIS = b"abrasio-audit-genesis-v1"


def encode(values) -> bytes:
    """An unambiguous byte string for a sequence of SQL values (type tag + length + content).

    Numbers are encoded by value, so 20 and 20.0 (an INTEGER read back from a REAL column) seal alike.
    """
    out = bytearray()
    for v in values:
        if v is None:
            tag, body = b"N", b""
        elif isinstance(v, bool):
            tag, body = b"I", str(int(v)).encode()
        elif isinstance(v, int | float):
            f = float(v)
            if f.is_integer() and abs(f) < 2**53:
                tag, body = b"I", str(int(f)).encode()
            else:
                tag, body = b"F", f.hex().encode()
        elif isinstance(v, str):
            tag, body = b"S", v.encode("utf-8", "surrogatepass")
        elif isinstance(v, bytes | bytearray | memoryview):
            tag, body = b"B", bytes(v)
        else:
            raise TypeError(f"cannot seal a {type(v).__name__}")
        out += tag + struct.pack(">I", len(body)) + body
    return bytes(out)


def seal(key: bytes, table: str, rowid: int, values) -> bytes:
    return hmac.new(key, b"row\x00" + encode([table, rowid, *values]), hashlib.sha256).digest()


def count_mac(key: bytes, table: str, n: int) -> bytes:
    return hmac.new(key, b"count\x00" + encode([table, n]), hashlib.sha256).digest()


def entry_mac(key: bytes, prev_mac: bytes | None, fields) -> bytes:
    """``fields``: (id, at, person_id, person, action, record_type, record_id, client_id, details)."""
    prev = prev_mac if prev_mac else GENESIS
    return hmac.new(key, b"audit\x00" + encode([prev, *fields]), hashlib.sha256).digest()


def head_mac(key: bytes, last_id: int, last_mac: bytes) -> bytes:
    return hmac.new(key, b"head\x00" + encode([last_id, last_mac]), hashlib.sha256).digest()


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: str
    person_id: int | None
    person: str
    action: str
    record_type: str
    record_id: int | None
    client_id: int | None
    details: str
    mac: bytes

    @property
    def fields(self) -> tuple:
        return (
            self.id,
            self.at,
            self.person_id,
            self.person,
            self.action,
            self.record_type,
            self.record_id,
            self.client_id,
            self.details,
        )

    def describe(self) -> str:
        what = f"{self.action} {self.record_type}" + (f" #{self.record_id}" if self.record_id else "")
        return f"entry #{self.id} ({self.at[:16].replace('T', ' ')}, {self.person or 'no one'}: {what})"


@dataclass(frozen=True)
class AuditVerdict:
    ok: bool
    entries: int
    first_broken: int | None  # the id of the first entry that does not verify
    message: str


def verify_chain(key: bytes, entries, head: tuple[int, bytes, bytes] | None) -> AuditVerdict:
    """Walk ``entries`` (in id order) and the head row (last_id, last_mac, mac); say what is wrong first."""
    prev: bytes | None = None
    expected_id = 1
    n = 0
    for e in entries:
        n += 1
        if e.id != expected_id:
            gone = f"#{expected_id}" if e.id == expected_id + 1 else f"#{expected_id}–#{e.id - 1}"
            return AuditVerdict(
                False,
                n,
                expected_id,
                f"The audit trail is broken: entry {gone} is missing (deleted outside Abrasio), "
                f"just before {e.describe()}.",
            )
        if not hmac.compare_digest(entry_mac(key, prev, e.fields), e.mac):
            return AuditVerdict(
                False,
                n,
                e.id,
                f"The audit trail is broken at {e.describe()}: it does not match its seal, so it was "
                "changed, inserted or moved outside Abrasio.",
            )
        prev = e.mac
        expected_id += 1
    last_id = expected_id - 1
    if head is None:
        if last_id:
            return AuditVerdict(
                False, n, None, "The audit trail's head record is missing (removed outside Abrasio)."
            )
        return AuditVerdict(True, 0, None, "The audit trail is empty.")
    h_id, h_last, h_mac = head
    if not hmac.compare_digest(head_mac(key, h_id, h_last), h_mac):
        return AuditVerdict(False, n, None, "The audit trail's head record was changed outside Abrasio.")
    if h_id != last_id or (prev is not None and not hmac.compare_digest(prev, h_last)):
        return AuditVerdict(
            False,
            n,
            last_id + 1,
            f"The audit trail is broken: it ends at entry #{last_id} but had {h_id} entries; the last "
            f"{h_id - last_id} were deleted outside Abrasio."
            if h_id > last_id
            else "The audit trail does not end where its head record says.",
        )
    return AuditVerdict(True, n, None, f"The audit trail verifies: {n} entries, none changed or missing.")
