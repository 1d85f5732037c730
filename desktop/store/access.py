"""One notion of read-only mode: whether the open file may be written, and if not, why.

The store refuses every write while it is not writable (``ReadOnlyError`` with ``reason``); the
windows consult ``Store.writable`` (and are told when it changes) to disable their write controls and
show the banner, so a new feature inherits the read-only mode by writing through the store.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from desktop.store.checks import CheckResult


@dataclass(frozen=True)
class Access:
    """Whether this open file may be written, and if not, why (for the banner and refused writes).

    ``kind``: ``"writable"``; ``"checking"`` (writes held until the whole file has been checked);
    ``"damaged"`` (``affected`` says what, in words); ``"read_only"`` (the file or folder cannot be
    written: permissions).
    """

    kind: str = "writable"
    reason: str = ""
    affected: tuple[str, ...] = ()

    @property
    def writable(self) -> bool:
        return self.kind == "writable"


WRITABLE = Access()


def damaged_access(path: Path, result: CheckResult) -> Access:
    what = ", ".join(result.affected) or "parts of the file"
    return Access(
        "damaged",
        f"The clinic file {path.name} is damaged ({what}). Abrasio opened it read-only: "
        "nothing can be saved into it. Restore a backup to carry on.",
        result.affected,
    )


CHECKING = Access(
    "checking",
    "Abrasio is checking the clinic file; saving becomes possible as soon as the check has passed.",
)


def read_only_access(cause: str) -> Access:
    return Access(
        "read_only",
        f"The clinic file cannot be written: {cause.rstrip('.')} (permissions). Abrasio opened it "
        "read-only: you can look at records, nothing can be saved.",
    )
