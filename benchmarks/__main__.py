"""Run every benchmark; print a table and write benchmarks/results/latest.json.

python -m benchmarks            the full run (about 20 minutes on 2 cores: 10 of them at 2,000/s)
python -m benchmarks --quick    each measure briefly (CI runs this so it cannot rot)
python -m benchmarks --only decoder,storage
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from benchmarks import measures

RESULTS = Path(__file__).resolve().parent / "results"
ORDER = (
    "decoder",
    "end_to_end",
    "redraw",
    "alarms",
    "gui_stalls",
    "sessions",
    "memory",
    "soak",
    "storage",
    "file_checks",
    "startup",
    "security",
)


def _load() -> float | None:
    return round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None


def _fmt(value, unit: str) -> str:
    if value is None:
        return "—"
    return f"{value:,.3g} {unit}" if isinstance(value, float) else f"{value:,} {unit}"


def table(results: list[dict]) -> str:
    lines = [
        f"{'measure':46} {'value':>15} {'target':>16} {'ratio':>6}  {'met':3}  {'peer':>15} {'× peer':>6}"
    ]
    for r in results:
        ratio = f"{r['ratio']:.2f}" if r.get("ratio") is not None else ""
        met = {True: "yes", False: "NO", None: ""}[r.get("met")]
        peer = _fmt(r.get("peer_value"), r["unit"]) if r.get("peer") else ""
        x_peer = f"{r['ratio_to_peer']:.2f}" if r.get("ratio_to_peer") is not None else ""
        target = r.get("target_text", "")
        lines.append(
            f"{r['name'][:46]:46} {_fmt(r['value'], r['unit']):>15} {target:>16} {ratio:>6}  {met:3}  "
            f"{peer:>15} {x_peer:>6}"
        )
        if r.get("peer"):
            lines.append(f"{'':46} peer: {r['peer']}")
        if r.get("limit_text"):
            lines.append(f"{'':46} {'':>15} {r['limit_text']:>16} {r['limit_ratio']:>6.2f}  (physical limit)")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m benchmarks", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--quick", action="store_true", help="brief runs, to prove the benchmarks work")
    ap.add_argument("--only", help=f"comma-separated subset of {', '.join(ORDER)}")
    ap.add_argument(
        "--out",
        type=Path,
        help="JSON file (default benchmarks/results/latest.json; "
        "--quick writes benchmarks/results/quick.json)",
    )
    args = ap.parse_args(argv)
    chosen = args.only.split(",") if args.only else list(ORDER)
    results: list[dict] = []
    errors: dict[str, str] = {}
    started = time.monotonic()
    load_before = _load()
    for name in chosen:
        t0 = time.monotonic()
        print(f"== {name}", flush=True)
        try:
            for r in getattr(measures, name)(quick=args.quick):
                r["group"] = name
                results.append(r)
                print("   " + table([r]).splitlines()[1], flush=True)
        except Exception as exc:  # one broken measure must not hide the others; it still fails the run
            errors[name] = f"{type(exc).__name__}: {exc}"
            print(f"   ERROR {errors[name]}", flush=True)
        print(f"   ({time.monotonic() - t0:.1f} s)", flush=True)
    report = {
        "schema": 1,
        "when": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "quick": args.quick,
        "machine": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "processor": platform.processor() or platform.machine(),
            # what else the machine was doing: figures taken at a load above the core count are
            # slower than the machine is (the peer ratios, measured side by side, suffer least)
            "load_average_1min_before_after": [load_before, _load()],
        },
        "seconds": round(time.monotonic() - started, 1),
        "results": results,
        "errors": errors,
    }
    out = args.out or RESULTS / ("quick.json" if args.quick else "latest.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    print()
    print(table(results))
    print(f"\nwritten {out} ({report['seconds']} s)")
    for name, error in errors.items():
        print(f"benchmark {name} did not run: {error}", file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
