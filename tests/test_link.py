"""End to end through pyserial on a real pseudo-terminal, the simulator on the other end."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from device import __main__ as cli
from device.link import LinkState, discover_ports
from device.simulator import PtySimulator, SimulatedHandpiece
from tests.conftest import until

pytestmark = pytest.mark.skipif(os.name != "posix", reason="pseudo-terminals are POSIX only")


def collect(link, into: list, count: int):
    def done():
        into.extend(link.take())
        return len(into) >= count

    return done


def test_thousand_samples_a_second_without_loss(pty_sim, link_factory):
    link = link_factory(pty_sim.port)
    got: list = []
    until(collect(link, got, 3000))
    seqs = [s.seq for s in got]
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))  # consecutive: nothing lost
    st = link.stats()
    assert st.frames_lost == 0 and st.seq_gaps == 0 and st.crc_failures == 0
    assert st.hello is not None and st.hello.rate_hz == 1000
    assert all(0 <= s.vacuum_kpa <= 90 for s in got)
    assert 20 < got[-1].vacuum_kpa < 40  # gliding around the 30 kPa set-point


def test_dropped_frames_show_as_a_gap_of_that_size(pty_sim, link_factory):
    link = link_factory(pty_sim.port)
    got: list = []
    until(collect(link, got, 200))
    pty_sim.device.drop_frames(37)
    until(lambda: link.stats().frames_lost > 0)
    until(collect(link, got, len(got) + 100))
    st = link.stats()
    assert st.frames_lost == 37 and st.seq_gaps == 1


def test_garbage_and_corrupted_frames_are_skipped(pty_sim, link_factory):
    link = link_factory(pty_sim.port)
    until(lambda: link.stats().samples > 100)
    pty_sim.device.inject_garbage(500)
    pty_sim.device.corrupt_frames(5)
    until(lambda: link.stats().crc_failures >= 5)
    before = link.stats().samples
    until(lambda: link.stats().samples > before + 100)
    st = link.stats()
    assert st.bytes_skipped >= 500 and st.resyncs >= 1 and st.state is LinkState.CONNECTED


def test_set_point_and_pump_commands_are_acknowledged(pty_sim, link_factory):
    link = link_factory(pty_sim.port)
    until(lambda: link.state is LinkState.CONNECTED)
    cid = link.set_point(42.5)
    until(lambda: any(a.command_id == cid for a in link.stats().acks))
    ack = next(a for a in link.stats().acks if a.command_id == cid)
    assert ack.ok and ack.value == 4250 and pty_sim.device.model.set_point == 42.5
    bad = link.set_point(150)
    until(lambda: any(a.command_id == bad for a in link.stats().acks))
    assert not next(a for a in link.stats().acks if a.command_id == bad).ok
    link.pump(False)
    until(lambda: not pty_sim.device.model.pump)


def test_unplug_then_same_port_returns(tmp_path, link_factory):
    path = str(tmp_path / "handpiece")
    sim = PtySimulator(SimulatedHandpiece(500, seed=1), link=path).start()
    link = link_factory(path)
    until(lambda: link.stats().samples > 50)
    sim.disconnect()  # the cable is pulled
    until(lambda: link.state is LinkState.DISCONNECTED)
    assert link.stats().reason
    sim2 = PtySimulator(SimulatedHandpiece(500, seed=2), link=path).start()  # plugged back in
    try:
        until(lambda: link.state is LinkState.CONNECTED and link.stats().reconnects == 1)
        n = link.stats().samples
        until(lambda: link.stats().samples > n + 50)
        assert link.stats().frames_lost == 0  # a restarted device is not "loss"
    finally:
        sim2.close()
        sim.close()


def _start_sim_process(path: str) -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, "-m", "device.simulator", "--rate", "500", "--link", path],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout.readline().strip() == path
    return proc


def test_restarted_simulator_process_is_reconnected_without_consumer_help(tmp_path, link_factory):
    path = str(tmp_path / "abrasio-sim")
    proc = _start_sim_process(path)
    link = link_factory(path)
    try:
        until(lambda: link.stats().samples > 50)
        proc.stdin.write("surge 60\n")
        proc.stdin.flush()
        assert proc.stdout.readline().startswith("ok surge")
        got: list = []
        until(lambda: got.extend(link.take()) or (got and got[-1].vacuum_kpa > 55))
        _stop(proc)
        until(lambda: link.state is LinkState.DISCONNECTED)
        proc = _start_sim_process(path)
        until(lambda: link.state is LinkState.CONNECTED and link.stats().reconnects == 1)
        n = link.stats().samples
        until(lambda: link.stats().samples > n + 50)
    finally:
        _stop(proc)


def _stop(proc: subprocess.Popen) -> None:
    proc.kill()
    proc.wait()
    proc.stdin.close()
    proc.stdout.close()


def test_text_sensor_over_pty(tmp_path, link_factory):
    sim = PtySimulator(SimulatedHandpiece(200, fmt="text", text_unit="mmHg", seed=3)).start()
    try:
        link = link_factory(sim.path, fmt="text", unit="mmHg")
        got: list = []
        until(collect(link, got, 200))
        assert 20 < got[-1].vacuum_kpa < 40
        assert link.stats().lines_skipped <= 1  # at most the line cut by opening mid-stream
    finally:
        sim.close()


def test_consumer_falling_behind_is_counted_and_bounded(pty_sim, link_factory):
    link = link_factory(pty_sim.port, max_pending=100)
    until(lambda: link.stats().overflow_dropped > 0)
    assert len(link.take()) <= 100


def test_close_stops_the_thread_promptly(pty_sim, link_factory):
    link = link_factory(pty_sim.port)
    until(lambda: link.stats().samples > 10)
    link.close(timeout=0.5)
    assert not link._thread.is_alive()
    assert link.state is LinkState.CLOSED


def test_port_that_never_existed_keeps_retrying(tmp_path, link_factory):
    link = link_factory(str(tmp_path / "nothing-here"))
    until(lambda: "could not open port" in link.stats().reason)
    assert link.state is LinkState.CONNECTING


def test_in_process_sim_port(link_factory):
    link = link_factory("sim://?rate=400&seed=1")
    until(lambda: link.stats().samples > 100)
    assert link.stats().frames_lost == 0


def test_cli_monitor_and_ports(pty_sim, capsys):
    assert cli.main(["monitor", pty_sim.port, "--seconds", "1.5", "--summary", "--unit", "inHg"]) == 0
    out = capsys.readouterr().out
    assert "inHg" in out and "state=closed" in out and "device: Abrasio SIM-1" in out
    assert cli.main(["ports"]) == 0


def test_discover_ports_sorted_with_usb_ids(monkeypatch):
    from serial.tools import list_ports_common

    def info(device, desc, vid=None, pid=None):
        i = list_ports_common.ListPortInfo(device, skip_link_detection=True)
        i.description, i.vid, i.pid = desc, vid, pid
        return i

    fake = [info("/dev/ttyUSB1", "FT232R", 0x0403, 0x6001), info("/dev/ttyS0", "")]
    monkeypatch.setattr("device.link.list_ports.comports", lambda: fake)
    ports = discover_ports()
    assert [p.device for p in ports] == ["/dev/ttyS0", "/dev/ttyUSB1"]
    assert str(ports[1]) == "/dev/ttyUSB1 — FT232R [0403:6001]" and str(ports[0]) == "/dev/ttyS0 — "


@pytest.mark.skipif(os.name != "posix", reason="pty")
def test_simulator_cli_rejects_bad_rate():
    proc = subprocess.run(
        [sys.executable, "-m", "device.simulator", "--rate", "5"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert proc.returncode == 2 and "10 to 2000" in proc.stderr
