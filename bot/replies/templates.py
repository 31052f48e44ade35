"""Saved replies: names people type, texts with {first_name}, {handle}, {agent} and {ref}.

Queries run in the caller's transaction. Names are matched and stored lower-case, so `Refund`
and `refund` are one template; saving an existing name replaces its text (and says so).
"""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from bot.store.models import AuditEntry, Template

NAME_MAX = 64
_NAME = re.compile(rf"^[a-z0-9_-]{{1,{NAME_MAX}}}$")


def normalise_name(name: str) -> str:
    """The stored form of a template name (lower-case); ValueError if it is not letters, digits, - or _."""
    stored = name.strip().lower()
    if not _NAME.match(stored):
        raise ValueError(f"a template name is 1 to {NAME_MAX} letters, digits, - or _ (got {name!r})")
    return stored


def all_templates(session: Session) -> list[Template]:
    """Every template, by name."""
    return list(session.exec(select(Template).order_by(Template.name)).all())


def find_template(session: Session, name: str) -> Template | None:
    """The template called `name` (any case), or None (also for a name that could never be valid)."""
    try:
        stored = normalise_name(name)
    except ValueError:
        return None
    return session.exec(select(Template).where(Template.name == stored)).first()


def save_template(session: Session, *, name: str, text: str, actor: str, now: datetime) -> bool:
    """Create or replace the template `name`; True when it is new. Writes an audit entry.

    ValueError for a bad name or empty text (nothing stored).
    """
    stored, text = normalise_name(name), text.strip()
    if not text:
        raise ValueError("a template needs text")
    existing = find_template(session, stored)
    created = existing is None
    if created:
        try:
            with session.begin_nested():  # a concurrent add of the same name: update theirs instead
                session.add(Template(name=stored, text=text, created_by=actor, created_at=now, updated_at=now))
        except IntegrityError:
            existing, created = find_template(session, stored), False
            if existing is None:
                raise
    if existing is not None:  # found, or added by a concurrent twin: update it
        existing.text, existing.updated_at = text, now
        session.add(existing)
    session.add(AuditEntry(at=now, actor=actor, action="template_add" if created else "template_update",
                           outcome="ok", detail=stored))
    session.flush()
    return created
