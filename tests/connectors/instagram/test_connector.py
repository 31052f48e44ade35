"""InstagramConnector through the real facebook-sdk client against the Graph emulator: polling with
persisted cursors, webhook records completed by lookup, replies and Graph's refusals."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from bot.inbound.ingest import Ingestor
from bot.inbound.poll import poll_connector
from bot.inbound.routing import Router, RoutingConfig
from bot.store.database import Store
from bot.store.models import Message
from connectors.base import Batch, DirectMessage, Kind, PrivateReply, PublicReply, SendError
from connectors.instagram.connector import InstagramConnector
from connectors.instagram.rules import mention_target
from connectors.instagram.streams import COMMENTS, DIRECT, TAGS
from connectors.instagram.webhook import parse
from sandbox.emulators.graph_api import GraphEmulator
from sandbox.emulators.graph_instagram import mention_change, webhook

PAGE, TOKEN = "5550001", "EAAG-secret-page-token"
NOW = datetime.now(UTC).replace(microsecond=0)


@pytest.fixture
def graph() -> Iterator[GraphEmulator]:
    emulator = GraphEmulator(page_id=PAGE, page_token=TOKEN).start()
    yield emulator
    emulator.stop()


def connect(graph: GraphEmulator, *, page_size: int = 50) -> InstagramConnector:
    return InstagramConnector(account_id=graph.instagram.id, token=TOKEN, page_id=PAGE,
                              graph_url=graph.base_url + "/", page_size=page_size)


def heard(batches: list[Batch], stream: str | None = None) -> dict[str, object]:
    return {m.external_id: m for b in batches if stream in (None, b.stream) for m in b.messages}


def test_comments_replies_tags_and_dms_are_heard_and_the_accounts_own_skipped(graph) -> None:
    media = graph.add_instagram_media("New drop", created_at=NOW - timedelta(days=1))
    top = graph.add_instagram_comment(media, "lucia.g", "¿Cuándo llega?", created_at=NOW - timedelta(hours=3))
    graph.add_instagram_comment(top, None, "¡Hoy!", created_at=NOW - timedelta(hours=2))
    reply = graph.add_instagram_comment(top, "lucia.g", "Sigue sin llegar", created_at=NOW - timedelta(hours=1))
    tagged = graph.add_instagram_media("Loving my @acme boots", by="sam.t", created_at=NOW - timedelta(hours=2))
    dm = graph.add_instagram_dm("leo.p", "My parcel is late", created_at=NOW - timedelta(minutes=5))

    batches = list(connect(graph).poll({}, NOW))
    found = heard(batches)

    assert set(found) == {top, reply, tagged, dm}
    assert (found[top].kind, found[top].thread_key, found[reply].thread_key, found[reply].in_reply_to) == (
        Kind.COMMENT, top, top, top)
    assert (found[tagged].kind, found[tagged].thread_key, found[tagged].author.handle) == (
        Kind.MENTION, tagged, "sam.t")
    assert (found[dm].kind, found[dm].thread_key) == (Kind.DM, graph.instagram.user("leo.p"))
    assert found[top].url == f"https://www.instagram.com/p/{media}/"
    assert {b.stream for b in batches if b.cursor} == {COMMENTS, TAGS, DIRECT}


def test_every_page_after_the_starting_point_is_read_once_across_polls_and_restarts(graph, sqlite_store: Store) -> None:
    ingestor = Ingestor(sqlite_store, Router(RoutingConfig(), "C-SUPPORT"))
    media = graph.add_instagram_media("Launch", created_at=NOW - timedelta(days=2))
    poll_connector(connect(graph, page_size=2), sqlite_store, ingestor, NOW)  # the starting point
    later = NOW + timedelta(minutes=30)
    ids = [graph.add_instagram_comment(media, f"fan{n}", f"c{n}", created_at=NOW + timedelta(minutes=n))
           for n in range(7)]
    ids += [graph.add_instagram_dm("leo.p", f"dm {n}", created_at=NOW + timedelta(minutes=n)) for n in range(5)]
    assert poll_connector(connect(graph, page_size=2), sqlite_store, ingestor, later).stored == 12
    # A restarted process (a new connector) re-reads the overlap and stores nothing twice.
    assert poll_connector(connect(graph, page_size=2), sqlite_store, ingestor, later).stored == 0
    with sqlite_store.transaction() as session:
        stored = session.exec(select(Message.external_id).where(Message.platform == "instagram")).all()
    assert sorted(stored) == sorted(ids)


def test_a_webhook_mention_is_completed_from_graph_and_a_vanished_one_dropped(graph) -> None:
    ig = connect(graph)
    other = graph.add_instagram_media("Shoutout to @acme", by="sam.t", created_at=NOW - timedelta(minutes=3))
    comment = graph.add_instagram_comment(other, "rita.k", "@acme my order is missing", created_at=NOW)
    records = parse(webhook(graph.instagram.id, NOW, changes=[mention_change(other), mention_change(other, comment),
                                                             mention_change("404")]), graph.instagram.id)
    completed = [ig.complete(r) for r in records]
    caption, in_comment, gone = completed
    assert caption is not None and (caption.text, caption.author.handle, caption.external_id) == (
        "Shoutout to @acme", "sam.t", other)
    assert in_comment is not None and (in_comment.text, in_comment.thread_key, in_comment.created_at) == (
        "@acme my order is missing", other, NOW)
    assert gone is None


def test_replies_go_where_instagram_puts_them_and_graphs_refusals_read_plainly(graph) -> None:
    ig = connect(graph)
    media = graph.add_instagram_media("Drop", created_at=NOW - timedelta(days=1))
    top = graph.add_instagram_comment(media, "lucia.g", "¿Talla M?", created_at=NOW - timedelta(hours=1))
    old = graph.add_instagram_comment(media, "bo.c", "old", created_at=NOW - timedelta(days=8))
    other = graph.add_instagram_media("Hey @acme", by="sam.t")
    ig.send(PublicReply(top, "¡Sí!"))
    ig.send(PublicReply(mention_target(other), "Thanks Sam!"))
    ig.send(PrivateReply(top, "Te escribimos"))
    with pytest.raises(SendError, match="only one private reply per comment") as twice:
        ig.send(PrivateReply(top, "again"))
    with pytest.raises(SendError, match="7 days"):
        ig.send(PrivateReply(old, "late"))
    assert twice.value.code == "10900" and not twice.value.retryable
    assert [r["comment_id"] for r in graph.instagram.comment_replies] == [top]
    assert [r["media_id"] for r in graph.instagram.mention_replies] == [other]
    assert [r["comment_id"] for r in graph.instagram.private_replies] == [top]


def test_dms_within_24_hours_human_agent_within_7_days_and_permission_errors(graph) -> None:
    ig = connect(graph)
    graph.add_instagram_dm("leo.p", "hi", created_at=NOW - timedelta(hours=30))
    igsid = graph.instagram.user("leo.p")
    with pytest.raises(SendError, match="Outside Instagram's messaging window"):
        ig.send(DirectMessage(igsid, "late"))
    ig.send(DirectMessage(igsid, "Sorry for the wait", human_agent_tag=True))
    assert [(m["messaging_type"], m["tag"]) for m in graph.instagram.sent_messages] == [("MESSAGE_TAG", "HUMAN_AGENT")]
    graph.instagram.permissions.discard("instagram_manage_messages")
    with pytest.raises(SendError, match="instagram_manage_messages"):
        ig.send(DirectMessage(igsid, "again", human_agent_tag=True))
    list(ig.poll({}, NOW))
    assert not ig.health.ok and "permission" in (ig.health.last_error or "")


def test_hiding_a_comment(graph) -> None:
    media = graph.add_instagram_media("Drop", created_at=NOW - timedelta(days=1))
    rude = graph.add_instagram_comment(media, "troll", "spam spam", created_at=NOW)
    connect(graph).hide_comment(rude)
    assert graph.instagram.hidden == [rude] and graph.instagram.comments[rude].hidden
    with pytest.raises(SendError, match="hidden"):
        connect(graph).send(PublicReply(rude, "no replies to hidden comments"))


def test_a_dm_with_choices_goes_with_quick_replies(graph) -> None:
    ig = connect(graph)
    graph.add_instagram_dm("leo.p", "thanks, all sorted", created_at=NOW - timedelta(minutes=5))
    igsid = graph.instagram.user("leo.p")
    ig.send(DirectMessage(igsid, "How did we do?", choices=(("1 😞", "CSAT:1"), ("5 😍", "CSAT:5"))))
    [sent] = graph.instagram.sent_messages
    assert [(q["title"], q["payload"]) for q in sent["quick_replies"]] == [("1 😞", "CSAT:1"), ("5 😍", "CSAT:5")]
    assert (sent["messaging_type"], sent["tag"]) == ("RESPONSE", None)
