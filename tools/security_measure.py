"""First figures for encryption, seals and login, each as a ratio to plaintext in the same run.

Run: nice .venv/bin/python tools/security_measure.py [--clients N] [--seconds S]
The figures in docs/security-design.md come from here; benchmarks/ takes them over in issue #11's
second part (as ratios there too, never as timed asserts in tests).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np

from desktop import keys
from desktop.records import Client
from desktop.store import Store, cipher, trace
from desktop.store.migrations import migrations


def encrypted(path: Path, key: bytes | None, seals: bool) -> Store:
    """The same module (sqlcipher3's SQLite), the same pragmas; only the key and the seals differ."""
    if seals:
        return Store.open(path, key=key)
    conn = cipher.connect(path, key)
    conn.execute("PRAGMA busy_timeout = 5000")
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    store = Store(path, conn)
    migrations.apply(store.db)
    return store


def clients(n: int) -> list[Client]:
    rng = np.random.default_rng(3)
    first = ["Maria", "Adaeze", "Léa", "Tom", "Ana", "Yuki", "Omar", "Ines", "Sven", "Mina"]
    last = ["Gonzalez", "Okonkwo", "Martin", "Reyes", "Silva", "Tanaka", "Haddad", "Rossi", "Berg", "Kim"]
    return [
        Client(
            first_name=first[rng.integers(10)],
            last_name=f"{last[rng.integers(10)]}{i}",
            phone=f"07700 9{i:05d}",
            email=f"c{i}@example.org",
            vacuum_ceiling_kpa=30.0,
        )
        for i in range(n)
    ]


def timed(fn, repeat: int = 1) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def blocks(seconds: int) -> list[trace.TraceBlock]:
    rng = np.random.default_rng(1)
    out = []
    for s in range(seconds):
        seq = np.arange(s * 1000, (s + 1) * 1000, dtype=np.int64)
        out.append(trace.pack(seq, seq / 1000.0, 25 + rng.normal(0, 0.4, 1000), np.full(1000, 3, np.uint8)))
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--clients", type=int, default=100_000)
    ap.add_argument("--seconds", type=int, default=3600)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp())
    key = keys.new_database_key()
    people = clients(args.clients)
    recorded = blocks(args.seconds)
    results: dict[str, dict[str, float]] = {}
    for kind in ("plaintext", "encrypted", "encrypted+seals"):
        path = tmp / f"{kind}.db"
        store = encrypted(path, None if kind == "plaintext" else key, kind.endswith("seals"))
        r = results.setdefault(kind, {})
        r["import_clients_s"] = timed(lambda store=store: store.import_clients(people))
        r["search_two_words_ms"] = 1000 * timed(lambda store=store: store.search_clients("ma go"), 20)
        r["search_substring_ms"] = 1000 * timed(lambda store=store: store.search_clients("konkwo12"), 20)
        cid = store.search_clients("")[0].id
        sid = store.create_session(cid, "bench")

        def record(store=store, sid=sid):  # one commit a second, as the recorder does
            for i, b in enumerate(recorded):
                store.append_trace(sid, i, [b])

        r["record_hour_s"] = timed(record)
        r["load_hour_s"] = timed(lambda store=store, sid=sid: store.load_trace(sid), 3)
        store.close()
        r["file_mb"] = path.stat().st_size / 1e6

        def reopen(path=path, kind=kind):
            c = cipher.connect(path, None if kind == "plaintext" else key)
            c.execute("SELECT count(*) FROM clients").fetchone()
            c.close()

        r["open_ms"] = 1000 * timed(reopen, 5)

    kf = keys.KeyFile.create(tmp / "k.keys", key, keys.new_recovery_key())
    kf.add(key, "Maya", "plum tree in the yard")
    login = timed(lambda: keys.KeyFile.load(kf.path).unlock("Maya", "plum tree in the yard"), 5)
    pw = tmp / "pw.db"
    c = cipher.dbapi.connect(str(pw))
    c.execute("PRAGMA key = 'a passphrase'")
    c.execute("CREATE TABLE t (x)")
    c.close()

    def passphrase_open():
        c = cipher.dbapi.connect(str(pw))
        c.execute("PRAGMA key = 'a passphrase'")
        c.execute("SELECT count(*) FROM t").fetchone()
        c.close()

    def raw_open():
        c = cipher.connect(tmp / "encrypted.db", key)
        c.close()

    print(f"clients {args.clients}, trace {args.seconds} s at 1,000 samples/s")
    base = results["plaintext"]
    for name in base:
        row = " ".join(
            f"{kind} {results[kind][name]:9.3f} ({results[kind][name] / base[name]:4.2f}x)"
            for kind in results
        )
        print(f"{name:22s} {row}")
    print(f"login (argon2id unwrap, median of 5): {login:.3f} s")
    print(f"open with a passphrase key (PBKDF2 each time): {1000 * timed(passphrase_open, 5):.1f} ms")
    print(f"open with the raw key: {1000 * timed(raw_open, 5):.1f} ms")


if __name__ == "__main__":
    main()
