import pytest

from device.units import KPA_PER_UNIT, check_unit, format_vacuum, from_kpa, to_kpa


def test_exact_constants():
    assert KPA_PER_UNIT["inHg"] == 3.386389
    assert KPA_PER_UNIT["mmHg"] == 0.133322387415
    assert KPA_PER_UNIT["cmHg"] == 1.33322387415
    assert KPA_PER_UNIT["mbar"] == 0.1


@pytest.mark.parametrize("unit", ["kPa", "mmHg", "cmHg", "inHg", "mbar"])
def test_round_trip(unit):
    assert from_kpa(to_kpa(12.345, unit), unit) == pytest.approx(12.345, rel=1e-12)


def test_known_values_and_format():
    assert to_kpa(10, "inHg") == pytest.approx(33.86389)
    assert to_kpa(225, "mmhg") == pytest.approx(29.9975, rel=1e-4)
    assert format_vacuum(33.86389, "inHg") == "10.0 inHg"
    assert format_vacuum(30, "mbar") == "300 mbar"
    assert check_unit(" KPA ") == "kPa"
    with pytest.raises(ValueError, match="unknown vacuum unit"):
        check_unit("psi")
