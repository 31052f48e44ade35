"""X's billing ledger in the database (`connectors/x/spend.py`'s `Ledger`), shared by every replica.

Each charge is an "insert or ignore" on (day, unit, item), so the same post read by two polls or two
replicas on one UTC day counts once, as X bills it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Protocol

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import col, func, select

from bot.store.billing import XCharge
from bot.store.database import Store


class Charge(Protocol):
    """A billable unit on an item on a UTC day (`connectors.x.spend.Charge`; the store names no connector)."""

    @property
    def day(self) -> date: ...
    @property
    def unit(self) -> str: ...
    @property
    def item(self) -> str: ...


def _insert_or_ignore(dialect: str, rows: list[dict[str, object]]) -> sa.Insert:
    if dialect == "postgresql":
        return postgresql.insert(XCharge).values(rows).on_conflict_do_nothing()
    if dialect == "sqlite":
        return sqlite.insert(XCharge).values(rows).on_conflict_do_nothing()
    raise NotImplementedError(f"the X spend ledger is not implemented for the {dialect} database")


class StoreLedger:
    """The `x_charges` table as a spend ledger."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def add(self, charges: Sequence[Charge]) -> None:
        """Keep each (day, unit, item) once; repeats are ignored."""
        rows = [{"day": c.day, "unit": c.unit, "item": c.item[:64]} for c in charges]
        if not rows:
            return
        with self.store.transaction() as session:
            session.connection().execute(_insert_or_ignore(session.connection().dialect.name, rows))

    def counts(self, first: date, last: date) -> Mapping[str, int]:
        """Items charged per unit from `first` to `last` (UTC days, inclusive)."""
        with self.store.transaction() as session:
            query = (select(XCharge.unit, func.count()).where(col(XCharge.day) >= first, col(XCharge.day) <= last)
                     .group_by(col(XCharge.unit)))
            return {unit: int(n) for unit, n in session.exec(query).all()}



