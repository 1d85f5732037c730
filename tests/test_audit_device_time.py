"""Issue #13: each trace's CSV has the device time as well as the session time. The session keeps the
offset it anchored each connection's samples with; the export gives each sample's device clock back
exactly, across a replug of a restarted handpiece (its clock from zero)."""

from __future__ import annotations

import csv
import io
import json

import numpy as np
import pytest

from desktop.export import CSV_HEADER, export_client, trace_csv
from desktop.records import Client
from desktop.session.recorder import TraceRecorder
from desktop.session.run import SessionRun
from tests.conftest import until
from tests.fakes import FakeClock, FakeLink, idle, play


@pytest.fixture
def recorded(store):
    cid = store.add_client(Client("Dev", "Clock", vacuum_ceiling_kpa=30.0))
    sid = store.create_session(cid, "t", ceiling_kpa=30.0, set_point_kpa=24.0)
    clock = FakeClock()
    link = FakeLink(clock)
    rec = TraceRecorder(store.path, sid)
    run = SessionRun(link, rec, clock=clock, wall=lambda: 1_790_000_000.0 + clock(), ceiling_kpa=30.0)
    try:
        link.connect()
        play(run, link, clock, 1.0)  # the device's clock starts at 5.0 s
        link.unplug()
        run.step()
        idle(run, clock, 0.5)
        link.restart()  # back from 0 s, sequence from 0
        link.connect()
        play(run, link, clock, 1.0)
        done = []
        run.end(
            None,
            lambda s, summary, status: s.finish_session(sid, summary, "t", status=status),
            lambda summary, ok, err: done.append(summary),
        )
        until(lambda: done)
    finally:
        rec.close()
    return cid, sid, done[0]


def _rows(data: bytes) -> list[list[str]]:
    rows = list(csv.reader(io.StringIO(data.decode("ascii"))))
    assert ",".join(rows[0]) == CSV_HEADER
    return rows[1:]


def _expected_device_time() -> np.ndarray:
    first = 5.0 + np.arange(1000) / 1000
    second = np.arange(1000) / 1000
    return np.r_[first, second]


def test_the_csv_gives_each_samples_device_time_across_a_restart(store, recorded):
    _cid, sid, summary = recorded
    assert len(summary["clock_offsets"]) == 2  # one anchor a connection
    tr = store.load_trace(sid)
    rows = _rows(trace_csv(tr, clock_offsets=summary["clock_offsets"])[0])
    assert len(rows) == 2000
    device = np.array([float(r[1]) for r in rows])
    np.testing.assert_allclose(device, _expected_device_time(), atol=2e-6)
    session = np.array([float(r[0]) for r in rows])
    assert (np.diff(session) > 0).all()  # the session's clock only goes forward, the device's restarted
    # a visible range keeps the same device times
    part = _rows(trace_csv(tr, (0.5, 0.7), summary["clock_offsets"])[0])
    whole = {r[0]: r[1] for r in rows}
    assert len(part) > 150 and all(r[1] == whole[r[0]] for r in part)
    # without the offsets (an older or a recovered session) the column is empty, never guessed
    assert {r[1] for r in _rows(trace_csv(tr)[0])} == {""}


def test_the_client_export_writes_the_device_time(store, recorded, tmp_path):
    cid, _sid, _summary = recorded
    export_client(store, cid, tmp_path / "out")
    record = json.loads((tmp_path / "out" / "client.json").read_text(encoding="utf-8"))
    (s,) = record["sessions"]
    rows = _rows((tmp_path / "out" / s["files"]["trace_csv"]).read_bytes())
    np.testing.assert_allclose([float(r[1]) for r in rows], _expected_device_time(), atol=2e-6)
    side = json.loads((tmp_path / "out" / s["files"]["trace_json"]).read_text())
    assert "handpiece's own clock" in side["columns"]["device_time_s"]
