"""The `leases` table: one row per named lease, held by one holder until it expires.

Taking and renewing are one atomic statement, so two schedulers racing for the row cannot
both win, on SQLite (BEGIN IMMEDIATE serialises writers) and on PostgreSQL (the losing
UPDATE re-checks its WHERE clause against the winner's row).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, delete, or_, select, update
from sqlalchemy.orm import Session

from storage.db import insert_for
from storage.models import Lease


def take(session: Session, name: str, holder: str, now: datetime, expires: datetime) -> bool:
    """Take the lease if free or expired, or renew it if `holder` has it; True when held."""
    result = session.execute(
        update(Lease)
        .where(Lease.name == name, or_(Lease.holder == holder, Lease.expires_at < now))
        .values(holder=holder, expires_at=expires)
        .execution_options(synchronize_session=False)
    )
    if cast(CursorResult[Any], result).rowcount:
        return True
    # First use of this lease name: whoever inserts the row first holds it.
    # RETURNING, not rowcount: through SQLAlchemy + psycopg it reads -1 here.
    inserted = session.execute(
        insert_for(session, Lease)
        .values(name=name, holder=holder, expires_at=expires)
        .on_conflict_do_nothing()
        .returning(Lease.name)
    ).first()
    return inserted is not None


def give_up(session: Session, name: str, holder: str) -> None:
    """Delete the lease row if `holder` still has it."""
    session.execute(
        delete(Lease)
        .where(Lease.name == name, Lease.holder == holder)
        .execution_options(synchronize_session=False)
    )


def holder_of(session: Session, name: str) -> tuple[str, datetime] | None:
    """(holder, expires_at) as stored, live or expired; None when nobody ever took it."""
    row = session.scalars(select(Lease).where(Lease.name == name)).first()
    return (row.holder, row.expires_at) if row else None
