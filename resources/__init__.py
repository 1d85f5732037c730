"""Abrasio's resource files (icons, stylesheet, sounds). Found through ``desktop.resources``."""
