"""The Alembic revisions and the SQLModel tables must describe the same schema."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

import bot.store.models  # noqa: F401  (registers the tables)
from bot.store.database import make_engine, upgrade
from bot.store.search import include_name


def test_migrations_match_models(database_url):
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn, opts={"include_name": include_name}),
                                    SQLModel.metadata)
        assert diff == [], f"models changed without a migration: {diff}"
    finally:
        engine.dispose()


def test_upgrade_is_idempotent(database_url):
    engine = make_engine(database_url)
    try:
        upgrade(engine)
        upgrade(engine)
    finally:
        engine.dispose()
