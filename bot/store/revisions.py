"""Which schema revision the database records, and which is the newest, without importing Alembic.

Alembic (with Mako) is about 10 MB of RSS that a running Parley needs only when its schema is behind:
a start on a current schema, and `parley check`, read the newest revision from the migration
scripts' own `revision` / `down_revision` lines (read as text, never run) and the recorded one
from Alembic's `alembic_version` table. Anything this cannot tell for certain (a branch, a merge, a
script written another way) answers None, and the caller asks Alembic (bot/store/database.py).
"""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

import sqlalchemy as sa

VERSIONS = Path(str(resources.files("bot") / "store" / "migrations" / "versions"))
VERSION_TABLE = "alembic_version"  # Alembic's default, which migrations/env.py keeps


# `revision = "0007"` / `down_revision = '0006'` or `= None`, at the start of a line (an annotation
# allowed). Matched as text, not parsed: CPython 3.11's `ast` can fail for good in a process that
# once hit a RecursionError ("AST constructor recursion depth mismatch"), as hostile webhooks do.
_LINE = r"^{name}\s*(?::[^=\n]*)?=\s*(?:None|'([^'\n]*)'|\"([^\"\n]*)\")\s*(?:#.*)?$"
_REVISION = re.compile(_LINE.format(name="revision"), re.MULTILINE)
_DOWN_REVISION = re.compile(_LINE.format(name="down_revision"), re.MULTILINE)


def _read(script: Path) -> tuple[str, str | None] | None:
    """(revision, down_revision) of one script, or None unless each is one plain literal."""
    text = script.read_text(encoding="utf-8")
    revision, parent = _REVISION.findall(text), _DOWN_REVISION.findall(text)
    if len(revision) != 1 or len(parent) != 1 or not any(revision[0]):
        return None
    return revision[0][0] or revision[0][1], (parent[0][0] or parent[0][1]) or None


def newest(versions: Path = VERSIONS) -> str | None:
    """The one head revision of the migration scripts; None unless it is certain (one line of history)."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for script in sorted(versions.glob("*.py")):
        if script.name == "__init__.py":
            continue
        read = _read(script)
        if read is None:
            return None
        revision, parent = read
        revisions.add(revision)
        if parent is not None:
            parents.add(parent)
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 and parents <= revisions else None


def recorded(connection: sa.Connection) -> tuple[str, ...]:
    """The revisions the database records (none before the first migration)."""
    if not sa.inspect(connection).has_table(VERSION_TABLE):
        return ()
    rows = connection.execute(sa.text(f"SELECT version_num FROM {VERSION_TABLE}")).scalars()
    return tuple(sorted(rows))


def is_current(engine: sa.Engine) -> bool:
    """True when the database is certainly at the newest revision (then no migration can run)."""
    head = newest()
    if head is None:
        return False
    with engine.connect() as connection:
        return recorded(connection) == (head,)
