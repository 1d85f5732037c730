"""Is the file sound? SQLite's ``quick_check``, and what its findings mean in the clinic's words.

Opening runs ``quick_check`` on every table but the vacuum traces (the clinical records: cheap, a few
hundredths of a second at 100,000 clients); the whole file, traces included, is checked afterwards
on another connection in the background (seconds on a large file with a cold cache), with writes held
until it has passed. A damaged file is never written: it is opened read-only.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from desktop.store.errors import DATABASE_ERRORS

TRACE_TABLE = "vacuum_trace_chunks"

# table -> what it holds, in words (indexes and full-text shadow tables count as their table)
_WHAT = (
    ("clients", "client records"),
    ("screening_answers", "screening answers"),
    ("screening_rules", "screening rules"),
    ("treatment_sessions", "treatment session records"),
    ("session_notes", "session notes"),
    ("vacuum_trace_chunks", "recorded vacuum traces"),
    ("markers", "session markers"),
    ("alarms", "alarm records"),
    ("change_log", "the change history"),
    ("settings", "clinic settings"),
    ("practitioners", "the practitioner list"),
)


def describe(table: str) -> str:
    for prefix, words in _WHAT:
        if table == prefix or table.startswith(prefix + "_"):
            return words
    return f"internal table {table}"


@dataclass(frozen=True)
class CheckResult:
    problems: tuple[str, ...]  # quick_check's own lines; empty when the file is sound
    affected: tuple[str, ...]  # what the problems touch, in words ("client records", …)

    @property
    def ok(self) -> bool:
        return not self.problems


def _tables(conn: sqlite3.Connection) -> list[str]:
    return [
        r[0]
        for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND rootpage > 0")
        if not r[0].startswith("sqlite_")
    ]


def _check_tables(conn: sqlite3.Connection, tables: list[str]) -> list[tuple[str, str]]:
    problems = []
    for table in tables:
        try:
            rows = [r[0] for r in conn.execute("SELECT * FROM pragma_quick_check(?)", [table])]
        except DATABASE_ERRORS as exc:
            rows = [str(exc)]
        problems += [(table, line) for line in rows if line != "ok"]
    return problems


def search_index_tables(conn: sqlite3.Connection) -> tuple[str, ...]:
    """The full-text search indexes' own tables (FTS5 keeps each index in ``<name>_data``,
    ``<name>_idx``…): derived from the client records and rebuilt from them, so the opening check
    leaves them to the background check of the whole file (on an encrypted file they are a third of
    what the opening check must decrypt)."""
    virtual = [
        r[0]
        for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND sql LIKE 'CREATE VIRTUAL%'"
        )
    ]
    return tuple(t for t in _tables(conn) if any(t.startswith(f"{v}_") for v in virtual))


def quick_check(conn: sqlite3.Connection, skip: tuple[str, ...] = ()) -> CheckResult:
    """``PRAGMA quick_check`` of the whole file, or (``skip``) of every table but those, one by one.

    When the whole file fails, each table is checked on its own to say what is affected. A file too
    damaged for its list of tables to be read raises ``sqlite3.DatabaseError`` (the caller decides).
    """
    tables = _tables(conn)
    if skip:
        found = _check_tables(conn, [t for t in tables if t not in skip])
        problems = [f"{table}: {line}" for table, line in found]
        return CheckResult(tuple(problems), _words(t for t, _ in found))
    try:
        rows = [r[0] for r in conn.execute("PRAGMA quick_check")]
    except DATABASE_ERRORS as exc:
        rows = [str(exc)]
    if rows == ["ok"]:
        return CheckResult((), ())
    found = _check_tables(conn, tables)
    words = _words(t for t, _ in found) or ("the file's free space",)  # only pages no table uses
    return CheckResult(tuple(rows), words)


def _words(tables) -> tuple[str, ...]:
    words: list[str] = []
    for table in tables:
        w = describe(table)
        if w not in words:
            words.append(w)
    return tuple(words)
