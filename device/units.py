"""Vacuum units. The app stores kPa below ambient; devices and clinics speak any of these.

The constants are exact (``shared/domain.md``): 1 inHg = 3.386389 kPa, 1 mmHg = 0.133322387415 kPa,
1 cmHg = 1.33322387415 kPa, 1 mbar = 0.1 kPa.
"""

KPA_PER_UNIT: dict[str, float] = {
    "kPa": 1.0,
    "mmHg": 0.133322387415,
    "cmHg": 1.33322387415,
    "inHg": 3.386389,
    "mbar": 0.1,
}
UNITS = tuple(KPA_PER_UNIT)
# How many decimals a reading in each unit is shown with (about the same resolution everywhere).
DECIMALS = {"kPa": 1, "mmHg": 0, "cmHg": 1, "inHg": 1, "mbar": 0}


def check_unit(unit: str) -> str:
    """Return the canonical spelling of ``unit`` (case-insensitive) or raise ValueError."""
    for known in KPA_PER_UNIT:
        if known.lower() == unit.strip().lower():
            return known
    raise ValueError(f"unknown vacuum unit {unit!r}; use one of {', '.join(UNITS)}")


def to_kpa(value: float, unit: str) -> float:
    return value * KPA_PER_UNIT[check_unit(unit)]


def from_kpa(kpa: float, unit: str) -> float:
    return kpa / KPA_PER_UNIT[check_unit(unit)]


def format_vacuum(kpa: float, unit: str, with_unit: bool = True) -> str:
    unit = check_unit(unit)
    text = f"{from_kpa(kpa, unit):.{DECIMALS[unit]}f}"
    return f"{text} {unit}" if with_unit else text
