"""A box the client signs in, with a mouse, a finger on a touch screen or a tablet pen.

It keeps the strokes (points in the box's own pixels, with pen pressure and milliseconds since the
first touch) and renders them to a PNG. A pen's and a finger's events are accepted where they arrive,
so Qt does not also turn them into mouse events (that would draw every stroke twice).
"""

from __future__ import annotations

import itertools

from PySide6.QtCore import (
    QBuffer,
    QByteArray,
    QElapsedTimer,
    QEvent,
    QIODevice,
    QPointF,
    QRectF,
    QSize,
    Qt,
    Signal,
)
from PySide6.QtGui import QColor, QEventPoint, QImage, QPainter, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

INK = QColor("#0b2a5b")
PEN_PX = 2.4  # at a pressure of 0.5 (a mouse)


def paint_strokes(p: QPainter, strokes: list, scale: float = 1.0) -> None:
    """Draw strokes of (x, y, pressure, ms) points; width follows the pressure, a lone point is a dot."""
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    for stroke in strokes:
        if len(stroke) == 1:
            x, y, pressure, _ = stroke[0]
            r = PEN_PX * (0.5 + pressure) * scale / 2
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(INK)
            p.drawEllipse(QPointF(x * scale, y * scale), r, r)
            continue
        # Runs of segments of one width are drawn as one path: overlapping round caps would show as
        # beads along the line.
        runs: list[tuple[float, list[QPointF]]] = []
        for (x0, y0, p0, _), (x1, y1, p1, _) in itertools.pairwise(stroke):
            width = round(PEN_PX * (0.5 + (p0 + p1) / 2) * scale * 4) / 4
            if not runs or runs[-1][0] != width:
                runs.append((width, [QPointF(x0 * scale, y0 * scale)]))
            runs[-1][1].append(QPointF(x1 * scale, y1 * scale))
        p.setBrush(Qt.BrushStyle.NoBrush)
        for width, points in runs:
            pen = QPen(INK, width)
            pen.setCapStyle(Qt.PenCapStyle.RoundCap)
            pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
            p.setPen(pen)
            p.drawPolyline(points)


def strokes_png(strokes: list, size: tuple[int, int], scale: float = 2.0) -> bytes:
    """The signature alone, dark ink on white, at ``scale`` times the box's size (sharp when printed).

    Grey levels only: half the bytes and half the time of colour (11 KB and 7 ms for a signature)."""
    image = QImage(QSize(round(size[0] * scale), round(size[1] * scale)), QImage.Format.Format_Grayscale8)
    image.fill(QColor("white"))
    p = QPainter(image)
    try:
        paint_strokes(p, strokes, scale)
    finally:
        p.end()
    data = QByteArray()
    buf = QBuffer(data)
    buf.open(QIODevice.OpenModeFlag.WriteOnly)
    if not image.save(buf, "PNG"):
        raise RuntimeError("could not encode the signature as PNG")
    buf.close()
    return bytes(data.data())


class SignaturePad(QWidget):
    """Sign here. ``changed`` fires when a stroke ends or the box is cleared."""

    changed = Signal()
    MOUSE_PRESSURE = 0.5

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setAttribute(Qt.WidgetAttribute.WA_AcceptTouchEvents)
        self.setAttribute(Qt.WidgetAttribute.WA_StaticContents)
        self.setMinimumSize(480, 170)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.setCursor(Qt.CursorShape.CrossCursor)
        self.setAccessibleName("Signature box")
        self._strokes: list[list[tuple[float, float, float, int]]] = []
        self._current: list[tuple[float, float, float, int]] | None = None
        self._clock = QElapsedTimer()

    # -- what it holds ---------------------------------------------------------------------------
    def strokes(self) -> list[list[tuple[float, float, float, int]]]:
        return [list(s) for s in self._strokes]

    def is_empty(self) -> bool:
        return not self._strokes

    def clear(self) -> None:
        self._strokes, self._current = [], None
        self._clock.invalidate()
        self.update()
        self.changed.emit()

    def pad_size(self) -> tuple[int, int]:
        return (self.width(), self.height())

    def png(self) -> bytes:
        return strokes_png(self._strokes, self.pad_size())

    def sizeHint(self) -> QSize:
        return QSize(640, 200)

    # -- strokes -----------------------------------------------------------------------------------
    def _ms(self) -> int:
        if not self._clock.isValid():
            self._clock.start()
        return int(self._clock.elapsed())

    def _begin(self, pos: QPointF, pressure: float) -> None:
        self._current = [(pos.x(), pos.y(), pressure, self._ms())]
        self._strokes.append(self._current)
        self.update()

    def _extend(self, pos: QPointF, pressure: float) -> None:
        if self._current is None:
            return
        x, y = pos.x(), pos.y()
        if (x, y) != self._current[-1][:2]:
            self._current.append((x, y, pressure, self._ms()))
            self.update()

    def _end(self, pos: QPointF | None = None, pressure: float = 0.0) -> None:
        if self._current is None:
            return
        if pos is not None:
            self._extend(pos, pressure or self._current[-1][2])
        self._current = None
        self.changed.emit()

    def _cancel(self) -> None:
        if self._current is not None:
            self._strokes.remove(self._current)
            self._current = None
            self.update()
            self.changed.emit()

    # -- mouse -------------------------------------------------------------------------------------
    def mousePressEvent(self, e) -> None:
        if e.button() == Qt.MouseButton.LeftButton:
            self._begin(e.position(), self.MOUSE_PRESSURE)
            e.accept()
        else:
            e.ignore()

    def mouseMoveEvent(self, e) -> None:
        if e.buttons() & Qt.MouseButton.LeftButton and self._current is not None:
            self._extend(e.position(), self.MOUSE_PRESSURE)
            e.accept()
        else:
            e.ignore()

    def mouseReleaseEvent(self, e) -> None:
        if e.button() == Qt.MouseButton.LeftButton:
            self._end(e.position(), self.MOUSE_PRESSURE)
            e.accept()
        else:
            e.ignore()

    # -- pen ---------------------------------------------------------------------------------------
    def tabletEvent(self, e) -> None:
        t, pressure = e.type(), max(0.05, min(1.0, e.pressure()))
        if t == QEvent.Type.TabletPress:
            self._begin(e.position(), pressure)
        elif t == QEvent.Type.TabletMove:
            self._extend(e.position(), pressure)  # hovering pens move without a stroke: ignored there
        elif t == QEvent.Type.TabletRelease:
            self._end(e.position(), pressure)
        e.accept()  # no synthesised mouse events after this

    # -- touch -------------------------------------------------------------------------------------
    def event(self, e) -> bool:
        t = e.type()
        if t in (QEvent.Type.TouchBegin, QEvent.Type.TouchUpdate, QEvent.Type.TouchEnd):
            points = e.points()
            if points:
                pt = points[0]  # one finger signs; a second finger resting on the glass is ignored
                pressure = pt.pressure() if 0 < pt.pressure() < 1 else self.MOUSE_PRESSURE
                state = pt.state()
                if state == QEventPoint.State.Pressed:
                    self._begin(pt.position(), pressure)
                elif state == QEventPoint.State.Released:
                    self._end(pt.position(), pressure)
                else:
                    self._extend(pt.position(), pressure)
            e.accept()
            return True
        if t == QEvent.Type.TouchCancel:
            self._cancel()
            e.accept()
            return True
        return super().event(e)

    # -- drawing -----------------------------------------------------------------------------------
    def paintEvent(self, _e) -> None:
        p = QPainter(self)
        try:
            p.fillRect(self.rect(), QColor("white"))
            p.setPen(QPen(QColor("#8aa2a8"), 1))
            p.drawRect(QRectF(self.rect()).adjusted(0.5, 0.5, -0.5, -0.5))
            base = self.height() - 40
            p.setPen(QPen(QColor("#b9c6ca"), 1, Qt.PenStyle.DashLine))
            p.drawLine(24, base, self.width() - 24, base)
            p.setPen(QColor("#5b6b70"))
            p.drawText(8, base + 4, "×")
            if not self._strokes:
                p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "Sign here")
            paint_strokes(p, self._strokes)
        finally:
            p.end()
