"""Wrap dist/Abrasio into dist/Abrasio-<version>-linux-<arch>.tar.gz with a .desktop entry and icon.

The archive unpacks into one folder ``Abrasio-<version>/``::

    Abrasio/            the PyInstaller bundle (run Abrasio/Abrasio)
    abrasio.desktop     menu entry (install.sh fills in the path)
    abrasio.png         its icon
    install.sh          per-user install into ~/.local (no root); never touches the clinic database
"""

from __future__ import annotations

import platform
import shutil
import tarfile
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DIST = ROOT / "dist"

DESKTOP = """[Desktop Entry]
Type=Application
Name=Abrasio
GenericName=Microdermabrasion records and handpiece monitor
Comment=Client records, live handpiece vacuum with safety alarms, treatment sessions
Exec=@EXEC@
Icon=@ICON@
Terminal=false
Categories=Office;MedicalSoftware;
"""

INSTALL = """#!/bin/sh
# Install Abrasio for this user. The clinic database (~/.local/share/Abrasio/) is never touched:
# an upgrade replaces the program only, and the new version migrates the database on first start,
# keeping a copy of it from before.
set -e
here=$(cd "$(dirname "$0")" && pwd)
dest="${ABRASIO_HOME:-$HOME/.local/opt/Abrasio}"
apps="${XDG_DATA_HOME:-$HOME/.local/share}/applications"
rm -rf "$dest.new" && mkdir -p "$dest.new" "$apps"
cp -R "$here/Abrasio/." "$dest.new/"
cp "$here/abrasio.png" "$dest.new/abrasio.png"
rm -rf "$dest.old"; [ -d "$dest" ] && mv "$dest" "$dest.old"
mv "$dest.new" "$dest" && rm -rf "$dest.old"
sed -e "s|@EXEC@|$dest/Abrasio|" -e "s|@ICON@|$dest/abrasio.png|" \\
    "$here/abrasio.desktop" > "$apps/abrasio.desktop"
echo "Abrasio installed in $dest. Check it with: $dest/Abrasio --self-test"
"""


def main() -> Path:
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    bundle = DIST / "Abrasio"
    if not (bundle / "Abrasio").exists():
        raise SystemExit("dist/Abrasio is missing: build it first (bash ./dev bundle)")
    name = f"Abrasio-{version}"
    stage = DIST / "stage" / name
    shutil.rmtree(stage.parent, ignore_errors=True)
    stage.mkdir(parents=True)
    shutil.copytree(bundle, stage / "Abrasio", symlinks=True)
    shutil.copy(ROOT / "resources" / "icons" / "abrasio.png", stage / "abrasio.png")
    (stage / "abrasio.desktop").write_text(DESKTOP)
    (stage / "install.sh").write_text(INSTALL)
    (stage / "install.sh").chmod(0o755)
    out = DIST / f"{name}-linux-{platform.machine()}.tar.gz"
    with tarfile.open(out, "w:gz", compresslevel=6) as tar:
        tar.add(stage, arcname=name)
    shutil.rmtree(stage.parent)
    size = sum(f.lstat().st_size for f in bundle.rglob("*") if f.is_file() and not f.is_symlink())
    print(f"{out.name}: {out.stat().st_size / 1e6:.1f} MB (bundle {size / 1e6:.1f} MB unpacked)")
    return out


if __name__ == "__main__":
    main()
