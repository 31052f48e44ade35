"""Readiness of the database: can we write, right now, where DATABASE_URL points?

`SELECT 1` passes on a read-only file, a full disk, or a SQLite file whose directory was moved
away (the open connection keeps writing into the moved file, no longer at DATABASE_URL). So the
probe commits a one-row write, and for SQLite first checks the file at the configured path.
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

import sqlalchemy as sa

from bot.store.database import Store
from bot.store.models import HealthProbe


def _sqlite_file_problem(store: Store) -> str | None:
    database = store.engine.url.database
    if store.engine.dialect.name != "sqlite" or not database or database == ":memory:":
        return None
    path = Path(database)
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return "the database file is no longer at DATABASE_URL's path (moved or deleted)"
    except OSError as exc:
        return f"the database file cannot be reached ({type(exc).__name__})"
    # The mode bits as well as access(): root may write a file everyone else may not.
    if not mode & 0o222 or not os.access(path, os.W_OK) or not os.access(path.parent, os.W_OK):
        return "the database file (or its directory) is read-only"
    return None


def database_problem(store: Store, now: datetime) -> str | None:
    """None when the database took a small committed write; otherwise why not, in plain words
    (error classes only: a driver's message may hold a host name or a path we would rather not show)."""
    problem = _sqlite_file_problem(store)
    if problem is not None:
        return problem
    try:
        with store.transaction() as session:
            row = session.get(HealthProbe, 1)
            if row is None:
                row = HealthProbe(id=1, checked_at=now)
            row.checked_at = now
            session.add(row)
    except sa.exc.IntegrityError:
        return None  # another process inserted the row at the same moment: the database takes writes
    except sa.exc.SQLAlchemyError as exc:
        return f"the database refuses writes ({type(getattr(exc, 'orig', None) or exc).__name__})"
    return None
