"""The commands without a window (``export-client``, ``--restore``) on a protected (encrypted) clinic
file: they log in as a window would, act as that person, and refuse in words otherwise."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from desktop import accounts
from desktop.accounts import Role
from desktop.records import Client
from desktop.store import backups, security
from tests.conftest import TEST_PASSPHRASE, TEST_PERSON
from tests.helpers.sessions import recorded_client

ROOT = Path(__file__).resolve().parent.parent


def _export(db: Path, cid: int, out: Path, *extra: str, passphrase: str | None = TEST_PASSPHRASE):
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    env.pop("ABRASIO_PASSPHRASE", None)
    if passphrase is not None:
        env["ABRASIO_PASSPHRASE"] = passphrase
    return subprocess.run(
        [sys.executable, "-m", "desktop", "--db", str(db), "export-client", str(cid), str(out), *extra],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
    )


def test_export_client_logs_in_to_a_protected_file_and_records_who_exported(clinic, tmp_path):
    cid, sids, _ = recorded_client(clinic.store)
    clinic.add_person("Front Desk Fay", [Role.FRONT_DESK], "front desk passphrase 1")
    db = clinic.store.path
    clinic.close()

    nobody = _export(db, cid, tmp_path / "a")
    assert nobody.returncode == 2 and "--as NAME" in nobody.stderr and not (tmp_path / "a").exists()
    wrong = _export(db, cid, tmp_path / "b", "--as", TEST_PERSON, passphrase="not the passphrase at all")
    assert wrong.returncode == 2 and "not right" in wrong.stderr and not (tmp_path / "b").exists()
    no_terminal = _export(db, cid, tmp_path / "c", "--as", TEST_PERSON, passphrase=None)
    assert no_terminal.returncode == 2 and "no terminal" in no_terminal.stderr
    desk = _export(db, cid, tmp_path / "d", "--as", "Front Desk Fay", passphrase="front desk passphrase 1")
    assert desk.returncode == 2 and "may not export" in desk.stderr and not (tmp_path / "d").exists()

    ok = _export(db, cid, tmp_path / "out", "--as", TEST_PERSON)
    assert ok.returncode == 0, ok.stderr
    record = json.loads((tmp_path / "out" / "client.json").read_text(encoding="utf-8"))
    assert [s["id"] for s in record["sessions"]] == sids

    again = accounts.login(db, TEST_PERSON, TEST_PASSPHRASE)
    try:
        exports = [e for e in security.audit_entries(again.store.db, client_id=cid) if e.action == "export"]
        assert exports and {e.person for e in exports} == {TEST_PERSON}
    finally:
        again.close()


def test_restore_command_on_a_protected_file_needs_an_administrator(clinic, tmp_path, monkeypatch, capsys):
    from desktop.app import main as app_main

    store = clinic.store
    store.add_client(Client("Before", "Backup"))
    good = backups.take_backup(store.path, key=store.key)
    store.add_client(Client("After", "Backup"))
    clinic.add_person("Pat Practitioner", [Role.PRACTITIONER], "practitioner passphrase 1")
    db = store.path
    clinic.close()

    monkeypatch.setenv("ABRASIO_PASSPHRASE", "practitioner passphrase 1")
    assert app_main(["--db", str(db), "--restore", str(good), "--as", "Pat Practitioner"]) == 2
    assert "may not restore" in capsys.readouterr().err
    monkeypatch.setenv("ABRASIO_PASSPHRASE", TEST_PASSPHRASE)
    assert app_main(["--db", str(db), "--restore", str(good), "--as", TEST_PERSON]) == 0
    assert "(1 clients)" in capsys.readouterr().out

    again = accounts.login(db, TEST_PERSON, TEST_PASSPHRASE)
    try:
        assert [c.first_name for c in again.store.search_clients("Backup")] == ["Before"]
    finally:
        again.close()
