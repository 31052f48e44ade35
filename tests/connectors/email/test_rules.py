"""E-mail's rules: one private reply, no "take it private"."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from connectors.contract import Heard, Refusal, ReplyRequest
from connectors.email.rules import NOT_PRIVATE, REPLY, RULES
from connectors.registry import SHIPPED

NOW = datetime(2026, 12, 4, tzinfo=UTC)


def request(mode: str = "public", text: str = "Thanks, on it.") -> ReplyRequest:
    heard = [Heard("dm", "m1@c.example", NOW), Heard("dm", "m2@c.example", NOW)]
    return ReplyRequest(conversation_kind="dm", thread_key="m1@c.example", mode=mode, text=text,  # type: ignore[arg-type]
                        heard=heard, private_replied=frozenset(), nudge_text="", now=NOW)


def test_reply_answers_the_latest_customer_message() -> None:
    plan = RULES.plan(request())
    assert (plan.op, plan.in_reply_to) == (REPLY, "m2@c.example")
    assert not RULES.ops[REPLY].public and RULES.is_private("dm") and not RULES.announces_private("dm")


def test_take_it_private_is_refused_in_plain_words() -> None:
    with pytest.raises(Refusal) as refused:
        RULES.plan(request("private"))
    assert refused.value.message == NOT_PRIVATE
    assert "private already" in RULES.explain("dm", "private", "Ana")


def test_email_is_shipped_and_labelled() -> None:
    assert SHIPPED["email"] is RULES and RULES.label("dm") == "✉️ E-mail"
