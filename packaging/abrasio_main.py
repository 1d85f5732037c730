"""Entry point of the PyInstaller bundle (the same ``desktop.app.main`` the ``abrasio`` command runs)."""

import sys

from desktop.app import main

if __name__ == "__main__":
    sys.exit(main())
