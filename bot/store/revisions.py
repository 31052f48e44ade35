"""Which schema revision the database records, and which is the newest, without importing Alembic.

Alembic (with Mako) is about 10 MB of RSS that a running Parley needs only when its schema is behind:
a start on a current schema, and `parley check`, read the newest revision from the migration
scripts' own `revision` / `down_revision` assignments (parsed, never executed) and the recorded one
from Alembic's `alembic_version` table. Anything this cannot tell for certain (a branch, a merge, a
script written another way) answers None, and the caller asks Alembic (bot/store/database.py).
"""

from __future__ import annotations

import ast
from importlib import resources
from pathlib import Path

import sqlalchemy as sa

VERSIONS = Path(str(resources.files("bot") / "store" / "migrations" / "versions"))
VERSION_TABLE = "alembic_version"  # Alembic's default, which migrations/env.py keeps


def _assignments(script: Path) -> dict[str, object]:
    found: dict[str, object] = {}
    for node in ast.parse(script.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            target, value = node.target, node.value
        else:
            continue
        if isinstance(target, ast.Name) and target.id in ("revision", "down_revision"):
            try:
                found[target.id] = ast.literal_eval(value)
            except ValueError:
                found[target.id] = value  # not a literal: not a str, so the caller gives up
    return found


def newest(versions: Path = VERSIONS) -> str | None:
    """The one head revision of the migration scripts; None unless it is certain (one line of history)."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for script in sorted(versions.glob("*.py")):
        if script.name == "__init__.py":
            continue
        values = _assignments(script)
        revision, parent = values.get("revision"), values.get("down_revision")
        if not isinstance(revision, str) or not (parent is None or isinstance(parent, str)):
            return None
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
