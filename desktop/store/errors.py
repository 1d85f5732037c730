"""Two kinds of failure, told apart: the user's file is wrong, or Abrasio has a bug."""


class StoreError(Exception):
    pass


class DatabaseFileError(StoreError):
    """The database file cannot be used as it is (not a database, damaged, locked, read-only…).

    The message is written for the practitioner or the clinic's IT person. Nothing was changed.
    """


class DatabaseTooNewError(DatabaseFileError):
    """The file was written by a newer Abrasio; this version refuses it and leaves it untouched."""


class StoreBugError(StoreError):
    """Abrasio's own mistake (a migration or statement that should not fail). Nothing was half-written."""


class NotFoundError(StoreError):
    pass
