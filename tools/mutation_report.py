"""Mutation score per module, and every surviving mutant with what it changes, from mutmut's results.

Run by ``bash ./dev mutate`` after ``mutmut run``: reads ``mutants/**/*.meta`` (mutmut 3's results) and
the mutated sources beside them, and writes ``docs/mutation.md``. A survivor is explained in
``docs/mutation-notes.json`` (mutant name → why it is equivalent); one without a note is marked
UNEXPLAINED, for a new test to kill.

    python tools/mutation_report.py [--mutants DIR] [--out FILE] [--title TEXT] [--preface FILE]
"""

from __future__ import annotations

import argparse
import ast
import difflib
import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# The safety modules: file → the functions counted (None: all of it). Of records.py only screening.
MODULES = {
    "desktop/session/run.py": None,
    "desktop/session/alarms.py": None,
    "desktop/records.py": (
        "add_months",
        "ScreeningRule",
        "ScreeningStatus",
        "evaluate",
        "next_due",
        "interval_warning",
        "Client.pih_risk",
    ),
    "device/protocol.py": None,
    "device/text.py": None,
    "desktop/store/trace.py": None,
    "desktop/session/recorder.py": None,
}
KILLED = {
    1: "killed",
    3: "killed",
    36: "timeout",
    24: "timeout",
    -24: "timeout",
    152: "timeout",
    255: "timeout",
}
SURVIVED = {0: "survived"}
NO_TESTS = {5: "no tests", 33: "no tests"}
_NAME = re.compile(
    r"^(?P<mod>[\w.]+?)\.x(?:ǁ(?P<cls>[A-Za-z0-9_]+)ǁ|_)(?P<fn>[A-Za-z0-9_]+?)__mutmut_(?P<n>\d+)$"
)


def _counted(name: str, functions: tuple[str, ...] | None) -> bool:
    if functions is None:
        return True
    m = _NAME.match(name)
    if not m:
        return False
    cls, fn = m["cls"], m["fn"]
    return any(f in (fn, cls, f"{cls}.{fn}") for f in functions)


def _sources(mutated: Path) -> dict[str, str]:
    """Every function's source in mutmut's mutated file, by name (methods under their mangled names)."""
    text = mutated.read_text(encoding="utf-8")
    lines = text.splitlines()
    out = {}
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            out[node.name] = "\n".join(lines[node.lineno - 1 : node.end_lineno])
    return out


def _diff(name: str, sources: dict[str, str]) -> str:
    short = name.rsplit(".", 1)[1]
    orig = short.rsplit("__mutmut_", 1)[0] + "__mutmut_orig"
    if short not in sources or orig not in sources:
        return "(source not found)"
    a = sources[orig].splitlines()[1:]
    b = sources[short].splitlines()[1:]
    lines = [
        line.strip()
        for line in difflib.unified_diff(a, b, lineterm="", n=0)
        if line[:1] in "+-" and not line.startswith(("+++", "---"))
    ]
    return " ⟶ ".join(lines) if lines else "(no visible change)"


_BASELINE_ROW = re.compile(r"^\| `(?P<path>[^`]+)`[^|]*\|.*\*\*(?P<score>[\d.]+) %\*\*")


def baseline_scores(path: Path) -> dict[str, str]:
    """Module → score (of all) in a baseline report (docs/mutation-baseline.md), as written there."""
    if not path.exists():
        return {}
    out = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        m = _BASELINE_ROW.match(line)
        if m:
            out[m["path"]] = f"{m['score']} %"
    return out


def report(
    mutants: Path, notes: dict[str, str], title: str, before: dict[str, str] | None = None, preface: str = ""
) -> tuple[str, dict]:
    before = before or {}
    rows, survivors, scores = [], [], {}
    for path, functions in MODULES.items():
        meta = mutants / f"{path}.meta"
        was = before.get(path, "—")
        if not meta.exists():
            rows.append(f"| `{path}` | — | — | — | — | — | — | not in this run | | {was} |")
            continue
        codes = json.loads(meta.read_text(encoding="utf-8"))["exit_code_by_key"]
        codes = {k: v for k, v in codes.items() if _counted(k, functions)}
        killed = sum(1 for c in codes.values() if c in KILLED)
        survived = [k for k, c in codes.items() if c in SURVIVED]
        no_tests = [k for k, c in codes.items() if c in NO_TESTS]
        other = len(codes) - killed - len(survived) - len(no_tests)
        total = len(codes)
        score = 100.0 * killed / total if total else 0.0
        scores[path] = {"killed": killed, "total": total, "score": round(score, 1)}
        checked = total - other
        of_checked = 100.0 * killed / checked if checked else 0.0
        scores[path]["of_checked"] = round(of_checked, 1)
        explained = sum(1 for k in survived + no_tests if k in notes)
        scores[path]["explained"] = explained
        scores[path]["unexplained"] = len(survived) + len(no_tests) - explained
        rows.append(
            f"| `{path}`{' (screening)' if functions else ''} | {total} | {checked} | {killed} | "
            f"{len(survived)} | {explained} | {scores[path]['unexplained']} | {len(no_tests)} | "
            f"**{score:.1f} %** | {of_checked:.1f} % | {was} |"
        )
        if survived or no_tests:
            sources = _sources(mutants / path)
            for k in sorted(survived + no_tests, key=_sort_key):
                why = notes.get(k, "UNEXPLAINED")
                kind = "survived" if k in survived else "no tests"
                survivors.append(f"| `{k}` | {kind} | `{_diff(k, sources)[:160]}` | {why} |")
    text = [
        f"# {title}",
        "",
        "Written by `bash ./dev mutate` (mutmut 3 over the fast Qt-free tests; `tools/mutation_report.py`).",
        "Killed includes timeouts (the mutant made a test hang, and the test's deadline caught it).",
        "Checked: mutants the run reached (a run stopped early leaves the rest unchecked).",
        "Explained: survivors with a note in `docs/mutation-notes.json` (equivalent, and why);",
        "unexplained: work left.",
        "Before: the score (of all) on main before issue #9 ([mutation-baseline.md](mutation-baseline.md)).",
        "",
        *([preface, ""] if preface else []),
        "| module | mutants | checked | killed | survived | explained | unexplained | no tests "
        "| score (of all) | of checked | before |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
        *rows,
        "",
        "## Survivors",
        "",
        "Each explained in `docs/mutation-notes.json` (equivalent, and why) or marked UNEXPLAINED.",
        "",
        "| mutant | result | change | why it survives |",
        "|---|---|---|---|",
        *(survivors or ["| (none) | | | |"]),
        "",
    ]
    return "\n".join(text), scores


def _sort_key(name: str):
    base, _, n = name.rpartition("__mutmut_")
    return base, int(n) if n.isdigit() else 0


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mutants", type=Path, default=ROOT / "mutants")
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "mutation.md")
    ap.add_argument("--notes", type=Path, default=ROOT / "docs" / "mutation-notes.json")
    ap.add_argument("--title", default="Mutation testing of the safety code")
    ap.add_argument("--baseline", type=Path, default=ROOT / "docs" / "mutation-baseline.md")
    ap.add_argument("--preface", type=Path, help="a Markdown file said before the table (how the run went)")
    args = ap.parse_args()
    notes = json.loads(args.notes.read_text(encoding="utf-8")) if args.notes.exists() else {}
    preface = args.preface.read_text(encoding="utf-8").strip() if args.preface else ""
    text, scores = report(args.mutants, notes, args.title, baseline_scores(args.baseline), preface)
    args.out.write_text(text, encoding="utf-8")
    for path, sc in scores.items():
        of_checked = sc.get("of_checked", 0)
        print(f"{sc['score']:5.1f} %  {sc['killed']}/{sc['total']}  ({of_checked:.1f} % of checked)  {path}")
    print("wrote", args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
