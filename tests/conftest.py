"""Shared fixtures. Tests run offscreen and set that up themselves."""

from __future__ import annotations

import os

os.environ["QT_QPA_PLATFORM"] = "offscreen"
os.environ.setdefault("XDG_RUNTIME_DIR", "/tmp/abrasio-test-runtime")
os.makedirs(os.environ["XDG_RUNTIME_DIR"], mode=0o700, exist_ok=True)

import pytest  # noqa: E402

from device.link import HandpieceLink, wait_until  # noqa: E402
from device.simulator import PtySimulator, SimulatedHandpiece  # noqa: E402

DEADLINE = 10.0  # seconds any condition may take before a test fails


def until(predicate, timeout: float = DEADLINE) -> None:
    """Wait for a condition with a deadline; fail the test with a clear message if it never holds."""
    assert wait_until(predicate, timeout), f"condition not met within {timeout} s"


@pytest.fixture
def pty_sim(tmp_path):
    """A simulated handpiece on a real pseudo-terminal, 1,000 samples/s, gliding on skin."""
    sim = PtySimulator(SimulatedHandpiece(1000, seed=7), link=str(tmp_path / "handpiece")).start()
    yield sim
    sim.close()


@pytest.fixture
def link_factory():
    links: list[HandpieceLink] = []

    def make(url: str, **kw) -> HandpieceLink:
        link = HandpieceLink(url, **kw).start()
        links.append(link)
        return link

    yield make
    for link in links:
        link.close()


@pytest.fixture(scope="session", autouse=True)
def _app_style(qapp):
    """The real stylesheet and wheel guard, as the app has them (a broken rule is a Qt warning: a failure)."""
    from desktop.resources import resource_path

    qapp.setStyleSheet(resource_path("abrasio.qss").read_text(encoding="utf-8"))
    from desktop.wheel_guard import install_wheel_guard  # as desktop.app.main does

    install_wheel_guard(qapp)
    from desktop.screen_fit import install_screen_guard

    install_screen_guard(qapp)
    return qapp


@pytest.fixture
def store(tmp_path):
    from desktop.store import Store

    s = Store.open(tmp_path / "abrasio.db")
    yield s
    s.close()


@pytest.fixture
def window(qtbot, store):
    from desktop.main_window import MainWindow

    w = MainWindow(store)
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    yield w
    for win in list(w.session_windows):
        win.force_close()


@pytest.fixture
def read_only():
    """``read_only(path)`` makes a file or folder read-only for this process (root included)."""
    from tests.faults import ReadOnly

    ro = ReadOnly()
    yield ro
    ro.undo()
