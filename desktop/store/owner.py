"""Who is recording a session: this computer, this process, and when the process started.

A ``recording`` session is left alone unless its owner is gone *and* its heartbeat (written every
0.5 s by the recorder) is older than ``STALE_AFTER_S``: a second Abrasio (or a second window) on the
same file never marks a session another live process is recording as interrupted. The owner's start
time tells a process that ended from a new one that was given the same process id.

psutil (a well-kept library) gives a process's start time on Windows, macOS and Linux alike; the
alternative was three hand-written platform paths (/proc, GetProcessTimes, sysctl).
"""

from __future__ import annotations

import datetime as dt
import os
import socket
from dataclasses import dataclass

import psutil

STALE_AFTER_S = 10.0


@dataclass(frozen=True)
class Owner:
    host: str
    pid: int
    started: float  # the process's start time (seconds since the epoch, as psutil gives it)


def current() -> Owner:
    return Owner(socket.gethostname(), os.getpid(), psutil.Process().create_time())


def is_gone(owner: Owner | None) -> bool | None:
    """True: the owning process has ended. False: it is running. None: cannot be known (another
    computer, or a session recorded before owners were)."""
    if owner is None or not owner.host or owner.host != socket.gethostname():
        return None
    try:
        started = psutil.Process(owner.pid).create_time()
    except psutil.NoSuchProcess:
        return True
    except psutil.Error:  # not allowed to look: assume it is alive
        return False
    return abs(started - owner.started) > 1.0  # the id now belongs to another process


def heartbeat_age(heartbeat_at: str | None, now: dt.datetime | None = None) -> float:
    """Seconds since the heartbeat (infinite when there is none or it cannot be read)."""
    if not heartbeat_at:
        return float("inf")
    try:
        beat = dt.datetime.fromisoformat(heartbeat_at)
    except ValueError:
        return float("inf")
    now = now or dt.datetime.now().astimezone()
    if beat.tzinfo is None:
        beat = beat.astimezone()
    return (now - beat).total_seconds()


def orphaned(owner: Owner | None, heartbeat_at: str | None, now: dt.datetime | None = None) -> bool:
    """May a ``recording`` session be marked interrupted? Only when its owner is gone (or cannot be
    known) and its heartbeat is older than ``STALE_AFTER_S``."""
    return is_gone(owner) is not False and heartbeat_age(heartbeat_at, now) > STALE_AFTER_S
