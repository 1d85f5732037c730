"""Open every Abrasio window on a screen of a given size and scale, and report what does not fit.

Run as ``python -m tests.helpers.screen_probe WIDTHxHEIGHT SCALE OUT.json [SHOTS_DIR]``: a fresh
process, because a screen's size and scale are fixed when Qt starts. The screen is the offscreen
platform's (``configfile=`` with one screen of that size); the scale is ``QT_SCALE_FACTOR``, which is
what really changes the logical screen offscreen and under Xvfb (1920×1080 at 1.5 is 1280×720 logical;
the offscreen config's ``dpr`` is not applied to the logical geometry).

For each window it records problems, in words:
* the window's frame not inside the screen's available area;
* a button, field or check box (``CHECKED``) that is shown but not wholly visible: cut by the window,
  by a parent, or off the screen. Widgets inside a scroll area count as visible when the scroll area is
  (the form scrolls to them); their own size is still checked;
* a button or combo box squeezed narrower than its minimum size hint (its text cut);
* a label whose plain text is wider than the label (elided or cut) — the readouts above all;
* text smaller than 14 px.
The JSON also says how many widgets were checked, so the test knows the probe looked at something.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
import tempfile
from pathlib import Path

SIZE, SCALE, OUT = sys.argv[1], float(sys.argv[2]), Path(sys.argv[3])
SHOTS = Path(sys.argv[4]) if len(sys.argv) > 4 else None
W, H = (int(x) for x in SIZE.split("x"))
_config = Path(tempfile.mkdtemp()) / "screen.json"
_config.write_text(json.dumps({"screens": [{"name": "probe", "width": W, "height": H}]}))
os.environ["QT_QPA_PLATFORM"] = f"offscreen:configfile={_config}"
os.environ["QT_SCALE_FACTOR"] = str(SCALE)

from PySide6.QtCore import QEventLoop, QRect, QTimer  # noqa: E402
from PySide6.QtGui import QFontInfo, QGuiApplication  # noqa: E402
from PySide6.QtWidgets import (  # noqa: E402
    QAbstractButton,
    QAbstractScrollArea,
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QDialog,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

CHECKED = (QAbstractButton, QLineEdit, QAbstractSpinBox, QComboBox, QPlainTextEdit)
MIN_TEXT_PX = 14


def settle(ms: int = 150) -> None:
    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


def wait_for(predicate, timeout_ms: int = 10_000) -> bool:
    waited = 0
    while not predicate() and waited < timeout_ms:
        settle(50)
        waited += 50
    return predicate()


def _global_rect(w: QWidget) -> QRect:
    return QRect(w.mapToGlobal(w.rect().topLeft()), w.size())


def _in_scroll_area(w: QWidget) -> bool:
    p = w.parentWidget()
    while p is not None:
        if isinstance(p, QScrollArea):
            return True
        p = p.parentWidget()
    return False


def _visible_part(w: QWidget) -> QRect:
    """The part of ``w`` not cut off by its parents (up to its window or a scroll area's viewport)."""
    rect = _global_rect(w)
    p = w.parentWidget()
    while p is not None:
        if isinstance(p, QAbstractScrollArea) and not isinstance(w, QAbstractScrollArea):
            break  # inside a scroll area: reachable by scrolling
        rect = rect.intersected(_global_rect(p))
        if p.isWindow():
            break
        p = p.parentWidget()
    return rect


def _name(w: QWidget) -> str:
    text = ""
    for attr in ("text", "placeholderText", "currentText"):
        fn = getattr(w, attr, None)
        if callable(fn):
            try:
                text = fn()
            except TypeError:
                continue
            if text:
                break
    tag = w.objectName() or type(w).__name__
    return f"{tag} {text[:40]!r}" if text else tag


def check_window(win: QWidget) -> dict:
    screen = win.screen().availableGeometry()
    problems: list[str] = []
    frame = win.frameGeometry()
    if not screen.contains(frame):
        problems.append(f"window {frame.getRect()} not inside the screen {screen.getRect()}")
    checked = 0
    for w in [win, *win.findChildren(QWidget)]:
        if not w.isVisibleTo(win) or w.window() is not win or isinstance(w.parentWidget(), CHECKED):
            continue  # hidden, another window's, or a part of a field (a spin box's line edit)
        if isinstance(w, (QLabel, *CHECKED)) or w.objectName() in ("BigReadout", "Stat"):
            checked += 1
            font_px = QFontInfo(w.font()).pixelSize()
            if font_px < MIN_TEXT_PX and (not isinstance(w, QLabel) or w.text()):
                problems.append(f"{_name(w)}: text {font_px} px")
        if isinstance(w, CHECKED):
            full = _global_rect(w)
            if not _in_scroll_area(w):
                seen = _visible_part(w)
                if seen != full:
                    problems.append(f"{_name(w)}: cut off ({seen.getRect()} of {full.getRect()})")
                if not screen.contains(full):
                    problems.append(f"{_name(w)}: off the screen at {full.getRect()}")
            hint = w.minimumSizeHint()
            if isinstance(w, (QAbstractButton, QComboBox)) and w.width() < hint.width() - 1:
                problems.append(
                    f"{_name(w)}: squeezed to {w.width()} px wide (its text needs {hint.width()})"
                )
        if isinstance(w, QLabel) and not w.wordWrap() and w.text() and w.pixmap().isNull():
            if w.textFormat().name == "RichText" or "<" in w.text():
                continue  # rich text: laid out by QTextDocument, wraps
            lines = w.text().split("\n")
            need = max(w.fontMetrics().horizontalAdvance(line) for line in lines)
            have = w.contentsRect().width() - 2 * w.margin() - 2 * w.indent() * (w.indent() > 0)
            if need > have + 1:
                problems.append(f"{_name(w)}: text {need} px wide in {have} px (cut)")
            if not _in_scroll_area(w) and _visible_part(w) != _global_rect(w):
                problems.append(f"{_name(w)}: label cut off by its parent")
    return {"frame": frame.getRect(), "checked": checked, "problems": problems}


def broken_dialog(parent) -> QDialog:
    """A deliberately bad window: a fixed-height form taller than any screen, buttons below it.
    The probe must report it — proof that it can see what it is looking for."""
    dlg = QDialog(parent)
    lay = QVBoxLayout(dlg)
    filler = QLabel("a form that does not scroll")
    filler.setMinimumHeight(2000)
    lay.addWidget(filler)
    lay.addWidget(QLineEdit("below the form"))
    return dlg


def main() -> None:
    from desktop.demo import create_demo
    from desktop.main_window import MainWindow
    from desktop.records import Client, ScreeningAnswer
    from desktop.resources import resource_path
    from desktop.screen_fit import fit_to_screen, install_screen_guard
    from desktop.store import Store
    from desktop.wheel_guard import install_wheel_guard
    from tests.helpers.people import PLAIN

    app = QApplication([])
    app.setStyleSheet(resource_path("abrasio.qss").read_text(encoding="utf-8"))
    install_wheel_guard(app)
    install_screen_guard(app)
    screen = QGuiApplication.primaryScreen()
    report: dict = {
        "screen": screen.availableGeometry().getRect(),
        "dpr": screen.devicePixelRatio(),
        "windows": {},
    }
    store = Store.open(Path(tempfile.mkdtemp()) / "probe.db")
    create_demo(store, n_clients=12, seed=2)
    cid = store.add_client(
        Client(
            "Maria",
            "Gonzalez-Fitzwilliam",
            phone="+44 7700 900123",
            email="maria.gonzalez@example.org",
            sensitivity="sensitive",
            vacuum_ceiling_kpa=30.0,
            fitzpatrick=4,
            concerns=["acne_scars", "fine_lines"],
        )
    )
    store.save_screening(
        cid,
        [
            ScreeningAnswer("isotretinoin", dt.date(2025, 9, 1), dt.date.today() - dt.timedelta(days=30)),
            ScreeningAnswer("anticoagulants"),
        ],
    )
    with_trace = store.conn.execute("SELECT session_id FROM vacuum_trace_chunks LIMIT 1").fetchone()[0]

    def record(name: str, win: QWidget) -> None:
        settle()
        report["windows"][name] = check_window(win)
        if SHOTS:
            win.grab().save(str(SHOTS / f"{name}.png"))

    main_window = MainWindow(store, person=PLAIN)
    main_window.show()
    wait_for(main_window.isVisible)
    record("client-list", main_window)
    main_window.show_client(cid)
    record("client-page", main_window)

    form = main_window.edit_client(cid)
    record("client-form", form)
    form.last_name.clear()
    form.email.setText("not an email")
    form.save()  # every error label shown: the buttons must stay in view
    record("client-form-errors", form)
    form.done(0)

    settings = main_window.open_settings()
    record("settings", settings)
    settings.done(0)

    start = main_window.start_session(cid)
    record("start-session", start)
    start.start()  # nothing confirmed: the dialog lists what is missing
    record("start-session-problems", start)
    start.confirm.setChecked(True)
    start.override_action.setCurrentIndex(1)
    start.override.setText("The client's doctor agreed to this treatment in writing.")
    start.consent.ack.setChecked(True)
    start.handpiece.setCurrentIndex(0)
    start.start()  # a blocking contraindication: a second confirmation, then the session starts
    wait_for(lambda: getattr(start, "override_box_confirm", None) is not None)
    confirm = start.override_box_confirm
    next(b for b in confirm.buttons() if b.text() == "Treat despite it").click()
    wait_for(lambda: bool(main_window.session_windows))
    live = main_window.session_windows[-1]
    wait_for(lambda: live.samples_received > 200)
    settle(400)
    record("live-session", live)
    live.force_close()

    review = main_window.open_session(with_trace)
    wait_for(lambda: review.trace is not None)
    record("past-session", review)
    review.close()

    # the windows of issues #11 and #13 (security, consent, series, recall, erasure, export)
    main_window.show_client(cid)
    page = main_window.client_page
    for name, opener in (
        ("consent-signing", page.consent_section.sign),
        ("consent-settings", main_window.open_consent_settings),
        ("client-screening", page.client_screening),
        ("series-plan", lambda: page.series_section.edit(True)),
        ("recall", main_window.open_recall),
        ("erase-client", main_window.erase_client),
        ("export-client", main_window.export_client),
    ):
        dlg = opener()
        record(name, dlg)
        dlg.close()
    from desktop.security_ui import FirstStartWizard, LoginDialog

    for name, cls in (("first-start", FirstStartWizard), ("login", LoginDialog)):
        dlg = cls(Path(tempfile.mkdtemp()) / "clinic.db")
        fit_to_screen(dlg)
        dlg.show()
        record(name, dlg)
        dlg.close()

    bad = broken_dialog(main_window)
    bad.show()
    record("deliberately-broken", bad)
    bad.done(0)

    main_window.close()
    store.close()
    OUT.write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
