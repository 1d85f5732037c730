"""What a session could not write at its end (a full disk): kept in a spill file beside the database.

``abrasio.db.spill-<session id>.json`` (0600, written atomically) holds the samples still held (as
packed trace blocks), the markers, marker labels, alarms and notes still waiting, in their order, and
the ids of those already written. For an encrypted clinic file that JSON is kept inside a one-row
SQLCipher file keyed with the database key: no record leaves the encryption, even at a full disk's end.
The recorder writes it when the disk still refuses at the end and deletes it once it has written
everything after all; the next start replays any spill file left
(``replay_all``) before anything else is written. Replaying is idempotent: a block, marker or alarm
already in the file is not written twice.
"""

from __future__ import annotations

import base64
import contextlib
import json
import logging
import os
from pathlib import Path

from desktop.store import files, trace

FORMAT = 1
_live: set[Path] = set()  # spill files a recorder of this process is still trying to write itself
_DATA = ("marker", "marker_label", "alarm", "notes")  # held writes that are data (calls are code)
log = logging.getLogger("abrasio.spill")


def path_for(db_path: Path, session_id: int) -> Path:
    return db_path.with_name(f"{db_path.name}.spill-{int(session_id)}.json")


def pending(db_path: Path) -> list[Path]:
    prefix = f"{db_path.name}.spill-"
    with contextlib.suppress(FileNotFoundError):
        return sorted(
            p for p in db_path.parent.iterdir() if p.name.startswith(prefix) and p.suffix == ".json"
        )
    return []


def write(
    db_path: Path,
    session_id: int,
    blocks: list[trace.TraceBlock],
    lost: int,
    writes: list[tuple[str, object]],
    ids: dict[tuple[str, int], int],
    *,
    key: bytes | None = None,
) -> Path:
    """Write (or replace) the session's spill file; raises OSError if the disk refuses it too.
    ``key``: the database key (encrypted clinic file): the spill file is encrypted with it."""
    doc = {
        "format": FORMAT,
        "session_id": session_id,
        "blocks": [
            {"t0": b.t0, "seq0": b.seq0, "n": b.n, "vmax": b.vmax, "data": base64.b64encode(b.data).decode()}
            for b in blocks
        ],
        "lost": lost,
        "writes": [
            [kind, item] for kind, item in writes if kind in ("marker", "marker_label", "alarm", "notes")
        ],
        "ids": [[kind, key, rid] for (kind, key), rid in ids.items()],
    }
    target = path_for(db_path, session_id)
    if key is None:
        files.write_private(target, json.dumps(doc).encode())
    else:
        _write_encrypted(target, json.dumps(doc).encode(), key)
    _live.add(target)
    return target


def _write_encrypted(target: Path, payload: bytes, key: bytes) -> None:
    """``payload`` in a one-row SQLCipher file, written beside ``target`` then renamed over it."""
    from desktop.store.connection import connect
    from desktop.store.errors import SQL_ERRORS, StoreError

    tmp = target.with_name(f".{target.name}.tmp")
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()
    files.create_private(tmp)
    try:
        conn = connect(tmp, mode="rw", wal=False, key=key)
        try:
            conn.execute("CREATE TABLE spill (doc BLOB NOT NULL)")
            conn.execute("INSERT INTO spill (doc) VALUES (?)", [payload])
            conn.commit()
        finally:
            conn.close()
        os.replace(tmp, target)
    except (StoreError, *SQL_ERRORS) as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise OSError(28, f"the spill file could not be written ({exc})") from exc
    except OSError:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def _read(spill: Path, key: bytes | None) -> dict:
    data = spill.read_bytes()
    if data[:1] == b"{" or key is None:
        return json.loads(data)
    from desktop.store.connection import connect

    conn = connect(spill, mode="ro", immutable=True, key=key)
    try:
        return json.loads(conn.execute("SELECT doc FROM spill").fetchone()[0])
    finally:
        conn.close()


def discard(db_path: Path, session_id: int) -> None:
    """The recorder wrote everything after all: its spill file goes."""
    target = path_for(db_path, session_id)
    _live.discard(target)
    with contextlib.suppress(FileNotFoundError):
        os.remove(target)


def release(db_path: Path, session_id: int) -> None:
    """The recorder stopped trying: its spill file is left for ``replay_all``."""
    _live.discard(path_for(db_path, session_id))


def replay(store, spill: Path) -> int:
    """Write one spill file's content into ``store`` (one transaction), then delete it. Returns the
    number of samples written."""
    doc = _read(spill, store.key)
    if doc.get("format") != FORMAT:
        raise ValueError(f"{spill.name}: unknown spill format {doc.get('format')!r}")
    sid = int(doc["session_id"])
    ids = {(kind, int(key)): int(rid) for kind, key, rid in doc["ids"]}
    written = 0
    with store._write():
        known = {
            (seq0, t0)
            for seq0, t0 in store.conn.execute(
                "SELECT seq0, t0 FROM vacuum_trace_chunks WHERE session_id = ?", [sid]
            )
        }
        blocks = [
            trace.TraceBlock(b["t0"], b["seq0"], b["n"], b["vmax"], base64.b64decode(b["data"]))
            for b in doc["blocks"]
            if (b["seq0"], b["t0"]) not in known
        ]
        if blocks or doc["lost"]:
            store.append_trace(sid, store.trace_chunk_count(sid), blocks, int(doc["lost"]))
            written = sum(b.n for b in blocks)
        for kind, item in doc["writes"]:
            if kind == "marker":
                key, t, label = item
                row = store.conn.execute(
                    "SELECT id FROM markers WHERE session_id = ? AND t = ?", [sid, t]
                ).fetchone()
                ids[("marker", key)] = row[0] if row else store.add_marker(sid, t, label)
            elif kind == "marker_label":
                key, label = item
                if ("marker", key) in ids:
                    store.label_marker(ids[("marker", key)], label)
            elif kind == "alarm":
                key, record = item
                rid = ids.get(("alarm", key))
                if rid is None:
                    row = store.conn.execute(
                        "SELECT id FROM alarms WHERE session_id = ? AND kind = ? AND started = ?",
                        [sid, record.get("kind"), record.get("started")],
                    ).fetchone()
                    rid = row[0] if row else None
                ids[("alarm", key)] = store.save_alarm(sid, {"id": rid, **record} if rid else record)
            elif kind == "notes":
                store.save_notes(sid, item)
    os.remove(spill)
    log.warning("Wrote what session %d had spilled at its end: %d samples", sid, written)
    return written


def replay_all(store) -> list[str]:
    """Replay every spill file beside the store's file; returns problems in words (none: [])."""
    problems = []
    for spill in pending(store.path):
        if spill in _live:  # this process's recorder still holds it and writes it itself
            continue
        try:
            replay(store, spill)
        except Exception as exc:  # the file stays for the next attempt; say so
            log.error("Could not write the spill file %s: %s", spill.name, exc)
            problems.append(f"{spill.name}: {exc}")
    return problems
