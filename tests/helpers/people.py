"""The person a test names when it opens a window on a file that is not protected yet.

File-layer tests (a damaged, empty, read-only or old-version file; a killed recorder's leftovers) open a
plain SQLite file with ``Store.open`` and need a window on it: ``MainWindow(store, person=PLAIN)``
(no audit trail, no lock). Every other GUI test logs in to an encrypted clinic made by
``accounts.create_clinic`` (the ``clinic`` and ``window`` fixtures in ``tests/conftest.py``).
"""

from desktop.accounts import Person, Role

PLAIN = Person(0, "Dr Test", frozenset({Role.PRACTITIONER, Role.ADMINISTRATOR}))
