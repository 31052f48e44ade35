"""bot/store/quarantine.py: any record can be kept, whatever its text; reported once, counted after."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from bot.inbound import record_json
from bot.store import quarantine
from connectors.base import Author, InboundMessage, Kind, Platform

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def _record(text: str) -> InboundMessage:
    return InboundMessage(platform=Platform.FACEBOOK, kind=Kind.COMMENT, external_id="123_456\x00",
                          thread_key="123_456", text=text, author=Author("77", "Leo \udc00", "Leo \udc00"),
                          created_at=NOW, query_names=("brand",), in_reply_to=None)


def test_payload_round_trips_lone_surrogates_and_nul_as_ascii():
    record = _record("half \ud83d an emoji and a NUL \x00")
    payload = record_json.encode(record)
    assert payload.isascii()
    assert record_json.decode(payload) == record


def test_put_keeps_any_record_reports_once_then_counts(store, caplog):
    caplog.set_level(logging.INFO)
    record = _record("private words \ud83d\x00")
    quarantine.put(store, "facebook:feed", platform="facebook", external_id=record.external_id,
                   payload=record_json.encode(record), error=UnicodeEncodeError("utf-8", "x", 0, 1, "no"), now=NOW)
    quarantine.put(store, "facebook:feed", platform="facebook", external_id=record.external_id,
                   payload=record_json.encode(record), error=ValueError("private words"), now=NOW)
    (row,) = quarantine.pending(store)
    assert (row.external_id, row.error, row.attempts) == ("123_456\\u0000", "ValueError", 2)
    assert record_json.decode(row.payload) == record
    lines = [r.getMessage() for r in caplog.records if r.name == "bot.store.quarantine"]
    assert len(lines) == 1 and "UnicodeEncodeError" in lines[0] and "private" not in lines[0]
    quarantine.mark(store, row.id, NOW, None)
    assert quarantine.pending(store) == []
