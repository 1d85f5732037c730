"""The PyInstaller bundle, tested like the source. Built by ``bash ./dev test`` before these run."""

from __future__ import annotations

import os
import re
import subprocess
import tarfile
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BUNDLE = ROOT / "dist" / "Abrasio"
VERSION = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]

pytestmark = pytest.mark.bundle


def run_self_test(exe: Path, cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    env["QT_QPA_PLATFORM"] = "offscreen"
    return subprocess.run(
        [str(exe), "--self-test"], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )


@pytest.fixture(scope="module")
def bundle():
    exe = BUNDLE / "Abrasio"
    if not exe.exists():
        pytest.fail("dist/Abrasio is missing: run `bash ./dev bundle` (bash ./dev test builds it)")
    return exe


def test_bundle_self_test_passes_from_elsewhere(bundle, tmp_path):
    result = run_self_test(bundle, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "self-test passed" in result.stdout
    assert "bundle" in result.stdout.splitlines()[0]


def test_bundle_loads_its_own_resources_not_the_source_trees(bundle, tmp_path):
    result = run_self_test(bundle, tmp_path)
    line = next(x for x in result.stdout.splitlines() if x.startswith("ok   resources"))
    where = Path(line.split(" from ")[1].rsplit(" (", 1)[0])
    assert where == BUNDLE / "_internal" / "resources"
    assert where != ROOT / "resources"
    for name in ("icons/abrasio.svg", "abrasio.qss", "alarm-high.wav"):
        assert (where / name).read_bytes() == (ROOT / "resources" / name).read_bytes()


def test_tarball_unpacks_into_a_folder_whose_binary_passes(tmp_path):
    (archive,) = (ROOT / "dist").glob(f"Abrasio-{VERSION}-linux-*.tar.gz")
    with tarfile.open(archive) as tar:
        tar.extractall(tmp_path, filter="tar")
    folder = tmp_path / f"Abrasio-{VERSION}"
    assert (folder / "abrasio.desktop").read_text().startswith("[Desktop Entry]")
    assert (folder / "abrasio.png").stat().st_size > 1000
    result = run_self_test(folder / "Abrasio" / "Abrasio", tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert str(folder / "Abrasio" / "_internal" / "resources") in result.stdout


def test_install_script_installs_per_user_and_keeps_the_database(tmp_path):
    (archive,) = (ROOT / "dist").glob(f"Abrasio-{VERSION}-linux-*.tar.gz")
    with tarfile.open(archive) as tar:
        tar.extractall(tmp_path / "unpacked", filter="tar")
    home = tmp_path / "home"
    data = home / ".local" / "share" / "Abrasio"
    data.mkdir(parents=True)
    (data / "abrasio.db").write_bytes(b"clinic data stays")
    env = {**os.environ, "HOME": str(home), "XDG_DATA_HOME": str(home / ".local" / "share")}
    script = tmp_path / "unpacked" / f"Abrasio-{VERSION}" / "install.sh"
    for _ in range(2):  # install, then upgrade over it
        subprocess.run(["sh", str(script)], env=env, check=True, capture_output=True, timeout=120)
    assert (home / ".local" / "opt" / "Abrasio" / "Abrasio").exists()
    entry = (home / ".local" / "share" / "applications" / "abrasio.desktop").read_text()
    assert f"Exec={home}/.local/opt/Abrasio/Abrasio" in entry
    assert (data / "abrasio.db").read_bytes() == b"clinic data stays"


def test_bundle_starts_on_a_real_x_display(bundle, tmp_path):
    """The xcb platform plugin loads (all its libraries are in the bundle or on the machine)."""
    import shutil
    import time

    xvfb = shutil.which("Xvfb")
    if xvfb is None:
        pytest.fail("Xvfb is missing: `bash ./dev test` installs it (package xvfb)")
    display = f":{90 + os.getpid() % 100}"
    server = subprocess.Popen(
        [xvfb, display, "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        socket = Path(f"/tmp/.X11-unix/X{display[1:]}")
        deadline = time.monotonic() + 10
        while not socket.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert socket.exists(), "Xvfb did not start"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV", "QT_"))}
        # the demo: it logs in by itself (a new clinic file would wait for its first-start wizard)
        env.update(DISPLAY=display, QT_QPA_PLATFORM="xcb", ABRASIO_STARTUP_PROBE="1")
        result = subprocess.run(
            [str(bundle), "--demo", "--db", str(tmp_path / "demo.db")],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        shown = re.search(r"shown clients (\d+)", result.stdout)
        assert result.returncode == 0 and shown and int(shown[1]) > 0, result.stdout + result.stderr
    finally:
        server.terminate()
        server.wait()
