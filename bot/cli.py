"""`parley` command line: run, demo, classify, db upgrade. Errors go to stderr with exit code 2."""

from __future__ import annotations

import argparse
import logging
import sys

from bot.settings import ConfigError, load_settings


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
    handler = logging.StreamHandler()
    handler.setFormatter(_SecretSafeFormatter(secrets))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("apscheduler", "urllib3", "slack_bolt", "slack_sdk"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLevelName(level)))


def _cmd_run(args: argparse.Namespace) -> int:
    from app import build
    from bot.settings import secret

    settings = load_settings()
    configure_logging(settings.parley_log_level, [
        secret(getattr(settings, name)) for name in type(settings).model_fields
        if name.endswith(("token", "secret", "key"))
    ])
    parley = build(settings)
    parley.start_background()
    try:
        parley.serve(host=args.host)
    finally:
        parley.stop()
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    from sandbox.demo import run_demo

    return run_demo(out=sys.stdout, verbose=args.verbose)


def _cmd_classify(args: argparse.Namespace) -> int:
    from bot.triage import classify_lines

    classify_lines(sys.stdin, sys.stdout)
    return 0


def _cmd_db_upgrade(args: argparse.Namespace) -> int:
    from bot.store import make_engine, upgrade

    settings = load_settings()
    engine = make_engine(settings.database_url)
    upgrade(engine, args.revision)
    print(f"database at revision {args.revision}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="parley", description="Social customer support in Slack.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    run = sub.add_parser("run", help="run the app (Slack + polling + webhooks)")
    run.add_argument("--host", default="0.0.0.0", help="interface for the HTTP server (default 0.0.0.0)")
    run.set_defaults(func=_cmd_run)
    demo = sub.add_parser("demo", help="offline demo on local emulators of Slack, X and Facebook")
    demo.add_argument("-v", "--verbose", action="store_true", help="show the app's log lines")
    demo.set_defaults(func=_cmd_demo)
    classify = sub.add_parser("classify", help="triage texts from stdin (one per line) as JSON lines")
    classify.set_defaults(func=_cmd_classify)
    db = sub.add_parser("db", help="database maintenance")
    db_sub = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    up = db_sub.add_parser("upgrade", help="apply schema migrations")
    up.add_argument("revision", nargs="?", default="head")
    up.set_defaults(func=_cmd_db_upgrade)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except ConfigError as exc:
        print(f"parley: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
