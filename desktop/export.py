"""A client's whole record as a folder (access requests, moving clinics), and a session's trace as CSV.

    OUT/
      client.json                         the record (schema: docs/client-export.md)
      sessions/<date>_session-<id>/
        record.pdf                        the printable session record
        trace.csv                         session time s, device time s, sequence, vacuum kPa, contact, flags
        trace.json                        units, columns, markers, alarms
      photos/<date>_session-<id>_<angle>_<stage>_<photo id>.jpg
      consents/<date>_consent-<id>.txt    each consent: the form, who signed and witnessed, the exact text
      consents/<date>_consent-<id>-signature.png   the signature as drawn

The folder is written beside OUT under a temporary name and renamed when complete, so a failed or
cancelled export leaves nothing that looks finished. POSIX: folders 0700, files 0600, whatever the umask
(it is health data). ``export_client`` runs without widgets, on a worker thread or from the command line
(``abrasio --db FILE export-client ID OUT``); it needs a QGuiApplication for the PDFs.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import os
import re
import shutil
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np

from desktop import __version__
from desktop.consent import consent_status
from desktop.photos import stored_problem
from desktop.printing import SessionRecord, pdf_bytes, session_document
from desktop.records import fmt_date
from device.protocol import FLAG_CONTACT

FORMAT = "abrasio-client-export"
FORMAT_VERSION = 1
CSV_HEADER = "session_time_s,device_time_s,sequence,vacuum_kpa,contact,flags"
CSV_CHUNK = 200_000
DEVICE_TIME_NOTE = (
    "the handpiece's own clock, s: the session time minus the offset the session anchored that "
    "connection's samples with (empty for a session recorded before Abrasio kept the offsets, or one "
    "that was interrupted and recovered)"
)


def device_times(t: np.ndarray, clock_offsets: list | None) -> np.ndarray | None:
    """Each sample's device time from its session time and the session's clock offsets
    ([[session time from which it holds, offset], …], in the summary), or None without them."""
    if not clock_offsets:
        return None
    starts = np.array([float(a) for a, _ in clock_offsets])
    offsets = np.array([float(o) for _, o in clock_offsets])
    which = np.clip(np.searchsorted(starts, t, side="right") - 1, 0, len(starts) - 1)
    return np.asarray(t, dtype=np.float64) - offsets[which]


class ExportError(Exception):
    """The export could not be written; the message says why. Nothing half-written is left behind."""


class ExportCancelled(ExportError):
    pass


def plain(row) -> dict:
    """A store row (dataclass or dict) as a plain dict."""
    return dataclasses.asdict(row) if dataclasses.is_dataclass(row) else dict(row)


def safe_name(text: str, limit: int = 40) -> str:
    """A file-name part from a person's name: letters, digits and dashes only."""
    cleaned = re.sub(r"[^\w-]+", "-", text, flags=re.UNICODE).strip("-_")
    return cleaned[:limit] or "client"


# -- files, privately ----------------------------------------------------------------------------


def private_dir(path: Path) -> Path:
    path.mkdir(mode=0o700, parents=False, exist_ok=False)
    if os.name == "posix":
        os.chmod(path, 0o700)
    return path


def private_file(path: Path, data: bytes | str) -> Path:
    """Write a new file readable by its owner only (0600), fully, before returning."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    fd = os.open(path, flags, 0o600)
    try:
        if os.name == "posix":
            os.fchmod(fd, 0o600)
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
    finally:
        os.close(fd)
    return path


# -- traces ----------------------------------------------------------------------------------------


def _select(trace: dict, t_range: tuple[float, float] | None) -> dict:
    if t_range is None or not len(trace["t"]):
        return trace
    lo, hi = t_range
    i0 = int(np.searchsorted(trace["t"], lo, side="left"))
    i1 = int(np.searchsorted(trace["t"], hi, side="right"))
    return {k: v[i0:i1] for k, v in trace.items()}


def trace_csv(
    trace: dict, t_range: tuple[float, float] | None = None, clock_offsets: list | None = None
) -> tuple[bytes, int]:
    """The trace (or the samples inside ``t_range``, session seconds) as CSV bytes, and its row count.
    ``clock_offsets`` (the session summary's) gives the device time column; without it, it is empty."""
    tr = _select(trace, t_range)
    n = len(tr["t"])
    dev = device_times(tr["t"], clock_offsets)
    parts = [CSV_HEADER + "\n"]
    for start in range(0, n, CSV_CHUNK):
        sl = slice(start, start + CSV_CHUNK)
        flags = tr["flags"][sl].astype(np.int64)
        contact = (flags & FLAG_CONTACT) != 0
        dev_text = [""] * len(flags) if dev is None else [f"{d:.6f}" for d in dev[sl].tolist()]
        rows = zip(
            tr["t"][sl].tolist(),
            dev_text,
            tr["seq"][sl].tolist(),
            tr["vacuum"][sl].tolist(),
            contact.astype(np.int8).tolist(),
            flags.tolist(),
            strict=True,
        )
        parts.append("".join(f"{t:.6f},{d},{s},{v:.2f},{c},{f}\n" for t, d, s, v, c, f in rows))
    return "".join(parts).encode("ascii"), n


def trace_sidecar(
    session_id: int,
    trace: dict,
    markers: list[dict],
    alarms: list[dict],
    t_range: tuple[float, float] | None = None,
) -> dict:
    tr = _select(trace, t_range)
    return {
        "session_id": session_id,
        "samples": len(tr["t"]),
        "range_s": list(t_range) if t_range else None,
        "columns": {
            "session_time_s": "seconds since the session started (the clock markers and alarms use)",
            "device_time_s": DEVICE_TIME_NOTE,
            "sequence": "the handpiece's sample sequence number (a jump means samples were lost)",
            "vacuum_kpa": "vacuum below ambient, kPa, 0.01 kPa resolution",
            "contact": "1 while the tip was sealed on the skin",
            "flags": "bit 0 pump on, bit 1 tip in contact, bit 2 crystal mode",
        },
        "units": {"time": "s", "vacuum": "kPa"},
        "markers": markers,
        "alarms": alarms,
    }


# -- reading a session's record once -------------------------------------------------------------


def consent_lines(store, client, session_id: int | None = None) -> list[str]:
    """What consent was on file: for a session, as it stood on the day it was given (the consent that
    decided, whether it was still valid, and nothing signed later); otherwise every consent record
    (signed, or recorded before signed consent existed), newest first."""
    consents = store.consents(client.id)
    if session_id is None:
        return [_consent_line(c) for c in consents] or ["No consent on file."]
    day = dt.datetime.fromisoformat(store.session(session_id).started_at).date()
    status = consent_status(consents, day, store.consent_validity_months())
    c = status.latest
    if c is None:
        lines = ["No consent was on file on the day of the session."]
    elif status.ok:
        lines = [f"Valid on the day of the session (until {fmt_date(status.until)}): {_consent_line(c)}"]
    else:
        lines = [
            f"Expired on the day of the session (it ran out on "
            f"{fmt_date(status.until + dt.timedelta(days=1))}): {_consent_line(c)}"
        ]
    if store.session_start_record(session_id)["consent_acknowledged"]:
        lines.append(
            "At the start the practitioner acknowledged having the client's consent for this treatment."
        )
    return lines


def _consent_line(c) -> str:
    if c.legacy:
        return (
            f"Consent recorded {fmt_date(c.signed_on)} before signed consent existed, "
            f"witnessed by {c.witnessed_by}"
        )
    return (
        f"Consent signed {fmt_date(c.signed_on)} ({c.title}, version {c.template_version}), "
        f"witnessed by {c.witnessed_by}"
    )


def load_session_record(store, session_id: int, trace: dict | None = None) -> SessionRecord:
    s = store.session(session_id)
    client = store.client(s.client_id)
    start = store.session_start_record(session_id)
    if trace is None:
        trace = store.load_trace(session_id)
    amendments = [plain(e) for e in store.change_log("session", session_id)]
    amendments = [a for a in amendments if a.get("action") == "amend notes"]
    return SessionRecord(
        client=client,
        session_id=s.id,
        started_at=s.started_at,
        ended_at=s.ended_at,
        status=s.status,
        practitioner=s.practitioner,
        handpiece=s.handpiece,
        devices=[str(d) for d in store.session_devices(session_id)],
        mode=s.mode,
        grit=s.grit,
        crystal_flow=s.crystal_flow,
        set_point_kpa=s.set_point_kpa,
        ceiling_kpa=s.ceiling_kpa,
        planned_minutes=s.planned_minutes,
        planned_passes=s.planned_passes,
        override_reason=s.override_reason,
        summary=s.summary or {},
        samples_recorded=s.samples_recorded,
        samples_lost=s.samples_lost,
        unit=store.setting("display_unit", "kPa"),
        clinic_name=store.setting("clinic_name", ""),
        clinic_contact=store.setting("clinic_contact", ""),
        screening=start["screening"],
        consent=consent_lines(store, client, session_id),
        notes=store.notes(session_id),
        t=trace["t"],
        vacuum_kpa=trace["vacuum"],
        markers=[plain(m) for m in store.markers(session_id)],
        alarms=[plain(a) for a in store.alarms(session_id)],
        amendments=amendments,
        aftercare_templates=store.setting("aftercare_templates", []),
    )


# -- the client's folder -------------------------------------------------------------------------


def _client_json(client) -> dict:
    d = plain(client)
    for key in ("date_of_birth", "last_visit"):
        d[key] = d[key].isoformat() if d.get(key) else None
    return d


def export_client(
    store,
    client_id: int,
    out: Path,
    who: str = "",
    progress: Callable[[int, int, str], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> dict:
    """Write the client's folder at ``out`` (which must not exist yet). Returns what was written."""
    out = Path(out)
    if out.exists():
        raise ExportError(f"{out} already exists: choose a new folder name.")
    if not out.parent.is_dir():
        raise ExportError(f"The folder {out.parent} does not exist.")
    client = store.client(client_id)
    sessions = sorted(store.sessions_for_client(client_id), key=lambda s: (s.started_at, s.id))
    photos = store.photos_for_client(client_id)
    consents = store.consents(client_id)
    total = len(sessions) + len(photos) + len(consents) + 1
    done = 0

    def step(text: str) -> None:
        nonlocal done
        if cancelled and cancelled():
            raise ExportCancelled("The export was cancelled; nothing was kept.")
        if progress:
            progress(done, total, text)
        done += 1

    work = out.with_name(f".{out.name}.partial-{os.getpid()}")
    if work.exists():
        shutil.rmtree(work)
    try:
        private_dir(work)
        private_dir(work / "sessions")
        private_dir(work / "photos")
        private_dir(work / "consents")
        record = {
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "exported_at": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
            "exported_by": who,
            "abrasio_version": __version__,
            "client": _client_json(client),
            "screening": [
                {
                    **plain(a),
                    "since": a.since.isoformat() if a.since else None,
                    "ended": a.ended.isoformat() if a.ended else None,
                }
                for a in store.screening(client_id)
            ],
            "history": [plain(e) for e in store.change_log("client", client_id)],
            "sessions": [],
            "photos": [],
            "consents": [],
        }
        problems: list[str] = []
        photos_by_session: dict[int, list[int]] = {}
        for p in photos:
            photos_by_session.setdefault(p.session_id, []).append(p.id)
        for s in sessions:
            step(f"Session of {s.started_at[:10]}")
            folder = f"sessions/{s.started_at[:10]}_session-{s.id}"
            private_dir(work / folder)
            trace = store.load_trace(s.id)
            rec = load_session_record(store, s.id, trace)
            private_file(
                work / folder / "record.pdf", pdf_bytes(session_document(rec), "Treatment session record")
            )
            csv, rows = trace_csv(trace, clock_offsets=(rec.summary or {}).get("clock_offsets"))
            private_file(work / folder / "trace.csv", csv)
            sidecar = trace_sidecar(s.id, trace, rec.markers, rec.alarms)
            private_file(work / folder / "trace.json", json.dumps(sidecar, indent=2, default=str))
            row = plain(s)
            row.pop("heartbeat_at", None)
            for key in ("treated_areas", "passes"):  # the notes' own fields, exported under "notes"
                row.pop(key, None)
            record["sessions"].append(
                {
                    **row,
                    "screening_at_start": rec.screening,
                    "consent_acknowledged": store.session_start_record(s.id)["consent_acknowledged"],
                    "notes": rec.notes,
                    "markers": rec.markers,
                    "alarms": rec.alarms,
                    "history": [plain(e) for e in store.change_log("session", s.id)],
                    "trace_samples": rows,
                    "files": {
                        "record_pdf": f"{folder}/record.pdf",
                        "trace_csv": f"{folder}/trace.csv",
                        "trace_json": f"{folder}/trace.json",
                    },
                    "photo_ids": photos_by_session.get(s.id, []),
                }
            )
        for p in photos:
            step(f"Photo {p.id}")
            name = f"photos/{p.session_started_at[:10]}_session-{p.session_id}_{p.angle}_{p.stage}_{p.id}.jpg"
            data = store.photo_image(p.id)
            problem = stored_problem(data)
            if problem:  # exported as stored, and said
                what = f"Photo {p.id} ({p.angle}, session {p.session_id})"
                problems.append(f"{what} is damaged in the database ({problem}).")
            private_file(work / name, data)
            record["photos"].append({**plain(p), "file": name})
        for listed in store.consents(client_id):
            step(f"Consent {listed.id}")
            record["consents"].append(_export_consent(store.consent(listed.id), work))
        step("client.json")
        private_file(work / "client.json", json.dumps(record, indent=2, ensure_ascii=False, default=str))
        os.rename(work, out)
    except ExportError:
        shutil.rmtree(work, ignore_errors=True)
        raise
    except OSError as exc:
        shutil.rmtree(work, ignore_errors=True)
        raise ExportError(f"The export could not be written to {out.parent}: {exc.strerror or exc}.") from exc
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    store.log_disclosure(
        "client",
        client_id,
        "export",
        {"folder": str(out), "sessions": len(sessions), "photos": len(photos)},
        who,
    )
    if progress:
        progress(total, total, "Done")
    return {"folder": out, "sessions": len(sessions), "photos": len(photos), "problems": problems}


def consent_text(c) -> str:
    """A consent as plain text: what form, who signed and witnessed when, then exactly what was read."""
    if c.legacy:
        return (
            f"Consent recorded on {c.signed_on.isoformat()} before Abrasio kept signed consents.\n"
            f"Witnessed by: {c.witnessed_by}\nNo text or signature was kept.\n"
        )
    version = c.template_version if c.template_version is not None else "-"
    return (
        f"{c.title}\nForm: {c.template_code or '-'}, version {version}\n"
        f"Signed by: {c.signer_name}\nSigned at: {c.signed_at or c.signed_on.isoformat()}\n"
        f"Witnessed by: {c.witnessed_by}\n\nThe text the client read and signed:\n\n{c.text}\n"
    )


def _export_consent(c, work: Path) -> dict:
    """Write one consent (its exact text, its signature as drawn); its entry for client.json."""
    stem = f"consents/{c.signed_on.isoformat()}_consent-{c.id}"
    files = {"text": f"{stem}.txt"}
    private_file(work / files["text"], consent_text(c))
    if c.signature_png:
        files["signature_png"] = f"{stem}-signature.png"
        private_file(work / files["signature_png"], c.signature_png)
    entry = plain(c)
    entry.pop("signature_png", None)
    entry["signed_on"] = c.signed_on.isoformat()
    entry["pad_size"] = list(c.pad_size) if c.pad_size else None
    entry["files"] = files
    return entry


def default_folder_name(client) -> str:
    name = f"{safe_name(client.last_name)} {safe_name(client.first_name)}"
    return f"Abrasio export {name} {dt.date.today():%Y-%m-%d}"


# -- command line ----------------------------------------------------------------------------------


def cli(argv: list[str]) -> int:
    """``abrasio [--db FILE | --demo] export-client ID OUT``: write a client's export folder."""
    ap = argparse.ArgumentParser(prog="abrasio", description="Export a client's whole record to a folder.")
    ap.add_argument("--db", type=Path, help="database file (default: the clinic database)")
    ap.add_argument("--demo", action="store_true", help="the demo database")
    ap.add_argument("--handpiece", help=argparse.SUPPRESS)
    ap.add_argument("command", choices=["export-client"])
    ap.add_argument("client_id", type=int, help="the client's number (shown on the client page)")
    ap.add_argument("out", type=Path, help="the folder to create (must not exist)")
    ap.add_argument("--who", default=os.environ.get("USER", ""), help="who exports (recorded)")
    ap.add_argument(
        "--as",
        dest="person",
        metavar="NAME",
        help="a protected clinic file: who logs in (the passphrase: ABRASIO_PASSPHRASE, else asked)",
    )
    args = ap.parse_args(argv)

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtGui import QGuiApplication

    from desktop.app import command_login, default_db_path, open_store
    from desktop.store import NotFoundError, StoreError

    _app = QGuiApplication.instance() or QGuiApplication(["abrasio"])
    path = args.db or default_db_path(args.demo)
    if not path.exists():
        print(f"abrasio: {path} does not exist.", file=sys.stderr)
        return 2
    clinic, error = command_login(path, args.person, args.demo)  # a protected file: log in first
    if clinic is None and not error:
        store, error = open_store(path, False)
    if error:
        print(f"abrasio: {error}", file=sys.stderr)
        return 2
    who = args.who
    if clinic is not None:  # the export is the logged-in person's, if their role allows it
        from desktop.accounts import Permission

        store, who = clinic.store, clinic.person.name
        if not clinic.person.may(Permission.EXPORT_PRINT):
            store.close()
            print(f"abrasio: {who} may not export clients' records.", file=sys.stderr)
            return 2
        clinic.audit("export", "client", args.client_id, client_id=args.client_id, to=str(args.out))
    try:
        result = export_client(
            store,
            args.client_id,
            args.out,
            who=who,
            progress=lambda d, t, text: print(f"[{d}/{t}] {text}", file=sys.stderr),
        )
    except NotFoundError:
        print(f"abrasio: there is no client {args.client_id} in {path}.", file=sys.stderr)
        return 1
    except (ExportError, StoreError) as exc:
        print(f"abrasio: {exc}", file=sys.stderr)
        return 1
    finally:
        store.close()
    for problem in result["problems"]:
        print(f"abrasio: warning: {problem}", file=sys.stderr)
    print(f"{result['folder']}: {result['sessions']} sessions, {result['photos']} photos")
    return 0
