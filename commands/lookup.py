"""`/social queue|mine|find|customer`: lists of conversations, answered ephemerally.

Queries here read only; bot/reports.py `conversation_rows` turns conversations into the rows the
list builders (bot/cards/lists.py) take, with SLA state, in two queries for any number of rows. `find` reads
the full-text index (bot/store/search.py: SQLite FTS5, PostgreSQL tsvector; the same tokens on both).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from slack_bolt import Respond
from sqlalchemy import func, or_
from sqlmodel import Session, col, select

from bot import ids
from bot.cards import ConversationRow, SlackMessage, conversation_list, customer_history, escape
from bot.cards.lists import ACCOUNTS_SHOWN
from bot.reports.figures import conversation_rows
from bot.runtime import Parley
from bot.store.models import ACTIVE, Conversation, Customer, Status
from bot.store.profile import customer_profiles
from bot.store.search import words_condition
from bot.store.search_walk import newest_matching
from commands.context import UserError, slack_to_plain
from commands.social import Invocation, subcommand

QUEUE_MAX = 200  # the builder names every row beyond the ones it shows
MINE_MAX = 200
FIND_MAX = 20
FIND_WORDS_MAX = 20  # each word is a subquery on the index: a thousand would make SQLite's tree too large
FIND_CHARS_MAX = 200
HISTORY_MAX = 100
_UNRESOLVED = (Status.OPEN, Status.PENDING, Status.SNOOZED)


# --- queries -------------------------------------------------------------------------------------
def _waiting_order() -> tuple:
    # Oldest wait first; a case nobody waits on sorts by when it began.
    return func.coalesce(Conversation.waiting_since, Conversation.first_seen_at).asc(), col(Conversation.id).asc()


def _newest_order() -> tuple:
    newest = func.coalesce(Conversation.last_customer_message_at, Conversation.first_seen_at)
    return newest.desc(), col(Conversation.id).desc()


def open_queue(session: Session, limit: int = QUEUE_MAX) -> list[Conversation]:
    """Conversations waiting on us (status open), oldest wait first. Snoozed cases are hidden."""
    return list(session.exec(select(Conversation).where(ACTIVE, Conversation.status == Status.OPEN)
                             .order_by(*_waiting_order()).limit(limit)).all())


def snoozed_count(session: Session) -> int:
    return session.exec(select(func.count()).select_from(Conversation)
                        .where(ACTIVE, Conversation.status == Status.SNOOZED)).one()


def id_list(keys: Sequence[int | None]) -> list[int]:
    return [key for key in keys if key is not None]  # primary keys: never None; for the type checker


def _assigned(user_id: str) -> tuple:
    # ACTIVE (the partial index) leads: an agent's resolved cases pile up, their open ones do not.
    return ACTIVE, Conversation.assignee == user_id, col(Conversation.status).in_(_UNRESOLVED)


def assigned_to(session: Session, user_id: str, limit: int = MINE_MAX) -> list[Conversation]:
    """Open, pending and snoozed cases assigned to `user_id`, oldest wait first."""
    return list(session.exec(select(Conversation).where(*_assigned(user_id))
                             .order_by(*_waiting_order()).limit(limit)).all())


def assigned_ids(session: Session, user_id: str, limit: int = MINE_MAX) -> list[int]:
    """The ids of `assigned_to`, in its order (App Home loads only the rows it draws)."""
    return id_list(session.exec(select(col(Conversation.id)).where(*_assigned(user_id))
                             .order_by(*_waiting_order()).limit(limit)).all())


def search(session: Session, words: Sequence[str], limit: int = FIND_MAX) -> list[Conversation]:
    """Conversations, newest first, where every word is found (as a prefix of a word, any case) in one
    of their messages (customer's, staff replies or notes) or in the customer's handle or name; the
    full-text index (bot/store/search.py) answers it, or for common words a newest-first walk that
    reads the words itself (bot/store/search_walk.py). A word of punctuation alone finds nothing."""
    walked = newest_matching(session, words, limit)
    if walked is not None:
        loaded = {c.id: c for c in session.exec(select(Conversation).where(col(Conversation.id).in_(walked))).all()}
        return [loaded[i] for i in walked]
    condition = words_condition(session, words)
    if condition is None:
        return []
    query = select(Conversation).where(condition).order_by(*_newest_order()).limit(limit)
    return list(session.exec(query).all())


@dataclass(frozen=True)
class Accounts:
    """The customer accounts a `/social customer` question names: the first few (the answer lists
    them with a profile) and all their ids (for their history and the count)."""

    listed: list[Customer]
    ids: list[int]


def customers_named(session: Session, who: str, listed: int = ACCOUNTS_SHOWN) -> Accounts:
    """Every customer account whose handle or name is `who` (any case, with or without "@"), on any
    platform, plus accounts with the same display name as one of those (the same person on X and
    Facebook usually shares a name, never a handle): those first, then the others, each by id. A common
    display name can match thousands of accounts: their ids are read, only `listed` are loaded."""
    wanted = who.strip().lstrip("@").lower()
    if not wanted:
        return Accounts([], [])
    named = or_(func.lower(Customer.handle) == wanted, func.lower(Customer.name) == wanted)
    direct = session.execute(select(col(Customer.id), func.lower(Customer.name)).where(named)).all()
    first: set[int] = {i for i, _ in direct}
    # The names are read first and passed as values: as a subquery, PostgreSQL's planner expects
    # thousands of names and hash-joins two scans of every customer (~200 ms at 200 000 accounts)
    # instead of probing its name index once per name.
    names = sorted({name for _, name in direct if name.strip()})
    same_name: set[int] = set(session.execute(select(col(Customer.id)).where(
        func.lower(Customer.name).in_(names))).scalars()) if names else set()  # index-only on PostgreSQL (0011)
    ids = sorted(first | same_name, key=lambda i: (i not in first, i))
    loaded = {c.id: c for c in session.exec(select(Customer).where(col(Customer.id).in_(ids[:listed]))).all()}
    return Accounts([loaded[i] for i in ids[:listed]], ids)


def conversations_of(session: Session, customer_ids: Sequence[int], limit: int = HISTORY_MAX) -> list[Conversation]:
    """The accounts' newest cases: their ids first (SQLite sorts them from ix_conversations_customer_newest,
    revision 0011), then only the page is read whole, never a common name's thousands of cases."""
    # The ids are written into the statement: a common name matches thousands of accounts, and as
    # many parameters cost psycopg more to prepare (~50 ms for 2 800) than PostgreSQL to answer. As a
    # subquery of customers instead, PostgreSQL looks every case up by its customer's key.
    listed: sa.BindParameter[list[int]] = sa.bindparam("customer_ids", list(customer_ids), expanding=True,
                                                         literal_execute=True)
    ids = list(session.exec(select(col(Conversation.id)).where(col(Conversation.customer_id).in_(listed))
                            .order_by(*_newest_order()).limit(limit)).all())
    loaded = {c.id: c for c in session.exec(select(Conversation).where(col(Conversation.id).in_(ids))).all()}
    return [loaded[i] for i in ids]


def _rows(parley: Parley, session: Session, conversations: Sequence[Conversation]) -> list[ConversationRow]:
    """List rows with each case's SLA state now (bot/reports.py builds them for every list)."""
    return conversation_rows(session, conversations, parley.service_level, _now(parley))


# --- subcommands ---------------------------------------------------------------------------------
def _show(respond: Respond, message: SlackMessage) -> None:
    respond(response_type="ephemeral", **message.payload())


def _now(parley: Parley) -> datetime:
    return parley.sender.clock()


@subcommand(ids.SUB_QUEUE, "queue", "open conversations waiting on us, oldest first, with age and SLA state")
def queue(parley: Parley, invocation: Invocation, respond: Respond) -> None:
    with parley.store.transaction() as session:
        rows = _rows(parley, session, open_queue(session))
        snoozed = snoozed_count(session)
    title = "Open conversations, oldest waiting first"
    if snoozed:
        title += f" ({snoozed} snoozed not shown)"
    _show(respond, conversation_list(title, rows, _now(parley), "Nothing is waiting on us. 🎉"))


@subcommand(ids.SUB_MINE, "mine", "the cases assigned to you that are not resolved")
def mine(parley: Parley, invocation: Invocation, respond: Respond) -> None:
    with parley.store.transaction() as session:
        rows = _rows(parley, session, assigned_to(session, invocation.user_id))
    _show(respond, conversation_list("Assigned to you", rows, _now(parley),
                                     "Nothing is assigned to you. `/social queue` shows what is waiting."))


@subcommand(ids.SUB_FIND, "find <words>", f"search past conversations by text and customer handle or name "
            f"(newest {FIND_MAX})", "find refund late")
def find(parley: Parley, invocation: Invocation, respond: Respond) -> None:
    words = slack_to_plain(invocation.args).split()
    if not words:
        raise UserError("Find what? Usage: `/social find &lt;words&gt;`, e.g. `/social find refund` "
                        "or `/social find @dana`.")
    if len(words) > FIND_WORDS_MAX or len(" ".join(words)) > FIND_CHARS_MAX:
        raise UserError(f"Search with at most {FIND_WORDS_MAX} words and {FIND_CHARS_MAX} characters (this has "
                        f"{len(words)} words, {len(' '.join(words))} characters). A few distinctive words find "
                        "more, e.g. `/social find refund late`.")
    with parley.store.transaction() as session:
        rows = _rows(parley, session, search(session, words))
    shown = " ".join(words)
    _show(respond, conversation_list(f"Conversations matching “{shown}”", rows, _now(parley),
                                     f"No conversation mentions “{shown}”. Try fewer or shorter words."))


@subcommand(ids.SUB_CUSTOMER, "customer @handle", "one customer's history across platforms, with each "
            "account's cases, tone trend and followers (an X handle, or a Facebook name)", "customer @dana")
def customer(parley: Parley, invocation: Invocation, respond: Respond) -> None:
    who = slack_to_plain(invocation.args).strip()
    if not who.lstrip("@"):
        raise UserError("Which customer? Usage: `/social customer @handle`, e.g. `/social customer @dana` "
                        "or `/social customer Fox Mulder`.")
    with parley.store.transaction() as session:
        accounts = customers_named(session, who)
        if not accounts.listed:
            shown = escape(who)
            raise UserError(f"No customer is called `{shown}`. Check the spelling, or search their words with "
                            f"`/social find {shown.lstrip('@')}`.")
        rows = _rows(parley, session, conversations_of(session, accounts.ids))
        handles = [(c.platform, c.handle, c.name) for c in accounts.listed]
        profiles = customer_profiles(session, [(c, None) for c in accounts.listed])  # two queries for all
    _show(respond, customer_history(handles, rows, _now(parley), profiles, accounts_total=len(accounts.ids)))
