"""Database probes for `parley check`: reachable, schema at the newest migration, and what waits for
a person (quarantined messages, what a backfill left out, cards waiting for an /invite) as warnings."""

from __future__ import annotations

from collections.abc import Mapping

import sqlalchemy as sa

from bot.store import quarantine, revisions
from bot.store.database import Store, newest_revision
from connectors import backfill
from connectors.checks import Check, fail, ok, warn

T = "database"


def check_database(store: Store, *, missing_invites: Mapping[str, str] | None = None) -> list[Check]:
    """Reachable and migrated (failures), then the backlog a person should look at (warnings)."""
    try:
        with store.engine.connect() as connection:
            current = ", ".join(revisions.recorded(connection)) or None
    except sa.exc.SQLAlchemyError as exc:
        cause = getattr(exc, "orig", None) or exc
        return [fail(T, "database.reachable", f"cannot connect ({type(cause).__name__})",
                     "check DATABASE_URL and that the server is running")]
    head = newest_revision(store.engine)
    checks = [ok(T, "database.reachable", "reachable")]
    if current != head:
        checks.append(fail(T, "database.schema", f"schema at {current or 'nothing'}, newest is {head}",
                           "run `parley db upgrade` (`parley run` does it on start)"))
        return checks
    checks.append(ok(T, "database.schema", f"schema current ({head})"))
    held = len(quarantine.pending(store))
    if held:
        checks.append(warn(T, "database.quarantine", f"{held} customer message{'s' if held != 1 else ''} "
                           "could not be stored", "see `parley quarantine list`, then `parley quarantine retry`"))
    for record in backfill.left_out(store.cursors()):
        checks.append(warn(T, f"database.left_out.{record.stream}",
                           f"{record.stream}: its first read left out {record.words()}"))
    for channel, words in (missing_invites or {}).items():
        checks.append(warn(T, f"database.outbox.{channel}", f"outbox items wait: {words}"))
    return checks
