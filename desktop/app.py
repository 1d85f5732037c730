"""``abrasio`` — start the app.

abrasio                      the clinic database in the per-user data folder
abrasio --db PATH            another database file
abrasio --demo               the demo database (created with ~200 fictional clients on first use)
abrasio --handpiece URL      the default handpiece (sim://…, COM3, /dev/ttyUSB0, socket://host:port)
abrasio --db PATH export-client ID OUT   write client ID's whole record to the new folder OUT
abrasio --self-test          check this installation without a screen; exit 0 only if all is well
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from desktop import __version__


def default_db_path(demo: bool = False) -> Path:
    import platformdirs

    folder = Path(platformdirs.user_data_dir("Abrasio", "Abrasio"))
    return folder / ("abrasio-demo.db" if demo else "abrasio.db")


def parse_args(argv: list[str]) -> argparse.Namespace:
    ap = argparse.ArgumentParser(
        prog="abrasio", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--db", type=Path, help="database file to open (created if missing)")
    ap.add_argument("--demo", action="store_true", help="open the demo database")
    ap.add_argument(
        "--handpiece",
        default="sim://?rate=500&auto=1",
        help="default handpiece port or URL (default: the simulated handpiece)",
    )
    ap.add_argument("--self-test", action="store_true", help="check this installation and exit")
    ap.add_argument("--version", action="version", version=f"Abrasio {__version__}")
    return ap.parse_args(argv)


def open_store(path: Path, demo: bool):
    """Open (and for the demo, fill) the database; returns (store, error message)."""
    from desktop.store import DatabaseFileError, Store, StoreBugError

    new = not path.exists()
    try:
        store = Store.open(path)
    except DatabaseFileError as exc:
        return None, str(exc)
    except StoreBugError as exc:
        return None, (
            f"Abrasio could not upgrade the database (this is a fault in Abrasio, please "
            f"report it). The database was left as it was.\n\n{exc}"
        )
    if demo and new:
        from desktop.demo import create_demo

        create_demo(store)
    if store.backup_path:
        print(f"abrasio: upgraded {path}; the copy from before is {store.backup_path}", file=sys.stderr)
    return store, None


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if "export-client" in argv:  # abrasio [--db FILE] export-client ID OUT (desktop/export.py)
        from desktop.export import cli

        return cli(argv)
    args = parse_args(argv)
    from desktop.allocator import tune_allocator

    tune_allocator()
    if args.self_test:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        from desktop.selftest import run_self_test

        return run_self_test()

    from PySide6.QtGui import QIcon
    from PySide6.QtWidgets import QApplication, QMessageBox

    from desktop.resources import resource_path

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("Abrasio")
    app.setOrganizationName("Abrasio")
    app.setWindowIcon(QIcon(str(resource_path("icons/abrasio.svg"))))
    app.setStyleSheet(resource_path("abrasio.qss").read_text(encoding="utf-8"))
    from desktop.wheel_guard import install_wheel_guard

    install_wheel_guard(app)
    from desktop.screen_fit import install_screen_guard

    install_screen_guard(app)

    path = args.db or default_db_path(args.demo)
    store, error = open_store(path, args.demo)
    if error:
        print(f"abrasio: {error}", file=sys.stderr)
        if app.platformName() not in ("offscreen", "minimal"):
            QMessageBox.critical(None, "Abrasio cannot open the database", error)
        return 2

    from desktop.main_window import MainWindow

    window = MainWindow(store, handpiece_url=args.handpiece)
    window.show()
    if os.environ.get("ABRASIO_STARTUP_PROBE"):  # benchmarks/: time to the client list, then quit
        from PySide6.QtCore import QTimer

        def shown():
            print(f"shown clients {window.list_page.model.rowCount()}", flush=True)
            app.quit()

        QTimer.singleShot(0, shown)
    code = app.exec()
    store.close()
    return code


if __name__ == "__main__":
    sys.exit(main())
