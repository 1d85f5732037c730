"""Windows that open inside the screen they are on, at the size they want or the size there is.

Clinic PCs and laptops still have 1366×768 and 1280×720 screens, and a 1920×1080 screen at 150 % is
1280×720 too. ``fit_to_screen`` sizes a top-level window to what it asks for or to the available
screen (less the title bar and borders the window manager will add), whichever is smaller, and places
it inside that screen: centred on its parent window if it has one, else on the screen. Forms keep
their buttons in view by scrolling their body (a ``QScrollArea``), not by growing past the screen.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QPoint, QRect, QSize, Qt
from PySide6.QtGui import QGuiApplication, QScreen
from PySide6.QtWidgets import QApplication, QWidget

# What a window manager adds around a window before the window knows it (title bar, borders).
FRAME_ALLOWANCE = QSize(16, 40)


def screen_of(window: QWidget) -> QScreen:
    parent = window.parentWidget()
    screen = parent.window().screen() if parent else window.screen()
    return screen or QGuiApplication.primaryScreen()


def available(window: QWidget) -> QRect:
    return screen_of(window).availableGeometry()


def fit_to_screen(window: QWidget, width: int | None = None, height: int | None = None) -> QSize:
    """Resize ``window`` to ``width``×``height`` (default: its current size) or the available screen,
    whichever is smaller, and move it inside the screen. Returns the size given."""
    area = available(window)
    frame = _frame(window)
    want = QSize(width or window.width(), height or window.height())
    size = QSize(
        min(want.width(), area.width() - frame.width()), min(want.height(), area.height() - frame.height())
    )
    window.resize(size)
    parent = window.parentWidget()
    centre = parent.window().frameGeometry().center() if parent and parent.isVisible() else area.center()
    top_left = centre - QPoint(size.width() // 2, size.height() // 2)
    window.move(_inside(top_left, size + frame, area))
    return size


def keep_on_screen(window: QWidget) -> None:
    """Once shown (the real frame known): move the window back inside the screen if it pokes out."""
    area = available(window)
    frame = window.frameGeometry()
    inside = _inside(frame.topLeft(), frame.size(), area)
    if inside != frame.topLeft():
        window.move(window.pos() + (inside - frame.topLeft()))


def _frame(window: QWidget) -> QSize:
    if window.isVisible():
        f, g = window.frameGeometry(), window.geometry()
        return QSize(f.width() - g.width(), f.height() - g.height())
    return FRAME_ALLOWANCE


def _inside(top_left: QPoint, size: QSize, area: QRect) -> QPoint:
    x = max(area.left(), min(top_left.x(), area.right() + 1 - size.width()))
    y = max(area.top(), min(top_left.y(), area.bottom() + 1 - size.height()))
    return QPoint(x, y)


class ScreenGuard(QObject):
    """Application-wide: every window or dialog, as it is shown, is made to fit the screen it opens
    on (shrunk to the available area as far as its layout allows, then moved inside it) — the ones
    that size themselves as well as those opened through ``fit_to_screen``."""

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if (
            event.type() == QEvent.Type.Show
            and isinstance(obj, QWidget)
            and obj.isWindow()
            and obj.windowType() in (Qt.WindowType.Window, Qt.WindowType.Dialog)
        ):
            area = available(obj)
            frame = _frame(obj)
            if obj.width() + frame.width() > area.width() or obj.height() + frame.height() > area.height():
                fit_to_screen(obj, obj.width(), obj.height())
            keep_on_screen(obj)
        return False


def install_screen_guard(app: QApplication) -> ScreenGuard:
    """Install the guard on ``app`` once (kept as a child of the application)."""
    existing = app.findChild(ScreenGuard)
    if existing is not None:
        return existing
    guard = ScreenGuard(app)
    app.installEventFilter(guard)
    return guard
