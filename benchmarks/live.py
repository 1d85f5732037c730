"""The live-view measures: sample to screen, alarm latency, GUI stalls over a whole session, memory
over many sessions, a long run at 2,000 samples/s. They see the live window only through
``benchmarks.live_adapter``; the simulator runs as its own process on a real pseudo-terminal."""

from __future__ import annotations

import gc
import subprocess
import sys
import tempfile
import time
import weakref
from pathlib import Path

import numpy as np

from benchmarks.live_adapter import ACTIVE_HIGH_TEXT, DWELL_TEXT, NO_SIGNAL_TEXT, LiveAdapter

ROOT = Path(__file__).resolve().parents[1]
WRAP_US = 2**32  # the device clock: microseconds, wrapping


def _unwrap(device_s: float, host_now: float) -> float:
    """A device time (the simulator's clock is this machine's monotonic clock mod 2**32 µs) as a
    monotonic time, given a host time shortly after it."""
    return host_now - ((host_now * 1e6 - device_s * 1e6) % WRAP_US) / 1e6


class Simulator:
    """``python -m device.simulator`` in its own process on a pty; ``send`` types a control line."""

    def __init__(self, rate: int, tmp: Path, seed: int = 3):
        self.link = tmp / f"handpiece-{rate}"
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "device.simulator", "--rate", str(rate), "--link", str(self.link),
             "--seed", str(seed)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT,
        )  # fmt: skip
        self.port = self.proc.stdout.readline().strip()

    def send(self, line: str) -> float:
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        self.proc.stdout.readline()  # "ok …": the simulator has applied it
        return time.monotonic()

    def close(self) -> None:
        self.proc.kill()
        self.proc.wait()
        self.proc.stdin.close()
        self.proc.stdout.close()


def _setup(tmp: Path, ceiling: float = 45.0):
    from desktop.records import Client
    from desktop.store import Store

    store = Store.open(tmp / "bench.db")
    cid = store.add_client(Client("Bench", "Mark", vacuum_ceiling_kpa=ceiling))
    sid = store.create_session(cid, "bench", set_point_kpa=30.0, ceiling_kpa=ceiling, areas=["cheeks"])
    return store, cid, sid


BENCH_PERSON, BENCH_PASSPHRASE = "Bench practitioner", "benchmark passphrase 1"


def _clinic(path: Path):
    """A clinic as the app has it (encrypted, sealed, audited), logged in: what the main window runs on."""
    from desktop import accounts

    return accounts.create_clinic(path, BENCH_PERSON, BENCH_PASSPHRASE).clinic


class Heartbeat:
    """The longest gap between ticks of a 5 ms QTimer: how long the GUI thread was unavailable."""

    def __init__(self):
        from PySide6.QtCore import QTimer

        self.gaps: list[float] = []
        self.last = time.monotonic()
        self.timer = QTimer(interval=5, timeout=self._beat)

    def _beat(self):
        now = time.monotonic()
        self.gaps.append(now - self.last)
        self.last = now

    def start(self):
        self.gaps.clear()
        self.last = time.monotonic()
        self.timer.start()

    def stop(self) -> float:
        self.timer.stop()
        self._beat()
        return max(self.gaps) * 1000 if self.gaps else 0.0


# -- sample to screen, lost samples, CPU ------------------------------------------------------------
def _screen_run(rate: int, seconds: float):
    from benchmarks.measures import _app, _run_loop

    _app()
    tmp = Path(tempfile.mkdtemp(prefix="abrasio-bench-"))
    sim = Simulator(rate, tmp)
    try:
        store, _cid, sid = _setup(tmp)
        live = LiveAdapter.open(store, sid, str(sim.link))
        arrivals: list[tuple[float, list[float]]] = []
        paints: list[tuple[float, float | None]] = []
        recording = [False]

        def samples(dev, _v):
            if recording[0]:
                arrivals.append((time.monotonic(), dev))

        live.on_samples(samples)
        live.on_plot_painted(lambda t, newest: recording[0] and paints.append((t, newest)))
        _run_loop(1.0)  # connect and settle
        heart = Heartbeat()
        recording[0] = True
        received0 = live.samples_received()
        heart.start()
        cpu0, wall0 = time.process_time(), time.monotonic()
        _run_loop(seconds)
        cpu = (time.process_time() - cpu0) / (time.monotonic() - wall0)
        stall = heart.stop()
        recording[0] = False
        stats = live.link_stats()
        received = live.samples_received() - received0
        lost = live.lost()
        live.end()
        store.close()
    finally:
        sim.close()
    # device times → monotonic; each sample's screen time: the first paint showing it
    dev = np.concatenate([[_unwrap(d, t) for d in ds] for t, ds in arrivals]) if arrivals else np.zeros(0)
    pt = np.array([t for t, n in paints if n is not None])
    newest = np.array([_unwrap(n, t) for t, n in paints if n is not None])
    newest = np.maximum.accumulate(newest) if len(newest) else newest
    idx = np.searchsorted(newest, dev - 1e-7)  # 0.1 µs: the sample's own time, printed and parsed
    shown = idx < len(pt)
    latency = (pt[idx[shown]] - dev[shown]) * 1000
    sent = len(dev)
    return {
        "latency": latency,
        "unshown": int((~shown).sum()),
        "paints_per_s": len(pt) / seconds,
        "cpu": cpu * 100,
        "stall": stall,
        "stats": stats,
        "received": received,
        "sent": sent,
        "lost": lost,
    }


def end_to_end(quick: bool = False):
    from benchmarks.measures import result

    seconds = 4 if quick else 60
    for rate in (1000, 2000):
        r = _screen_run(rate, seconds)
        lat, stats = r["latency"], r["stats"]
        lost = r["lost"]
        yield result(
            f"end to end {rate:,}/s: samples lost over a pty",
            lost,
            "samples",
            target=0,
            higher_is_better=False,
            received=r["received"],
            seq_gaps=stats.seq_gaps,
            crc_failures=stats.crc_failures,
            seconds=seconds,
        )
        yield result(
            f"sample to screen {rate:,}/s: p99",
            float(np.percentile(lat, 99)),
            "ms",
            target=20,
            higher_is_better=False,
            p50_ms=float(np.percentile(lat, 50)),
            max_ms=float(lat.max()),
            samples=len(lat),
            frames_per_s=r["paints_per_s"],
            frame_ms_at_60hz=1000 / 60,
            note="from the simulator taking the sample (its clock is this machine's) to the end of "
            "the paint of the first frame of the plot that shows it",
        )
        yield result(
            f"end to end {rate:,}/s: app CPU (one core = 100%)",
            r["cpu"],
            "%",
            target=15 if rate == 1000 else None,
            higher_is_better=False,
        )
        yield result(
            f"end to end {rate:,}/s: longest event-loop stall (steady)",
            r["stall"],
            "ms",
            target=16,
            higher_is_better=False,
        )


# -- alarm latency ----------------------------------------------------------------------------------
def alarms(quick: bool = False):
    from PySide6.QtCore import QEventLoop, QTimer

    from benchmarks.measures import _app, _run_loop, result

    surges = 3 if quick else 60
    reps = 1 if quick else 8
    _app()
    tmp = Path(tempfile.mkdtemp(prefix="abrasio-bench-"))
    sim = Simulator(1000, tmp)
    high, high_sound, dwell, no_signal = [], [], [], []
    not_shown: list = []  # no-signal alarms the bar never showed, with what it showed instead
    try:
        store, _cid, sid = _setup(tmp)
        live = LiveAdapter.open(store, sid, str(sim.link))
        ceiling = live.ceiling_kpa
        state = {"over": None, "last": None}  # first over-ceiling sample (monotonic), newest sample
        bar: list[tuple[float, str]] = []
        sounds: list[float] = []

        def samples(dev, vac):
            now = time.monotonic()
            state["last"] = _unwrap(dev[-1], now)
            if state["over"] is None and state.get("armed"):
                for d, v in zip(dev, vac, strict=True):
                    if v > ceiling:
                        state["over"] = _unwrap(d, now)
                        break

        live.on_samples(samples)
        live.on_alarm_painted(lambda t, text: bar.append((t, text)))
        live.on_sound(sounds.append)

        def wait(cond, timeout=10.0):
            deadline = time.monotonic() + timeout
            loop = QEventLoop()
            poll = QTimer(interval=5, timeout=lambda: (cond() or time.monotonic() > deadline) and loop.quit())
            poll.start()
            loop.exec()
            poll.stop()
            return cond()

        def shown_after(t0, words):
            return next((t for t, text in bar if t >= t0 and words in text), None)

        _run_loop(1.5)
        for _ in range(surges):
            state["over"], state["armed"] = None, True
            sim.send(f"surge {ceiling + 15:.0f} 0.5")
            if not wait(lambda: state["over"] is not None and shown_after(state["over"], ACTIVE_HIGH_TEXT)):
                raise RuntimeError("no high alarm shown after a surge")
            t0 = state["over"]
            high.append((shown_after(t0, ACTIVE_HIGH_TEXT) - t0) * 1000)
            s = next((t for t in sounds if t >= t0), None)
            if s is not None:
                high_sound.append((s - t0) * 1000)
            state["armed"] = False
            wait(lambda: "over_ceiling" not in live.active_alarm_kinds())
            live.acknowledge()  # the ended high alarm stays on the banner (latched) until then
            _run_loop(0.3)
        for _ in range(reps):
            bar.clear()
            sim.send("hold")
            if not wait(lambda: shown_after(0, DWELL_TEXT) is not None, 8.0):
                raise RuntimeError("no dwell alarm shown while holding still")
            ref = (
                _unwrap(live.device_time_of_session_x(live.last_stroke_x()), time.monotonic()) + live.dwell_s
            )
            dwell.append((shown_after(0, DWELL_TEXT) - ref) * 1000)
            sim.send("glide")
            wait(lambda: "dwell" not in live.active_alarm_kinds())
            live.acknowledge()
            _run_loop(1.5)
        for _ in range(reps):
            bar.clear()
            _run_loop(0.5)
            sim.send("stall 2")
            if not wait(lambda: "no_signal" in live.active_alarm_kinds(), 6.0):
                raise RuntimeError("no no-signal alarm during a stall")
            ref = state["last"] + live.no_signal_s
            if wait(lambda ref=ref: shown_after(ref - 0.5, NO_SIGNAL_TEXT) is not None, 3.0):
                no_signal.append((shown_after(ref - 0.5, NO_SIGNAL_TEXT) - ref) * 1000)
            else:  # active in the engine but never on the bar: another alarm outranked it
                not_shown.append(sorted({text for _t, text in bar}))
            wait(lambda: "no_signal" not in live.active_alarm_kinds())
            live.acknowledge()
        live.end()
        store.close()
    finally:
        sim.close()
    high_a = np.array(high)
    yield result(
        f"alarm: over-ceiling sample to high alarm shown, p99 ({len(high)} surges)",
        float(np.percentile(high_a, 99)),
        "ms",
        target=100,
        higher_is_better=False,
        p50_ms=float(np.percentile(high_a, 50)),
        max_ms=float(high_a.max()),
        confirm_ms=50,
        note="includes the engine's 50 ms confirmation (one noisy sample is not an alarm)",
    )
    snd = np.array(high_sound) if high_sound else np.array([np.nan])
    yield result(
        "alarm: over-ceiling sample to sound requested, p99",
        float(np.nanpercentile(snd, 99)),
        "ms",
        target=100,
        higher_is_better=False,
        requested=len(high_sound),
        surges=len(high),
    )
    yield result(
        f"alarm: dwell shown after the dwell time, worst of {len(dwell)}",
        float(np.max(np.abs(dwell))),
        "ms",
        target=100,
        higher_is_better=False,
        each_ms=[round(x, 1) for x in dwell],
        reference="the last stroke the engine counted (device time) + the dwell time",
    )
    shown = result(
        f"alarm: no signal shown after its threshold, worst of {len(no_signal)}",
        float(np.max(np.abs(no_signal))) if no_signal else None,
        "ms",
        target=100,
        higher_is_better=False,
        each_ms=[round(x, 1) for x in no_signal],
        reference="the last sample before the stall (device time) + the no-signal threshold",
        not_shown=len(not_shown),
        bar_showed_instead=not_shown,
    )
    if not_shown:
        shown["met"] = False
    yield shown


# -- the GUI never waits: a whole session through the main window -----------------------------------
def gui_stalls(quick: bool = False):
    """In a fresh process, as the first session of the day is: what the first start imports (the
    live view, pyqtgraph) is part of what the practitioner waits for, and no earlier measure of this
    run may have done it already."""
    import json
    import os

    from benchmarks.measures import result

    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.live", "gui_stalls", *(["--quick"] if quick else [])],
        capture_output=True, text=True, cwd=ROOT, env=env, timeout=600,
    )  # fmt: skip
    lines = [ln for ln in out.stdout.splitlines() if ln.startswith("{")]
    if out.returncode or not lines:
        raise RuntimeError(f"the session run failed: {out.stderr.strip()[-400:]}")
    phases = json.loads(lines[-1])
    worst = max(phases, key=phases.get)
    yield result(
        "GUI: longest event-loop stall over a whole session",
        phases[worst],
        "ms",
        target=16,
        higher_is_better=False,
        worst_phase=worst,
        phases_ms={k: round(v, 1) for k, v in phases.items()},
        note="a fresh process: the first session of the day",
    )


def _gui_stalls_phases(quick: bool) -> dict[str, float]:

    from benchmarks.measures import _app, _run_loop
    from desktop.main_window import MainWindow
    from desktop.records import Client
    from desktop.session.start_dialog import StartSessionDialog

    seconds = 3 if quick else 60
    _app()
    tmp = Path(tempfile.mkdtemp(prefix="abrasio-bench-"))
    sim = Simulator(1000, tmp)
    phases: dict[str, float] = {}
    try:
        clinic = _clinic(tmp / "stalls.db")
        store = clinic.store
        cid = store.add_client(Client("Stall", "Watch", vacuum_ceiling_kpa=45.0))
        for k in range(30):  # a client page with a 30-row session table
            past = store.create_session(
                cid, "bench", started_at=f"2025-{1 + k % 12:02d}-{1 + k:02d}T10:00:00+00:00",
                set_point_kpa=25.0, areas=["cheeks", "nose"],
            )  # fmt: skip
            store.finish_session(past, {"duration_s": 1500, "peak_kpa": 28.0, "samples": 0}, "bench")
        main = MainWindow(clinic, str(sim.link))
        main.resize(1366, 768)
        main.show()
        heart = Heartbeat()

        def phase(name, action, settle):
            heart.start()
            action()
            _run_loop(settle)
            phases[name] = heart.stop()

        phase("client page shown and painted", lambda: main.show_client(cid), 0.5)
        dialog: list = []

        def open_start():
            dialog.append(main.start_session(cid))

        phase("start dialog opened (port discovery)", open_start, 0.5)
        dlg: StartSessionDialog = dialog[0]
        dlg.handpiece.setEditText(str(sim.link))
        dlg.confirm.setChecked(True)
        dlg.areas["cheeks"].setChecked(True)
        if dlg.consent.problem():
            dlg.consent.ack.setChecked(True)  # "I have the client's consent for today"
        phase("session started (window, link, writer)", dlg.start_button.click, 1.0)
        if not main.session_windows:
            raise RuntimeError(f"the session did not start: {dlg.problem.text()}")
        live = LiveAdapter(main.session_windows[-1])
        phase(f"{seconds} s of treatment at 1,000/s", lambda: None, seconds)
        phase("session ended (last flush), its review opened and painted", live.click_end, 2.5)
        from desktop.session.review import SessionReviewWindow

        reviews = [w for w in main.findChildren(SessionReviewWindow) if w.isVisible()]
        phase("review closed, client page painted", lambda: [w.close() for w in reviews], 0.5)
        main.close()
        store.close()
    finally:
        sim.close()
    return phases


# -- memory over 20 sessions in one process ---------------------------------------------------------
def sessions(quick: bool = False):
    from benchmarks.measures import _app, _rss_mb, _run_loop, result
    from desktop.main_window import MainWindow

    n = 4 if quick else 20
    app = _app()
    tmp = Path(tempfile.mkdtemp(prefix="abrasio-bench-"))
    from desktop.records import Client

    clinic = _clinic(tmp / "bench.db")
    store = clinic.store
    cid = store.add_client(Client("Bench", "Mark", vacuum_ceiling_kpa=45.0))
    main = MainWindow(clinic, "sim://?rate=1000&auto=1")
    main.show()
    refs = []
    rss = []
    from desktop.session.review import SessionReviewWindow

    for i in range(n):
        sid = store.create_session(cid, "bench", set_point_kpa=30.0, ceiling_kpa=45.0, areas=["cheeks"])
        win = main._open_live(sid, {"url": f"sim://?rate=1000&auto=1&seed={i}", "format": "abrasio"})
        _run_loop(1.0 if not quick else 0.4)
        live = LiveAdapter(win)
        refs.append(live.weak())
        live.end()  # as the app does it: the window closes, the session's review opens
        _run_loop(0.3)
        for review in main.findChildren(SessionReviewWindow):
            if review.isVisible():
                refs.append(weakref.ref(review))
                review.close()
        del live, win, review  # the measure's own names hold nothing
        _run_loop(0.2)
        app.sendPostedEvents(None, 0)  # deferred deletes
        gc.collect()
        rss.append(_rss_mb())
    alive = sum(r() is not None for r in refs)
    qt_alive = sum(len(main.findChildren(cls)) for cls in LiveAdapter.window_classes())
    main.close()
    store.close()
    yield result(
        f"{n} sessions in one process: RSS growth after the first",
        rss[-1] - rss[0],
        "MB",
        target=5 if not quick else None,
        higher_is_better=False,
        rss_by_session=[round(x, 1) for x in rss],
        note=None if not quick else "--quick: 4 sessions, no target",
    )
    yield result(
        f"{n} sessions: live and review windows still alive after closing",
        max(alive, qt_alive),
        "windows",
        target=0,
        higher_is_better=False,
        python_objects_alive=alive,
        qt_children_alive=qt_alive,
        of=len(refs),
    )


# -- 10 minutes at 2,000/s ---------------------------------------------------------------------------
def soak(quick: bool = False):
    from benchmarks.measures import _app, _rss_mb, _run_loop, result

    seconds = 5 if quick else 600
    _app()
    tmp = Path(tempfile.mkdtemp(prefix="abrasio-bench-"))
    sim = Simulator(2000, tmp)
    try:
        store, _cid, sid = _setup(tmp)
        live = LiveAdapter.open(store, sid, str(sim.link))
        _run_loop(1.0)
        received0 = live.samples_received()
        rss = []
        step = 1 if quick else 10
        for _ in range(int(seconds / step)):
            _run_loop(step)
            rss.append(round(_rss_mb(), 1))
        stats = live.link_stats()
        received = live.samples_received() - received0
        lost = live.lost()
        live.end()
        store.close()
    finally:
        sim.close()
    yield result(
        f"{seconds // 60 or seconds} {'min' if seconds >= 60 else 's'} at 2,000/s over a pty: samples lost",
        lost,
        "samples",
        target=0,
        higher_is_better=False,
        received=received,
        crc_failures=stats.crc_failures,
        seq_gaps=stats.seq_gaps,
        overflow_dropped=stats.overflow_dropped,
    )
    first_minute = rss[min(len(rss) - 1, 60 // step)]
    yield result(
        "… RSS growth after the first minute",
        rss[-1] - first_minute,
        "MB",
        target=None if quick else 1.0,
        higher_is_better=False,
        rss_every_s=step,
        rss_mb=rss,
        note="--quick: shorter than the first minute, no target" if quick else "flat: under 1 MB",
    )


if __name__ == "__main__":  # python -m benchmarks.live gui_stalls [--quick]: one measure, fresh process
    import json

    if sys.argv[1:2] == ["gui_stalls"]:
        print(json.dumps(_gui_stalls_phases("--quick" in sys.argv)), flush=True)
