"""``abrasio --self-test``: what a clinic's IT person runs after installing. No screen needed.

One line per check; exit status 0 only if every check passes. Works the same from source and from
the PyInstaller bundle (it says which resources folder it used).
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
import traceback
from pathlib import Path

RECORD_S = 2.0


class SelfTest:
    def __init__(self, out=None):
        if out is None and sys.stdout is None:  # a windowed (GUI) executable has no console
            out = open(Path(tempfile.gettempdir()) / "abrasio-self-test.txt", "w", encoding="utf-8")  # noqa: SIM115
        self.out = out or sys.stdout
        self.failures = 0

    def check(self, name: str, fn):
        t0 = time.monotonic()
        try:
            detail = fn()
        except Exception as exc:  # a self-test reports every failure, whatever it is
            self.failures += 1
            print(f"FAIL {name}: {type(exc).__name__}: {exc}", file=self.out, flush=True)
            if os.environ.get("ABRASIO_SELFTEST_TRACE"):
                traceback.print_exc()
            return None
        ms = (time.monotonic() - t0) * 1000
        print(f"ok   {name}{f' — {detail}' if detail else ''} ({ms:.0f} ms)", file=self.out, flush=True)
        return detail


def run_self_test(out=None) -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    st = SelfTest(out)
    from PySide6.QtCore import qInstallMessageHandler

    def qt_messages(_mode, _context, message):
        if "propagateSizeHints" not in message:  # offscreen has no window manager to tell
            print(f"qt: {message}", file=sys.stderr)

    qInstallMessageHandler(qt_messages)
    from desktop import __version__

    print(
        f"Abrasio {__version__} self-test, Python {sys.version.split()[0]}, "
        f"{'bundle' if getattr(sys, 'frozen', False) else 'source'}",
        file=st.out,
        flush=True,
    )
    ctx: dict = {}

    def qt():
        from PySide6 import __version__ as pyside
        from PySide6.QtWidgets import QApplication

        ctx["app"] = QApplication.instance() or QApplication([])
        return f"PySide6 {pyside}, platform {ctx['app'].platformName()}"

    def text_and_dates():
        return _probe_text_and_dates()

    def text_entry():
        return _probe_text_entry()

    def encryption_library():
        return _probe_encryption_library()

    def password_hashing():
        return _probe_password_hashing()

    def resources():
        from PySide6.QtGui import QIcon

        from desktop.resources import resource_path, resources_root

        icon = QIcon(str(resource_path("icons/abrasio.svg")))
        if icon.pixmap(64, 64).isNull():
            raise RuntimeError("the application icon does not render")
        qss = resource_path("abrasio.qss").read_text(encoding="utf-8")
        ctx["app"].setStyleSheet(qss)
        resource_path("alarm-high.wav")
        return f"icon, stylesheet and alarm sound from {resources_root()}"

    def database():
        from desktop.store import Store
        from desktop.store.migrations import SCHEMA_VERSION

        ctx["dir"] = tempfile.TemporaryDirectory(prefix="abrasio-selftest-")
        store = Store.open(Path(ctx["dir"].name) / "selftest.db")
        ctx["store"] = store
        if store.schema_version != SCHEMA_VERSION:
            raise RuntimeError(f"schema {store.schema_version}, expected {SCHEMA_VERSION}")
        return f"fresh database, {SCHEMA_VERSION} migrations applied"

    def client():
        from desktop.records import Client

        ctx["client"] = ctx["store"].add_client(Client("Self", "Test", vacuum_ceiling_kpa=45.0), "self-test")
        return f"client {ctx['client']}"

    def handpiece():
        from device.link import HandpieceLink, wait_until

        link = HandpieceLink("sim://?rate=1000&auto=0&seed=1").start()
        try:
            if not wait_until(lambda: link.stats().hello and link.stats().samples > 100, 5.0):
                raise RuntimeError(f"no samples (state {link.state.value}: {link.stats().reason})")
            return f"{link.stats().hello.model}, firmware {link.stats().hello.firmware}"
        finally:
            link.close()

    def session():
        from PySide6.QtCore import QEventLoop, QTimer

        from desktop.session.live import LiveSessionWindow

        store = ctx["store"]
        sid = store.create_session(
            ctx["client"], "self-test", set_point_kpa=30.0, ceiling_kpa=45.0, areas=["forehead"]
        )
        live = LiveSessionWindow(store, sid, {"url": "sim://?rate=1000&auto=0&seed=2"}, lambda: "self-test")
        live.show()
        live.notes_panel.notes.setPlainText("Self-test session")
        loop = QEventLoop()
        QTimer.singleShot(int(RECORD_S * 1000), loop.quit)
        loop.exec()
        # Ending never blocks: the window says ``finished`` once the end is on disk, then closes itself.
        ended: dict = {}
        loop = QEventLoop()
        live.finished.connect(lambda _sid: (ended.update(summary=live.summary_result, error=live.save_error),
                                            loop.quit()))  # fmt: skip
        QTimer.singleShot(10_000, loop.quit)
        live.end_session()
        if not ended:
            loop.exec()
        if not ended:
            raise RuntimeError("the session did not end within 10 s")
        if ended["error"]:
            raise RuntimeError(f"the session's end was not saved: {ended['error']}")
        summary = ended["summary"]
        ctx["session"], ctx["summary"] = sid, summary
        return f"{summary['samples']} samples in {summary['duration_s']} s, {summary['lost']} lost"

    def read_back():
        store, sid, summary = ctx["store"], ctx["session"], ctx["summary"]
        trace = store.load_trace(sid)
        if len(trace["seq"]) != summary["samples"] or summary["samples"] < 1000:
            raise RuntimeError(f"{len(trace['seq'])} samples stored, {summary['samples']} received")
        if store.notes(sid)["notes"] != "Self-test session":
            raise RuntimeError("the notes were not saved")
        if store.session(sid).status != "completed":
            raise RuntimeError("the session was not completed")
        return f"{len(trace['seq'])} samples and the notes read back"

    def integrity():
        result = ctx["store"].integrity_check()
        if result != "ok":
            raise RuntimeError(result)
        return "PRAGMA integrity_check: ok"

    for name, fn in (
        ("Qt", qt),
        ("text and dates", text_and_dates),
        ("text entry", text_entry),
        ("encryption library", encryption_library),
        ("password hashing", password_hashing),
        ("resources", resources),
        ("database", database),
        ("client", client),
        ("handpiece", handpiece),
        ("session", session),
        ("read back", read_back),
        ("integrity", integrity),
        ("audit trail", _probe_audit_trail),
    ):
        if st.check(name, fn) is None and name in ("Qt", "database"):
            break  # nothing after can work
    if "store" in ctx:
        ctx["store"].close()
    print(f"self-test {'passed' if not st.failures else f'FAILED ({st.failures})'}", file=st.out, flush=True)
    return 0 if not st.failures else 1


# -- probes of what the Linux bundle trims (ICU's data) and of what this round adds ---------------------
def _expect(what: str, got, want) -> None:
    if got != want:
        raise RuntimeError(f"{what}: {got!r}, expected {want!r}")


def _probe_text_and_dates() -> str:
    """Case mapping, dates, collation and time-zone names: what QtCore asks ICU for. The Linux bundle
    ships ICU's data trimmed (packaging/linux/trim_icu.py); this fails if the trim took too much."""
    from PySide6.QtCore import QCollator, QDate, QDateTime, QLocale, QTime, QTimeZone

    _expect("Turkish upper case", QLocale("tr_TR").toUpper("istanbul"), "İSTANBUL")
    _expect("German upper case", QLocale("de_DE").toUpper("Straße"), "STRASSE")
    _expect("Greek lower case (final sigma)", QLocale("en_GB").toLower("ΣΟΦΟΣ"), "σοφος")
    _expect("French date", QLocale("fr_FR").toString(QDate(2026, 11, 25), "dddd d MMMM yyyy"),
            "mercredi 25 novembre 2026")  # fmt: skip
    _expect("date parsing", QDate.fromString("2026-02-29", "yyyy-MM-dd").isValid(), False)
    import datetime as dt

    from desktop.records import fmt_date

    _expect("Abrasio's date format", fmt_date(dt.date(2027, 5, 14)), "14 May 2027")
    paris = QTimeZone(b"Europe/Paris")
    winter = QDateTime(QDate(2026, 1, 15), QTime(12, 0), paris)
    long_name = QTimeZone.NameType.LongName
    _expect("time zone", paris.isValid(), True)
    _expect("time-zone name", paris.displayName(winter, long_name, QLocale("en_GB")),
            "Central European Standard Time")  # fmt: skip
    _expect("time-zone name in French", paris.displayName(winter, long_name, QLocale("fr_FR")),
            "heure normale d’Europe centrale")  # fmt: skip
    _expect("Swedish collation (ö after z)", QCollator(QLocale("sv_SE")).compare("ö", "z") > 0, True)
    _expect("English collation (ö with o)", QCollator(QLocale("en_GB")).compare("ö", "z") < 0, True)
    _expect("case-blind collation", QCollator(QLocale("en_GB")).compare("anna", "Bob") < 0, True)
    return "case mapping, dates, time-zone names and collation"


def _probe_text_entry() -> str:
    """Typing into a line edit: accented and non-Latin letters, word-wise cursor moves, deletion."""
    from PySide6.QtCore import QEvent, Qt
    from PySide6.QtGui import QKeyEvent
    from PySide6.QtWidgets import QApplication, QLineEdit

    edit = QLineEdit()
    edit.show()

    def key(k, text="", mods=Qt.KeyboardModifier.NoModifier):
        for kind in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease):
            QApplication.sendEvent(edit, QKeyEvent(kind, k, mods, text))

    for ch in "Zoë Ünal-Łukasz Ωμέγα":
        key(Qt.Key.Key_unknown, ch)
    _expect("typed text", edit.text(), "Zoë Ünal-Łukasz Ωμέγα")
    key(Qt.Key.Key_Left, mods=Qt.KeyboardModifier.ControlModifier)  # back one word
    _expect("cursor after a word back", edit.cursorPosition(), len("Zoë Ünal-Łukasz "))
    key(Qt.Key.Key_Backspace)
    _expect("after backspace", edit.text(), "Zoë Ünal-ŁukaszΩμέγα")
    key(Qt.Key.Key_Home)
    key(Qt.Key.Key_Delete)
    _expect("after delete", edit.text(), "oë Ünal-ŁukaszΩμέγα")
    edit.close()
    edit.deleteLater()
    return "accented, Polish and Greek letters typed, moved through and deleted"


def _probe_encryption_library() -> str:
    """sqlcipher3 loads, encrypts a file and refuses the wrong key (the SQL is in the store)."""
    from desktop.store.library_check import probe_sqlcipher

    return probe_sqlcipher()


def _probe_audit_trail() -> str:
    """A temporary clinic (set up as the first-start wizard does): its audit chain and record seals
    verify; an entry and a record changed behind Abrasio's back (a keyed script) are both caught."""
    from desktop import accounts
    from desktop.records import Client
    from desktop.store import library_check, security

    with tempfile.TemporaryDirectory(prefix="abrasio-selftest-audit-") as tmp:
        clinic = accounts.create_clinic(Path(tmp) / "audit.db", "Self Test", "self-test passphrase 1").clinic
        try:
            cid = clinic.store.add_client(Client("Audit", "Probe"), clinic.person.name)
            for action in ("open", "review", "export", "print"):
                clinic.audit(action, "client", cid, client_id=cid)
            verdict = security.verify_audit(clinic.store.db, clinic.store.protection)
            problems = security.verify_records(clinic.store.db)
            if not verdict.ok or problems:
                raise RuntimeError(f"a clean clinic does not verify: {verdict.message} {problems}")
            library_check.tamper_behind_abrasios_back(clinic.store.path, clinic.database_key, cid)
            tampered = security.verify_audit(clinic.store.db, clinic.store.protection)
            if tampered.ok or tampered.first_broken != 3:
                raise RuntimeError(f"an edited audit entry was not caught: {tampered.message}")
            found = {(p.table, p.kind) for p in security.verify_records(clinic.store.db)}
            if ("clients", "changed") not in found:
                raise RuntimeError("a client changed outside Abrasio was not caught")
        finally:
            clinic.close()
    return f"{verdict.entries} entries verified; an edited entry (#3) and an edited client were caught"


def _probe_password_hashing() -> str:
    import argon2

    hasher = argon2.PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1)
    digest = hasher.hash("correct horse")
    hasher.verify(digest, "correct horse")
    try:
        hasher.verify(digest, "wrong horse")
    except argon2.exceptions.VerifyMismatchError:
        pass
    else:
        raise RuntimeError("a wrong password verified")
    return "Argon2id hash made and checked, a wrong password refused"
