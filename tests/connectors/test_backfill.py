"""The starting point as a cursor, and the left-out record kept in the cursor table."""

from __future__ import annotations

from datetime import UTC, datetime

from connectors.backfill import cursor_time, left_out, left_out_key, report, time_cursor

NOW = datetime(2026, 12, 4, 3, 57, 12, 345678, tzinfo=UTC)


def test_a_starting_point_is_a_whole_second_and_reads_back() -> None:
    cursor = time_cursor(NOW)
    assert cursor == "t:2026-12-04T03:57:12+00:00"
    assert cursor_time(cursor) == NOW.replace(microsecond=0)
    assert cursor_time("2128700997885755403") is None and cursor_time(None) is None


def test_what_was_left_out_is_kept_once_per_stream_and_read_back_for_display() -> None:
    assert report("x:mentions", 0, more=False, before=NOW, now=NOW) == []  # nothing left out: no record
    [batch] = report("x:mentions", 100, more=True, before=NOW, now=NOW)
    assert batch.stream == left_out_key("x:mentions") and batch.messages == []

    [record] = left_out({"x:mentions": "123", batch.stream: batch.cursor})

    assert (record.stream, record.count, record.more, record.before) == ("x:mentions", 100, True, NOW)
    assert record.words() == "more than 100 posts before 03:57 UTC 4 Dec"
