"""Instagram end to end: the real app (facebook-sdk, slack_sdk) against the Graph and Slack emulators.

Ingest exactly once when the signed `instagram` webhook and the poll race, and after a restart;
threading; public, private and DM replies with their rules, windows and receipts; the window
reminders; `/social find` and `/social customer` across networks.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
import requests
from sqlmodel import select

from bot.store.models import Conversation, DeliveryStatus, Direction, Message
from sandbox.demo.seed import signed
from sandbox.emulators.graph_instagram import comment_change, dm_event, mention_change, webhook
from sandbox.emulators.stack import FACEBOOK_APP_SECRET
from tests.e2e.conftest import CHANNEL, count, run_until, stack_env, undelivered
from tests.e2e.slack_requests import mirror_x_mention, serve, wait_for  # noqa: F401  (serve is a fixture)
from tests.e2e.test_process import card_keys, kill_9_then_restart

pytestmark = pytest.mark.e2e


def instagram_conversations(parley) -> list[Conversation]:
    with parley.store.transaction() as session:
        return list(session.exec(select(Conversation).where(Conversation.platform == "instagram")
                                 .order_by(Conversation.id)).all())


def post_webhook(base_url: str, payload: dict) -> requests.Response:
    body, signature = signed(payload, FACEBOOK_APP_SECRET)
    return requests.post(f"{base_url}/webhooks/facebook", data=body, timeout=5,
                         headers={"Content-Type": "application/json", "X-Hub-Signature-256": signature})


def conversation_of(parley, external_id: str) -> Conversation:
    with parley.store.transaction() as session:
        message = session.exec(select(Message).where(Message.platform == "instagram",
                                                     Message.external_id == external_id)).one()
        return session.get(Conversation, message.conversation_id)


def test_webhook_and_poll_racing_and_a_restart_store_each_instagram_message_once(stack, serve):  # noqa: F811
    slack = serve()
    parley, ig = slack.parley, stack.graph.instagram
    now = datetime.now(UTC)
    media = stack.graph.add_instagram_media("New drop 👟", created_at=now - timedelta(hours=2))
    top = stack.graph.add_instagram_comment(media, "lucia.g", "¿Cuándo llega mi pedido?",
                                            created_at=now - timedelta(minutes=30))
    reply = stack.graph.add_instagram_comment(top, "lucia.g", "Sigue sin llegar",
                                              created_at=now - timedelta(minutes=20))
    dm = stack.graph.add_instagram_dm("leo.p", "Hi, my parcel is late", created_at=now - timedelta(minutes=10))
    other = stack.graph.add_instagram_media("Loving my new @acme boots but one sole came off",
                                            by="sam.t", created_at=now - timedelta(minutes=5))
    delivery = webhook(ig.id, now, changes=[comment_change(ig, top), comment_change(ig, reply), mention_change(other)],
                       messaging=[dm_event(ig, ig.user("leo.p"), dm)])

    assert post_webhook(slack.base_url, delivery).status_code == 200
    run_until(parley, lambda: count(parley, Message) == 4 and undelivered(parley) == 0)  # polls too
    assert post_webhook(slack.base_url, delivery).status_code == 200  # Meta redelivers
    restarted = serve()  # a second process on the same database polls from the stored cursors
    run_until(restarted.parley, lambda: undelivered(restarted.parley) == 0)

    assert count(parley, Message) == 4
    conversations = instagram_conversations(parley)
    assert sorted(c.kind for c in conversations) == ["comment", "dm", "mention"]
    assert conversation_of(parley, reply).id == conversation_of(parley, top).id  # one thread
    cards = [m for m in stack.slack.posts(CHANNEL) if m.thread_ts is None]
    assert len(cards) == 3
    assert any("Instagram" in json.dumps(c.blocks, ensure_ascii=False) for c in cards)


def test_public_private_and_dm_replies_follow_instagrams_rules_with_receipts(stack, serve):  # noqa: F811
    slack = serve(PARLEY_BACKFILL="48h")  # the DM is 30 hours old
    parley = slack.parley
    now = datetime.now(UTC)
    media = stack.graph.add_instagram_media("Drop", created_at=now - timedelta(hours=3))
    comment = stack.graph.add_instagram_comment(media, "lucia.g", "My size is missing",
                                                created_at=now - timedelta(hours=1))
    stack.graph.add_instagram_dm("leo.p", "Where is my order?", created_at=now - timedelta(hours=30))
    run_until(parley, lambda: count(parley, Message) == 2 and undelivered(parley) == 0)
    case = conversation_of(parley, comment)
    dm_case = next(c for c in instagram_conversations(parley) if c.kind == "dm")

    for n, text in enumerate([f"reply #{case.ref} Restocking Friday!", f"private #{case.ref} DM-ing you the link",
                              f"private #{case.ref} A second private reply", f"reply #{dm_case.ref} Sorry, Leo!"],
                             start=1):
        assert slack.command(text).status_code == 200
        slack.responses(n)
    wait_for(lambda: len(stack.graph.instagram.sent_messages) == 1, what="the DM")
    run_until(parley, lambda: undelivered(parley) == 0 and len(stack.graph.instagram.private_replies) == 1)

    answers = [r["text"] for r in slack.responses(4)]
    assert "only one private reply per comment" in answers[2]  # refused before anything was sent
    assert [r["comment_id"] for r in stack.graph.instagram.comment_replies] == [comment]
    assert [r["comment_id"] for r in stack.graph.instagram.private_replies] == [comment]
    [dm] = stack.graph.instagram.sent_messages
    assert (dm["messaging_type"], dm["tag"]) == ("MESSAGE_TAG", "HUMAN_AGENT")  # 30 h after the customer wrote
    with parley.store.transaction() as session:
        sent = session.exec(select(Message).where(Message.direction == Direction.OUTBOUND)).all()
    assert sorted(m.kind for m in sent) == ["ig_dm", "ig_private", "ig_reply"]
    assert {m.delivery_status for m in sent} == {DeliveryStatus.SENT}

    def receipts() -> list[str]:
        return [m.text for m in stack.slack.thread(CHANNEL, case.slack_ts)[1:] if "✅" in m.text]

    run_until(parley, lambda: len(receipts()) == 2)  # the public reply's and the private reply's
    assert [r.split("<@U0AGENT> ")[1] for r in receipts()] == [
        "replied publicly: “Restocking Friday!” ✅ sent", "replied privately: “DM-ing you the link” ✅ sent"]


def test_the_dm_window_reminder_and_find_and_customer_across_networks(stack, serve):  # noqa: F811
    slack = serve()
    parley = slack.parley
    now = datetime.now(UTC)
    stack.graph.add_instagram_dm("dana", "My refund never came", created_at=now - timedelta(hours=23))
    mirror_x_mention(stack, parley, "@acme my refund never came", username="dana", name="Dana Scully")
    run_until(parley, lambda: len(instagram_conversations(parley)) == 1 and undelivered(parley) == 0)
    [case] = instagram_conversations(parley)

    _, job = parley.jobs["reminders"]
    job.run(now)
    job.run(now + timedelta(seconds=5))  # claimed once: no second reminder
    run_until(parley, lambda: undelivered(parley) == 0)
    thread = [m.text for m in stack.slack.thread(CHANNEL, case.slack_ts)[1:]]
    assert sum("Instagram 24-hour messaging window" in t for t in thread) == 1

    assert slack.command("find refund never").status_code == 200
    assert slack.command("customer @dana").status_code == 200
    found, customer = slack.responses(2)
    assert "Instagram" in json.dumps(found, ensure_ascii=False) and "X" in json.dumps(found)
    assert json.dumps(customer, ensure_ascii=False).count(f"#{case.ref}") >= 1


def test_kill_9_mid_delivery_then_restart_mirrors_each_instagram_comment_once(stack, database_url):
    """The real process, killed with SIGKILL while cards are going out, then started again: each
    Instagram comment gets exactly one card (cursors and outbox in the database, not in memory)."""
    total = 30
    now = datetime.now(UTC)
    media = stack.graph.add_instagram_media("Spring sale", created_at=now - timedelta(hours=1))
    for i in range(total):
        stack.graph.add_instagram_comment(media, f"fan{i}", f"Where is order {i}?",
                                          created_at=now - timedelta(minutes=30) + timedelta(seconds=i))
    env = stack_env(stack, database_url, PARLEY_POLL_INTERVAL="1s", PARLEY_SLACK_MIN_INTERVAL="150ms")
    cards = card_keys(kill_9_then_restart(stack, env, total))
    assert len(cards) == total == len(set(cards))
