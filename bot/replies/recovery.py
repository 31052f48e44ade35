"""A reply left in SENDING by a process that died (kill -9 between marking it and storing what the
network answered): was it posted?

A SENDING message belongs to its sender while that process is alive (bot/store/presence.py) and its
lease has not run out; until then nobody else touches it. Once it is orphaned, one deliverer takes it
over (compare-and-set on `send_started_at`, so two replicas never both do) and asks the network
(`Connector.find_sent`):
- the post is found: the reply is settled as sent, with the post's id;
- there is none, or the network would refuse a copy (X refuses a text the brand already posted, and
  that refusal is read here as "it was posted"): it is sent again, under the new claim;
- the network cannot tell: it is failed as "outcome unknown" for staff to check, as before — a
  duplicate public post is worse than a missing one a person can re-send;
- asking failed (an outage): it stays claimed and is asked again when the lease runs out; a refusal
  to look (the post answered is gone) counts as cannot tell.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, update
from sqlmodel import Session, col

from bot.store.models import DeliveryStatus, Message
from bot.store.presence import Presence
from connectors.base import Action, CannotTell, Connector, SendError, SendResult

log = logging.getLogger(__name__)
DUPLICATE = "duplicate"  # the SendError code of a network refusing a copy of a post (connectors/x)


def held(message: Message, presence: Presence, now: datetime, lease: timedelta) -> bool:
    """Whether a SENDING message is another deliverer's work in progress (leave it alone)."""
    if message.send_started_at is not None and now - message.send_started_at >= lease:
        return False  # a lost answer or a hung call: long enough
    return message.claimed_by is None or presence.is_alive(message.claimed_by)


def claim(session: Session, message: Message, claimer: int, now: datetime, *, orphan: bool) -> bool:
    """PENDING → SENDING under this process's claim, or an orphaned SENDING message taken over (in the
    caller's transaction, compare-and-set); False when another deliverer got there first."""
    still: list[ColumnElement[bool]] = [col(Message.delivery_status) == DeliveryStatus.PENDING]
    if orphan:
        still = [col(Message.delivery_status) == DeliveryStatus.SENDING,
                 col(Message.send_started_at) == message.send_started_at]
    return session.exec(update(Message).where(col(Message.id) == message.id, *still)
                        .values(delivery_status=DeliveryStatus.SENDING, send_started_at=now, claimed_by=claimer)
                        .execution_options(synchronize_session=False)).rowcount == 1


def send(connector: Connector, action: Action) -> SendResult | SendError:
    """A first send: the network's answer, a refusal included."""
    try:
        return connector.send(action)
    except SendError as exc:
        log.warning("send failed: %s (code %s)", exc.message, exc.code)
        return exc


def resend(connector: Connector, action: Action, since: datetime, message: Message) -> SendResult | SendError | None:
    """The outcome of a taken-over message: what the network found or answered to a new send; None
    when the network cannot tell (staff decide)."""
    try:
        found = connector.find_sent(action, since)
    except CannotTell:
        return None
    except SendError as exc:
        if exc.retryable:
            log.warning("could not ask whether message %s was posted (%s); asking again later", message.id,
                        exc.message)
            raise LookupLater(exc.message) from exc
        return None  # e.g. the post answered is gone: nothing certain to say
    if found is not None:
        log.info("message %s had been posted before the restart (%s); not sending again", message.id,
                 found.external_id)
        return found
    try:
        return connector.send(action)
    except SendError as exc:
        if exc.code == DUPLICATE:  # the network already has exactly this post: ours, sent before the crash
            log.info("message %s had been posted before the restart (the network refused a copy)", message.id)
            return SendResult(external_id=message.external_id, url=None)
        return exc


class LookupLater(Exception):
    """Asking the network failed in a way worth retrying: the message stays in SENDING, claimed."""
