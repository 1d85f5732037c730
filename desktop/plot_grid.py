"""The still backdrop of a live graph that redraws 60 times a second: a horizontal band and grid.

pyqtgraph's own grid (``showGrid``) extends the axis's tick lines across the view: the axis's bounding
rectangle then covers the whole plot, and every frame that repaints the curve replays the axis's
picture (its tick labels included) under it. Profiled in the live view: 56 % of a frame, 5.8 ms.
This backdrop is one item in the view itself: a band (the set-point zone, an opaque fill) and the
grid's lines at the axis's tick values with pyqtgraph's transparency, one fill and a few line batches
a frame; it follows the axis when the range or size changes.
"""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import QLineF, QRectF, Qt
from PySide6.QtGui import QColor, QPen


class LevelGrid(pg.GraphicsObject):
    """Horizontal lines at the left axis's tick levels, as ``showGrid(y=True, alpha)``, over a band."""

    def __init__(self, plot: pg.PlotWidget, alpha: float = 0.25):
        super().__init__()
        self._axis = plot.getAxis("left")
        self._view = plot.getPlotItem().getViewBox()
        self._alpha = alpha
        self._lines: list[tuple[QPen, list[float]]] = []
        self._batches: list[tuple[QPen, list[QLineF]]] = []
        self._band: tuple[float, float] | None = None
        self._band_colour = QColor(Qt.GlobalColor.transparent)
        self._rect = QRectF()
        self.setZValue(-80)  # under the lines and the curve (0)
        plot.addItem(self, ignoreBounds=True)
        self._view.sigRangeChanged.connect(self._follow)
        self._view.sigResized.connect(self._follow)
        self._follow()

    def set_band(self, low: float, high: float, colour: QColor) -> None:
        """A band from ``low`` to ``high`` (data units), filled opaque under the grid lines."""
        self._band = (low, high)
        self._band_colour = QColor(colour)
        self.update()

    def band(self) -> tuple[float, float] | None:
        return self._band

    def _follow(self, *_args) -> None:
        """The axis's ticks for the view's range and height now, as pyqtgraph's grid draws them."""
        (x0, x1), (y0, y1) = self._view.viewRange()
        height = max(self._view.height(), 1.0)
        self.prepareGeometryChange()
        self._rect = QRectF(x0, y0, x1 - x0, y1 - y0)
        self._lines = []
        self._batches = []
        colour = self._axis.pen().color()
        for i, (_spacing, values) in enumerate(self._axis.tickValues(y0, y1, height)):
            # AxisItem.generateDrawSpecs: fainter for each finer level, and for crowded ticks
            alpha = 255 / (i + 1) * self._alpha * min(max(0.05 * height / (len(values) + 1), 0.0), 1.0)
            c = QColor(colour)
            c.setAlpha(int(alpha))
            pen = QPen(c)
            pen.setCosmetic(True)
            pen.setWidth(1)
            shown = [v for v in values if y0 <= v <= y1]
            self._lines.append((pen, shown))
            if int(alpha) > 0:
                self._batches.append((pen, [QLineF(x0, y, x1, y) for y in shown]))
        self.update()

    def levels(self) -> list[list[float]]:
        """The values drawn, major ticks first."""
        return [values for _pen, values in self._lines]

    def boundingRect(self) -> QRectF:
        return self._rect

    def paint(self, p, *_args) -> None:
        if self._band is not None:
            low, high = self._band
            r = self._rect
            p.fillRect(QRectF(r.left(), low, r.width(), high - low), self._band_colour)
        for pen, lines in self._batches:
            p.setPen(pen)
            p.drawLines(lines)
