"""The signature box with real Qt events: a mouse, a finger on a touch screen, a tablet pen."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QColor, QImage, QInputDevice, QPointingDevice, QTabletEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from desktop.consent import signature_problem
from desktop.signature_pad import SignaturePad, strokes_png


@pytest.fixture
def pad(qtbot):
    p = SignaturePad()
    qtbot.addWidget(p)
    p.resize(600, 200)
    p.show()
    qtbot.waitExposed(p)
    return p


def mouse_signature(pad, y=100, x0=40, x1=400, button=Qt.MouseButton.LeftButton):
    QTest.mousePress(pad, button, Qt.KeyboardModifier.NoModifier, QPoint(x0, y))
    for x in range(x0 + 10, x1, 10):
        QTest.mouseMove(pad, QPoint(x, y + (x // 10 % 2) * 12))
    QTest.mouseRelease(pad, button, Qt.KeyboardModifier.NoModifier, QPoint(x1, y))


def test_mouse_strokes_are_kept_in_order_with_time(qtbot, pad):
    changes = []
    pad.changed.connect(lambda: changes.append(1))
    mouse_signature(pad)
    strokes = pad.strokes()
    assert len(strokes) == 1 and len(strokes[0]) >= 30
    xs = [p[0] for p in strokes[0]]
    assert xs[0] == 40 and xs[-1] == 400 and xs == sorted(xs)
    assert all(p[2] == SignaturePad.MOUSE_PRESSURE for p in strokes[0])
    ms = [p[3] for p in strokes[0]]
    assert ms == sorted(ms)
    assert signature_problem(strokes) is None
    assert changes == [1]
    # a second stroke (the dot on an i) is a stroke of its own
    QTest.mouseClick(pad, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, QPoint(420, 60))
    assert [len(s) for s in pad.strokes()][1] >= 1 and len(pad.strokes()) == 2


def test_right_button_and_moves_without_a_press_draw_nothing(qtbot, pad):
    mouse_signature(pad, button=Qt.MouseButton.RightButton)
    for x in range(50, 300, 20):
        QTest.mouseMove(pad, QPoint(x, 80))
    assert pad.is_empty()


def test_touch_draws_one_stroke_not_two(qtbot, pad):
    """Touch events go through the window system: were they not accepted, Qt would also send the
    same movement as mouse events, and every stroke would be drawn twice."""
    dev = QTest.createTouchDevice()
    QTest.touchEvent(pad, dev).press(0, QPoint(60, 120), pad).commit()
    for x in range(80, 420, 20):
        QTest.touchEvent(pad, dev).move(0, QPoint(x, 120 - x // 20), pad).commit()
    QTest.touchEvent(pad, dev).release(0, QPoint(420, 100), pad).commit()
    strokes = pad.strokes()
    assert len(strokes) == 1, strokes
    assert strokes[0][0][:2] == (60.0, 120.0) and strokes[0][-1][:2] == (420.0, 100.0)
    assert signature_problem(strokes) is None


def test_a_second_finger_does_not_draw(qtbot, pad):
    dev = QTest.createTouchDevice()
    QTest.touchEvent(pad, dev).press(0, QPoint(60, 120), pad).commit()
    QTest.touchEvent(pad, dev).stationary(0).press(1, QPoint(500, 30), pad).commit()
    for x in range(80, 300, 20):
        QTest.touchEvent(pad, dev).move(0, QPoint(x, 120), pad).move(
            1, QPoint(500, 30 + x // 10), pad
        ).commit()
    QTest.touchEvent(pad, dev).release(0, QPoint(300, 120), pad).release(1, QPoint(500, 60), pad).commit()
    strokes = pad.strokes()
    assert len(strokes) == 1
    assert all(p[0] < 490 for p in strokes[0])


def test_cancelled_touch_drops_the_unfinished_stroke(qtbot, pad):
    mouse_signature(pad)
    dev = QTest.createTouchDevice()
    QTest.touchEvent(pad, dev).press(0, QPoint(60, 150), pad).commit()
    QTest.touchEvent(pad, dev).move(0, QPoint(200, 150), pad).commit()
    QApplication.sendEvent(pad, QEvent(QEvent.Type.TouchCancel))
    assert len(pad.strokes()) == 1  # the mouse stroke stays, the cancelled one is gone


def pen():
    return QPointingDevice(
        "test pen",
        4242,
        QInputDevice.DeviceType.Stylus,
        QPointingDevice.PointerType.Pen,
        QInputDevice.Capability.Position | QInputDevice.Capability.Pressure,
        1,
        3,
    )


def tablet(pad, device, kind, x, y, pressure, buttons):
    e = QTabletEvent(
        kind, device, QPointF(x, y), QPointF(pad.mapToGlobal(QPoint(x, y))), pressure,
        0.0, 0.0, 0.0, 0.0, 0.0, Qt.KeyboardModifier.NoModifier, Qt.MouseButton.LeftButton, buttons,
    )  # fmt: skip
    QApplication.sendEvent(pad, e)
    return e


def test_pen_pressure_is_kept_and_hovering_draws_nothing(qtbot, pad):
    dev = pen()
    left, none = Qt.MouseButton.LeftButton, Qt.MouseButton.NoButton
    for x in range(30, 200, 20):  # hovering before touching the glass
        e = tablet(pad, dev, QEvent.Type.TabletMove, x, 40, 0.0, none)
        assert e.isAccepted()  # accepted: Qt makes no mouse event of it
    assert pad.is_empty()
    tablet(pad, dev, QEvent.Type.TabletPress, 50, 150, 0.2, left)
    for i, x in enumerate(range(70, 450, 20)):
        tablet(pad, dev, QEvent.Type.TabletMove, x, 150 - i, min(1.0, 0.2 + i * 0.05), left)
    tablet(pad, dev, QEvent.Type.TabletRelease, 450, 130, 0.0, none)
    (stroke,) = pad.strokes()
    pressures = [p[2] for p in stroke]
    assert pressures[0] == pytest.approx(0.2) and max(pressures) == pytest.approx(1.0)
    assert pressures[:-1] == sorted(pressures[:-1])
    assert min(pressures) >= 0.05  # a pen lifting off reports 0: never an invisible line


def test_clear_and_the_png_shows_the_ink_where_it_was_drawn(qtbot, pad):
    mouse_signature(pad, y=100, x0=40, x1=400)
    image = QImage.fromData(pad.png(), "PNG")
    assert not image.isNull()
    assert (image.width(), image.height()) == (1200, 400)  # twice the box: sharp on paper

    def dark(x, y):
        return QColor(image.pixel(x, y)).lightness() < 128

    assert dark(2 * 200, 2 * 100) or dark(2 * 200, 2 * 112)  # on the stroke
    assert not dark(2 * 500, 2 * 100) and not dark(2 * 200, 2 * 20)  # nowhere near it: paper
    assert not any(dark(x, 2 * 160) for x in range(0, 1200, 7))  # the "sign here" line is not ink
    pad.clear()
    assert pad.is_empty()
    blank = QImage.fromData(pad.png(), "PNG")
    assert all(
        not dark_px for dark_px in (QColor(blank.pixel(x, 200)).lightness() < 128 for x in range(0, 1200, 10))
    )


def test_png_of_a_single_dot_is_drawn():
    image = QImage.fromData(strokes_png([[(50.0, 50.0, 1.0, 0)]], (100, 100)), "PNG")
    assert QColor(image.pixel(100, 100)).lightness() < 128
