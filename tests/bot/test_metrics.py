"""/metrics: Prometheus text that prometheus_client's own parser reads, with the series operators use."""

from __future__ import annotations

import requests
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from bot.metrics import Metrics
from sandbox.emulators.stack import EmulatorStack
from tests.e2e.conftest import CHANNEL, make_parley, stack  # noqa: F401  (fixtures)
from tests.e2e.slack_requests import mirror_facebook_comment, mirror_x_mention, serve  # noqa: F401  (a fixture)


def _families(base_url: str) -> dict[str, dict[tuple, float]]:
    response = requests.get(f"{base_url}/metrics", timeout=10)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    return {family.name: {(*sorted(s.labels.items()), s.name): s.value for s in family.samples}
            for family in text_string_to_metric_families(response.text)}


def test_metrics_count_what_was_heard_stored_posted_and_acknowledged(serve, stack: EmulatorStack):  # noqa: F811
    session = serve()
    mirror_x_mention(stack, session.parley)  # polled, stored, carded
    assert session.command("help").status_code == 200

    families = _families(session.base_url)
    heard = families["parley_messages_heard"]
    assert heard[(("platform", "x"), ("stream", "x:mentions"), "parley_messages_heard_total")] == 1
    stored = families["parley_messages_stored"]
    assert stored[(("platform", "x"), ("stream", "x:mentions"), "parley_messages_stored_total")] == 1
    posts = families["parley_slack_posts"]
    assert posts[(("method", "chat.postMessage"), "parley_slack_posts_total")] >= 1
    assert families["parley_slack_ack_seconds"][(("le", "+Inf"), "parley_slack_ack_seconds_bucket")] >= 1
    lag = families["parley_poll_lag_seconds"]
    assert (("platform", "x"), ("stream", "x:mentions"), "parley_poll_lag_seconds") in lag
    for name in ("parley_slack_rate_limited", "parley_platform_errors", "parley_delivery_queue_depth",
                 "parley_delivery_queue_oldest_seconds"):
        assert name in families, name


def test_slack_429s_and_the_waiting_queue_per_channel(serve, stack: EmulatorStack):  # noqa: F811
    session = serve()
    parley = session.parley
    stack.slack.fail_next(r"/api/chat\.postMessage", 429, headers={"Retry-After": "30"})
    stack.x.add_tweet(stack.x.add_user("dana", "Dana"), "@acme my order never arrived")
    parley.poll_all()
    parley.outbox.drain()  # the 429 pauses the channel: the card waits
    families = _families(session.base_url)
    assert families["parley_slack_rate_limited"][(("method", "chat.postMessage"),
                                                   "parley_slack_rate_limited_total")] == 1
    depth = families["parley_delivery_queue_depth"]
    assert depth[(("channel", CHANNEL), "parley_delivery_queue_depth")] == 1
    assert (("channel", CHANNEL), "parley_delivery_queue_oldest_seconds") in families[
        "parley_delivery_queue_oldest_seconds"]


def test_each_app_has_its_own_registry() -> None:
    first, second = Metrics(), Metrics()
    first.polled("x", "x:dm", 2, 2)
    assert second.registry.get_sample_value("parley_messages_heard_total", {"platform": "x", "stream": "x:dm"}) is None
    assert first.registry.get_sample_value("parley_messages_heard_total", {"platform": "x", "stream": "x:dm"}) == 2


def test_spend_today_this_month_budgets_and_share_used_per_network(serve, stack: EmulatorStack):  # noqa: F811
    session = serve(X_DAILY_BUDGET="0.002", X_MONTHLY_BUDGET="100")
    mirror_x_mention(stack, session.parley)  # one own mention read: $0.001 on X's meter

    families = _families(session.base_url)
    assert families["parley_spend_today_usd"] == {(("network", "x"), "parley_spend_today_usd"): 0.001}
    assert families["parley_spend_month_usd"] == {(("network", "x"), "parley_spend_month_usd"): 0.001}
    budget = families["parley_spend_budget_usd"]
    assert budget[(("network", "x"), ("period", "day"), "parley_spend_budget_usd")] == 0.002
    assert budget[(("network", "x"), ("period", "month"), "parley_spend_budget_usd")] == 100
    used = families["parley_spend_budget_used_ratio"]
    assert used[(("network", "x"), ("period", "day"), "parley_spend_budget_used_ratio")] == 0.5
    assert used[(("network", "x"), ("period", "month"), "parley_spend_budget_used_ratio")] == 0.00001


def test_a_spend_source_that_fails_leaves_the_rest_of_the_scrape_whole() -> None:
    metrics = Metrics()

    def broken() -> list:
        raise RuntimeError("database away")

    metrics.watch_spend(broken)
    metrics.polled("x", "x:dm", 1, 1)
    text = generate_latest(metrics.registry).decode()
    assert "parley_messages_heard_total" in text and "# TYPE parley_spend_today_usd gauge" in text


def test_the_rate_limit_share_graph_reports_per_network(serve, stack: EmulatorStack):  # noqa: F811
    session = serve()
    stack.graph.usage_percent = 85  # X-Business-Use-Case-Usage on every Graph answer
    mirror_facebook_comment(stack, session.parley)

    used = _families(session.base_url)["parley_platform_rate_usage_ratio"]
    assert used[(("network", "facebook"), "parley_platform_rate_usage_ratio")] == 0.85
