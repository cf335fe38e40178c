"""The leader lease: one holder at a time, renewal, expiry, release (SQLite and PostgreSQL)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from schedules.lease import LeaderLease, current_holder
from storage.db import Archive


@pytest.fixture
def archive(db_url: str) -> Iterator[Archive]:
    with Archive(db_url) as archive:
        yield archive


def test_first_scheduler_takes_the_lease_and_a_second_is_refused(archive: Archive) -> None:
    a = LeaderLease(archive, seconds=30, holder="a")
    b = LeaderLease(archive, seconds=30, holder="b")
    assert a.acquire()
    assert not b.acquire()
    assert a.held() and not b.held()
    holder = current_holder(archive)
    assert holder is not None and holder.holder == "a" and holder.is_live()


def test_holder_renews_and_keeps_the_lease(archive: Archive) -> None:
    a = LeaderLease(archive, seconds=30, holder="a")
    assert a.acquire()
    first = current_holder(archive)
    time.sleep(0.05)
    assert a.acquire()
    renewed = current_holder(archive)
    assert first and renewed and renewed.expires_at > first.expires_at
    assert not LeaderLease(archive, seconds=30, holder="b").acquire()


def test_standby_takes_over_once_the_lease_expires(archive: Archive) -> None:
    # A lease long enough that a slow SQLite lock on a loaded machine cannot expire it
    # between the two acquires; then a stops renewing, as a killed scheduler would.
    a = LeaderLease(archive, seconds=2.0, holder="a")
    b = LeaderLease(archive, seconds=2.0, holder="b")
    assert a.acquire()
    assert not b.acquire()
    time.sleep(2.2)
    assert not a.held()
    assert b.acquire()
    assert not a.acquire()
    holder = current_holder(archive)
    assert holder is not None and holder.holder == "b"


def test_release_hands_the_lease_over_at_once(archive: Archive) -> None:
    a = LeaderLease(archive, seconds=30, holder="a")
    b = LeaderLease(archive, seconds=30, holder="b")
    assert a.acquire()
    a.release()
    assert not a.held()
    assert current_holder(archive) is None
    assert b.acquire()
    a.release()  # no longer ours: must not free b's lease
    holder = current_holder(archive)
    assert holder is not None and holder.holder == "b"


def test_racing_schedulers_elect_exactly_one(archive: Archive) -> None:
    leases = [LeaderLease(archive, seconds=30, holder=f"s{i}") for i in range(6)]
    barrier = threading.Barrier(len(leases))
    won: list[str] = []

    def race(lease: LeaderLease) -> None:
        barrier.wait()
        if lease.acquire():
            won.append(lease.holder)

    threads = [threading.Thread(target=race, args=(lease,)) for lease in leases]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    holder = current_holder(archive)
    assert len(won) == 1
    assert holder is not None and holder.holder == won[0]
