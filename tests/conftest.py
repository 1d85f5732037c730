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


TEST_PERSON = "Dr Test"
TEST_PASSPHRASE = "test clinic passphrase 1"


@pytest.fixture
def fast_argon2(monkeypatch):
    """argon2id at t=1, m=8 MiB for the tests' accounts: the same code path, a fraction of the time
    (``tests/test_keys.py`` checks the real parameters)."""
    from argon2 import PasswordHasher

    from desktop import accounts, keys

    fast = {"t": 1, "m": 8 * 1024, "p": 1}
    monkeypatch.setattr(keys, "ARGON2", fast)
    monkeypatch.setattr(accounts, "_hasher", PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1))
    return fast


@pytest.fixture
def clinic(tmp_path, fast_argon2):
    """A clinic set up as the first-start wizard does it (``accounts.create_clinic``), logged in as its
    administrator, who also treats clients."""
    from desktop import accounts

    setup = accounts.create_clinic(tmp_path / "abrasio.db", TEST_PERSON, TEST_PASSPHRASE)
    yield setup.clinic
    setup.clinic.close()


@pytest.fixture
def store(request, tmp_path):
    """The clinic file. A GUI test (one that uses ``window`` or ``clinic``) gets the logged-in clinic's
    encrypted store; a store test gets a plain file."""
    if {"window", "clinic"} & set(request.fixturenames):
        yield request.getfixturevalue("clinic").store
        return
    from desktop.store import Store

    s = Store.open(tmp_path / "abrasio.db")
    yield s
    s.close()


@pytest.fixture
def window(qtbot, clinic):
    from desktop.main_window import MainWindow

    w = MainWindow(clinic)
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


def log_in_as(window, name: str, roles=("practitioner",)) -> None:
    """``name`` is the person logged in to ``window`` from now on: added by the administrator if new
    (``Clinic.add_person``, as Administrator → People does), then checked and switched to as the lock
    screen does (``Clinic.switch_to``). Their records and audit entries carry their name."""
    clinic = window.clinic
    if not any(p.name == name for p in clinic.people()):
        if clinic.person.name != TEST_PERSON:
            clinic.switch_to(TEST_PERSON, TEST_PASSPHRASE)
        clinic.add_person(name, roles, TEST_PASSPHRASE)
    clinic.switch_to(name, TEST_PASSPHRASE)
    window._person_changed()
