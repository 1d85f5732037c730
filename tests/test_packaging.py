"""The Linux bundle's trimming helpers on the real files they work on (PySide6's ICU data, ELF files).

The bundle's ``--self-test`` proves the trimmed ICU in use (tests/test_bundle.py); these catch a wrong
package writer or a trimming rule that drops what QtCore's ICU calls read, without building a bundle.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "packaging" / "linux"))

import prune
import trim_icu

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux") or not shutil.which("objcopy"), reason="Linux with binutils"
)


def _icudata() -> Path:
    import PySide6

    libs = sorted((Path(PySide6.__file__).parent / "Qt" / "lib").glob("libicudata.so.*"))
    if not libs:
        pytest.skip("this PySide6 ships no ICU")
    return libs[0]


@pytest.fixture(scope="module")
def package(tmp_path_factory):
    out = tmp_path_factory.mktemp("icu") / "full.dat"
    subprocess.run(
        ["objcopy", "-O", "binary", "--only-section=.rodata", str(_icudata()), str(out)], check=True
    )
    return out.read_bytes()


def test_package_rewritten_unchanged_is_byte_identical(package):
    header, items = trim_icu.read_package(package)
    assert len(items) > 1000
    assert trim_icu.write_package(header, items) == package


def test_trim_keeps_what_qtcore_reads_and_drops_the_rest(package):
    _header, items = trim_icu.read_package(package)
    prefix = items[0][0].split("/", 1)[0] + "/"
    kept = {n.removeprefix(prefix) for n, d in items if trim_icu._keep(n.removeprefix(prefix), d)}
    # each per-locale tree keeps its root, index and key pool (without res_index ICU finds no locale)
    for tree in ("", "coll/", "zone/"):
        assert {f"{tree}root.res", f"{tree}res_index.res"} <= kept, tree
    assert {"pool.res", "zone/pool.res"} <= kept
    assert {"zone/en.res", "zone/fr.res", "coll/sv.res", "coll/ucadata.icu", "en_GB.res"} <= kept
    assert {"zoneinfo64.res", "metaZones.res", "timezoneTypes.res", "cnvalias.icu"} <= kept
    assert "ibm-5348_P100-1997.cnv" in kept  # windows-1252, single-byte: kept
    assert "gb18030.cnv" not in kept and "coll/zh.res" not in kept and "zone/ja.res" not in kept
    assert not any(k.startswith(("brkitr/", "curr/", "lang/", "region/", "unit/")) for k in kept)


def test_trimmed_library_exports_the_same_symbol_and_soname(tmp_path):
    out = tmp_path / "libicudata.so"
    before, after = trim_icu.trim(_icudata(), out)
    assert after < before / 4
    symbols = subprocess.run(["nm", "-D", "--defined-only", str(out)], capture_output=True, text=True).stdout
    assert any(line.endswith("_dat") and " R " in line for line in symbols.splitlines())
    dynamic = subprocess.run(["readelf", "-d", str(out)], capture_output=True, text=True).stdout
    assert f"[{_icudata().name}]" in dynamic  # the soname libicuuc asks for


def test_prune_finds_a_library_nothing_links_and_keeps_the_ones_used(tmp_path):
    internal = tmp_path / "_internal"
    internal.mkdir()
    import PySide6

    qt = Path(PySide6.__file__).parent
    core = next((qt / "Qt" / "lib").glob("libQt6Core.so.*"))
    shutil.copy(qt / "QtCore.abi3.so", internal / "QtCore.abi3.so")  # a module: a root of the walk
    shutil.copy(core, internal / core.name)  # linked by the module: kept
    unused = next((qt / "Qt" / "lib").glob("libQt6Svg.so.*"))  # linked by nothing here
    shutil.copy(unused, internal / unused.name)
    assert [p.name for p in prune.unreferenced(internal)] == [unused.name]
