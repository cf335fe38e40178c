"""The few named exceptions of storage/, each with a message a user can act on."""

from __future__ import annotations


class StorageError(Exception):
    """Base class for archive errors shown to users as one line."""


class DatabaseError(StorageError):
    """The database cannot be opened, migrated or written."""


class NotFound(StorageError):
    """An article, version or capture that the user named does not exist."""

    def __init__(self, what: str, key: object) -> None:
        super().__init__(f"no {what} {key!r} in the archive")
        self.what = what
        self.key = key


class WarcError(StorageError):
    """A WARC record cannot be written or read back."""


class QueryError(StorageError):
    """A search query or filter the archive cannot run (bad syntax, bad date)."""
