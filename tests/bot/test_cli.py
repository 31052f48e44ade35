import io
import json
import os
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from app import cli as main
from bot.cli import main as cli_main
from bot.reports.export import read_csv
from bot.settings import Settings
from bot.store.database import Store
from bot.store.models import AuditEntry
from sandbox.emulators.slack_api import SlackEmulator
from sandbox.emulators.stack import free_port
from tests.bot.reports.week import build as build_week


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


# `parley report` on the hand-built week of tests/bot/reports/week.py (SQLite and PostgreSQL). The
# period is given as dates, so the rows do not depend on today's date.
WEEK = ["--since", "2026-11-23", "--until", "2026-11-25T16:00"]


def _week_db(store, database_url, monkeypatch, tmp_path):
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.chdir(tmp_path)
    return build_week(store)


def test_report_csv_writes_one_row_per_conversation(store, database_url, monkeypatch, tmp_path, capsys):
    ids = _week_db(store, database_url, monkeypatch, tmp_path)
    assert main(["report", *WEEK, "--csv", "week.csv"]) == 0
    assert capsys.readouterr().out == "6 conversations written to week.csv\n"
    with open(tmp_path / "week.csv", encoding="utf-8", newline="") as f:
        rows = read_csv(f)
    assert [r["ref"] for r in rows] == [ids[k] for k in "AGBCDE"]  # first seen in the period, oldest first
    assert rows[0]["first_response_business_s"] == 1800  # A: Mon 10:00 → 10:30


def test_report_json_and_summary(store, database_url, monkeypatch, tmp_path, capsys):
    _week_db(store, database_url, monkeypatch, tmp_path)
    assert main(["report", *WEEK, "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["report"]["team"]["new"] == 6 and len(document["conversations"]) == 6
    assert main(["report", *WEEK]) == 0
    out = capsys.readouterr().out
    assert "new 6 · answered 3 · resolved 4 · replies 5" in out
    # no business hours configured here: business time is calendar time (C 20m, A 30m, B 17h30)
    assert "first response             business median 30m, p90 17h 30m · calendar median 30m" in out


def test_report_bad_options_name_the_option(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'unused.db'}")
    monkeypatch.chdir(tmp_path)
    for argv, option in ((["--since", "last tuesday"], "--since"), (["--until", "soonish"], "--until"),
                         (["--since", "2026-11-25", "--until", "2026-11-23"], "--until")):
        assert main(["report", *argv]) == 2
        err = capsys.readouterr().err
        assert err.startswith("parley report: ") and option in err and err.count("\n") == 1


def test_report_csv_to_an_unwritable_place_is_a_clear_error(store, database_url, monkeypatch, tmp_path, capsys):
    _week_db(store, database_url, monkeypatch, tmp_path)
    assert main(["report", *WEEK, "--csv", str(tmp_path / "missing" / "week.csv")]) == 2
    err = capsys.readouterr().err
    assert "--csv" in err and err.count("\n") == 1


class _Started:
    """A built app that serves nothing: `parley run` returns as soon as it has started."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def start_background(self) -> None: ...
    def serve(self, host: str = "0.0.0.0") -> None: ...
    def stop(self) -> None: ...


@pytest.fixture
def slack_env(monkeypatch, tmp_path) -> Iterator[SlackEmulator]:
    """`parley run`'s environment pointed at a Slack emulator; nothing inherited from the shell."""
    for name in [n for n in os.environ if n.startswith(("SLACK_", "PARLEY_", "X_", "FACEBOOK_", "DATABASE_"))]:
        monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    with SlackEmulator() as slack:
        slack.add_channel("support", id="C0SUPPORT")
        for name, value in {"SLACK_BOT_TOKEN": SlackEmulator.TOKEN, "SLACK_SIGNING_SECRET": "s",
                            "SLACK_API_URL": slack.base_url + "/api/", "PARLEY_CHANNEL": "C0SUPPORT",
                            "DATABASE_URL": f"sqlite:///{tmp_path / 'p.db'}", "PARLEY_STARTUP_WAIT": "1s"}.items():
            monkeypatch.setenv(name, value)
        yield slack


def _run(build=_Started) -> list:
    built: list = []
    code = cli_main(["run"], build=lambda settings: built.append(build(settings)) or built[-1])
    return [code, built]


@pytest.mark.parametrize(("name", "value"), [
    ("DATABASE_URL", ""), ("DATABASE_URL", "nonsense"), ("DATABASE_URL", "mysql://u:p@db/parley"),
    ("DATABASE_URL", "sqlite:////no/such/directory/p.db"), ("PARLEY_POLL_INTERVAL", "99999999999999999999s"),
    ("PARLEY_REMINDER_INTERVAL", "0.0000001s"), ("PARLEY_CHANNEL", ""), ("PARLEY_CHANNEL", "#nosuch"),
    ("SLACK_APP_TOKEN", "xoxb-1234-5678-abcdef"), ("SLACK_BOT_TOKEN", "xoxp-1234-5678-abcdef"),
    ("SLACK_BOT_TOKEN", "xoxb-revoked-token"),
])
def test_run_with_a_bad_setting_exits_2_with_one_line_naming_it(slack_env, capsys, name, value, monkeypatch):
    monkeypatch.setenv(name, value)
    code, built = _run()
    err = capsys.readouterr().err
    assert (code, built) == (2, [])
    assert len(err.splitlines()) == 1 and err.startswith(f"parley: {name}: "), err


@pytest.mark.parametrize(("content", "key"), [("routes:\n  - {channel: C0X}\n", "routes"),
                                              ("sla:\n  first_responce: {normal: 1h}\n", "first_responce")])
def test_run_with_an_unknown_config_key_names_the_file_and_key(slack_env, capsys, monkeypatch, tmp_path,
                                                               content, key):
    (tmp_path / "parley.yaml").write_text(content)
    monkeypatch.setenv("PARLEY_CONFIG", str(tmp_path / "parley.yaml"))
    assert _run()[0] == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and "PARLEY_CONFIG: " in err and str(tmp_path) in err and key in err


def test_run_with_a_binary_dotenv_exits_2(slack_env, capsys, tmp_path):
    (tmp_path / ".env").write_bytes(b"\x00\xff\xfe binary \x80\n")
    assert _run()[0] == 2
    assert capsys.readouterr().err.startswith("parley: .env (in ")


def test_run_resolves_a_channel_name_and_survives_one_503(slack_env, monkeypatch):
    monkeypatch.setenv("PARLEY_CHANNEL", "#support")
    slack_env.fail_next(r"/api/auth\.test", 503)
    code, built = _run()
    assert code == 0 and built[0].settings.parley_channel == "C0SUPPORT"
    assert len(slack_env.calls_to(r"/api/auth\.test")) == 2


def test_run_with_slack_unreachable_exits_2_after_retrying(slack_env, monkeypatch, capsys):
    monkeypatch.setenv("SLACK_API_URL", f"http://127.0.0.1:{free_port()}/api/")
    assert _run()[0] == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and err.startswith("parley: SLACK_API_URL: cannot reach Slack")


def test_db_upgrade_with_an_unreachable_server_is_one_line(slack_env, monkeypatch, capsys):
    monkeypatch.setenv("DATABASE_URL", "postgresql://parley:hunter22@127.0.0.1:1/parley")
    assert main(["db", "upgrade"]) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and err.startswith("parley: DATABASE_URL: cannot connect to ")
    assert "hunter22" not in err
