import sys

from desktop.allocator import tune_allocator


def test_allocator_thresholds_are_fixed_on_linux_only():
    assert tune_allocator() is sys.platform.startswith("linux")
