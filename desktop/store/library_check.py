"""The self-test's probe of the encryption library (``abrasio --self-test``), here because it is SQL:
sqlcipher3 loads, encrypts a scratch file, reads it back with its key and refuses the wrong key."""

from __future__ import annotations

import tempfile
from pathlib import Path


def probe_sqlcipher() -> str:
    """Returns ``SQLCipher <version>``; raises ``RuntimeError`` saying what failed."""
    import sqlcipher3

    with tempfile.TemporaryDirectory(prefix="abrasio-selftest-") as tmp:
        path = str(Path(tmp) / "cipher.db")
        conn = sqlcipher3.connect(path)
        conn.execute("PRAGMA key = 'self-test key'")
        conn.execute("CREATE TABLE t (x TEXT)")
        conn.execute("INSERT INTO t VALUES ('secret')")
        conn.commit()
        version = conn.execute("PRAGMA cipher_version").fetchone()[0]
        conn.close()
        if b"secret" in Path(path).read_bytes() or b"SQLite format 3" in Path(path).read_bytes()[:16]:
            raise RuntimeError("the file was written in clear")
        conn = sqlcipher3.connect(path)
        conn.execute("PRAGMA key = 'self-test key'")
        got = conn.execute("SELECT x FROM t").fetchone()[0]
        conn.close()
        if got != "secret":
            raise RuntimeError(f"read back with the key: {got!r}, expected 'secret'")
        conn = sqlcipher3.connect(path)
        conn.execute("PRAGMA cipher_log_level = NONE")  # the failed decryption is expected: no log
        conn.execute("PRAGMA key = 'wrong key'")
        try:
            conn.execute("SELECT x FROM t").fetchone()
        except sqlcipher3.DatabaseError:
            pass
        else:
            raise RuntimeError("the wrong key opened the file")
        finally:
            conn.close()
    return f"SQLCipher {version}"


def tamper_behind_abrasios_back(path, database_key: bytes, client_id: int) -> None:
    """What ``--self-test`` must catch: someone holding the key changes audit entry #3 and a client's
    ceiling with a script of their own (no Abrasio functions: the triggers are dropped first)."""
    from desktop.store import cipher

    conn = cipher.connect(path, database_key)
    try:
        conn.execute("DROP TRIGGER audit_log_no_update")
        conn.execute("UPDATE audit_log SET person = 'someone else' WHERE id = 3")
        conn.execute("DROP TRIGGER seal_clients_au")
        conn.execute("UPDATE clients SET vacuum_ceiling_kpa = 85 WHERE id = ?", [client_id])
        conn.commit()
    finally:
        conn.close()
