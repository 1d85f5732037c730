"""A client's export, round trip: written by the real command and the real menu, read back as files."""

from __future__ import annotations

import csv
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt

from desktop.export import CSV_HEADER, ExportError, export_client, trace_csv
from desktop.export_ui import ExportClientDialog
from desktop.photos import metadata_segments
from tests.helpers.pdf import pdf_text
from tests.helpers.sessions import recorded_client

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = json.loads((ROOT / "docs" / "client-export.schema.json").read_text())
DEADLINE_MS = 30_000


def validate(value, schema: dict, path: str = "$") -> None:
    """The part of JSON Schema the export's schema uses; fails with the path of the first mismatch."""
    if "$ref" in schema:
        schema = SCHEMA["$defs"][schema["$ref"].rsplit("/", 1)[-1]]
    if "const" in schema:
        assert value == schema["const"], path
    if "enum" in schema:
        assert value in schema["enum"], f"{path}: {value!r}"
    types = schema.get("type")
    if types:
        kinds = {
            "string": str,
            "integer": int,
            "number": (int, float),
            "boolean": bool,
            "null": type(None),
            "object": dict,
            "array": list,
        }
        allowed = [types] if isinstance(types, str) else types
        ok = any(
            isinstance(value, kinds[t]) and not (t in ("integer", "number") and isinstance(value, bool))
            for t in allowed
        )
        assert ok, f"{path}: {value!r} is not {types}"
    if isinstance(value, dict):
        for key in schema.get("required", []):
            assert key in value, f"{path}.{key} missing"
        props = schema.get("properties", {})
        if schema.get("additionalProperties") is False:
            extra = set(value) - set(props)
            assert not extra, f"{path}: not in docs/client-export.schema.json: {sorted(extra)}"
        for key, sub in props.items():
            if key in value:
                validate(value[key], sub, f"{path}.{key}")
    if isinstance(value, list) and "items" in schema:
        for i, item in enumerate(value):
            validate(item, schema["items"], f"{path}[{i}]")


def check_export(out: Path, store, cid: int, sids: list[int]) -> dict:
    record = json.loads((out / "client.json").read_text(encoding="utf-8"))
    validate(record, SCHEMA)
    assert record["client"]["id"] == cid and record["client"]["last_name"] == store.client(cid).last_name
    assert [s["id"] for s in record["sessions"]] == sids
    for s in record["sessions"]:
        stored = store.load_trace(s["id"])
        with open(out / s["files"]["trace_csv"], newline="") as fh:
            rows = list(csv.reader(fh))
        assert ",".join(rows[0]) == CSV_HEADER
        body = rows[1:]
        assert len(body) == len(stored["t"]) == s["trace_samples"] == s["samples_recorded"]
        col = np.array([[float(r[0]), float(r[2]), float(r[3]), float(r[4]), float(r[5])] for r in body])
        np.testing.assert_allclose(col[:, 0], stored["t"], atol=1e-6)
        np.testing.assert_array_equal(col[:, 1], stored["seq"])
        np.testing.assert_allclose(col[:, 2], stored["vacuum"], atol=0.005)
        np.testing.assert_array_equal(col[:, 3], (stored["flags"] & 0x02) != 0)
        np.testing.assert_array_equal(col[:, 4], stored["flags"])
        side = json.loads((out / s["files"]["trace_json"]).read_text())
        assert side["samples"] == len(body) and side["units"] == {"time": "s", "vacuum": "kPa"}
        assert [m["label"] for m in side["markers"]] == ["left cheek, second pass"]
        assert side["alarms"][0]["priority"] == "high" and side["alarms"][0]["peak_kpa"] == 44.0
        text = " ".join(pdf_text(out / s["files"]["record_pdf"]).split())
        assert "Treatment session record" in text and "Vacuum above the ceiling" in text
        assert "amended: mild erythema" in text and "Amendments" in text
        assert s["notes"]["notes"] == "amended: mild erythema"
        assert any(h["action"] == "amend notes" for h in s["history"])
    assert len(record["photos"]) == 3
    for p in record["photos"]:
        data = (out / p["file"]).read_bytes()
        assert data == store.photo_image(p["id"]) and metadata_segments(data) == []
    assert {p["angle"] for p in record["photos"]} == {"front", "left45", "closeup"}
    [consent] = [c for c in record["consents"] if c["kind"] == "signed"]
    signed = store.consent(consent["id"])
    assert consent["text"] == signed.text and consent["witnessed_by"] == "Dr Ahn"
    assert (out / consent["files"]["signature_png"]).read_bytes() == signed.signature_png
    consent_file = (out / consent["files"]["text"]).read_text(encoding="utf-8")
    assert signed.text in consent_file and "Witnessed by: Dr Ahn" in consent_file
    return record


def check_private(out: Path) -> None:
    if os.name != "posix":
        return
    for path in [out, *out.rglob("*")]:
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode == (0o700 if path.is_dir() else 0o600), f"{path}: {oct(mode)}"


def test_export_command_round_trip_under_umask_022(store, tmp_path):
    cid, sids, n_first = recorded_client(store, hostile=True)
    assert n_first == 5500
    store.close()
    out = tmp_path / "export"
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            "import os, sys; os.umask(0o022); from desktop.app import main; sys.exit(main())",
            "--db",
            str(tmp_path / "abrasio.db"),
            "export-client",
            str(cid),
            str(out),
            "--who",
            "Dr Ahn",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
    )
    assert proc.returncode == 0, proc.stderr
    assert "2 sessions, 3 photos" in proc.stdout
    from desktop.store import Store

    reopened = Store.open(tmp_path / "abrasio.db")
    try:
        check_export(out, reopened, cid, sids)
        check_private(out)
        log = reopened.change_log("client", cid)
        assert log[-1].action == "export" and log[-1].who == "Dr Ahn"
    finally:
        reopened.close()
    assert not list(tmp_path.glob(".export.partial-*"))


def test_export_command_refuses_in_words(store, tmp_path):
    cid, _sids, _ = recorded_client(store)
    store.close()
    db = tmp_path / "abrasio.db"
    (tmp_path / "taken").mkdir()

    def run(*args):
        return subprocess.run(
            [sys.executable, "-m", "desktop", "--db", str(db), "export-client", *args],
            capture_output=True,
            text=True,
            timeout=120,
            cwd=ROOT,
            env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
        )

    missing = run("999", str(tmp_path / "x"))
    assert missing.returncode == 1 and "there is no client 999" in missing.stderr
    exists = run(str(cid), str(tmp_path / "taken"))
    assert exists.returncode == 1 and "already exists" in exists.stderr
    nowhere = run(str(cid), str(tmp_path / "no" / "such" / "x"))
    assert nowhere.returncode == 1 and "does not exist" in nowhere.stderr
    assert not (tmp_path / "x").exists()


def test_a_failing_export_leaves_nothing_behind(store, tmp_path, monkeypatch, qapp):
    cid, _sids, _ = recorded_client(store)
    import desktop.export as export

    def broken(*_a, **_k):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(export, "pdf_bytes", broken)
    with pytest.raises(ExportError, match="No space left on device"):
        export_client(store, cid, tmp_path / "out")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["abrasio.db", "abrasio.db-shm", "abrasio.db-wal"]


def test_export_from_the_menu(qtbot, window, store, tmp_path):
    cid, sids, _ = recorded_client(store)
    window.show_client(cid)
    dlg: ExportClientDialog = window.export_client()
    assert isinstance(dlg, ExportClientDialog)
    dlg.parent_dir.setText(str(tmp_path))
    dlg.folder_name.setText("for the client")
    with qtbot.waitSignal(dlg.exported, timeout=DEADLINE_MS):
        qtbot.mouseClick(dlg.export_button, Qt.MouseButton.LeftButton)
    assert "2 sessions, 3 photos" in dlg.status.text()
    check_export(tmp_path / "for the client", store, cid, sids)
    check_private(tmp_path / "for the client")
    dlg.close()


def test_trace_csv_visible_range():
    t = np.arange(0, 10, 0.5)
    tr = {"t": t, "seq": np.arange(len(t)), "vacuum": t * 2, "flags": np.full(len(t), 3, np.uint8)}
    data, n = trace_csv(tr, (2.0, 4.0))
    lines = data.decode().splitlines()
    assert n == 5 and len(lines) == 6
    assert lines[1] == "2.000000,,4,4.00,1,3" and lines[-1].startswith("4.000000,")


def test_a_damaged_stored_photo_is_exported_as_is_and_said(store, tmp_path, qapp):
    cid, _sids, _ = recorded_client(store)
    pid = store.photos_for_client(cid)[0].id
    store.conn.execute("UPDATE photos SET image = ? WHERE id = ?", [b"\xff\xd8\xff garbage", pid])
    store.conn.commit()
    result = export_client(store, cid, tmp_path / "out")
    assert len(result["problems"]) == 1 and f"Photo {pid}" in result["problems"][0]
    assert result["photos"] == 3
