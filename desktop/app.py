"""``abrasio`` — start the app.

abrasio                      the clinic database in the per-user data folder
abrasio --db PATH            another database file
abrasio --demo               the demo database (created with ~200 fictional clients on first use)
abrasio --handpiece URL      the default handpiece (sim://…, COM3, /dev/ttyUSB0, socket://host:port)
abrasio --db PATH export-client ID OUT   write client ID's whole record to the new folder OUT
abrasio --restore FILE       replace the clinic file (or --db PATH) with the backup FILE, after
                             backing the current file up; Abrasio must not be open on it
abrasio --self-test          check this installation without a screen; exit 0 only if all is well

The log file is abrasio.log beside the clinic file.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

from desktop import __version__

log = logging.getLogger("abrasio.app")


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
    ap.add_argument(
        "--restore", type=Path, metavar="FILE", help="restore the clinic file from the backup FILE and exit"
    )
    ap.add_argument(
        "--as",
        dest="person",
        metavar="NAME",
        help="who runs --restore on a protected file (the passphrase: ABRASIO_PASSPHRASE, else asked)",
    )
    ap.add_argument("--self-test", action="store_true", help="check this installation and exit")
    ap.add_argument("--version", action="version", version=f"Abrasio {__version__}")
    return ap.parse_args(argv)


def open_store(path: Path, demo: bool):
    """An unprotected clinic file for a command without a window (export-client): (store, error
    message). Checked as a whole before it returns; an empty or unreadable file is refused in words.
    A protected (encrypted) file is opened by logging in instead (``command_login``)."""
    from desktop.startup import open_clinic_file

    return open_clinic_file(path, demo, None, full_check=True)


def command_login(path: Path, person: str | None, demo: bool = False, *, full_check: bool = True):
    """Log in for a command without a window, on a protected (encrypted) file: the person's name
    (``--as``, else ``$ABRASIO_USER``) and passphrase (``$ABRASIO_PASSPHRASE``, else asked on the
    terminal, never echoed). Returns (clinic, None), (None, what to tell the user), or (None, None)
    for a file with no key file (unprotected: opened as it is)."""
    import getpass

    from desktop import accounts, keys
    from desktop.store import StoreError

    if not keys.key_file_path(path).exists():
        return None, None
    if demo:
        person, passphrase = DEMO_PERSON, DEMO_PASSPHRASE
    else:
        person = (person or os.environ.get("ABRASIO_USER", "")).strip()
        if not person:
            return None, f"{path} is protected: say who you are with --as NAME (or ABRASIO_USER)."
        passphrase = os.environ.get("ABRASIO_PASSPHRASE")
        if passphrase is None:
            if sys.stdin is None or not sys.stdin.isatty():
                return None, (
                    f"{path} is protected and there is no terminal to ask {person}'s passphrase on: "
                    "run the command in a terminal (or set ABRASIO_PASSPHRASE)."
                )
            passphrase = getpass.getpass(f"Passphrase for {person}: ")
    try:
        return accounts.login(path, person, passphrase, full_check=full_check), None
    except (accounts.AccountError, keys.KeyFileError, StoreError) as exc:
        log.warning("A command's login to %s was refused: %s", path, exc)
        return None, str(exc)


def restore_command(path: Path, backup: Path, person: str | None = None) -> int:
    """``abrasio --restore FILE``: what Settings → Backups → Restore does, from a command line. A
    protected file is restored by a person allowed to (an administrator), after logging in."""
    from desktop.accounts import Permission
    from desktop.single_instance import SingleInstance
    from desktop.store import Store, StoreError, backups

    guard = SingleInstance(path)
    if not guard.acquire():
        print(f"abrasio: {guard.refusal()} Close Abrasio before restoring.", file=sys.stderr)
        return 2
    try:
        key = None
        if path.exists():
            clinic, error = command_login(path, person, full_check=False)
            if error:
                print(f"abrasio: {error}", file=sys.stderr)
                return 2
            if clinic is not None:
                allowed, who, key = (
                    clinic.person.may(Permission.BACKUPS),
                    clinic.person.name,
                    clinic.store.key,
                )
                if allowed:
                    clinic.audit("restore", "clinic", backup=backup.name)
                clinic.close()
                if not allowed:
                    print(f"abrasio: {who} may not restore backups (an administrator may).", file=sys.stderr)
                    return 2
        kept = backups.restore_file(path, backup.resolve(), key=key)
        store = Store.open(path, key=key)
        clients = store.count_clients()
        store.close()
    except StoreError as exc:
        log.error("Restore from the command line failed: %s", exc)
        print(f"abrasio: {exc}", file=sys.stderr)
        return 2
    finally:
        guard.release()
    log.warning("Restored %s into %s from the command line (the file as it was: %s)", backup, path, kept)
    print(f"abrasio: restored {path} from {backup} ({clients} clients).")
    if kept:
        print(f"abrasio: the file as it was is kept in {kept}")
    return 0


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

    from desktop import log as logfile
    from desktop.store import files

    path = (args.db or default_db_path(args.demo)).absolute()
    umask = os.umask(0o077)  # whatever Abrasio creates (logs, exports, locks) is this account's alone
    try:
        if args.db is None:
            files.make_private(path.parent)  # the per-user data folder: 0700
        log_path = logfile.setup(path.parent)
        try:
            if args.restore:
                return restore_command(path, args.restore, args.person)
            return _run(args, path, log_path)
        finally:
            log.info("Abrasio stopped")
            logfile.shutdown()
    finally:
        os.umask(umask)


def _run(args: argparse.Namespace, path: Path, log_path: Path) -> int:
    from PySide6.QtGui import QIcon
    from PySide6.QtWidgets import QApplication, QMessageBox

    from desktop import log as logfile
    from desktop.resources import resource_path
    from desktop.single_instance import SingleInstance

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("Abrasio")
    app.setOrganizationName("Abrasio")
    app.setWindowIcon(QIcon(str(resource_path("icons/abrasio.svg"))))
    app.setStyleSheet(resource_path("abrasio.qss").read_text(encoding="utf-8"))
    interactive = app.platformName() not in ("offscreen", "minimal")
    from desktop.wheel_guard import install_wheel_guard

    install_wheel_guard(app)
    from desktop.screen_fit import install_screen_guard

    install_screen_guard(app)

    def refuse(title: str, error: str) -> int:
        print(f"abrasio: {error}", file=sys.stderr)
        if interactive:
            QMessageBox.critical(None, title, error)
        return 2

    guard = SingleInstance(path)
    if not guard.acquire():
        if not guard.on_another_computer() and guard.ask_owner_to_show():
            log.info("Abrasio is already open on this file: its window was brought forward")
            print(f"abrasio: already open on {path}; its window was brought forward.", file=sys.stderr)
            return 0
        log.warning("Refused: the clinic file is held by process %s on %s", *(guard.owner or ("?", "?"))[:2])
        return refuse("Abrasio is already open", guard.refusal())
    try:
        clinic, error = log_in(path, args.demo, interactive)
        if clinic is None:
            return refuse("Abrasio cannot open the database", error) if error else 1
        store = clinic.store
        from desktop.main_window import MainWindow

        window = MainWindow(clinic, handpiece_url=args.handpiece, startup=True, demo=args.demo)
        undo_hook = logfile.install_excepthook(lambda text: window.show_error(text, log_path))
        guard.show_requested.connect(window.bring_forward)
        window.show()
        if os.environ.get("ABRASIO_STARTUP_PROBE"):  # benchmarks/: time to the client list, then quit
            from PySide6.QtCore import QTimer

            def shown():
                print(f"shown clients {window.list_page.model.rowCount()}", flush=True)
                app.quit()

            QTimer.singleShot(0, shown)
        log.info("Window shown")
        try:
            code = app.exec()
        finally:
            undo_hook()
            window.stop_background_work()
            store.close()
        return code
    finally:
        guard.release()


# The demo database's one person and passphrase. Public on purpose: the demo holds fictional clients
# only, and ``abrasio --demo`` opens it with no setup step and no login.
DEMO_PERSON = "Demo practitioner"
DEMO_PASSPHRASE = "fictional clients only: public demo passphrase"


def log_in(path: Path, demo: bool, interactive: bool):
    """Who is using Abrasio on ``path``: (clinic, None), or (None, what to tell the user) / (None, None)
    when they cancelled.

    - the demo: created for the demo practitioner (``accounts.create_clinic``) and logged in by itself;
    - no file yet: the first-start wizard (the administrator, then the recovery key);
    - a key file beside it: the login dialog (argon2id on a worker thread);
    - an unprotected (plaintext) file: the wizard in its "protect this clinic's records" form.
    """
    from desktop import keys
    from desktop.startup import ask_with_dialog, open_clinic_file
    from desktop.store import StoreError

    if demo:
        return _demo_clinic(path)
    if keys.key_file_path(path).exists():
        if not interactive:
            return None, f"{path} is protected: log in to it on a screen (abrasio --db {path})."
        from desktop.security_ui import LoginDialog

        dlg = LoginDialog(path)
        return (dlg.clinic, None) if dlg.exec() == LoginDialog.DialogCode.Accepted else (None, None)
    protect = path.exists() and path.stat().st_size > 0
    if protect:  # an unprotected file: checked (too new, damaged, not a database) before it is offered
        store, error = open_clinic_file(
            path, False, ask_with_dialog if interactive else None, full_check=True
        )
        if store is None:
            return None, error
        store.close()
    elif path.exists():  # empty: restore a backup, or start a new clinic file (asked as before)
        store, error = open_clinic_file(path, False, ask_with_dialog if interactive else None)
        if store is None:
            return None, error
        store.close()
        protect = True  # a backup restored, or a new clinic file started there: protected next
    if not interactive:
        what = "is not protected yet" if protect else "does not exist yet"
        return None, f"{path} {what}: set the clinic up on a screen first (abrasio --db {path})."
    from desktop.security_ui import FirstStartWizard

    wizard = FirstStartWizard(path, protect=protect)
    try:
        accepted = wizard.exec() == FirstStartWizard.DialogCode.Accepted
    except StoreError as exc:
        return None, str(exc)
    if accepted and wizard.clinic is not None:
        return wizard.clinic, None
    if wizard.created is not None:  # set up, then closed: log in next time
        return None, "The clinic was set up; start Abrasio again and log in."
    return None, None


def _demo_clinic(path: Path):
    """The demo database, set up on first use and logged in as the demo practitioner."""
    from desktop import accounts, keys
    from desktop.demo import create_demo

    try:
        if path.exists() and not keys.key_file_path(path).exists():
            # a demo file from before accounts existed: fictional, set aside and made again
            aside = path.with_name(path.name + ".unprotected-old")
            log.warning("The demo file %s predates accounts: moved to %s and made again", path, aside)
            path.replace(aside)
            for suffix in ("-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
        if not path.exists():
            setup = accounts.create_clinic(path, DEMO_PERSON, DEMO_PASSPHRASE)
            create_demo(setup.clinic.store)
            log.info("Demo clinic created at %s", path)
            return setup.clinic, None
        return accounts.login(path, DEMO_PERSON, DEMO_PASSPHRASE, full_check=False), None
    except Exception as exc:  # said in words; the log has the details
        log.exception("The demo database could not be opened")
        return None, f"The demo database could not be opened: {exc}"


if __name__ == "__main__":
    sys.exit(main())
