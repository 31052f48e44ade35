import io
import json
import sys
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from app import cli as main
from bot.store.database import Store
from bot.store.models import AuditEntry


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


def _audited_db(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'audit.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.chdir(tmp_path)
    store = Store.from_url(url)
    now = datetime.now(UTC)
    with store.transaction() as session:
        session.add(AuditEntry(at=now - timedelta(days=10), actor="U0OLD", action="resolve", outcome="ok"))
        session.add(AuditEntry(at=now - timedelta(hours=2), actor="U0AGENT", action="reply_public",
                               platform="x", external_id="1790001", outcome="sent", detail="x_reply"))
        session.add(AuditEntry(at=now - timedelta(hours=1), actor="U0INTERN", action="reply_public",
                               platform="x", outcome="refused", detail="not allowed to send for the brand"))
    store.dispose()


def test_audit_prints_the_period_only(monkeypatch, tmp_path, capsys):
    _audited_db(tmp_path, monkeypatch)
    assert main(["audit", "--since", "7d"]) == 0
    out = capsys.readouterr().out
    assert "U0AGENT" in out and "1790001" in out and "refused" in out
    assert "U0OLD" not in out and "2 entries" in out


def test_audit_filters_and_json(monkeypatch, tmp_path, capsys):
    _audited_db(tmp_path, monkeypatch)
    assert main(["audit", "--since", "30d", "--actor", "U0INTERN", "--format", "json"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(r["actor"], r["outcome"]) for r in rows] == [("U0INTERN", "refused")]


def test_audit_bad_since_is_a_clear_error(monkeypatch, tmp_path, capsys):
    _audited_db(tmp_path, monkeypatch)
    assert main(["audit", "--since", "last tuesday"]) == 2
    assert "last tuesday" in capsys.readouterr().err


def test_audit_without_a_schema_says_to_upgrade(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'empty.db'}")
    monkeypatch.chdir(tmp_path)
    assert main(["audit"]) == 2
    assert "parley db upgrade" in capsys.readouterr().err
