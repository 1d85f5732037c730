"""Recovery touches a session only when its owner (host, process, start time) is gone and its heartbeat
is older than 10 s (issue #10): each of the three parts of the owner, and the heartbeat's boundary."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys

from desktop.store import owner
from desktop.store.owner import Owner, heartbeat_age, is_gone, orphaned

NOW = dt.datetime(2026, 12, 7, 15, 0, 0, tzinfo=dt.UTC)


def _beat(seconds_ago: float) -> str:
    return (NOW - dt.timedelta(seconds=seconds_ago)).isoformat()


def _dead_pid() -> int:
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def test_the_owner_is_gone_only_when_its_process_or_start_time_is():
    me = owner.current()
    assert is_gone(me) is False
    assert is_gone(Owner(me.host, me.pid, me.started + 30)) is True  # the id now belongs to another
    assert is_gone(Owner(me.host, me.pid, me.started + 0.5)) is False  # clock rounding, same process
    assert is_gone(Owner(me.host, _dead_pid(), me.started)) is True
    assert is_gone(Owner(me.host + "-elsewhere", me.pid, me.started)) is None  # cannot be known here
    assert is_gone(None) is None


def test_a_live_owners_session_is_never_orphaned_however_old_its_heartbeat():
    me = owner.current()
    assert not orphaned(me, _beat(3600), NOW)
    assert not orphaned(me, None, NOW)


def test_a_gone_owners_session_waits_for_a_heartbeat_older_than_ten_seconds():
    gone = Owner(owner.current().host, _dead_pid(), 0.0)
    assert owner.STALE_AFTER_S == 10.0
    assert not orphaned(gone, _beat(9.5), NOW)
    assert not orphaned(gone, _beat(10.0), NOW)
    assert orphaned(gone, _beat(10.5), NOW)
    assert orphaned(gone, None, NOW)  # never beat at all
    other_host = Owner("another-pc", 1, 0.0)
    assert not orphaned(other_host, _beat(5), NOW) and orphaned(other_host, _beat(11), NOW)


def test_heartbeat_age_reads_what_the_recorder_writes():
    assert heartbeat_age(_beat(4), NOW) == 4.0
    assert heartbeat_age("not a time", NOW) == float("inf")
    naive = (NOW - dt.timedelta(seconds=2)).astimezone().replace(tzinfo=None).isoformat()
    assert abs(heartbeat_age(naive, NOW) - 2.0) < 1e-6
