"""Claims on SQLite and PostgreSQL: the first INSERT of a key wins, inside or outside a transaction."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import func, select

from bot.store.claims import claim, claim_once, claimed_among, default_owner, is_claimed, prune
from bot.store.database import Store
from bot.store.models import Claim, Template

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


def _claims(store: Store) -> dict[str, Claim]:
    with store.transaction() as session:
        return {c.key: c for c in session.exec(select(Claim)).all()}


def test_the_first_claim_of_a_key_wins_and_records_its_owner(store):
    assert claim_once(store, "sla:1:warning:first_response:100", now=NOW) is True
    assert claim_once(store, "sla:1:warning:first_response:100", now=NOW + timedelta(minutes=1),
                      owner="other:2") is False
    assert claim_once(store, "sla:1:breach:first_response:100", now=NOW) is True

    rows = _claims(store)
    assert set(rows) == {"sla:1:warning:first_response:100", "sla:1:breach:first_response:100"}
    first = rows["sla:1:warning:first_response:100"]
    assert first.claimed_at == NOW  # the loser did not overwrite the winner's row
    assert first.owner == default_owner()


def test_a_lost_claim_leaves_the_callers_transaction_usable(store):
    claim_once(store, "digest:2026-11-25", now=NOW)
    with store.transaction() as session:
        assert claim(session, "digest:2026-11-25", now=NOW) is False
        # Were the duplicate an error, PostgreSQL would refuse every further statement here.
        session.add(Template(name="thanks", text="Thanks {first_name}!", created_by="U1"))
        assert claim(session, "digest:2026-11-26", now=NOW) is True
        assert is_claimed(session, "digest:2026-11-26")
    with store.transaction() as session:
        assert session.exec(select(func.count()).select_from(Template)).one() == 1
    assert set(_claims(store)) == {"digest:2026-11-25", "digest:2026-11-26"}


def test_a_claim_in_a_rolled_back_transaction_does_not_persist(store):
    with pytest.raises(RuntimeError), store.transaction() as session:
        assert claim(session, "sla:7:breach:first_response:1", now=NOW) is True
        raise RuntimeError("the message the claim guards could not be stored")
    assert _claims(store) == {}
    assert claim(store, "sla:7:breach:first_response:1", now=NOW) is True  # a Store works too


def test_concurrent_claims_of_one_key_give_exactly_one_winner(store):
    threads, results = 8, []
    barrier = threading.Barrier(threads)
    lock = threading.Lock()

    def contend(i: int) -> None:
        barrier.wait()
        won = claim_once(store, "slack-event:Ev42", now=NOW, owner=f"thread:{i}")
        with lock:
            results.append((i, won))

    workers = [threading.Thread(target=contend, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    assert len(results) == threads
    winners = [i for i, won in results if won]
    assert len(winners) == 1
    assert _claims(store)["slack-event:Ev42"].owner == f"thread:{winners[0]}"


def test_prune_deletes_only_old_claims_of_the_given_prefix(store):
    claim_once(store, "slack-event:old", now=NOW - timedelta(days=2))
    claim_once(store, "slack-event:new", now=NOW - timedelta(hours=1))
    claim_once(store, "sla:1:warning:first_response:100", now=NOW - timedelta(days=30))
    claim_once(store, "slack_event%:old", now=NOW - timedelta(days=2))  # LIKE wildcards are literal

    assert prune(store, prefix="slack-event:", older_than=timedelta(days=1), now=NOW) == 1
    assert set(_claims(store)) == {"slack-event:new", "sla:1:warning:first_response:100", "slack_event%:old"}
    assert claim_once(store, "slack-event:old", now=NOW) is True  # a pruned key can be claimed again


def test_prune_refuses_to_run_without_a_prefix(store):
    with pytest.raises(ValueError, match="prefix"):
        prune(store, prefix="", older_than=timedelta(days=1), now=NOW)


def test_which_of_many_keys_are_claimed_is_one_answer(store):
    # 1 200 keys: one array on PostgreSQL, chunks of 500 on SQLite; quotes and commas are just text.
    keys = [f"sla:{n}:escalation:first_response:{n * 7}" for n in range(1_200)] + ["it's, \"odd\""]
    with store.transaction() as session:
        for key in keys[::3]:
            claim(session, key, now=NOW)
    with store.transaction() as session:
        assert claimed_among(session, keys) == set(keys[::3])
        assert claimed_among(session, []) == set()
        assert claimed_among(session, ["sla:9999:warning:x"]) == set()
