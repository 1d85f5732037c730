"""pyserial URL handlers of Abrasio's own (``sim://``), registered by ``device.link``."""
