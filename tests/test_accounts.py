"""People, roles, permissions, logging in and recovering: real encrypted files, real argon2id."""

from __future__ import annotations

import hashlib

import pytest

from desktop import accounts, keys
from desktop.accounts import AccountError, LoginError, Permission, Role
from desktop.store import cipher, security

pytestmark = pytest.mark.timeout(120)

ADMIN, PASS = "Maya Okonkwo", "plum tree in the yard"


@pytest.fixture
def setup(tmp_path):
    s = accounts.create_clinic(tmp_path / "abrasio.db", ADMIN, PASS)
    yield s
    s.clinic.close()


def _files(folder) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def test_the_permission_table():
    """What each role may do, as the issue states it; the windows consult exactly this."""
    may = {r: {p for p in Permission if accounts.Person(1, "x", frozenset({r})).may(p)} for r in Role}
    P = Permission
    assert may[Role.FRONT_DESK] == {P.CONTACTS_VIEW, P.CONTACTS_EDIT, P.RECALL_LIST}
    assert {P.CLINICAL_VIEW, P.CLINICAL_EDIT, P.SESSION_RUN, P.EXPORT_PRINT} <= may[Role.PRACTITIONER]
    assert not may[Role.PRACTITIONER] & {P.PEOPLE_MANAGE, P.SETTINGS_EDIT, P.BACKUPS, P.AUDIT_VIEW}
    assert {P.PEOPLE_MANAGE, P.SETTINGS_EDIT, P.BACKUPS, P.AUDIT_VIEW} <= may[Role.ADMINISTRATOR]
    assert P.CLINICAL_VIEW not in may[Role.ADMINISTRATOR]  # administering is not treating
    both = accounts.Person(1, "x", frozenset({Role.ADMINISTRATOR, Role.PRACTITIONER}))
    assert both.may(P.CLINICAL_VIEW) and both.may(P.AUDIT_VIEW)
    gone = accounts.Person(1, "x", frozenset({Role.PRACTITIONER}), active=False)
    assert not gone.may(P.CLINICAL_VIEW)


def test_setting_up_a_clinic_creates_an_encrypted_file_and_its_administrator(setup, tmp_path):
    clinic = setup.clinic
    assert clinic.person.name == ADMIN
    assert clinic.person.roles == {Role.ADMINISTRATOR, Role.PRACTITIONER}
    assert not cipher.is_plaintext_sqlite(tmp_path / "abrasio.db")
    assert keys.KeyFile.load(tmp_path / "abrasio.db.keys").recover(setup.recovery_key) == clinic.database_key
    assert [e.action for e in security.audit_entries(clinic.store.db)] == ["add person", "set up clinic"]
    assert accounts.known_names(tmp_path / "abrasio.db") == [ADMIN]


def test_setup_refuses_a_weak_passphrase_and_writes_nothing(tmp_path):
    for name, passphrase, message in (
        (ADMIN, "short", "at least 10"),
        (ADMIN, "Maya Okonkwo rules", "your name"),
        (ADMIN, "aaaaaaaaaaaa", "too easy"),
        ("", PASS, "name"),
        ("recovery", PASS, "reserved"),
    ):
        with pytest.raises(AccountError, match=message):
            accounts.create_clinic(tmp_path / "abrasio.db", name, passphrase)
    assert list(tmp_path.iterdir()) == []


def test_setup_never_writes_over_an_existing_clinic(setup, tmp_path):
    setup.clinic.close()
    before = _files(tmp_path)
    with pytest.raises(AccountError, match="set up only once"):
        accounts.create_clinic(tmp_path / "abrasio.db", "Someone Else", "another passphrase")
    assert _files(tmp_path) == before


def test_login_with_the_right_passphrase(setup, tmp_path):
    setup.clinic.close()
    clinic = accounts.login(tmp_path / "abrasio.db", "maya okonkwo", PASS)
    try:
        assert clinic.person.name == ADMIN
        assert security.audit_entries(clinic.store.db)[-1].action == "login"
        assert security.verify_audit(clinic.store.db, clinic.store.protection).ok
    finally:
        clinic.close()


def test_a_wrong_passphrase_gets_a_clear_message_and_leaves_every_file_untouched(setup, tmp_path):
    setup.clinic.close()
    before = _files(tmp_path)
    with pytest.raises(LoginError, match="passphrase for Maya Okonkwo is not right"):
        accounts.login(tmp_path / "abrasio.db", ADMIN, "plum tree in the yarn")
    with pytest.raises(LoginError, match="no one called 'Tom'"):
        accounts.login(tmp_path / "abrasio.db", "Tom", PASS)
    assert _files(tmp_path) == before


def test_people_are_added_by_an_administrator_only(setup, tmp_path):
    clinic = setup.clinic
    tom = clinic.add_person("Tom Reyes", [Role.FRONT_DESK], "front desk passphrase")
    assert not tom.may(Permission.CLINICAL_VIEW)
    with pytest.raises(AccountError, match="already someone called"):
        clinic.add_person("tom reyes", [Role.PRACTITIONER], "another passphrase")
    clinic.close()
    as_tom = accounts.login(tmp_path / "abrasio.db", "Tom Reyes", "front desk passphrase")
    try:
        assert as_tom.person.roles == {Role.FRONT_DESK}
        with pytest.raises(AccountError, match=r"Tom Reyes \(Front desk\) may not do this"):
            as_tom.add_person("Mallory", [Role.ADMINISTRATOR], "let me in please")
    finally:
        as_tom.close()


def test_deactivating_keeps_history_and_stops_the_login(setup, tmp_path):
    clinic = setup.clinic
    tom = clinic.add_person("Tom Reyes", [Role.PRACTITIONER], "practitioner passphrase")
    clinic.person, admin = tom, clinic.person  # Tom works a while
    clinic.audit("open", "client", 7, client_id=7)
    clinic.person = admin
    with pytest.raises(AccountError, match="cannot deactivate yourself"):
        clinic.deactivate(admin.id)
    clinic.deactivate(tom.id)
    people = {p.name: p for p in clinic.people()}
    assert people["Tom Reyes"].active is False  # still there, named on his records
    assert [e.person for e in security.audit_entries(clinic.store.db, client_id=7)] == ["Tom Reyes"]
    with pytest.raises(LoginError, match="deactivated"):
        clinic.verify("Tom Reyes", "practitioner passphrase")
    clinic.close()
    with pytest.raises(LoginError, match="no one called"):  # his key-file entry is gone
        accounts.login(tmp_path / "abrasio.db", "Tom Reyes", "practitioner passphrase")


def test_the_clinic_always_keeps_an_active_administrator(setup):
    clinic = setup.clinic
    with pytest.raises(AccountError, match="at least one active administrator"):
        clinic.set_roles(clinic.person.id, [Role.PRACTITIONER])
    ana = clinic.add_person("Ana Silva", [Role.ADMINISTRATOR], "second admin passphrase")
    with pytest.raises(AccountError, match="at least one role"):
        clinic.set_roles(ana.id, [])
    clinic.set_roles(clinic.person.id, [Role.PRACTITIONER])  # Ana remains
    assert {p.name: p.roles for p in clinic.people()}[ADMIN] == {Role.PRACTITIONER}
    assert security.audit_entries(clinic.store.db)[-1].action == "set roles"
    assert not clinic.person.may(Permission.PEOPLE_MANAGE)  # at once, in this session
    with pytest.raises(AccountError, match=r"\(Practitioner\) may not do this"):
        clinic.set_roles(ana.id, [Role.PRACTITIONER])


def test_changing_a_passphrase_rewraps_and_never_re_encrypts(setup, tmp_path):
    clinic = setup.clinic
    path = tmp_path / "abrasio.db"
    salt = path.read_bytes()[:16]  # SQLCipher's per-file salt: new if the file were re-encrypted
    old_key = clinic.database_key
    with pytest.raises(LoginError, match="not right"):
        clinic.change_passphrase("wrong old passphrase", "a brand new passphrase")
    clinic.change_passphrase(PASS, "a brand new passphrase")
    clinic.close()
    assert path.read_bytes()[:16] == salt
    cipher.connect(path, old_key).close()  # the same key still opens the file
    with pytest.raises(LoginError):
        accounts.login(path, ADMIN, PASS)
    again = accounts.login(path, ADMIN, "a brand new passphrase")
    try:
        again.verify(ADMIN, "a brand new passphrase")  # the lock screen's check agrees
        assert "change passphrase" in [e.action for e in security.audit_entries(again.store.db)]
    finally:
        again.close()


def test_unlocking_as_another_person_is_recorded(setup):
    clinic = setup.clinic
    clinic.add_person("Tom Reyes", [Role.PRACTITIONER], "practitioner passphrase")
    with pytest.raises(LoginError, match="not right"):
        clinic.switch_to("Tom Reyes", "wrong passphrase!")
    assert clinic.person.name == ADMIN
    clinic.switch_to("tom reyes", "practitioner passphrase")
    assert clinic.person.name == "Tom Reyes"
    last = security.audit_entries(clinic.store.db)[-1]
    assert (last.action, last.person, last.details) == ("unlock", "Tom Reyes", '{"previous": "Maya Okonkwo"}')


def test_the_recovery_key_gives_the_administrator_a_new_passphrase(setup, tmp_path):
    setup.clinic.close()
    path = tmp_path / "abrasio.db"
    with pytest.raises(LoginError, match="not the recovery key"):
        accounts.recover(path, keys.new_recovery_key(), ADMIN, "a fresh passphrase")
    typo = setup.recovery_key[:-1] + ("1" if setup.recovery_key[-1] != "1" else "2")
    with pytest.raises(LoginError, match="has a typo"):
        accounts.recover(path, typo, ADMIN, "a fresh passphrase")
    clinic = accounts.recover(path, setup.recovery_key, ADMIN, "a fresh passphrase")
    try:
        last = security.audit_entries(clinic.store.db)[-1]
        assert (last.action, last.person) == ("recovery key used", ADMIN)
        new_recovery = clinic.new_recovery_key()  # the used one is replaced
    finally:
        clinic.close()
    accounts.login(path, ADMIN, "a fresh passphrase").close()
    with pytest.raises(LoginError, match="not the recovery key"):
        accounts.recover(path, setup.recovery_key, ADMIN, "yet another passphrase")
    accounts.recover(path, new_recovery, ADMIN, "yet another passphrase").close()


def test_recovery_is_for_an_administrator(setup, tmp_path):
    setup.clinic.add_person("Tom Reyes", [Role.PRACTITIONER], "practitioner passphrase")
    setup.clinic.close()
    with pytest.raises(LoginError, match="not an administrator"):
        accounts.recover(tmp_path / "abrasio.db", setup.recovery_key, "Tom Reyes", "a fresh passphrase")


def test_a_missing_key_file_is_a_clear_error(setup, tmp_path):
    setup.clinic.close()
    (tmp_path / "abrasio.db.keys").rename(tmp_path / "elsewhere.keys")
    with pytest.raises(keys.KeyFileError, match=r"key file .* is missing"):
        accounts.login(tmp_path / "abrasio.db", ADMIN, PASS)
    assert accounts.known_names(tmp_path / "abrasio.db") == []
