"""Channel membership and card updates against a Slack emulator that follows Slack's rules: the bot
is not in every channel, chat.update keeps what a call leaves out, a post may not carry `blocks: []`."""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlmodel import select

from bot.cards import SlaBadge
from bot.delivery import membership
from bot.delivery.slack import MEMBERSHIP_RETRY
from bot.store.models import Conversation, OutboxKind, OutboxStatus
from bot.store.outbox import enqueue
from sandbox.emulators.slack_api import SlackEmulator
from tests.bot.delivery.test_worker import (
    FakeClock,
    client_for,
    conversation,
    drain_until_done,
    follow_up,
    items,
    new_conversation,
    posted_keys,
    worker_for,
)

CHANNEL = "C0SUPPORT1"


def test_bot_not_in_the_channel_and_a_500_on_the_first_card_posts_it_once_and_joins(store):
    """The 500 leaves the card SENDING; its lookup answers not_in_channel, which used to make the
    card and its thread DEAD. Now Parley joins the public channel and looks again."""
    clock = FakeClock()
    with SlackEmulator(clock=clock.epoch) as slack:
        outside = slack.add_channel("support", id=CHANNEL, member=False)
        slack.fail_next(r"chat\.postMessage", 500)
        conv_id = new_conversation(store)
        follow_up(store, conv_id, "hello?")

        drain_until_done(worker_for(store, slack, clock), store, clock)

        assert [i.status for i in items(store)] == [OutboxStatus.SENT] * 2
        assert set(posted_keys(slack).values()) == {1} and len(posted_keys(slack)) == 2
        assert outside.member and slack.calls_to(r"conversations\.join$")
        card = conversation(store, conv_id)
        assert len(slack.thread(CHANNEL, card.slack_ts)) == 2


def test_a_private_channel_parley_is_not_in_waits_for_an_invite_and_is_never_dead(store, caplog):
    clock = FakeClock()
    with SlackEmulator(clock=clock.epoch) as slack:
        private = slack.add_channel("vip", id="C0PRIVATE1", private=True, member=False)
        conv_id = new_conversation(store, channel=private.id)
        follow_up(store, conv_id, "hello?")
        worker = worker_for(store, slack, clock)

        with caplog.at_level(logging.ERROR, logger="bot.delivery"):
            for _ in range(20):  # more rounds than max_attempts: waiting must not use them up
                worker.drain()
                clock.advance(MEMBERSHIP_RETRY.total_seconds())

        card, thread = items(store)
        assert (card.status, thread.status) == (OutboxStatus.PENDING, OutboxStatus.PENDING)
        assert "/invite @Parley" in card.last_error and private.id in card.last_error
        assert "/invite @Parley" in worker.missing_invites.hints[private.id]
        assert len([r for r in caplog.records if private.id in r.getMessage()]) == 1  # logged once
        assert slack.posts() == []

        private.member = True  # someone ran /invite @Parley
        drain_until_done(worker, store, clock)
        assert len(slack.posts(private.id)) == 2 and worker.missing_invites.hints == {}


def _set_badge(store, conv_id: int, badge: dict, state: str | None) -> None:
    """Give the conversation an SLA state and queue the card update a state change queues."""
    badge["state"] = state
    with store.transaction() as s:
        enqueue(s, kind=OutboxKind.UPDATE_CARD, conversation=s.get(Conversation, conv_id))


def test_overdue_then_answered_leaves_no_red_attachment_and_red_again_renders(store):
    clock = FakeClock()
    badge: dict[str, str | None] = {"state": None}

    def sla_badge(conv: Conversation, now) -> SlaBadge | None:
        return SlaBadge(badge["state"], "overdue by 1h" if badge["state"] == "breached" else "") \
            if badge["state"] else None

    with SlackEmulator(clock=clock.epoch) as slack:
        conv_id = new_conversation(store)
        worker = worker_for(store, slack, clock, sla_badge=sla_badge)
        worker.drain()
        ts = conversation(store, conv_id).slack_ts

        def card():
            return slack.thread(CHANNEL, ts)[0]

        def actions(message) -> int:
            return sum(b["type"] == "actions" for b in message.blocks)

        _set_badge(store, conv_id, badge, "breached")
        worker.drain()
        assert card().colour is not None and card().own_blocks == [] and actions(card()) == 1

        _set_badge(store, conv_id, badge, "met")
        worker.drain()
        assert card().colour is None and card().attachments == [] and actions(card()) == 1

        _set_badge(store, conv_id, badge, "breached")
        worker.drain()
        assert card().colour is not None and card().own_blocks == [] and actions(card()) == 1
        assert all(i.status == OutboxStatus.SENT for i in items(store))


def test_an_overdue_card_is_posted_without_an_empty_blocks_array(store):
    clock = FakeClock()
    with SlackEmulator(clock=clock.epoch) as slack:
        new_conversation(store)
        worker = worker_for(store, slack, clock, sla_badge=lambda conv, now: SlaBadge("breached", "overdue by 1h"))
        worker.drain()

        [post] = slack.calls_to(r"chat\.postMessage$")
        assert post.args().get("blocks") is None and post.args()["attachments"][0]["blocks"]
        assert [i.status for i in items(store)] == [OutboxStatus.SENT]
        assert slack.thread(CHANNEL, slack.posts()[0].ts)[0].colour is not None


def test_join_all_joins_public_channels_and_names_each_missing_invite(caplog):
    with SlackEmulator() as slack:
        public = slack.add_channel("social", member=False)
        inside = slack.add_channel("vip", private=True)
        secret = slack.add_channel("secret", private=True, member=False)
        missing = membership.MissingInvites()

        with caplog.at_level(logging.INFO, logger="bot.delivery"):
            membership.join_all(client_for(slack), [public.id, inside.id, secret.id, None, public.id], missing)

        assert public.member and len(slack.calls_to(r"conversations\.join$")) == 3
        assert list(missing.hints) == [secret.id] and "/invite @Parley" in missing.hints[secret.id]
        assert any(secret.id in r.getMessage() and "/invite @Parley" in r.getMessage() for r in caplog.records)


def test_join_all_without_the_join_scope_says_which_scope_is_missing():
    scopes = {"chat:write", "chat:write.public", "channels:history"}
    with SlackEmulator(scopes=scopes) as slack:
        public = slack.add_channel("social", member=False)
        missing = membership.MissingInvites()
        membership.join_all(client_for(slack), [public.id], missing)
        assert "channels:join" in missing.hints[public.id] and not public.member


def test_join_all_carries_on_when_slack_is_down():
    with SlackEmulator() as slack:
        first, second = slack.add_channel("a", member=False), slack.add_channel("b", member=False)
        slack.fail_next(r"conversations\.join", 503)
        missing = membership.MissingInvites()
        membership.join_all(client_for(slack), [first.id, second.id], missing)
        assert (first.member, second.member, missing.hints) == (False, True, {})


def test_membership_errors_are_never_dead_even_for_a_lookup(store):
    """A lookup (after a 500) in a private channel Parley was removed from: the item stays SENDING,
    since the first post may have landed, and waits for the invite."""
    clock = FakeClock()
    with SlackEmulator(clock=clock.epoch) as slack:
        private = slack.add_channel("vip", private=True)
        slack.fail_next(r"chat\.postMessage", 500)
        new_conversation(store, channel=private.id)
        worker = worker_for(store, slack, clock)
        worker.drain()
        private.member = False
        for _ in range(12):
            clock.advance(MEMBERSHIP_RETRY.total_seconds() + timedelta(minutes=5).total_seconds())
            worker.drain()
        [card] = items(store)
        assert card.status == OutboxStatus.SENDING and "/invite @Parley" in card.last_error
        with store.transaction() as s:
            assert s.exec(select(Conversation)).one().slack_ts is None
