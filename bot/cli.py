"""`parley` command line: run, check, demo, classify, audit, report, db. Errors go to stderr, exit code 2."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Protocol

import sqlalchemy as sa

from bot.delivery.slack_startup import SlackStartup, check_slack
from bot.doctor.run import report as check_report
from bot.doctor.run import run_checks
from bot.inbound import dead_letters
from bot.inbound.ingest import Ingestor
from bot.inbound.routing import Router
from bot.quiet_logs import RepeatFilter
from bot.reports.audit import audit_entries, default_until, parse_since, write_audit
from bot.reports.export import Cell, export_rows, write_csv, write_json, write_summary
from bot.reports.figures import Period
from bot.reports.kpis import report
from bot.reports.service_level import ServiceLevel
from bot.settings import ConfigError, Settings, load_settings, secret
from bot.store import quarantine
from bot.store.database import Store, make_engine, upgrade, wait_until_reachable
from bot.store.models import utcnow
from bot.triage import classify_lines
from connectors.base import Connector


class Runnable(Protocol):
    """What `parley run` needs of a built app (`bot.runtime.Parley`)."""

    def start_background(self) -> None: ...
    def serve(self, host: str = "0.0.0.0") -> None: ...
    def stop(self) -> None: ...


Build = Callable[[Settings], Runnable]
Connectors = Callable[[Settings, Store], Iterable[Connector]]  # the store keeps what networks billed


class _SecretSafeFormatter(logging.Formatter):
    """Log lines never carry tokens, even if a library puts one in an error message."""

    def __init__(self, secrets: list[str]) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")
        self.secrets = [s for s in secrets if len(s) >= 6]

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        for value in self.secrets:
            text = text.replace(value, "**********")
        return text


def configure_logging(level: str, secrets: list[str]) -> None:
    """One stderr handler: secrets masked, repeated warnings and errors collapsed (bot/quiet_logs.py)."""
    handler = logging.StreamHandler()
    handler.setFormatter(_SecretSafeFormatter(secrets))
    handler.addFilter(RepeatFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # tweepy logs whole response bodies (customers' text) at DEBUG.
    for noisy in ("apscheduler", "urllib3", "slack_bolt", "slack_sdk", "tweepy"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLevelName(level)))


def _cmd_run(args: argparse.Namespace) -> int:
    settings = load_settings()
    configure_logging(settings.parley_log_level, [
        secret(getattr(settings, name)) for name in type(settings).model_fields
        if name.endswith(("token", "secret", "key"))
    ])
    settings = _slack_ready(settings)
    parley = args.build(settings)
    parley.start_background()
    try:
        parley.serve(host=args.host)
    finally:
        parley.stop()
    return 0


def _slack_ready(settings: Settings) -> Settings:
    """Check the Slack tokens with Slack (retrying while it is unreachable) and resolve a `#name`
    PARLEY_CHANNEL to its ID, before anything is built. Raises ConfigError naming the variable."""
    if settings.slack_bot_token is None:
        return settings  # build() says what is missing
    channel = check_slack(SlackStartup(
        bot_token=secret(settings.slack_bot_token), api_url=settings.slack_api_url,
        app_token=secret(settings.slack_app_token) or None, channel=settings.parley_channel,
        wait=settings.parley_startup_wait.total_seconds()))
    return settings.model_copy(update={"parley_channel": channel})


def _cmd_check(args: argparse.Namespace) -> int:
    """One line per check (✓, ✗ with the fix, ⚠); exit 1 when anything must be fixed."""
    try:
        settings = load_settings()
    except ConfigError as exc:
        print(f"✗ settings: {' '.join(str(exc).split())}\n1 problem to fix")
        return 1
    store = Store.from_url(settings.database_url, migrate=False)
    try:
        checks = run_checks(settings, args.connectors(settings, store), store, utcnow(), subscribe=args.subscribe)
    finally:
        store.dispose()
    text, code = check_report(checks)
    print(text)
    return code


def _cmd_demo(args: argparse.Namespace) -> int:
    # The demo and its emulators are development tools: a production `parley run` never loads them.
    from sandbox.demo.runner import run_demo

    return run_demo(args.build, out=sys.stdout, verbose=args.verbose)


def _cmd_classify(args: argparse.Namespace) -> int:
    classify_lines(sys.stdin, sys.stdout)
    return 0


def _cmd_audit(args: argparse.Namespace) -> int:
    now = utcnow()
    try:
        since = parse_since(args.since, now)
        until = parse_since(args.until, now) if args.until else default_until()
    except ValueError as exc:
        print(f"parley audit: {exc}", file=sys.stderr)
        return 2
    settings = load_settings()
    store = Store.from_url(settings.database_url, migrate=False)
    try:
        entries = audit_entries(store, since=since, until=until, actor=args.actor,
                                conversation=args.conversation, action=args.action)
    except sa.exc.OperationalError as exc:
        print(f"parley audit: cannot read the audit log ({exc.orig}); is DATABASE_URL right, and has "
              "`parley db upgrade` run?", file=sys.stderr)
        return 2
    finally:
        store.dispose()
    write_audit(entries, sys.stdout, args.format)
    return 0


def _report_period(args: argparse.Namespace, now: datetime) -> Period:
    """[--since, --until) from the command line; ValueError names the option that is wrong."""
    bounds: dict[str, datetime] = {}
    for option, value in (("--since", args.since), ("--until", args.until)):
        try:
            bounds[option] = now if value is None else parse_since(value, now)
        except ValueError as exc:
            raise ValueError(f"{option}: {exc}") from None
    if bounds["--until"] <= bounds["--since"]:
        raise ValueError("--until must be later than --since")
    return Period(bounds["--since"], bounds["--until"], f"since {args.since}")


def _cmd_report(args: argparse.Namespace) -> int:
    try:
        period = _report_period(args, utcnow())
    except ValueError as exc:
        print(f"parley report: {exc}", file=sys.stderr)
        return 2
    settings = load_settings()
    service_level, now = ServiceLevel.of(settings.sla), utcnow()
    store = Store.from_url(settings.database_url, migrate=False)
    rows: list[dict[str, Cell]] | None = None
    try:
        with store.transaction() as session:
            if args.csv:
                rows = export_rows(session, period, service_level, now)
            elif args.json:
                write_json(session, period, service_level, now, sys.stdout)
            else:
                write_summary(report(session, period, service_level, now), sys.stdout)
    except sa.exc.OperationalError as exc:
        print(f"parley report: cannot read the database ({exc.orig}); is DATABASE_URL right, and has "
              "`parley db upgrade` run?", file=sys.stderr)
        return 2
    finally:
        store.dispose()
    return _write_rows(rows, args.csv) if rows is not None else 0


def _write_rows(rows: list[dict[str, Cell]], path: str) -> int:
    if path == "-":
        write_csv(rows, sys.stdout)
        return 0
    try:
        with open(path, "w", encoding="utf-8", newline="") as out:
            write_csv(rows, out)
    except OSError as exc:
        print(f"parley report: --csv: cannot write {path!r} ({exc.strerror})", file=sys.stderr)
        return 2
    print(f"{len(rows)} conversation{'' if len(rows) == 1 else 's'} written to {path}")
    return 0


def _conversation_ref(value: str) -> int:
    if not value.lstrip("#").isdigit():
        raise argparse.ArgumentTypeError(f"{value!r} is not a conversation reference like #12")
    return int(value.lstrip("#"))


def _cmd_db_upgrade(args: argparse.Namespace) -> int:
    settings = load_settings()
    engine = make_engine(settings.database_url)
    wait_until_reachable(engine, settings.parley_startup_wait.total_seconds())
    upgrade(engine, args.revision)
    print(f"database at revision {args.revision}")
    return 0


def _cmd_quarantine(args: argparse.Namespace) -> int:
    if args.action == "retry" and not args.all and not args.ids:
        print("parley quarantine retry: give quarantine ids (see `parley quarantine list`) or --all",
              file=sys.stderr)
        return 2
    settings = load_settings()
    store = Store.from_url(settings.database_url, migrate=False)
    try:
        if args.action == "list":
            for row in quarantine.pending(store):
                print(dead_letters.describe(row))
            return 0
        # Stored rows reach Slack through the outbox, which the running `parley run` drains.
        ingestor = Ingestor(store, Router(settings.routing, settings.parley_channel))
        outcomes = dead_letters.retry(store, ingestor, None if args.all else args.ids, utcnow())
    finally:
        store.dispose()
    for outcome in outcomes:
        print(f"{outcome.row_id}\t{'stored' if outcome.stored else 'failed: ' + str(outcome.error)}")
    return 0 if all(o.stored for o in outcomes) else 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="parley", description="Social customer support in Slack.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    run = sub.add_parser("run", help="run the app (Slack + polling + webhooks)")
    run.add_argument("--host", default="0.0.0.0", help="interface for the HTTP server (default 0.0.0.0)")
    run.set_defaults(func=_cmd_run)
    check = sub.add_parser("check", help="check Slack, X, Facebook and the database before `parley run`")
    check.add_argument("--subscribe", action="store_true",
                       help="subscribe the app to the Facebook Page's webhooks if it is not (POST subscribed_apps)")
    check.set_defaults(func=_cmd_check)
    demo = sub.add_parser("demo", help="offline demo on local emulators of Slack, X and Facebook")
    demo.add_argument("-v", "--verbose", action="store_true", help="show the app's log lines")
    demo.set_defaults(func=_cmd_demo)
    classify = sub.add_parser("classify", help="triage texts from stdin (one per line) as JSON lines")
    classify.set_defaults(func=_cmd_classify)
    audit = sub.add_parser("audit", help="print the audit log of outbound actions and state changes")
    audit.add_argument("--since", default="7d", help="a duration back from now (7d, 12h) or a date (default 7d)")
    audit.add_argument("--until", help="end of the period, same forms as --since (default now)")
    audit.add_argument("--actor", help="only this Slack user id (or 'parley')")
    audit.add_argument("--conversation", type=_conversation_ref, help="only this case, e.g. #12")
    audit.add_argument("--action", help="only this action, e.g. reply_public, assign, resolve")
    audit.add_argument("--format", choices=("text", "json", "csv"), default="text")
    audit.set_defaults(func=_cmd_audit)
    dead = sub.add_parser("quarantine", help="list or retry customer messages that could not be stored")
    dead.add_argument("action", choices=("list", "retry"))
    dead.add_argument("ids", nargs="*", type=int, help="quarantine ids to retry (from `list`)")
    dead.add_argument("--all", action="store_true", help="retry every unresolved quarantined message")
    dead.set_defaults(func=_cmd_quarantine)
    rep = sub.add_parser("report", help="every KPI for a period, or one row per conversation (CSV, JSON)")
    rep.add_argument("--since", default="30d", help="a duration back from now (30d, 12h) or a date (default 30d)")
    rep.add_argument("--until", help="end of the period (excluded), same forms as --since (default now)")
    out = rep.add_mutually_exclusive_group()
    out.add_argument("--csv", metavar="FILE", help="write one row per conversation first seen in the period "
                     "to FILE ('-' for stdout); columns in the README")
    out.add_argument("--json", action="store_true", help="print the report and the rows as one JSON document")
    rep.set_defaults(func=_cmd_report)
    db = sub.add_parser("db", help="database maintenance")
    db_sub = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    up = db_sub.add_parser("upgrade", help="apply schema migrations")
    up.add_argument("revision", nargs="?", default="head")
    up.set_defaults(func=_cmd_db_upgrade)
    return parser


def main(argv: list[str] | None = None, *, build: Build, connectors: Connectors = lambda *_: ()) -> int:
    """Run one `parley` subcommand; `build` wires the app from settings (`app.build`), `connectors`
    makes the configured networks' connectors (`app.build_registry`) for `parley check`."""
    args = build_parser().parse_args(argv)
    args.build, args.connectors = build, connectors
    try:
        return args.func(args)
    except ConfigError as exc:
        # One line, always: a YAML parser's or driver's message may span several.
        print(f"parley: {' '.join(str(exc).split())}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
