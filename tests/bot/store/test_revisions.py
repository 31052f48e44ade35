"""The schema's state read without Alembic agrees with Alembic, and a start on a current schema never
imports Alembic (about 10 MB of RSS)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import sqlalchemy as sa
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from bot.store import revisions
from bot.store.database import alembic_config, make_engine, newest_revision

ROOT = Path(__file__).resolve().parents[3]


def test_the_newest_revision_is_alembics_head() -> None:
    head = ScriptDirectory.from_config(alembic_config(sa.create_engine("sqlite://"))).get_current_head()
    assert revisions.newest() == head
    assert newest_revision(sa.create_engine("sqlite://")) == head


def test_the_recorded_revision_is_alembics(database_url: str) -> None:
    engine = make_engine(database_url)  # migrated by the fixture
    try:
        with engine.connect() as connection:
            assert revisions.recorded(connection) == (MigrationContext.configure(connection).get_current_revision(),)
        assert revisions.is_current(engine)
    finally:
        engine.dispose()


def test_an_empty_database_is_not_current(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    try:
        with engine.connect() as connection:
            assert revisions.recorded(connection) == ()
        assert not revisions.is_current(engine)
    finally:
        engine.dispose()


def test_a_branch_or_an_unreadable_script_is_left_to_alembic(tmp_path: Path) -> None:
    (tmp_path / "0001_a.py").write_text('revision = "0001"\ndown_revision = None\n')
    (tmp_path / "0002_b.py").write_text('revision = "0002"\ndown_revision = "0001"\n')
    assert revisions.newest(tmp_path) == "0002"
    (tmp_path / "0003_c.py").write_text('revision: str = "0003"\ndown_revision = "0001"\n')  # a second head
    assert revisions.newest(tmp_path) is None
    (tmp_path / "0003_c.py").write_text('revision = make_id()\ndown_revision = "0002"\n')
    assert revisions.newest(tmp_path) is None


def test_a_start_on_a_current_schema_imports_neither_alembic_nor_twitter_text(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'current.db'}"
    code = ("import sys\nfrom bot.store.database import Store\n"
            f"Store.from_url({url!r})\nassert 'alembic' in sys.modules\n")  # the first start migrates
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)
    code = ("import sys\nimport app\nfrom bot.store.database import Store\n"
            f"Store.from_url({url!r})\n"
            "loaded = {'alembic', 'twitter_text'} & set(sys.modules)\nassert not loaded, loaded\n")
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)
