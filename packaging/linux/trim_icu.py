"""Rebuild the bundle's ``libicudata.so.NN`` with only the ICU data Abrasio can reach (Linux).

PySide6 ships the whole of ICU's data (32 MB, every locale, every converter, break dictionaries for
Thai and Chinese…). QtCore is the only library that links ICU, and the ICU functions it imports are
few (``nm -D --undefined-only libQt6Core.so.6``): case mapping (``u_strToUpper/Lower``, whose tables
are compiled into libicuuc, not data), collation (``ucol_*``), time-zone names and IDs (``ucal_*``)
and legacy text encodings (``ucnv_*``). Abrasio itself formats dates with QLocale (Qt's own CLDR
tables, not ICU) and decodes text with Python's codecs. So:

* dropped whole: the trees nothing Qt calls reads — break iteration (``brkitr/``: no ``ubrk_*``),
  display names of currencies, languages, regions and units, number spell-out (``rbnf/``),
  transliteration, character names, StringPrep and spoof-check data;
* per-locale trees (locale bundles, ``coll/``, ``zone/``) kept for the languages in ``LANGUAGES``
  (every regional variant of each) and ``root``; another locale falls back to root (ICU's own
  fallback: the root collation order, GMT-offset zone names), never to an error;
* legacy converters: the single-byte code pages (Windows, ISO-8859, DOS: 139 tables, 0.4 MB) kept,
  the multi-byte East Asian and EBCDIC tables (4.7 MB) dropped; UTF-8/16/32, Latin-1 and ASCII are
  code in libicuuc and always there.

The data is taken out of the shipped library (its ``icudtNN_dat`` symbol, an ICU "common data"
package) with objcopy, rewritten here with the items kept, byte for byte, and linked back into a
library with the same soname and symbol with ``ld`` (binutils): nothing else in the bundle changes.
(Not ICU's own ``icupkg``: Debian's is an older ICU than Qt's, and its rewrite of this package lost
every time-zone name, which the self-test caught.) ``abrasio --self-test`` probes dates, case
mapping, collation, time-zone names and text entry in the bundle.

    python packaging/linux/trim_icu.py dist/Abrasio/_internal/PySide6/Qt/lib/libicudata.so.73
"""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
import sys
import tempfile
from pathlib import Path

# Languages whose locale data stays (English UI; clinics' PCs may be set to any of these).
LANGUAGES = ["en", "fr", "de", "es", "it", "pt", "nl", "sv", "da", "nb", "no", "fi", "pl"]
DROP_TREES = ("brkitr/", "curr/", "lang/", "region/", "unit/", "rbnf/", "translit/")
DROP_FILES = re.compile(r"(unames\.icu|confusables\.cfu|.*\.spp|uts46\.nrm)$")
PER_LOCALE_TREES = ("", "coll/", "zone/")  # "" = the locale bundles at the top level
LOCALE = re.compile(r"^[a-z]{2,3}(_[A-Za-z0-9]+)*$")
ALIGN = 16  # ICU's own packages align every item to 16 bytes


def _tool(name: str) -> str:
    path = shutil.which(name)
    if not path:
        raise SystemExit(f"trim_icu: {name} is missing (Debian: apt-get install binutils)")
    return path


def _keep(item: str, data: bytes) -> bool:
    if item.startswith(DROP_TREES) or DROP_FILES.fullmatch(item.rsplit("/", 1)[-1]):
        return False
    tree, _, leaf = item.rpartition("/")
    tree = f"{tree}/" if tree else ""
    if item.endswith(".cnv"):
        return _single_byte(data)
    if tree in PER_LOCALE_TREES and leaf.endswith(".res"):
        name = leaf[:-4]
        if name in ("root", "res_index", "pool") or not LOCALE.match(name):
            return True  # the tree's root, index and key pool; supplementalData, zoneinfo64…
        return name.split("_")[0] in LANGUAGES
    return True


def _single_byte(cnv: bytes) -> bool:
    """A converter table's UConverterStaticData (after its data header): maxBytesPerChar at byte 71."""
    header = struct.unpack_from("<H", cnv, 0)[0]
    return cnv[header + 71] == 1


def read_package(blob: bytes) -> tuple[bytes, list[tuple[str, bytes]]]:
    """ICU common data ("CmnD"): a data header, then a table of contents (count, then name and data
    offsets from the table's start, names sorted), then the items. Returns (header, [(name, item)])."""
    header_size, magic1, magic2 = struct.unpack_from("<HBB", blob, 0)
    if (magic1, magic2) != (0xDA, 0x27) or blob[12:16] != b"CmnD":
        raise SystemExit("trim_icu: not an ICU common data package")
    count = struct.unpack_from("<I", blob, header_size)[0]
    entries = [struct.unpack_from("<II", blob, header_size + 4 + 8 * i) for i in range(count)]
    items = []
    for i, (name_at, data_at) in enumerate(entries):
        name_start = header_size + name_at
        name = blob[name_start : blob.index(b"\0", name_start)].decode("ascii")
        data_end = header_size + entries[i + 1][1] if i + 1 < count else len(blob)
        items.append((name, blob[header_size + data_at : data_end]))
    return blob[:header_size], items


def write_package(header: bytes, items: list[tuple[str, bytes]]) -> bytes:
    names = b"".join(name.encode("ascii") + b"\0" for name, _ in items)
    toc_size = 4 + 8 * len(items)
    data_start = -(-(toc_size + len(names)) // ALIGN) * ALIGN
    toc, blobs, name_at, data_at = [struct.pack("<I", len(items))], [], toc_size, data_start
    for name, data in items:
        toc.append(struct.pack("<II", name_at, data_at))
        name_at += len(name) + 1
        padded = data + b"\xaa" * (-len(data) % ALIGN)  # ICU pads with 0xAA
        blobs.append(padded)
        data_at += len(padded)
    table = b"".join(toc) + names
    return header + table + b"\xaa" * (data_start - len(table)) + b"".join(blobs)


def trim(lib: Path, out: Path | None = None) -> tuple[int, int]:
    """Rewrite ``lib`` (or write ``out``) with the trimmed data. Returns (bytes before, bytes after)."""
    out = out or lib
    objcopy, ld, nm, readelf = _tool("objcopy"), _tool("ld"), _tool("nm"), _tool("readelf")
    symbols = subprocess.run(
        [nm, "-D", "--defined-only", str(lib)], check=True, capture_output=True, text=True
    )
    symbol = next(
        (ln.split()[-1] for ln in symbols.stdout.splitlines() if re.search(r"icudt\d+_dat$", ln)), None
    )
    if symbol is None:
        raise SystemExit(f"trim_icu: {lib} has no icudtNN_dat symbol: not ICU's data library")
    dynamic = subprocess.run([readelf, "-d", str(lib)], check=True, capture_output=True, text=True).stdout
    soname = re.search(r"Library soname: \[(.+?)\]", dynamic).group(1)
    before = lib.stat().st_size
    with tempfile.TemporaryDirectory(prefix="abrasio-icu-") as tmp:
        t = Path(tmp)
        full = t / "full.dat"
        subprocess.run([objcopy, "-O", "binary", "--only-section=.rodata", str(lib), str(full)], check=True)
        header, items = read_package(full.read_bytes())
        if len(items) < 100:
            raise SystemExit(f"trim_icu: {lib} holds {len(items)} items: not the full ICU data")
        prefix = items[0][0].split("/", 1)[0] + "/"  # icudt73l/
        kept = [(name, data) for name, data in items if _keep(name.removeprefix(prefix), data)]
        small = t / "data.bin"
        small.write_bytes(write_package(header, kept))
        # The data as a read-only, 16-byte aligned, exported symbol of the same name, in a library of
        # the same soname (what libicuuc looks for).
        obj = t / "data.o"
        subprocess.run(
            [
                objcopy, "-I", "binary", "-O", "elf64-x86-64", "-B", "i386:x86-64",
                "--rename-section", ".data=.rodata,alloc,load,readonly,data,contents",
                "--set-section-alignment", ".data=16",
                "--redefine-sym", f"_binary_{re.sub(r'[^A-Za-z0-9]', '_', str(small))}_start={symbol}",
                str(small), str(obj),
            ],
            check=True,
        )  # fmt: skip
        built = t / soname
        subprocess.run([ld, "-shared", "-soname", soname, "-z", "noexecstack", "-o", str(built), str(obj)],
                       check=True)  # fmt: skip
        exported = subprocess.run([nm, "-D", "--defined-only", str(built)], capture_output=True, text=True)
        if symbol not in exported.stdout:
            raise SystemExit(f"trim_icu: the rebuilt library does not export {symbol}")
        shutil.copyfile(built, out)
        out.chmod(0o755)
        print(
            f"trim_icu: {lib.name} {before / 1e6:.1f} MB -> {out.stat().st_size / 1e6:.1f} MB "
            f"({len(kept)} of {len(items)} items kept)"
        )
    return before, out.stat().st_size


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    trim(Path(sys.argv[1]))
