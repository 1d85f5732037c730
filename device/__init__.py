"""The handpiece link: wire protocol, serial transport, simulator, command line.

This package never imports Qt: it runs headless, from the command line, in tests and inside the app.
"""

from device.link import HandpieceLink, LinkState, LinkStats
from device.protocol import Ack, Hello, Sample

__all__ = ["Ack", "HandpieceLink", "Hello", "LinkState", "LinkStats", "Sample"]
