"""The demo database: every session has a trace, and the figures the review shows agree with it."""

from __future__ import annotations

import numpy as np
import pytest

from desktop.demo import DEMO_RATE, create_demo


@pytest.fixture
def demo(store):
    create_demo(store, n_clients=15, seed=4)
    return store


def test_every_demo_session_has_a_whole_trace_and_agreeing_figures(demo):
    sessions = [s for cid in demo.client_ids() for s in demo.sessions_for_client(cid)]
    assert len(sessions) > 20
    for s in sessions:
        tr = demo.load_trace(s.id)
        n = len(tr["t"])
        assert n > 0, f"session {s.id} has no trace"
        summary = s.summary
        assert summary["samples"] == n == s.samples_recorded
        assert summary["duration_s"] == pytest.approx(n / DEMO_RATE, abs=0.5)
        # the recorded duration is the session's own: 15 to 30 minutes, from 0 s of session time
        assert tr["t"][0] == 0 and 15 * 60 <= tr["t"][-1] + 1 / DEMO_RATE <= 30 * 60 + 1
        assert summary["peak_kpa"] == pytest.approx(float(tr["vacuum"].max()), abs=0.01)
        contact = (tr["flags"] & 2).astype(bool)
        assert summary["mean_kpa"] == pytest.approx(float(tr["vacuum"][contact].mean()), abs=0.01)
        assert summary["contact_s"] == pytest.approx(contact.sum() / DEMO_RATE, abs=0.1)
        # on skin the vacuum sits near the set-point; lifted between areas it falls toward 0
        assert abs(np.median(tr["vacuum"][contact]) - s.set_point_kpa) < 0.1 * s.set_point_kpa
        assert 0 < (~contact).sum() < n
        assert np.median(tr["vacuum"][~contact]) < 0.25 * s.set_point_kpa  # lifted: the seal breaks


def test_the_demo_is_one_transaction(store, monkeypatch):
    """All or nothing: a failure half-way leaves no half demo behind."""
    import desktop.demo as demo_module

    calls = {"n": 0}
    real = demo_module.store_demo_trace

    def failing(*args, **kw):
        calls["n"] += 1
        if calls["n"] == 5:
            raise RuntimeError("disk pulled")
        return real(*args, **kw)

    monkeypatch.setattr(demo_module, "store_demo_trace", failing)
    with pytest.raises(RuntimeError):
        create_demo(store, n_clients=10, seed=4)
    assert store.count_clients() == 0
    assert store.conn.execute("SELECT count(*) FROM treatment_sessions").fetchone()[0] == 0
