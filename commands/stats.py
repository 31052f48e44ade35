"""`/social stats [24h|7d|30d]`: the digest's figures (bot/reports/figures.py) for the period ending
now, answered ephemerally, then the period's charts in the person's DM with the app. `/social export
[24h|7d|30d]`: one CSV row per conversation first seen in the period (bot/reports/export.py), uploaded
to the person's DM. No period means 7d; anything else is refused with the periods to choose from."""

from __future__ import annotations

import logging

from slack_bolt import Respond
from slack_sdk.errors import SlackApiError

from bot import ids
from bot.cards import stats
from bot.delivery.uploads import Upload, upload_to_dm
from bot.reports.charted import charted_report
from bot.reports.export import csv_bytes, export_rows
from bot.reports.figures import PERIODS, Period, PeriodError, figures, parse_period
from bot.reports.render import RenderError
from bot.runtime import Parley
from commands.context import UserError
from commands.social import Invocation, subcommand

log = logging.getLogger(__name__)
_CHOICES = "|".join(PERIODS)


def _period(parley: Parley, invocation: Invocation) -> Period:
    try:
        return parse_period(invocation.args, parley.sender.clock())
    except PeriodError as error:
        raise UserError(str(error)) from None


@subcommand(ids.SUB_STATS, f"stats [{_CHOICES}]", "team figures for the period: open, overdue, answered, "
            "first-response times, SLA compliance, complaints answered (default 7d); charts in your DM",
            "stats 30d")
def show_stats(parley: Parley, invocation: Invocation, respond: Respond) -> None:
    period = _period(parley, invocation)
    now = period.end
    with parley.store.transaction() as session:
        report = figures(session, period, parley.service_level, now)
    spend = tuple(words for c in parley.connectors if (words := c.usage(now)))
    respond(response_type="ephemeral", **stats(report, now=now, spend=spend).payload())
    try:
        with parley.store.transaction() as session:
            charts = charted_report(session, period, parley.service_level, now).files
        upload_to_dm(parley.bolt.client, invocation.user_id,
                     [Upload(c.filename, c.title, c.png) for c in charts], f"Charts: {period.label}")
    except (RenderError, SlackApiError):  # the figures above stand on their own
        log.exception("stats charts for %s could not be sent", invocation.user_id)
        respond(response_type="ephemeral", text="The charts could not be sent this time; the figures above stand.")


@subcommand(ids.SUB_EXPORT, f"export [{_CHOICES}]", "a CSV of the conversations first seen in the period, "
            "one row each, sent to your DM (default 7d)", "export 30d")
def export_csv(parley: Parley, invocation: Invocation, respond: Respond) -> None:
    period = _period(parley, invocation)
    with parley.store.transaction() as session:
        rows = export_rows(session, period, parley.service_level, period.end)
    name = f"parley-{period.end:%Y-%m-%d}-{invocation.args.strip().lower() or '7d'}.csv".replace(" ", "")
    try:
        upload_to_dm(parley.bolt.client, invocation.user_id, [Upload(name, name, csv_bytes(rows))],
                     f"{len(rows)} conversation(s), {period.label.lower()}")
    except SlackApiError as error:
        log.exception("export for %s could not be uploaded", invocation.user_id)
        raise UserError(f"The export could not be sent to your DM ({error.response.get('error')}).") from None
    respond(response_type="ephemeral", text=f"Sent {len(rows)} conversation(s) as CSV to your DM with Parley.")
