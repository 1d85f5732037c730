"""The app as real processes: one Abrasio per file, the log file, hard crashes, uncaught errors."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from desktop import log as logfile
from desktop.main_window import MainWindow
from tests.conftest import until


def _env() -> dict:
    return os.environ | {"QT_QPA_PLATFORM": "offscreen"}


def _start(db: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "desktop", "--demo", "--db", str(db)],
        env=_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def _log(db: Path) -> str:
    path = db.parent / "abrasio.log"
    return path.read_text(encoding="utf-8") if path.exists() else ""


def _stop(proc: subprocess.Popen) -> None:
    proc.kill()
    proc.wait()
    proc.stderr.close()


@pytest.mark.skipif(os.name != "posix", reason="SIGKILL")
def test_one_abrasio_per_file_a_second_launch_brings_the_first_forward_and_a_stale_lock_is_taken_over(
    tmp_path,
):
    db = tmp_path / "clinic" / "abrasio.db"
    first = _start(db)
    try:
        until(lambda: "Window shown" in _log(db), timeout=30)
        second = subprocess.run(
            [sys.executable, "-m", "desktop", "--demo", "--db", str(db)],
            env=_env(),
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert second.returncode == 0, second.stderr
        assert "already open" in second.stderr and "brought forward" in second.stderr
        until(lambda: "Brought the window forward for another launch" in _log(db))
        assert _log(db).count("Window shown") == 1  # the second never opened a window
        assert first.poll() is None

        first.send_signal(signal.SIGKILL)  # a crash: its lock file stays behind
        first.wait()
        assert (db.parent / "abrasio.db.lock").exists()
        third = _start(db)
        try:
            until(lambda: _log(db).count("Window shown") == 2, timeout=30)
            assert f"Took over the lock of process {first.pid}" in _log(db)
        finally:
            _stop(third)
    finally:
        _stop(first)


def test_the_log_file_is_private_rotates_and_holds_a_hard_crash(tmp_path):
    crash = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, ctypes; from pathlib import Path; from desktop import log; "
            "log.setup(Path(sys.argv[1])); log.log.info('about to crash'); ctypes.string_at(0)",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert crash.returncode != 0
    text = (tmp_path / "abrasio.log").read_text(encoding="utf-8")
    assert "about to crash" in text and "Fatal Python error: Segmentation fault" in text
    assert stat.S_IMODE((tmp_path / "abrasio.log").stat().st_mode) == 0o600

    old = os.umask(0o022)
    try:
        logfile.setup(tmp_path)
        for _ in range(12_000):
            logfile.log.info(
                "a line of about a hundred characters, to fill the log past its rotation size %s", "x"
            )
    finally:
        logfile.shutdown()
        os.umask(old)
    rotated = tmp_path / "abrasio.log.1"
    assert rotated.exists() and stat.S_IMODE(rotated.stat().st_mode) == 0o600
    assert (tmp_path / "abrasio.log").stat().st_size < logfile.MAX_BYTES


def test_an_uncaught_exception_is_logged_and_shown_with_the_logs_path(qtbot, clinic, tmp_path):
    path = logfile.setup(tmp_path)
    window = MainWindow(clinic)
    qtbot.addWidget(window)
    undo = logfile.install_excepthook(lambda text: window.show_error(text, path))
    try:
        try:
            {}["missing"]
        except KeyError:
            sys.excepthook(*sys.exc_info())
    finally:
        undo()
        logfile.shutdown()
    box = window._error_box
    assert box.isVisible()
    assert "KeyError: 'missing'" in box.text() and str(path) in box.text()
    text = path.read_text(encoding="utf-8")
    assert "Uncaught exception" in text and "Traceback" in text and "KeyError" in text
    box.close()


def test_restore_from_the_command_line(tmp_path, capsys):
    from desktop.app import main as app_main
    from desktop.records import Client
    from desktop.store import Store, backups

    db = tmp_path / "abrasio.db"
    store = Store.open(db)
    store.add_client(Client("Before", "Backup"))
    good = backups.take_backup(db)
    store.add_client(Client("After", "Backup"))
    store.close()
    assert app_main(["--db", str(db), "--restore", str(good)]) == 0
    out = capsys.readouterr().out
    assert "restored" in out and "(1 clients)" in out and "before-restore" in out
    store = Store.open(db)
    assert [c.last_name for c in store.search_clients("Backup")] == ["Backup"]
    store.close()
    assert "Restored" in (tmp_path / "abrasio.log").read_text(encoding="utf-8")


def test_handpiece_link_states_reach_the_log(tmp_path, pty_sim, link_factory):
    path = logfile.setup(tmp_path / "data")
    try:
        link = link_factory(pty_sim.port)
        until(lambda: link.state.name == "CONNECTED")
        link.close()
    finally:
        logfile.shutdown()
    text = path.read_text(encoding="utf-8")
    assert f"Handpiece link {pty_sim.port}: connected" in text
    assert f"Handpiece link {pty_sim.port}: closed" in text
