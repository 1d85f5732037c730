"""What a past session's window can hand out: the printed record, the aftercare sheet (paper or PDF),
and the trace as CSV (the whole session or the range on screen).

The documents and the CSV are built on a worker thread with its own connection; files are written
0600 (health data). Each print, PDF and CSV is recorded in the change log (``Store.log_disclosure``).
"""

from __future__ import annotations

import json
import threading
from pathlib import Path

from PySide6.QtCore import QObject, QStandardPaths, Qt, Signal
from PySide6.QtWidgets import QDialog, QFileDialog, QMenu, QMessageBox, QToolButton

from desktop.export import (
    ExportError,
    load_session_record,
    plain,
    private_file,
    trace_csv,
    trace_sidecar,
)
from desktop.printing import aftercare_document, pdf_bytes, session_document
from desktop.store import StoreError
from desktop.workers import Relay

KINDS = {"record": "Treatment session record", "aftercare": "Aftercare"}


class SessionOutputs(QObject):
    """Attach to a session window: ``button`` opens the menu; the methods do the work."""

    written = Signal(str)
    failed = Signal(str)

    def __init__(self, window, store, session_id: int, who_fn, plot=None):
        super().__init__(window)
        # the window is only reached through parent(): a reference kept here would keep its Python
        # wrapper alive after Qt deleted it (closed review windows are deleted)
        self.store, self.session_id, self.who, self.plot = store, session_id, who_fn, plot
        self._signals = Relay(self, written=self.written.emit, failed=self._failed, ready=self._print_ready)
        self._printer = None
        # ``audit(action, **details)``: the clinic's audit trail (the main window sets it); None: not kept
        self.audit = None
        self.button = QToolButton()
        self.button.setText("Print / export")
        self.button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(self.button)
        menu.addAction("Print the session record…", lambda: self.print_document("record"))
        menu.addAction("Save the session record as PDF…", lambda: self.choose_file("record"))
        menu.addSeparator()
        menu.addAction("Print the aftercare sheet…", lambda: self.print_document("aftercare"))
        menu.addAction("Save the aftercare sheet as PDF…", lambda: self.choose_file("aftercare"))
        menu.addSeparator()
        menu.addAction("Export the whole trace as CSV…", lambda: self.choose_file("csv"))
        self.visible_action = menu.addAction(
            "Export the visible range as CSV…", lambda: self.choose_file("csv-visible")
        )
        self.visible_action.setEnabled(plot is not None)
        self.button.setMenu(menu)

    # -- files -------------------------------------------------------------------------------------
    def visible_range(self) -> tuple[float, float] | None:
        if self.plot is None:
            return None
        x0, x1 = self.plot.viewRange()[0]
        return (max(0.0, float(x0)), float(x1))

    def choose_file(self, kind: str) -> QFileDialog:
        s = self.store.session(self.session_id)
        stem = f"session-{self.session_id}-{s.started_at[:10]}"
        name, filt = {
            "record": (f"{stem}-record.pdf", "PDF (*.pdf)"),
            "aftercare": (f"{stem}-aftercare.pdf", "PDF (*.pdf)"),
            "csv": (f"{stem}-trace.csv", "CSV (*.csv)"),
            "csv-visible": (f"{stem}-trace-visible.csv", "CSV (*.csv)"),
        }[kind]
        docs = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation) or str(
            Path.home()
        )
        dlg = QFileDialog(self.parent(), "Save as", str(Path(docs) / name), filt)
        dlg.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dlg.fileSelected.connect(lambda path: self.write(kind, Path(path)))
        dlg.open()
        return dlg

    def write(self, kind: str, path: Path) -> None:
        """Write the PDF or CSV at ``path`` on a worker thread; ``written`` or ``failed`` follows."""
        t_range = self.visible_range() if kind == "csv-visible" else None
        if self.audit is not None:
            self.audit("export", kind=kind, file=str(path))
        db, sid, who, signals = self.store, self.session_id, self.who(), self._signals

        def work():
            try:
                store = db.reopen()
                try:
                    if kind in KINDS:
                        rec = load_session_record(store, sid)
                        doc = session_document(rec) if kind == "record" else aftercare_document(rec)
                        data = pdf_bytes(doc, KINDS[kind])
                        details = {"file": str(path)}
                    else:
                        tr = store.load_trace(sid)
                        offsets = store.session(sid).summary.get("clock_offsets")
                        data, rows = trace_csv(tr, t_range, offsets)
                        details = {
                            "file": str(path),
                            "rows": rows,
                            "range_s": list(t_range) if t_range else None,
                        }
                    if path.exists():
                        path.unlink()  # the save dialog asked before replacing it
                    private_file(path, data)
                    if kind.startswith("csv"):
                        markers = [plain(m) for m in store.markers(sid)]
                        alarms = [plain(a) for a in store.alarms(sid)]
                        side = trace_sidecar(sid, tr, markers, alarms, t_range)
                        sidecar = path.with_suffix(".json")
                        if sidecar.exists():
                            sidecar.unlink()
                        private_file(sidecar, json.dumps(side, indent=2, default=str))
                    action = {"record": "save record pdf", "aftercare": "save aftercare pdf"}.get(
                        kind, "export trace csv"
                    )
                    store.log_disclosure("session", sid, action, details, who)
                finally:
                    store.close()
            except (StoreError, ExportError) as exc:
                signals.failed(str(exc))
                return
            except OSError as exc:
                signals.failed(f"{path} could not be written: {exc.strerror or exc}.")
                return
            signals.written(str(path))

        threading.Thread(target=work, name=f"session {sid} {kind}", daemon=True).start()

    def _failed(self, message: str) -> None:
        self.failed.emit(message)
        box = QMessageBox(
            QMessageBox.Icon.Warning, "Not saved", message, QMessageBox.StandardButton.Ok, self.parent()
        )
        box.setTextFormat(Qt.TextFormat.PlainText)
        box.open()
        self.message_box = box

    # -- paper ------------------------------------------------------------------------------------
    def print_document(self, kind: str, printer=None) -> None:
        """Prepare the document on a worker thread, then show the system print dialog (or, given a
        ``printer``, print on it directly: tests print to a PDF-format QPrinter)."""
        self._printer = printer
        db, sid, signals = self.store, self.session_id, self._signals

        def work():
            try:
                store = db.reopen()
                try:
                    rec = load_session_record(store, sid)
                finally:
                    store.close()
            except StoreError as exc:
                signals.failed(str(exc))
                return
            signals.ready(kind, rec)

        threading.Thread(target=work, name=f"session {sid} print", daemon=True).start()

    def _print_ready(self, kind: str, rec) -> None:
        from PySide6.QtPrintSupport import QPrintDialog, QPrinter

        doc = session_document(rec) if kind == "record" else aftercare_document(rec)
        printer, self._printer = self._printer, None
        if printer is not None:
            self._print_on(printer, doc, kind)
            return
        printer = QPrinter(QPrinter.PrinterMode.HighResolution)
        printer.setDocName(KINDS[kind])
        dialog = QPrintDialog(printer, self.parent())
        dialog.setWindowTitle(f"Print — {KINDS[kind]}")
        dialog.accepted.connect(lambda: self._print_on(printer, doc, kind))
        # QDialog's open(), window-modal and not blocking: PySide6 binds only QPrintDialog's
        # open(receiver, member), so dialog.open() raised a TypeError and Print showed nothing
        QDialog.open(dialog)
        self._dialog = dialog

    def _print_on(self, printer, doc, kind: str) -> None:
        from PySide6.QtPrintSupport import QPrinter

        doc.print_(printer)
        where = printer.printerName() or printer.outputFileName()
        if printer.printerState() in (QPrinter.PrinterState.Error, QPrinter.PrinterState.Aborted):
            # Qt only warns on the console when the printer (or the file) cannot be opened
            self._failed(
                f"Nothing was printed: {where or 'the printer'} could not be used. Check that the "
                "printer is on and ready (or, printing to a file, that its folder can be written to)."
            )
            return
        if self.audit is not None:
            self.audit("print", kind=kind, printer=where)
        try:
            self.store.log_disclosure(
                "session", self.session_id, f"print {kind}", {"printer": where}, self.who()
            )
        except StoreError as exc:
            self._failed(f"Printed, but the print could not be recorded: {exc}")
            return
        self.written.emit(where)
