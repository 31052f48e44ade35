"""The reminder tick: wake ended snoozes, then chase every waiting customer without spamming the team.

`ReminderTick.run(now)` is a function of `now` (the scheduler calls the tick with the current time;
tests pass a shifted clock). One run:
1. wakes snoozed conversations whose time has come (their SLA clock runs again);
2. with quiet hours on and business hours closed, stops there: nothing is claimed, so the pings go
   out on the first tick after opening;
3. finds what is due (bot/reminders_plan.py): SLA warning, breach and escalation, each once per
   conversation and waiting period (only the highest when several were crossed at once), and
   Facebook reply windows about to close;
4. claims each in the same transaction as the Slack messages announcing it (bot/claims.py), so a
   restart, a crash before commit or a second replica never repeats one and never loses one;
5. groups per channel: one warning, one breach, one window message for everything that crossed
   together — a reply in the case's thread for one conversation, one channel message listing them
   for several. A breach also turns the card red (a card update) and is broadcast to the channel
   from the thread (one message, not two). Escalations go to each manager as one DM naming every
   newly escalated #N; with no PARLEY_MANAGERS they are posted in the case's channel instead.
"""

from __future__ import annotations

import hashlib
import logging
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from slack_sdk import WebClient
from sqlmodel import Session, col, select

from bot import cards
from bot.delivery.directory import SlackDirectory, mention
from bot.replies.actions import ConversationActions
from bot.replies.permissions import parse_agents
from bot.reports.service_level import ServiceLevel
from bot.schedule.due import BREACH, ESCALATION, THRESHOLDS, WARNING, Due, sla_due, sla_key, window_due
from bot.sla.clock import wait_period
from bot.store import outbox
from bot.store.claims import claim, claimed_among
from bot.store.database import Store
from bot.store.keys import row_id
from bot.store.models import ACTIVE, Conversation, Customer, Direction, Message, OutboxKind, Status, utcnow

log = logging.getLogger(__name__)

HERE = "<!here>"  # who is pinged about unassigned cases when PARLEY_ON_DUTY is unset
_Fired = tuple[Conversation, Due]


@dataclass(frozen=True)
class TickReport:
    """What one run did: `fired` counts conversations per threshold/window name; `messages` the Slack
    messages queued (card updates not counted); `deferred` escalations held back (no manager DM)."""

    woken: int = 0
    fired: Mapping[str, int] = field(default_factory=dict)
    messages: int = 0
    deferred: int = 0
    quiet: bool = False


class ReminderTick:
    """One reminder tick per call; see the module docstring. `slack` is used only to expand manager
    user groups, open manager DMs and build thread links; `on_committed` wakes the outbox worker."""

    def __init__(self, store: Store, service_level: ServiceLevel, *, slack: WebClient | None = None,
                 managers: Iterable[str] = (), on_duty: Iterable[str] = (),
                 window_leads: Mapping[str, timedelta] | None = None,
                 on_committed: Callable[[], None] = lambda: None) -> None:
        self.store = store
        self.service_level = service_level
        self.directory = SlackDirectory(slack)
        self.managers = frozenset(managers)
        self.on_duty = frozenset(on_duty)
        self.window_leads = dict(window_leads or {})
        self.on_committed = on_committed

    @classmethod
    def from_settings(cls, settings: Any, store: Store, service_level: ServiceLevel, slack: WebClient, *,
                      on_committed: Callable[[], None]) -> ReminderTick:
        """PARLEY_MANAGERS get escalations; PARLEY_ON_DUTY is pinged about unassigned cases."""
        return cls(store, service_level, slack=slack, managers=parse_agents(settings.parley_managers),
                   on_duty=parse_agents(settings.parley_on_duty), on_committed=on_committed)

    def __call__(self) -> TickReport:
        return self.run(utcnow())

    def run(self, now: datetime) -> TickReport:
        woken = self._wake(now)
        if self.service_level.config.quiet_hours and not self.service_level.hours.is_open(now):
            return TickReport(woken=woken, quiet=True)
        with self.store.transaction() as session:
            candidates = self._unclaimed(session, [due for _, due in self._plan(session, now)])
        if not candidates:
            return TickReport(woken=woken)
        # Slack is asked before the transaction, never inside it.
        dms: dict[str, str] = {}
        deferred = 0
        if self.managers and any(d.what == ESCALATION for d in candidates):
            dms = self._manager_dms()
            if not dms:  # nobody could be told: try again next tick rather than claim it unseen
                deferred = sum(d.what == ESCALATION for d in candidates)
                log.error("no manager in PARLEY_MANAGERS could be sent a DM; %d escalation(s) deferred",
                          deferred)
                candidates = [d for d in candidates if d.what != ESCALATION]
        self.directory.workspace_url()
        keys = {d.key for d in candidates}
        with self.store.transaction() as session:
            # Planned again inside the transaction: a case answered meanwhile is no longer due.
            fired = [(c, d) for c, d in self._plan(session, now)
                     if d.key in keys and self._claim(session, d, now)]
            messages = self._announce(session, fired, now, dms) if fired else 0
        if fired:
            self.on_committed()
        counts = Counter(d.what for _, d in fired)
        if fired:
            log.info("reminders: %s; %d message(s) queued", dict(counts), messages)
        return TickReport(woken=woken, fired=dict(counts), messages=messages, deferred=deferred)

    # --- finding what is due ------------------------------------------------------------------
    def _wake(self, now: datetime) -> int:
        """End snoozes whose time has passed (the same change as Sender.wake, at the tick's `now`)."""
        actions = ConversationActions(lambda: now, self.service_level.pause_meter)
        with self.store.transaction() as session:
            ended = session.exec(select(Conversation).where(ACTIVE, Conversation.status == Status.SNOOZED,
                                                            col(Conversation.snoozed_until) <= now)).all()
            woken = sum(actions.wake(session, conversation) for conversation in ended)
        if woken:
            self.on_committed()
        return woken

    def _plan(self, session: Session, now: datetime) -> list[_Fired]:
        """Every reminder due now, claimed or not. Snoozed cases are paused; resolved ones wait on nobody."""
        # The columns first: on a neglected store most waiting cases were escalated long ago and no
        # window is left, so only the others are loaded whole (an ORM object costs ~20 µs a row).
        waiting = session.execute(sa.select(
            col(Conversation.id), col(Conversation.first_response_at), col(Conversation.waiting_since),
            col(Conversation.last_customer_message_at), col(Conversation.channel), col(Conversation.platform),
            col(Conversation.kind)).where(ACTIVE, col(Conversation.waiting_since).is_not(None),
                                          col(Conversation.status).in_((Status.OPEN, Status.PENDING)),
                                          ).order_by(col(Conversation.id))).all()
        # A case already escalated in its current wait has no SLA threshold left to cross: its clock
        # is not evaluated again (on a neglected store, most of the backlog).
        keys = {w.id: sla_key(w.id, ESCALATION, wait_period(w.first_response_at, w.waiting_since)) for w in waiting}
        escalated = self._claimed(session, list(keys.values()))
        windows = {w.id: window_due(w.id, w.channel, w.platform, w.kind, w.last_customer_message_at or w.waiting_since,
                                    now, self.window_leads) for w in waiting}
        wanted = [w.id for w in waiting if keys[w.id] not in escalated or windows[w.id] is not None]
        whole: dict[int | None, Conversation] = {}
        for start in range(0, len(wanted), 500):
            whole.update((c.id, c) for c in session.exec(select(Conversation).where(
                col(Conversation.id).in_(wanted[start:start + 500]))).all())
        out: list[_Fired] = []
        for conversation_id in wanted:
            conversation = whole.get(conversation_id)
            if conversation is None or conversation.waiting_since is None:
                continue  # changed between the two reads: the next tick sees it
            if keys[conversation_id] not in escalated:
                due = sla_due(conversation_id, conversation.channel, self.service_level.status(conversation, now))
                if due is not None:
                    out.append((conversation, due))
            window = windows[conversation_id]
            if window is not None:
                out.append((conversation, window))
        return out

    @classmethod
    def _unclaimed(cls, session: Session, dues: Sequence[Due]) -> list[Due]:
        claimed = cls._claimed(session, [d.key for d in dues])
        return [d for d in dues if d.key not in claimed]

    @staticmethod
    def _claimed(session: Session, keys: Sequence[str]) -> set[str]:
        return claimed_among(session, keys)

    @staticmethod
    def _claim(session: Session, due: Due, now: datetime) -> bool:
        if not claim(session, due.key, now=now):
            return False  # fired before (another replica, or a tick that raced this one)
        for key in due.silent:  # lower thresholds crossed unseen: never announce them late
            claim(session, key, now=now)
        return True

    def _manager_dms(self) -> dict[str, str]:
        dms = {}
        for user in self.directory.members(self.managers):
            channel = self.directory.dm_channel(user)
            if channel is not None:
                dms[user] = channel
        return dms

    # --- announcing ---------------------------------------------------------------------------
    def _announce(self, session: Session, fired: list[_Fired], now: datetime, dms: Mapping[str, str]) -> int:
        rows = self._rows(session, [c for c, _ in fired], now)
        groups: dict[tuple[str, str], list[_Fired]] = defaultdict(list)
        for conversation, due in fired:
            groups[(due.what, conversation.channel)].append((conversation, due))
        queued = 0
        escalated: list[_Fired] = []
        overdue: list[Conversation] = []
        for (what, channel), items in sorted(groups.items()):
            items.sort(key=lambda item: item[0].id or 0)
            group_rows = [rows[row_id(c)] for c, _ in items]
            if what == WARNING:
                message = cards.sla_warning(group_rows, self._mention(c for c, _ in items))
                queued += self._post(session, what, channel, items, message, broadcast=False)
            elif what == BREACH:
                message = cards.sla_breach(group_rows, self._mention(c for c, _ in items))
                queued += self._post(session, what, channel, items, message, broadcast=True)
            elif what == ESCALATION and not dms:
                message = cards.escalation_dm(group_rows, now)
                queued += self._post(session, what, channel, items, message, broadcast=True)
            elif what == ESCALATION:
                escalated.extend(items)
            else:
                window = items[0][1].window
                assert window is not None
                closes_at = min(d.closes_at for _, d in items if d.closes_at is not None)
                message = cards.window_reminder(group_rows, window.label, closes_at, window.after, now=now)
                queued += self._post(session, what, channel, items, message, broadcast=False)
            if what in (BREACH, ESCALATION):
                overdue.extend(c for c, _ in items)
        if escalated:
            escalated.sort(key=lambda item: item[0].id or 0)
            message = cards.escalation_dm([rows[row_id(c)] for c, _ in escalated], now)
            batch = _digest(d.key for _, d in escalated)
            anchor = next((c for c, _ in escalated if c.slack_ts), escalated[0][0])
            for manager, dm in sorted(dms.items()):
                outbox.enqueue(session, kind=OutboxKind.CHANNEL_MESSAGE, conversation=anchor,
                               key=f"escalation:{manager}:{batch}", payload=message, channel=dm)
                queued += 1
        # The card shows its SLA badge, red once overdue. Queued after the messages, so a card not
        # posted yet never holds back a channel message or DM riding on the same conversation.
        for conversation in overdue:
            outbox.enqueue(session, kind=OutboxKind.UPDATE_CARD, conversation=conversation)
        return queued

    @staticmethod
    def _post(session: Session, what: str, channel: str, items: list[_Fired], message: cards.SlackMessage, *,
              broadcast: bool) -> int:
        """One conversation: a reply in its thread (broadcast to the channel for a breach); several:
        one message in the channel listing them."""
        first, due = items[0]
        if len(items) == 1:
            outbox.enqueue(session, kind=OutboxKind.THREAD_MESSAGE, conversation=first,
                           key=f"reminder:{due.key}", payload=message, reply_broadcast=broadcast)
        else:
            key = f"reminder:{what}:{channel}:{_digest(d.key for _, d in items)}"
            # The outbox orders by conversation: ride on one whose card is out, so nothing waits.
            anchor = next((c for c, _ in items if c.slack_ts), first)
            outbox.enqueue(session, kind=OutboxKind.CHANNEL_MESSAGE, conversation=anchor, payload=message,
                           key=key, channel=channel)
        return 1

    def _mention(self, conversations: Iterable[Conversation]) -> str:
        """The assignees; for unassigned cases the on-duty people/groups, or @here when none are set."""
        conversations = list(conversations)
        who = [f"<@{a}>" for a in sorted({c.assignee for c in conversations if c.assignee})]
        if any(not c.assignee for c in conversations):
            who.append(mention(self.on_duty) or HERE)
        return " ".join(who)

    def _rows(self, session: Session, conversations: list[Conversation],
              now: datetime) -> dict[int, cards.ConversationRow]:
        """Each conversation as a reminder row: customer handle, latest customer words, SLA, thread link."""
        ids = sorted({c.id for c in conversations if c.id is not None})
        customer_ids = {c.customer_id for c in conversations}
        query = select(Customer).where(col(Customer.id).in_(customer_ids))
        customers = {c.id: c for c in session.exec(query).all()}
        latest: dict[int, str] = {}
        inbound = select(Message).where(col(Message.conversation_id).in_(ids),
                                        Message.direction == Direction.INBOUND)
        for message in session.exec(inbound.order_by(col(Message.created_at), col(Message.id))).all():
            latest[message.conversation_id] = message.text
        return {c.id: self.service_level.row(c, customers.get(c.customer_id), latest.get(c.id, ""), now,
                                             permalink=self.directory.permalink(c.channel, c.slack_ts))
                for c in conversations if c.id is not None}


def _digest(keys: Iterable[str]) -> str:
    """A short stable name for a batch of claim keys (claims make every batch's set unique)."""
    return hashlib.sha1("\n".join(sorted(keys)).encode()).hexdigest()[:16]


__all__ = ["HERE", "THRESHOLDS", "ReminderTick", "TickReport"]
