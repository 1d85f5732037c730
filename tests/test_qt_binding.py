"""Guard against a Qt binding that leaks or drops references on every call.

PySide6 6.12.0 on Python 3.11 decrements None's reference count on each void method call; the live
graph makes thousands of such calls a second and the process aborts within minutes. Python 3.12+ hides
it (None is immortal there), so this only bites where the count is real.
"""

import sys

from PySide6 import QtCore, QtGui


def test_void_calls_keep_none_alive():
    pen = QtGui.QPen(QtGui.QColor("red"))
    image = QtGui.QImage(16, 16, QtGui.QImage.Format.Format_ARGB32)
    painter = QtGui.QPainter(image)
    try:
        before = sys.getrefcount(None)
        for _ in range(2000):
            pen.setJoinStyle(QtCore.Qt.PenJoinStyle.MiterJoin)
            painter.setPen(pen)
            painter.drawLine(QtCore.QPointF(0, 0), QtCore.QPointF(5, 0))
        drift = sys.getrefcount(None) - before
    finally:
        painter.end()
    assert abs(drift) < 100, f"the Qt binding changed None's reference count by {drift}"
