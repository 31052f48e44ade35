import io
import json
import sys

import sqlalchemy as sa

from bot.cli import main


def test_classify_reads_lines_and_prints_json(monkeypatch, capsys):
    texts = "I want a refund, the app is broken\n\n¡Me encanta el nuevo panel!\n"
    monkeypatch.setattr(sys, "stdin", io.StringIO(texts))
    assert main(["classify"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(rows) == 2
    assert rows[0]["complaint"] is True and rows[0]["tone"] == "negative"
    assert rows[1]["language"] == "es" and rows[1]["tone"] == "positive"
    assert {"language", "tone", "complaint", "priority", "reasons"} <= set(rows[0])


def test_db_upgrade_creates_the_schema(monkeypatch, tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.chdir(tmp_path)
    assert main(["db", "upgrade"]) == 0
    tables = set(sa.inspect(sa.create_engine(url)).get_table_names())
    assert {"messages", "conversations", "customers", "outbox", "cursors", "audit_log"} <= tables


def test_config_error_exits_2_with_the_variable(monkeypatch, tmp_path, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PARLEY_POLL_INTERVAL", "whenever")
    assert main(["db", "upgrade"]) == 2
    assert "PARLEY_POLL_INTERVAL" in capsys.readouterr().err
