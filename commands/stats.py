"""`/social stats [24h|7d|30d]`: the digest's figures (bot/reports.py) for the period ending now,
answered ephemerally. No period means 7d; anything else is refused with the periods to choose from."""

from __future__ import annotations

from slack_bolt import Respond

from bot import ids
from bot.cards import stats
from bot.reports.figures import PERIODS, PeriodError, figures, parse_period
from bot.runtime import Parley
from commands.context import UserError
from commands.social import Invocation, subcommand

_CHOICES = "|".join(PERIODS)


@subcommand(ids.SUB_STATS, f"stats [{_CHOICES}]", "team figures for the period: open, overdue, answered, "
            "first-response times, SLA compliance, complaints answered (default 7d)", "stats 30d")
def show_stats(parley: Parley, invocation: Invocation, respond: Respond) -> None:
    now = parley.sender.clock()
    try:
        period = parse_period(invocation.args, now)
    except PeriodError as error:
        raise UserError(str(error)) from None
    with parley.store.transaction() as session:
        report = figures(session, period, parley.service_level, now)
    respond(response_type="ephemeral", **stats(report, now=now).payload())
