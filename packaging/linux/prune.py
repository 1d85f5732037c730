"""Find the host libraries in a Linux bundle that nothing in the bundle loads.

PyInstaller collects the libraries each module and Qt plugin links, at analysis time; build.spec then
leaves plugins out (the GTK theme, VNC…), but the libraries only those plugins needed stay behind
(GIO, HarfBuzz, libmount… 5 MB). This walks ``DT_NEEDED`` from everything that is loaded by the
bundle itself — the executable, Python extension modules, Qt plugins, libpython — and lists the
plain ``lib*.so*`` files at the bundle's top level that the walk never reaches.

Libraries a program opens by name at run time (``dlopen``) are not in ``DT_NEEDED``; in this bundle
those are the system's own (libGL, libEGL, libc through ctypes), which PyInstaller never bundles.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def _needed(path: Path) -> list[str]:
    out = subprocess.run(["readelf", "-d", str(path)], capture_output=True, text=True).stdout
    return [line.split("[", 1)[1].split("]", 1)[0] for line in out.splitlines() if "(NEEDED)" in line]


def _is_elf(path: Path) -> bool:
    with path.open("rb") as f:
        return f.read(4) == b"\x7fELF"


def unreferenced(internal: Path, executable: Path | None = None) -> list[Path]:
    files = [f for f in internal.rglob("*") if f.is_file() and not f.is_symlink() and _is_elf(f)]
    by_name: dict[str, Path] = {}
    for f in internal.rglob("*"):  # symlinks too: a NEEDED name may be a link to the real file
        if f.name not in by_name and (f.is_file() or f.is_symlink()) and f.exists():
            by_name[f.name] = f.resolve()
    candidates = {f for f in files if f.parent == internal and f.name.startswith("lib") and ".so" in f.name}
    candidates = {f for f in candidates if not f.name.startswith("libpython")}
    roots = [f for f in files if f not in candidates]
    if executable is not None:
        roots.append(executable)
    reached: set[Path] = set()
    todo = list(roots)
    while todo:
        for name in _needed(todo.pop()):
            target = by_name.get(name)
            if target is not None and target not in reached:
                reached.add(target)
                todo.append(target)
    return sorted(f for f in candidates if f.resolve() not in reached)


def prune(internal: Path, executable: Path | None = None) -> int:
    """Delete the unreferenced libraries (and links to them). Returns the bytes freed."""
    freed = 0
    for lib in unreferenced(internal, executable):
        size = lib.stat().st_size
        freed += size
        for link in internal.iterdir():
            if link.is_symlink() and link.resolve() == lib.resolve():
                link.unlink()
        lib.unlink()
        print(f"prune: {lib.name} ({size / 1e6:.2f} MB) is loaded by nothing in the bundle")
    return freed


if __name__ == "__main__":
    for lib in unreferenced(Path(sys.argv[1])):
        print(f"{lib.stat().st_size / 1e6:6.2f} MB  {lib.name}")
