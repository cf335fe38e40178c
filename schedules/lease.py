"""Leader election through one row of `leases`: the holder is the only scheduler that fires.

Acquiring and renewing are the same atomic statement (storage.leases), so two schedulers
racing for the row cannot both win. A holder that dies simply stops renewing; its row
expires and a standby takes it over.

Expiry compares wall clocks of the hosts involved, so they must be roughly in sync (NTP);
the margin is the lease length itself.
"""

from __future__ import annotations

import os
import socket
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from storage import leases
from storage.db import Archive

DEFAULT_LEASE_NAME = "scheduler"
DEFAULT_LEASE_SECONDS = 30.0


def default_holder() -> str:
    """A holder id naming this process: host, pid and a random suffix (pids get reused)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


@dataclass(frozen=True)
class LeaseHolder:
    """Who holds a lease and until when (as stored)."""

    name: str
    holder: str
    expires_at: datetime

    def is_live(self, now: datetime | None = None) -> bool:
        """True while the lease has not expired."""
        return self.expires_at > (now or datetime.now(UTC))


class LeaderLease:
    """One process's claim on a named lease: `acquire()` takes or renews it, `release()` ends it.

    `held()` answers from local bookkeeping without a database round trip: true only while
    the last successful acquire is younger than the lease, measured on the monotonic clock
    from *before* the statement ran, so it errs on the side of "not leader".
    """

    def __init__(
        self,
        archive: Archive,
        *,
        seconds: float = DEFAULT_LEASE_SECONDS,
        name: str = DEFAULT_LEASE_NAME,
        holder: str | None = None,
    ) -> None:
        if seconds <= 0:
            raise ValueError(f"lease length must be positive, got {seconds}")
        self.archive = archive
        self.seconds = seconds
        self.name = name
        self.holder = holder or default_holder()
        self._valid_until = 0.0  # time.monotonic() deadline of the last successful acquire

    def acquire(self) -> bool:
        """Take the lease if it is free or expired, or renew it if ours; True when we hold it."""
        started = time.monotonic()
        now = datetime.now(UTC)
        expires = now + timedelta(seconds=self.seconds)
        with self.archive.session() as s:
            taken = leases.take(s, self.name, self.holder, now, expires)
        self._valid_until = started + self.seconds if taken else 0.0
        return bool(taken)

    def held(self) -> bool:
        """True while our last acquire is still within the lease (no database access)."""
        return time.monotonic() < self._valid_until

    def release(self) -> None:
        """Give the lease up (if still ours) so that a standby can take over at once."""
        self._valid_until = 0.0
        with self.archive.session() as s:
            leases.give_up(s, self.name, self.holder)


def current_holder(archive: Archive, name: str = DEFAULT_LEASE_NAME) -> LeaseHolder | None:
    """The lease row as stored (live or expired), or None when nobody ever took it."""
    with archive.session() as s:
        found = leases.holder_of(s, name)
    return LeaseHolder(name, *found) if found else None
