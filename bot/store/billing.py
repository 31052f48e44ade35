"""The table of what X billed: one row per (UTC day, billing unit, item), so a repeat is free.

Kept apart from `models.py` (which imports it, so the table is always on the metadata) because it
needs nothing else of the store; `bot/store/spend.py` reads and writes it.
"""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from sqlmodel import Field, SQLModel


class XCharge(SQLModel, table=True):
    """One billable read or write on X (connectors/x/spend.py): X bills an item once per UTC day."""

    __tablename__ = "x_charges"
    day: date = Field(sa_type=sa.Date(), primary_key=True)
    unit: str = Field(max_length=16, primary_key=True)  # "post_read", "dm", … (connectors/x/spend.py)
    item: str = Field(max_length=64, primary_key=True)  # the post / DM event id
