"""X spend where staff see it: `/social stats` and App Home's connection line, from the database
ledger (`x_charges`) that every replica shares."""

from __future__ import annotations

import json

import pytest
from sqlmodel import func, select

from bot.store.billing import XCharge
from tests.e2e.slack_requests import mirror_x_mention, serve, wait_for  # noqa: F401  (serve is a fixture)
from tests.e2e.test_social_conversation import ask

pytestmark = pytest.mark.e2e


def test_stats_show_what_x_billed_today_and_this_month(stack, serve):  # noqa: F811
    slack = serve(X_DAILY_BUDGET="5", X_MONTHLY_BUDGET="100")
    conv = mirror_x_mention(stack, slack.parley)  # one own mention read: $0.001
    ask(slack, f"reply #{conv.ref} So sorry! See https://acme.example/help", 1)  # a post with a URL: $0.200
    wait_for(lambda: len(stack.x.created_tweets) == 1, what="the reply")
    slack.parley.workers.shutdown(wait=True)

    assert slack.command("stats 7d").status_code == 200
    stats = slack.responses(2)[1]

    spend = "X spend: $0.20 today (of $5.00), $0.20 this month (of $100.00)"
    assert spend in json.dumps(stats["blocks"], ensure_ascii=False)
    with slack.parley.store.transaction() as db:
        kept = db.exec(select(XCharge.unit, func.count()).group_by(XCharge.unit)).all()
    assert dict(kept) == {"owned_read": 1, "post_url": 1}
    billed = sum(stack.x.billing.dollars(day) for day in {day for day, _ in stack.x.billing.items})
    assert billed == pytest.approx(0.201)  # what the emulator billed: the same items


def test_the_built_app_warns_the_digest_channel_once_when_the_budget_is_reached(stack, make_parley):
    """Wiring: `build` schedules the warning with the digest's recipients and the shared ledger."""
    stack.slack.add_channel("managers", id="C0MANAGERS")
    first = make_parley(X_MONTHLY_BUDGET="0.001", PARLEY_DIGEST_CHANNEL="C0MANAGERS")
    mirror_x_mention(stack, first)  # one own mention read: $0.001, 100% of the budget
    interval, tick = first.jobs["spend_warning"]
    assert interval == 60.0
    tick()
    restarted = make_parley(X_MONTHLY_BUDGET="0.001", PARLEY_DIGEST_CHANNEL="C0MANAGERS")
    restarted.jobs["spend_warning"][1]()

    [warning] = [p.text for p in stack.slack.posts("C0MANAGERS")]
    assert warning.startswith("🛑 X spend reached 100% of the monthly budget: searches stopped.")
    assert "What to do: raise X_MONTHLY_BUDGET (USD) and restart Parley." in warning
