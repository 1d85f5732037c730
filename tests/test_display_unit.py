"""The clinic's display unit wherever a vacuum is shown or typed; the database keeps kPa, exactly."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from desktop.client_form import ClientDialog
from desktop.records import Client
from desktop.settings_dialog import SettingsDialog
from device.units import to_kpa


def test_client_form_ceiling_in_the_display_unit_and_no_drift_when_untouched(qtbot, store):
    store.set_setting("display_unit", "mmHg")
    cid = store.add_client(Client("Mm", "Hg", sensitivity="sensitive", vacuum_ceiling_kpa=30.3))
    dlg = ClientDialog(store, store.client(cid))
    qtbot.addWidget(dlg)
    assert dlg.ceiling.suffix() == " mmHg"
    assert dlg.ceiling.text() == "227 mmHg"  # 30.3 kPa
    assert "default 225 mmHg" in dlg.ceiling_hint.text()  # sensitive: 30 kPa
    dlg.notes.setPlainText("opened, read, saved")
    dlg.save()
    assert store.client(cid).vacuum_ceiling_kpa == 30.3  # not 227 mmHg = 30.26 kPa


def test_a_ceiling_typed_in_inhg_is_stored_in_kpa(qtbot, store):
    store.set_setting("display_unit", "inHg")
    cid = store.add_client(Client("In", "Hg"))
    dlg = ClientDialog(store, store.client(cid))
    qtbot.addWidget(dlg)
    dlg.show()
    dlg.ceiling.lineEdit().selectAll()
    qtbot.keyClicks(dlg.ceiling, "10")
    dlg.ceiling.interpretText()
    dlg.save()
    assert store.client(cid).vacuum_ceiling_kpa == pytest.approx(to_kpa(10, "inHg"), abs=0.01)


def test_the_ceiling_range_message_speaks_the_display_unit(qtbot, store):
    store.set_setting("display_unit", "mbar")
    dlg = ClientDialog(store)
    qtbot.addWidget(dlg)
    qtbot.keyClicks(dlg.last_name, "Low")
    dlg.ceiling.set_kpa(2)
    dlg.save()
    assert dlg.errors["vacuum_ceiling_kpa"].text() == "The vacuum ceiling must be 50 mbar to 900 mbar."


def test_settings_ceiling_defaults_in_the_display_unit_follow_a_unit_change(qtbot, store):
    store.set_setting("display_unit", "inHg")
    dlg = SettingsDialog(store)
    qtbot.addWidget(dlg)
    sensitive = dlg.ceilings["sensitive"]
    assert sensitive.text() == "8.9 inHg"  # 30 kPa
    dlg.unit.setCurrentText("mmHg")  # changing the unit in the dialog converts what it shows
    assert sensitive.text() == "225 mmHg"
    dlg.ceilings["normal"].lineEdit().selectAll()
    qtbot.keyClicks(dlg.ceilings["normal"], "300")
    dlg.ceilings["normal"].interpretText()
    qtbot.mouseClick(dlg.buttons.buttons()[0], Qt.MouseButton.LeftButton)  # Save
    saved = store.setting("ceiling_defaults_kpa")
    assert saved["sensitive"] == 30.0  # untouched: exactly as it was
    assert saved["normal"] == pytest.approx(to_kpa(300, "mmHg"), abs=0.01)
    assert store.setting("display_unit") == "mmHg"


def test_client_page_and_session_table_follow_a_unit_change(qtbot, window):
    store = window.store
    cid = store.add_client(Client("Page", "Unit"))
    sid = store.create_session(cid, "Dr A", set_point_kpa=24.0, ceiling_kpa=45.0, areas=["nose"])
    store.finish_session(sid, {"duration_s": 600, "peak_kpa": 26.0})
    window.show_client(cid)
    table = window.client_page.sessions
    assert "24.0 kPa" in table.data(table.index(0, table.COLUMNS.index("Set-point")))
    dlg = window.open_settings()
    dlg.unit.setCurrentText("mmHg")
    dlg.save()
    assert "338 mmHg" in window.client_page.details.text()  # 45 kPa ceiling
    assert table.data(table.index(0, table.COLUMNS.index("Set-point"))) == "180 mmHg"
    assert table.data(table.index(0, table.COLUMNS.index("Peak"))) == "195 mmHg"
