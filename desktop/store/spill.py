"""What a session could not write at its end (a full disk): kept in a spill file beside the database.

``abrasio.db.spill-<session id>.json`` (0600, written atomically) holds the samples still held (as
packed trace blocks), the markers, marker labels, alarms and notes still waiting, in their order, and
the ids of those already written. The recorder writes it when the disk still refuses at the end and
deletes it once it has written everything after all; the next start replays any spill file left
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
) -> Path:
    """Write (or replace) the session's spill file; raises OSError if the disk refuses it too."""
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
    files.write_private(target, json.dumps(doc).encode())
    _live.add(target)
    return target


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
    doc = json.loads(spill.read_bytes())
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
