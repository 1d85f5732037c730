"""No SQL outside desktop/store/ (issue #10): the app's other modules (demo, settings, self-test,
windows, the handpiece link) reach the file only through the Store facade. Checked on the source's
syntax tree: no string that starts like an SQL statement, no ``execute``/``executemany``/
``executescript`` call and no ``.conn`` of a store outside desktop/store/."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SQL = re.compile(
    r"^\s*(SELECT|INSERT|UPDATE|DELETE|CREATE|DROP|ALTER|PRAGMA|WITH|BEGIN|COMMIT|ROLLBACK|VACUUM|ATTACH)\s",
    re.IGNORECASE,
)
EXECUTE = {"execute", "executemany", "executescript"}


def _sources():
    for folder in ("desktop", "device"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            if "store" not in path.relative_to(ROOT / "desktop").parts[:1] if folder == "desktop" else True:
                yield path


def sql_outside_the_store(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    found = []
    for node in ast.walk(tree):
        where = f"{path.relative_to(ROOT)}:{getattr(node, 'lineno', '?')}"
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            if SQL.match(node.value) and re.search(r"\b(FROM|INTO|SET|TABLE|=|\()", node.value, re.I):
                found.append(f"{where}: SQL text {node.value[:60]!r}")
        elif isinstance(node, ast.Attribute) and node.attr in EXECUTE:
            found.append(f"{where}: .{node.attr}(…)")
        elif isinstance(node, ast.Attribute) and node.attr == "conn":
            found.append(f"{where}: a store's connection (.conn)")
    return found


def test_the_check_sees_sql(tmp_path):
    bad = ROOT / "desktop" / "_sql_probe_for_test.py"
    bad.write_text('def f(store):\n    store.conn.execute("SELECT name FROM clients")\n', encoding="utf-8")
    try:
        found = sql_outside_the_store(bad)
    finally:
        bad.unlink()
    assert len(found) == 3, found  # the SQL text, the execute call, the connection


def test_no_sql_outside_desktop_store():
    found = [f for path in _sources() for f in sql_outside_the_store(path)]
    assert found == [], "\n".join(found)
