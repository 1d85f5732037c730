"""Print a results file as the Markdown table of benchmarks/README.md.

.venv/bin/python -m benchmarks.table [benchmarks/results/latest.json]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from benchmarks.__main__ import RESULTS


def _num(value, unit: str) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        text = f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.3g}"
    else:
        text = f"{value:,}"
    return f"{text} {unit}"


def markdown(report: dict) -> str:
    m = report["machine"]
    lines = [
        f"Run {report['when'][:10]}, {m['cpus']} cores, {m['platform']}, Python {m['python']}, "
        f"{report['seconds'] / 60:.0f} min{' (quick)' if report['quick'] else ''}"
        + (
            f", load average {m['load_average_1min_before_after'][0]} before and "
            f"{m['load_average_1min_before_after'][1]} after (other work on the machine)."
            if m.get("load_average_1min_before_after")
            else "."
        ),
        "",
        "| measure | value | target | met | peer | ratio to peer |",
        "|---|---|---|---|---|---|",
    ]
    for r in report["results"]:
        met = {True: "yes", False: "**no**", None: ""}[r.get("met")]
        peer = f"{r['peer']}: {_num(r.get('peer_value'), r['unit'])}" if r.get("peer") else ""
        ratio = f"{r['ratio_to_peer']:.2f}×" if r.get("ratio_to_peer") is not None else ""
        target = r.get("target_text", "").replace("|", "/")
        lines.append(f"| {r['name']} | {_num(r['value'], r['unit'])} | {target} | {met} | {peer} | {ratio} |")
    for group, error in report.get("errors", {}).items():
        lines.append(f"| {group} | did not run: {error} | | | | |")
    return "\n".join(lines)


if __name__ == "__main__":
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else RESULTS / "latest.json"
    print(markdown(json.loads(path.read_text())))
