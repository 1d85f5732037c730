"""The bundle writes a client's export: PDFs (QtPrintSupport, fonts), traces, photos read back through
Qt's JPEG plugin (build.spec keeps it)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from desktop.store import Store
from tests.helpers.pdf import pdf_text
from tests.helpers.sessions import recorded_client

BUNDLE = Path(__file__).resolve().parents[1] / "dist" / "Abrasio" / "Abrasio"
pytestmark = pytest.mark.bundle


def test_bundle_exports_a_client(tmp_path):
    if not BUNDLE.exists():
        pytest.fail("dist/Abrasio is missing: run `bash ./dev bundle` (bash ./dev test builds it)")
    store = Store.open(tmp_path / "abrasio.db")
    cid, sids, _ = recorded_client(store)
    store.close()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    env["QT_QPA_PLATFORM"] = "offscreen"
    out = tmp_path / "out"
    proc = subprocess.run(
        [str(BUNDLE), "--db", str(tmp_path / "abrasio.db"), "export-client", str(cid), str(out)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "warning" not in proc.stderr  # every photo decoded: the JPEG plugin is in the bundle
    record = json.loads((out / "client.json").read_text())
    assert [s["id"] for s in record["sessions"]] == sids and len(record["photos"]) == 3
    text = pdf_text(out / record["sessions"][0]["files"]["record_pdf"])
    assert "Treatment session record" in text and "Vacuum above the ceiling" in text
