"""``python -m device`` — a technician's check of a handpiece without the GUI.

python -m device ports
python -m device monitor PORT [--format abrasio|text] [--unit U] [--label L] [--seconds N] [--summary]
"""

from __future__ import annotations

import argparse
import sys
import time

from device.link import DEFAULT_BAUD, HandpieceLink, discover_ports
from device.units import UNITS, check_unit, format_vacuum


def _print_stats(link: HandpieceLink, out) -> None:
    s = link.stats()
    if s.hello:
        print(
            f"device: {s.hello.model}, serial {s.hello.serial}, firmware {s.hello.firmware}, "
            f"{s.hello.rate_hz} samples/s",
            file=out,
        )
    print(
        f"link: state={s.state.value}{' (' + s.reason + ')' if s.reason else ''} samples={s.samples} "
        f"frames={s.frames} crc_failures={s.crc_failures} resyncs={s.resyncs} "
        f"bytes_skipped={s.bytes_skipped} seq_gaps={s.seq_gaps} frames_lost={s.frames_lost} "
        f"lines_skipped={s.lines_skipped} reconnects={s.reconnects} "
        f"overflow_dropped={s.overflow_dropped}",
        file=out,
    )


def main(argv: list[str] | None = None, out=None) -> int:
    out = out or sys.stdout
    ap = argparse.ArgumentParser(
        prog="python -m device",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = ap.add_subparsers(dest="cmd", required=True)
    sub.add_parser("ports", help="list serial ports")
    mon = sub.add_parser("monitor", help="print samples from a port, then the link statistics")
    mon.add_argument("port", help="COM3, /dev/ttyUSB0, socket://host:port, rfc2217://…, sim://")
    mon.add_argument("--format", choices=("abrasio", "text"), default="abrasio")
    mon.add_argument(
        "--unit",
        default="kPa",
        help=f"display unit, and the unit of text sensors ({', '.join(UNITS)})",
    )
    mon.add_argument("--label", default="vacuum", help="label of the vacuum in label:value lines")
    mon.add_argument("--baud", type=int, default=DEFAULT_BAUD)
    mon.add_argument("--seconds", type=float, default=10.0)
    mon.add_argument("--summary", action="store_true", help="one line a second instead of samples")
    args = ap.parse_args(argv)

    if args.cmd == "ports":
        ports = discover_ports()
        for info in ports:
            print(info, file=out)
        if not ports:
            print("no serial ports found", file=out)
        return 0

    try:
        unit = check_unit(args.unit)
    except ValueError as exc:
        ap.error(str(exc))
    link = HandpieceLink(args.port, args.format, args.baud, unit, args.label).start()
    end = time.monotonic() + args.seconds
    next_summary = time.monotonic() + 1.0
    window: list[float] = []
    try:
        while time.monotonic() < end:
            time.sleep(0.05)
            batch = link.take()
            if args.summary:
                window += [s.vacuum_kpa for s in batch]
                if time.monotonic() >= next_summary:
                    next_summary += 1.0
                    if window:
                        print(
                            f"{len(window):5d} samples  mean {format_vacuum(sum(window) / len(window), unit)}"
                            f"  peak {format_vacuum(max(window), unit)}",
                            file=out,
                        )
                    else:
                        print(f"    0 samples  ({link.state.value})", file=out)
                    window = []
            else:
                for s in batch:
                    print(
                        f"{s.seq:10d} {s.device_time:12.6f} {format_vacuum(s.vacuum_kpa, unit):>12} "
                        f"{'pump' if s.pump else '----'} {'contact' if s.contact else '-------'}",
                        file=out,
                    )
    except KeyboardInterrupt:
        pass
    finally:
        link.close()
    _print_stats(link, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
