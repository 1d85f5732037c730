"""The database key, wrapped per person in the key file: real files in tmp_path, real argon2id."""

from __future__ import annotations

import json
import os
import stat
import sys

import pytest

from desktop import keys
from desktop.keys import KeyFile, KeyFileError, RecoveryKeyTypoError, WrongPassphraseError

pytestmark = pytest.mark.timeout(120)

FAST = {"t": 1, "m": 8 * 1024, "p": 1}  # only where a test wraps many times; the rest use the real cost


@pytest.fixture
def db_key() -> bytes:
    return keys.new_database_key()


@pytest.fixture
def keyfile(tmp_path, db_key):
    recovery = keys.new_recovery_key()
    kf = KeyFile.create(keys.key_file_path(tmp_path / "abrasio.db"), db_key, recovery)
    kf.add(db_key, "Maya Okonkwo", "plum tree in the yard")
    return kf, recovery


def test_a_person_unwraps_the_database_key_and_the_file_never_holds_it(keyfile, db_key):
    kf, _ = keyfile
    again = KeyFile.load(kf.path)
    assert again.unlock("Maya Okonkwo", "plum tree in the yard") == db_key
    assert again.unlock("  maya okonkwo ", "plum tree in the yard") == db_key  # the name as typed
    raw = kf.path.read_bytes()
    assert db_key not in raw and db_key.hex().encode() not in raw
    assert keys._b64(db_key).encode() not in raw
    assert json.loads(raw)["version"] == keys.VERSION
    assert again.people() == ["Maya Okonkwo"]


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permissions")
def test_the_key_file_is_private_to_its_owner(keyfile):
    kf, _ = keyfile
    assert stat.S_IMODE(kf.path.stat().st_mode) == 0o600
    assert [p.name for p in kf.path.parent.iterdir()] == [kf.path.name]  # no temporary file left


def test_a_wrong_passphrase_gets_a_clear_error_and_nothing_is_written(keyfile):
    kf, _ = keyfile
    before = (kf.path.read_bytes(), kf.path.stat().st_mtime_ns)
    again = KeyFile.load(kf.path)
    with pytest.raises(WrongPassphraseError, match="passphrase for Maya Okonkwo is not right"):
        again.unlock("Maya Okonkwo", "plum tree in the yarn")
    with pytest.raises(WrongPassphraseError, match="no one called 'Mia'"):
        again.unlock("Mia", "plum tree in the yard")
    assert (kf.path.read_bytes(), kf.path.stat().st_mtime_ns) == before


def test_changing_a_passphrase_rewraps_the_same_key(keyfile, db_key):
    kf, recovery = keyfile
    old_entry = dict(kf.entries["Maya Okonkwo"])
    kf.rewrap(db_key, "maya okonkwo", "a new and longer passphrase")
    again = KeyFile.load(kf.path)
    assert again.unlock("Maya Okonkwo", "a new and longer passphrase") == db_key
    with pytest.raises(WrongPassphraseError):
        again.unlock("Maya Okonkwo", "plum tree in the yard")
    assert again.entries["Maya Okonkwo"]["salt"] != old_entry["salt"]  # a fresh pad
    assert again.recover(recovery) == db_key  # the other entries are untouched


def test_the_recovery_key_unwraps_and_catches_typos(keyfile, db_key):
    kf, recovery = keyfile
    assert len(recovery) == 39 and recovery.count("-") == 7
    again = KeyFile.load(kf.path)
    assert again.recover(recovery) == db_key
    assert again.recover(recovery.lower().replace("-", " ")) == db_key  # typed loosely
    # every single-character typo is caught by the checksum before any unwrap is tried
    for i, ch in enumerate(recovery):
        if ch == "-":
            continue
        wrong = keys._ALPHABET[(keys._DECODE[ch] + 1) % 32]
        typo = recovery[:i] + wrong + recovery[i + 1 :]
        with pytest.raises(RecoveryKeyTypoError, match="typo"):
            keys.parse_recovery_key(typo)
    with pytest.raises(RecoveryKeyTypoError, match="32 characters"):
        again.recover(recovery[:-2])
    with pytest.raises(RecoveryKeyTypoError, match="never uses: U"):
        again.recover("U" + recovery[1:])
    other = keys.new_recovery_key()  # well-formed, but another database's
    with pytest.raises(WrongPassphraseError, match="not the recovery key"):
        again.recover(other)


def test_ambiguous_letters_read_as_the_digits_they_look_like():
    key = keys.new_recovery_key()
    assert keys.parse_recovery_key(key.replace("0", "O").replace("1", "l")) == keys.parse_recovery_key(key)


@pytest.mark.parametrize(
    "tamper",
    [
        "swap the wrapped keys of two entries",
        "add an entry wrapped with another key",
        "remove a person",
        "change an argon2 parameter",
        "change the database id",
    ],
)
def test_a_tampered_key_file_is_detected(tmp_path, db_key, tamper):
    recovery = keys.new_recovery_key()
    kf = KeyFile.create(tmp_path / "abrasio.db.keys", db_key, recovery)
    kf.add(db_key, "Maya", "maya's passphrase")
    kf.add(db_key, "Tom", "tom's passphrase")
    data = json.loads(kf.path.read_text())
    by_who = {e["who"]: e for e in data["entries"]}
    if tamper == "swap the wrapped keys of two entries":
        by_who["Maya"]["wrapped"], by_who["Tom"]["wrapped"] = (
            by_who["Tom"]["wrapped"],
            by_who["Maya"]["wrapped"],
        )
    elif tamper == "add an entry wrapped with another key":
        data["entries"].append(keys.wrap(keys.new_database_key(), "Mallory", "mallory", FAST))
    elif tamper == "remove a person":
        data["entries"] = [e for e in data["entries"] if e["who"] != "Tom"]
    elif tamper == "change an argon2 parameter":
        by_who["Tom"]["t"] = 1
    elif tamper == "change the database id":
        data["database_id"] = "0" * 32
    kf.path.write_text(json.dumps(data))
    altered = KeyFile.load(kf.path)
    with pytest.raises(KeyFileError) as err:
        altered.unlock("Maya", "maya's passphrase")
    assert "altered" in str(err.value) or "not right" in str(err.value)
    with pytest.raises(KeyFileError):
        altered.recover(recovery)


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", "damaged"),
        (b"\xff\xfe not text", "Cannot read"),
        (b'{"format": "something-else"}', "damaged"),
        (b'{"format": "abrasio-keys", "version": 99}', "newer Abrasio"),
    ],
)
def test_a_damaged_or_newer_key_file_is_refused_in_words(tmp_path, content, message):
    path = tmp_path / "abrasio.db.keys"
    path.write_bytes(content)
    with pytest.raises(KeyFileError, match=message):
        KeyFile.load(path)
    assert path.read_bytes() == content


def test_a_missing_key_file_says_what_to_do(tmp_path):
    with pytest.raises(KeyFileError, match=r"missing.*restore it"):
        KeyFile.load(tmp_path / "abrasio.db.keys")


def test_an_absurd_argon2_cost_in_the_file_is_refused_before_running(tmp_path, db_key):
    kf = KeyFile.create(tmp_path / "k.keys", db_key, keys.new_recovery_key())
    data = json.loads(kf.path.read_text())
    data["entries"][0]["m"] = 1 << 40  # would allocate a terabyte
    kf.path.write_text(json.dumps(data))
    with pytest.raises(KeyFileError, match="out of range"):
        KeyFile.load(kf.path)


def test_a_key_file_is_never_overwritten_by_create(keyfile, db_key):
    kf, _ = keyfile
    with pytest.raises(KeyFileError, match="never overwrites"):
        KeyFile.create(kf.path, keys.new_database_key(), keys.new_recovery_key())
    assert KeyFile.load(kf.path).unlock("Maya Okonkwo", "plum tree in the yard") == db_key


def test_removing_a_person_stops_their_passphrase(keyfile, db_key):
    kf, _ = keyfile
    kf.add(db_key, "Tom", "tom's passphrase")
    kf.remove(db_key, "tom")
    with pytest.raises(WrongPassphraseError, match="no one called"):
        KeyFile.load(kf.path).unlock("Tom", "tom's passphrase")
    with pytest.raises(ValueError, match="already has"):
        kf.add(db_key, "MAYA OKONKWO", "x")


def test_changes_need_the_database_key(keyfile):
    kf, _ = keyfile
    with pytest.raises(KeyFileError, match="altered"):
        kf.add(keys.new_database_key(), "Mallory", "mallory")
    assert "Mallory" not in KeyFile.load(kf.path).entries


def test_a_failed_save_leaves_the_old_file_whole(keyfile, db_key, monkeypatch):
    kf, _ = keyfile
    before = kf.path.read_bytes()

    def fail(*_a):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", fail)
    with pytest.raises(OSError, match="No space"):
        kf.add(db_key, "Tom", "tom's passphrase")
    assert kf.path.read_bytes() == before
    assert [p.name for p in kf.path.parent.iterdir()] == [kf.path.name]
    assert "Tom" not in kf.entries
    monkeypatch.undo()
    kf.add(db_key, "Tom", "tom's passphrase")  # the object is still consistent with the file
    assert KeyFile.load(kf.path).unlock("Tom", "tom's passphrase") == db_key


def test_entries_carry_the_tuned_argon2_parameters(keyfile):
    """Login cost is measured by the benchmarks' security group (never timed here); what a test
    can hold is that new wraps use the tuned parameters, which are stored per entry."""
    kf, _ = keyfile
    entry = KeyFile.load(kf.path).entries["Maya Okonkwo"]
    assert (
        (entry["kdf"], entry["t"], entry["m"], entry["p"])
        == ("argon2id", 3, 65536, 1)
        == (
            "argon2id",
            *keys.ARGON2.values(),
        )
    )
