"""Graph text readable from a metre: axis numbers and titles at 14 px, the ceiling's label larger.

pyqtgraph draws its text in a graphics scene, which does not take the stylesheet's font size; these
helpers give the axes and line labels their fonts explicitly (pixel sizes, so they follow the screen's
scale factor like the rest of the app).
"""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtGui import QFont

AXIS_PX = 14
CEILING_PX = 20


def font(px: int, bold: bool = False) -> QFont:
    f = QFont()
    f.setPixelSize(px)
    f.setBold(bold)
    return f


def readable_axes(plot: pg.PlotWidget) -> None:
    for name in ("left", "bottom"):
        axis = plot.getAxis(name)
        axis.setStyle(tickFont=font(AXIS_PX))
        axis.label.setFont(font(AXIS_PX))


def line_label_font(line: pg.InfiniteLine, px: int, bold: bool = False) -> None:
    """The text beside a horizontal or vertical line (ceiling, set-point, marker)."""
    if line.label is not None:
        line.label.textItem.setFont(font(px, bold))
