"""Alembic environment: runs against the engine handed over by bot.store.database.upgrade()."""

from alembic import context
from sqlmodel import SQLModel

import bot.store.models  # noqa: F401  (registers the tables on SQLModel.metadata)
from bot.store.database import make_engine
from bot.store.search import include_name

target_metadata = SQLModel.metadata


def run_migrations_online() -> None:
    engine = context.config.attributes.get("engine")
    if engine is None:
        url = context.config.get_main_option("sqlalchemy.url")
        if url is None:
            raise RuntimeError("alembic needs an engine from bot.store.database.upgrade() or a sqlalchemy.url")
        engine = make_engine(url)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            include_name=include_name,  # the full-text index is not on the metadata (bot/store/search.py)
        )
        with context.begin_transaction():
            context.run_migrations()


run_migrations_online()
