"""The measures. Each function yields result dicts (see README.md for the JSON schema)."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from device import protocol as p

ROOT = Path(__file__).resolve().parents[1]
BAUD_8N1_BITS = 10  # start + 8 data + stop bits per byte


def result(name, value, unit, target=None, higher_is_better=True, limit=None, limit_name="", **extra):
    r = {"name": name, "value": value, "unit": unit, "target": target, "higher_is_better": higher_is_better}
    if target is not None:
        r["ratio"] = value / target if target else None
        r["met"] = bool(value >= target if higher_is_better else value <= target)
        r["target_text"] = f"{'≥' if higher_is_better else '<'} {target:,.4g}"
    if limit is not None:
        r["limit"] = limit
        r["limit_ratio"] = value / limit
        r["limit_text"] = f"{limit_name} {limit:,.4g}"
    r.update(extra)
    return r


def _line_rate(baud: int, frame_bytes: int) -> float:
    return baud / BAUD_8N1_BITS / frame_bytes


# -- 1. decoder throughput ---------------------------------------------------------------------------
def decoder(quick: bool = False):
    from device.text import TextDecoder

    n = 20_000 if quick else 300_000
    data = b"".join(p.encode_sample(i, i * 1000, 20 + (i % 300) / 10) for i in range(n))
    best = 0.0
    for _ in range(1 if quick else 3):
        dec = p.FrameDecoder()
        t0 = time.perf_counter()
        for i in range(0, len(data), 4096):
            dec.feed(data[i : i + 4096])
        rate = n / (time.perf_counter() - t0)
        assert dec.stats.samples == n
        best = max(best, rate)
    limit = _line_rate(921_600, p.SAMPLE_FRAME_SIZE)
    yield result(
        "decoder: Abrasio protocol",
        round(best),
        "samples/s",
        target=20 * limit,
        limit=limit,
        limit_name="921.6k baud",
        line_rate_115200=_line_rate(115_200, 18),
        line_rate_921600=limit,
        x_921600=best / limit,
        x_115200=best / _line_rate(115_200, 18),
    )
    line = b"vacuum:23.45\r\n"
    text = b"".join(b"vacuum:%.2f\r\n" % (20 + (i % 300) / 10) for i in range(n))
    best = 0.0
    for _ in range(1 if quick else 3):
        dec = TextDecoder()
        t0 = time.perf_counter()
        for i in range(0, len(text), 4096):
            dec.feed(text[i : i + 4096])
        best = max(best, n / (time.perf_counter() - t0))
    limit = _line_rate(921_600, len(line))
    yield result(
        "decoder: plain text",
        round(best),
        "samples/s",
        target=20 * limit,
        limit=limit,
        limit_name="921.6k baud",
        x_921600=best / limit,
    )


# -- helpers for the GUI measures --------------------------------------------------------------------
def _app():
    from PySide6.QtWidgets import QApplication

    from desktop.allocator import tune_allocator
    from desktop.resources import resource_path

    tune_allocator()  # as desktop.app.main does

    app = QApplication.instance() or QApplication([])
    app.setStyleSheet(resource_path("abrasio.qss").read_text(encoding="utf-8"))
    return app


def _run_loop(seconds: float) -> None:
    from PySide6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    QTimer.singleShot(int(seconds * 1000), loop.quit)
    loop.exec()


def _session(tmp: Path, url: str, clock=time.monotonic):
    from desktop.records import Client
    from desktop.session.live import LiveSessionWindow
    from desktop.store import Store

    store = Store.open(tmp / "bench.db")
    cid = store.add_client(Client("Bench", "Mark", vacuum_ceiling_kpa=45.0))
    sid = store.create_session(cid, "bench", set_point_kpa=30.0, ceiling_kpa=45.0, areas=["cheeks"])
    live = LiveSessionWindow(store, sid, {"url": url}, lambda: "bench", clock=clock)
    live.show()
    return store, live


def _end(live) -> dict:
    """End the session (it never blocks) and run the event loop until it is on disk."""
    from PySide6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    live.finished.connect(lambda _sid: loop.quit())
    QTimer.singleShot(30_000, loop.quit)
    live.end_session()
    loop.exec()
    return live.summary_result


def _detach(live) -> None:
    """Stop the window's own frame timer and the run's threads: the benchmark drives both."""
    live.timer.stop()
    live.run.stop()
    live.link.close()


def _rss_mb() -> float:
    import psutil

    return psutil.Process().memory_info().rss / 1e6


# -- 2. end to end over a real pty ---------------------------------------------------------------------
def end_to_end(quick: bool = False):
    from PySide6.QtCore import QTimer

    seconds = 4 if quick else 60
    _app()
    tmp = Path(tempfile.mkdtemp(prefix="abrasio-bench-"))
    link = tmp / "handpiece"
    sim = subprocess.Popen(
        [sys.executable, "-m", "device.simulator", "--rate", "1000", "--link", str(link)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    try:
        sim.stdout.readline()
        store, live = _session(tmp, str(link))
        latencies: list[np.ndarray] = []
        first_seq: list[int] = []
        last_seq = [0]
        measured_n = [0]  # samples through the measured path (the run's thread starts before it)
        ingest = live.run._ingest

        def measured(batch):
            # latency: the simulator's clock is this machine's monotonic clock (µs, mod 2**32)
            dev = np.fromiter((s.device_time for s in batch), np.float64, len(batch))
            now_us = time.monotonic() * 1e6
            latencies.append(((now_us - dev * 1e6) % 2**32) / 1e6)
            if not first_seq:
                first_seq.append(batch[0].seq)
            last_seq[0] = batch[-1].seq
            measured_n[0] += len(batch)
            ingest(batch)

        live.run._ingest = measured
        gaps: list[float] = []
        last = [time.monotonic()]

        def beat():
            now = time.monotonic()
            gaps.append(now - last[0])
            last[0] = now

        heart = QTimer(interval=5, timeout=beat)
        _run_loop(1.0)  # connect and settle
        latencies.clear()
        gaps.clear()
        last[0] = time.monotonic()
        heart.start()
        cpu0, wall0 = time.process_time(), time.monotonic()
        _run_loop(seconds)
        cpu = (time.process_time() - cpu0) / (time.monotonic() - wall0)
        heart.stop()
        stats = live.link.stats()
        _end(live)
        received = measured_n[0]
        sent = last_seq[0] - first_seq[0] + 1
        lat = np.concatenate(latencies) * 1000
        store.close()
    finally:
        sim.kill()
        sim.wait()
        sim.stdin.close()
        sim.stdout.close()
    yield result(
        "end to end: samples lost (1,000/s over a pty)",
        sent - received,
        "samples",
        target=0,
        higher_is_better=False,
        sent=sent,
        received=received,
        frames_lost=stats.frames_lost,
        crc_failures=stats.crc_failures,
        seconds=seconds,
    )
    yield result(
        "end to end: latency p50", float(np.percentile(lat, 50)), "ms", target=50, higher_is_better=False
    )
    yield result(
        "end to end: latency p99",
        float(np.percentile(lat, 99)),
        "ms",
        target=50,
        higher_is_better=False,
        max_ms=float(lat.max()),
    )
    yield result(
        "end to end: longest GUI event-loop stall",
        max(gaps) * 1000,
        "ms",
        target=50,
        higher_is_better=False,
        timer_interval_ms=5,
        p99_gap_ms=float(np.percentile(gaps, 99) * 1000),
    )
    yield result("end to end: app CPU (one core = 100%)", cpu * 100, "%", target=30, higher_is_better=False)


# -- 3. graph redraw ---------------------------------------------------------------------------------
def redraw(quick: bool = False):
    frames = 40 if quick else 400
    _app()
    tmp = Path(tempfile.mkdtemp(prefix="abrasio-bench-"))
    now = [30.0]  # the session clock: the data's time, so the window always shows the newest 30 s
    store, live = _session(tmp, "sim://?rate=1000&auto=0", clock=lambda: now[0])
    _detach(live)
    t = np.arange(30_000) / 1000.0
    v = 30 + 3 * np.sin(t * 5) + np.random.default_rng(1).normal(0, 0.2, t.size)
    live.ring.push(t, v)
    step = np.arange(33) / 1000.0
    images = []
    t0 = time.perf_counter()
    for i in range(frames):
        new_t = now[0] + 0.001 + step
        live.ring.push(new_t, 30 + 3 * np.sin(new_t * 5))
        now[0] = float(new_t[-1])
        live.frame()
        # grab() renders the whole plot widget (axes, grid, band, lines, curve) into an image, every
        # time: what a repaint costs. (viewport().repaint() offscreen may skip the paint entirely.)
        image = live.plot.grab()
        if i in (0, frames - 1):
            images.append(image.toImage())
    fps = frames / (time.perf_counter() - t0)
    points = len(live.curve.xData)
    size = [live.plot.width(), live.plot.height()]
    if images[0] == images[1]:
        raise RuntimeError("the plot did not change between frames: nothing was painted")
    live.force_close()
    store.close()
    yield result(
        "graph redraw: 30 s window at 1,000 samples/s",
        fps,
        "frames/s",
        target=60,
        points=points,
        size=size,
    )


# -- 4. long session memory --------------------------------------------------------------------------
def _minute_of_samples():
    from device.simulator import HandpieceModel

    model = HandpieceModel(1000, 30.0, seed=9, auto=True)
    out = np.array([model.step() for _ in range(60_000)])
    return out[:, 0], out[:, 2].astype(bool)


def memory(quick: bool = False):
    from PySide6.QtWidgets import QApplication

    hours = 10 / 60 if quick else 4.0
    app = _app()
    tmp = Path(tempfile.mkdtemp(prefix="abrasio-bench-"))
    now = [0.0]  # the session clock: the replayed samples' time
    store, live = _session(tmp, "sim://?rate=1000&auto=0", clock=lambda: now[0])
    _detach(live)
    vac, contact = _minute_of_samples()
    seconds = int(hours * 3600)
    _run_loop(0.5)  # the session screen is up and painted: that is the start
    start = _rss_mb()
    curve = []  # (simulated minute, RSS MB)
    tenth = None
    t0 = time.monotonic()
    for s in range(seconds):
        k = (s % 60) * 1000
        now[0] = s + 1.0
        batch = [
            p.Sample(s * 1000 + i, s + i / 1000, now[0], float(vac[k + i]), True, bool(contact[k + i]), 0, 0)
            for i in range(1000)
        ]
        live.run._ingest(batch)
        while live.recorder._q.qsize() > 20:  # replay as fast as the writer keeps up, no faster
            time.sleep(0.001)
        if s % 30 == 0:
            live.frame()
            QApplication.processEvents()  # a benchmark, not app code: let paint and deferred deletes run
        if s % 60 == 0:
            curve.append((s // 60, round(_rss_mb(), 1)))
        if s == max(seconds // 10, 60):
            tenth = _rss_mb()
    end = _rss_mb()
    elapsed = time.monotonic() - t0
    _end(live)
    app.processEvents()
    size = (tmp / "bench.db").stat().st_size
    store.close()
    tenth = tenth or end
    label = f"{hours:.2g} h" if hours >= 1 else f"{hours * 60:.0f} min"
    yield result(
        f"long session ({label} at 1,000/s): RSS growth",
        end - start,
        "MB",
        target=20,
        higher_is_better=False,
        rss_start_mb=start,
        rss_after_first_tenth_mb=tenth,
        rss_end_mb=end,
        replay_seconds=elapsed,
        speedup=seconds / elapsed,
        db_bytes=size,
        rss_by_minute=curve,
    )
    yield result(
        "long session: RSS growth after the first tenth", end - tenth, "MB", target=5, higher_is_better=False
    )


# -- 5. storage --------------------------------------------------------------------------------------
def _big_clients_db(path: Path, n: int):
    import datetime as dt
    import random

    from desktop.demo import demo_clients
    from desktop.store import Store

    store = Store.open(path)
    rng = random.Random(4)
    today = dt.date(2026, 11, 25)
    clients = demo_clients(n, rng, today)
    for i, c in enumerate(clients):
        c.last_visit = today - dt.timedelta(days=rng.randrange(0, 900)) if i % 7 else None
    store.import_clients(clients)
    store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return store


def storage(quick: bool = False):
    from desktop.records import Client
    from desktop.session.recorder import TraceRecorder
    from desktop.store import Store

    tmp = Path(tempfile.mkdtemp(prefix="abrasio-bench-"))
    # a) record an hour at 1,000 samples/s through the recorder (quick: 3 minutes, scaled to an hour)
    seconds = 180 if quick else 3600
    db = tmp / "trace.db"
    store = Store.open(db)
    cid = store.add_client(Client("Trace", "Bench"))
    sid = store.create_session(cid, "bench")
    store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    before = db.stat().st_size
    vac, contact = _minute_of_samples()
    flags = (contact.astype(np.uint8) << 1) | 1
    cpu0, wall0 = time.process_time(), time.monotonic()
    rec = TraceRecorder(db, sid)
    for s in range(seconds):
        k = (s % 60) * 1000
        seq = np.arange(s * 1000, s * 1000 + 1000)
        rec.add_samples(seq, seq / 1000.0, vac[k : k + 1000], flags[k : k + 1000])
        if s % 50 == 0:
            time.sleep(0)  # let the writer run, as the GUI's 30 Hz tick does
    rec.close(timeout=120)
    cpu = time.process_time() - cpu0
    wall = time.monotonic() - wall0
    store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    growth = db.stat().st_size - before
    scale = 3600 / seconds
    yield result(
        "storage: file growth per hour at 1,000/s",
        growth * scale / 1e6,
        "MB",
        target=20,
        higher_is_better=False,
        bytes_per_sample=growth / (seconds * 1000),
        measured_seconds=seconds,
    )
    yield result(
        "storage: CPU to record an hour",
        cpu * scale,
        "s",
        target=360,
        higher_is_better=False,
        wall_seconds=wall * scale,
        note="target: 10% of one core",
    )
    t0 = time.perf_counter()
    tr = store.load_trace(sid)
    load = (time.perf_counter() - t0) * scale
    assert len(tr["seq"]) == seconds * 1000
    yield result(
        "storage: load an hour back for review",
        load,
        "s",
        target=1.0,
        higher_is_better=False,
        samples=len(tr["seq"]) * scale,
    )
    store.close()

    # b) client search with 100,000 clients, keystroke by keystroke through the Qt model
    from desktop.models import ClientTableModel

    _app()
    n = 20_000 if quick else 100_000
    big = _big_clients_db(tmp / "clients.db", n)
    model = ClientTableModel(big)
    typed = ["gonzalez", "anna smi", "0770 4", "example.org", "ma ro", "léa", "07123 456"]
    times = []
    for word in typed:
        for i in range(1, len(word) + 1):
            t0 = time.perf_counter()
            model.set_filter(word[:i])
            model.rowCount()
            times.append((time.perf_counter() - t0) * 1000)
    yield result(
        f"client search, {n:,} clients: keystroke p99",
        float(np.percentile(times, 99)),
        "ms",
        target=50,
        higher_is_better=False,
        p50_ms=float(np.percentile(times, 50)),
        max_ms=max(times),
        keystrokes=len(times),
    )

    # c) opening a client with 200 past sessions
    from desktop.client_pages import ClientPage
    from device.units import format_vacuum

    cid = big.add_client(Client("Many", "Visits", vacuum_ceiling_kpa=40))
    with big.db.atomic():
        for k in range(200):
            sid = big.create_session(
                cid,
                "bench",
                started_at=f"2020-01-01T10:{k % 60:02d}:00+00:00",
                set_point_kpa=25.0,
                areas=["cheeks", "nose"],
            )
            big.finish_session(sid, {"duration_s": 1500, "peak_kpa": 28.0, "samples": 0}, "bench")
    page = ClientPage(big, lambda kpa: format_vacuum(kpa, "kPa"), lambda: "bench")
    opens = []
    for _ in range(7):
        t0 = time.perf_counter()
        page.show_client(cid)
        opens.append((time.perf_counter() - t0) * 1000)
    assert page.sessions.rowCount() == 200
    yield result(
        "open a client with 200 past sessions",
        statistics.median(opens),
        "ms",
        target=200,
        higher_is_better=False,
        max_ms=max(opens),
    )
    page.deleteLater()
    big.close()


# -- 6. start-up -------------------------------------------------------------------------------------
def _startup(cmd: list[str], db: Path, runs: int) -> float:
    times = []
    env = {**os.environ, "ABRASIO_STARTUP_PROBE": "1", "QT_QPA_PLATFORM": "offscreen"}
    for _ in range(runs):
        t0 = time.monotonic()
        out = subprocess.run(
            [*cmd, "--db", str(db)], env=env, capture_output=True, text=True, timeout=120, cwd=ROOT
        )
        times.append(time.monotonic() - t0)
        if "shown clients" not in out.stdout:
            raise RuntimeError(f"start-up probe failed: {out.stdout}{out.stderr}")
    return statistics.median(times)


def startup(quick: bool = False):
    n = 20_000 if quick else 100_000
    tmp = Path(tempfile.mkdtemp(prefix="abrasio-bench-"))
    db = tmp / "clients.db"
    _big_clients_db(db, n).close()
    runs = 1 if quick else 5
    yield result(
        f"start-up to the client list ({n:,} clients), source",
        _startup([sys.executable, "-m", "desktop"], db, runs),
        "s",
        target=2.0,
        higher_is_better=False,
    )
    bundle = ROOT / "dist" / "Abrasio" / "Abrasio"
    if bundle.exists():
        yield result(
            f"start-up to the client list ({n:,} clients), bundle",
            _startup([str(bundle)], db, runs),
            "s",
            target=2.0,
            higher_is_better=False,
        )
        size = sum(f.lstat().st_size for f in bundle.parent.rglob("*") if f.is_file() and not f.is_symlink())
        yield result("bundle size on disk (Linux)", size / 1e6, "MB", target=150, higher_is_better=False)
