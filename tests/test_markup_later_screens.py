"""Issue #10's input hygiene on the screens later issues added: a client whose name, notes and contact
details are markup is shown literally in the erasure, consent, screening, series, export and recall
windows (issue #10: "every user text shown as plain text ... every screen")."""

from __future__ import annotations

from desktop.records import Client
from tests.test_input_hygiene import ALARM, IMG, _literal, _shows


def test_markup_in_a_clients_text_is_literal_in_the_later_windows(qtbot, window, store):
    cid = store.add_client(
        Client("<i>x</i>", ALARM, phone="07700 900999", email="<i>x</i>@example.org", notes=f"n {IMG}")
    )
    sid = store.create_session(cid, "t", areas=["chin"])
    store.finish_session(sid, {"duration_s": 60}, "t")
    window.show_client(cid)
    page = window.client_page
    assert _literal(window) == []

    opened = {
        "erase": window.erase_client(),
        "export": window.export_client(),
        "consent signing": page.consent_section.sign(),
        "series plan": page.series_section.edit(new=True),
        "client screening": page.client_screening(),
        "recall": window.open_recall(),
    }
    for name, dlg in opened.items():
        assert dlg is not None, name
        qtbot.addWidget(dlg)
        assert _literal(dlg) == [], name
        if name not in ("series plan", "recall", "client screening"):  # these do not show the name
            assert ALARM in dlg.windowTitle() or _shows(dlg, ALARM), name
        dlg.close()
