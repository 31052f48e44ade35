"""The whole spike as a file (issue 11): when a storm ends, every mention it brought to the channel
is uploaded as CSV into the spike alert's thread (a thread reply, not another top-level message),
so nothing of the spike depends on reading roll-ups.

One row per case, in arrival order: `#N`, network, author, reach (followers), tone, complaint, how it
was shown (card, roll-up), link, and the full text. A cell a spreadsheet would read as a formula
(it starts with = + - @, a tab or a carriage return: customer words often start with "@brand") is
prefixed with an apostrophe, as OWASP advises (https://owasp.org/www-community/attacks/CSV_Injection).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from datetime import datetime

import sqlalchemy as sa
from slack_sdk import WebClient
from sqlmodel import Session, col

from bot.delivery.storm import ChannelStorm
from bot.store.models import Conversation, Customer, Message, OutboxItem, OutboxKind, OutboxStatus

COLUMNS = ("#", "network", "author", "reach", "tone", "complaint", "shown as", "link", "text")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_SHOWN = {OutboxStatus.SENT: "card", OutboxStatus.ROLLED_UP: "roll-up", OutboxStatus.DEAD: "not posted"}
Row = tuple[int | None, str, str, int | None, str, bool, str, str | None, str | None]


def spike_rows(session: Session, channel: str, storm: ChannelStorm) -> Iterator[Row]:
    """Every case whose card was queued for the channel during the storm (the alert's rows), oldest
    first, read in chunks so a 10 000-mention spike is never held as ORM objects at once."""
    result = session.execute(
        sa.select(col(Conversation.ref), col(Conversation.platform), col(Customer.handle), col(Customer.followers),
                  col(Conversation.tone), col(Conversation.complaint), col(OutboxItem.status),
                  sa.func.coalesce(col(Message.url), col(Conversation.url)), col(Message.text))
        .join(Conversation, col(Conversation.id) == col(OutboxItem.conversation_id))
        .join(Customer, col(Customer.id) == col(Conversation.customer_id))
        .outerjoin(Message, col(Message.id) == col(OutboxItem.message_id))
        .where(col(OutboxItem.id) > storm.since_id, col(OutboxItem.channel) == channel,
               col(OutboxItem.kind) == OutboxKind.POST_CARD)
        .order_by(col(OutboxItem.id))
        .execution_options(yield_per=1000))
    for ref, platform, handle, followers, tone, complaint, status, url, text in result:
        yield ref, platform, handle, followers, tone, bool(complaint), _SHOWN.get(status, "queued"), url, text


def spike_csv(rows: Iterable[Row]) -> tuple[bytes, int]:
    """The CSV (UTF-8 with a byte-order mark, so spreadsheet apps read accents right) and its row count."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    count = 0
    for row in rows:
        writer.writerow([_cell(v) for v in row])
        count += 1
    return out.getvalue().encode("utf-8-sig"), count


def _cell(value: object) -> object:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return "" if value is None else value


def upload(client: WebClient, *, channel_id: str, thread_ts: str, data: bytes, count: int, started: datetime) -> None:
    """Share the CSV in the alert's thread (files_upload_v2; Slack errors propagate)."""
    name = f"spike-{channel_id}-{started:%Y%m%d-%H%M}.csv"
    client.files_upload_v2(channel=channel_id, thread_ts=thread_ts, file=data, filename=name,
                           title=f"Spike of {started:%Y-%m-%d %H:%M} UTC: {count} mentions",
                           initial_comment=f"📎 All {count} mentions of this spike, one row each "
                                           f"(#N, author, reach, tone, complaint, link, text).")
