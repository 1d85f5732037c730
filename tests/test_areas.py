"""The areas and passes recorded in the session notes are what the client's session table shows."""

from __future__ import annotations

from PySide6.QtCore import Qt

from desktop.records import Client, areas_text


def test_areas_text():
    assert areas_text(["forehead", "cheeks", "nose"], {"forehead": 3, "cheeks": 2}) == (
        "Forehead ×3, Cheeks ×2, Nose"
    )
    assert areas_text([]) == ""


def test_session_table_shows_the_areas_and_passes_from_the_notes(qtbot, window):
    store = window.store
    cid = store.add_client(Client("Area", "Shown"))
    sid = store.create_session(cid, "Dr A", set_point_kpa=24.0, areas=["forehead", "cheeks"])
    store.save_notes(sid, {"areas": ["forehead", "nose"], "passes": {"forehead": 3, "nose": 2}})
    store.finish_session(sid, {"duration_s": 900})
    window.show_client(cid)
    table = window.client_page.sessions
    areas = table.COLUMNS.index("Areas")
    assert table.headerData(areas, Qt.Orientation.Horizontal) == "Areas"
    assert table.data(table.index(0, areas)) == "Forehead ×3, Nose ×2"  # not the planned forehead, cheeks
    row = store.session(sid)
    assert (row.treated_areas, row.passes, row.areas) == (
        ["forehead", "nose"],
        {"forehead": 3, "nose": 2},
        ["forehead", "cheeks"],
    )


def test_a_session_whose_notes_list_no_area_shows_the_plan_as_a_plan(qtbot, window):
    store = window.store
    cid = store.add_client(Client("Plan", "Only"))
    sid = store.create_session(cid, "Dr A", areas=["chin"])
    store.save_notes(sid, {"areas": [], "passes": {}})
    window.show_client(cid)
    table = window.client_page.sessions
    assert table.data(table.index(0, table.COLUMNS.index("Areas"))) == "planned: Chin"
