"""Reading one raw e-mail: threading keys, machine-sent mail, HTML, attachments, quoted history."""

from __future__ import annotations

from datetime import UTC, datetime
from email.message import EmailMessage

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connectors.email import ids, parse
from sandbox.emulators.mail import USER
from tests.connectors.email.mail_fixtures import NOW, mail


def heard(message: EmailMessage) -> parse.InboundMessage | None:
    return parse.inbound(message.as_bytes(), USER, NOW)


def test_a_new_e_mail_is_a_private_conversation_keyed_by_its_own_message_id() -> None:
    record = heard(mail("m1@customer.example"))
    assert record is not None
    assert (record.platform, record.kind, record.external_id, record.thread_key) == (
        "email", "dm", "m1@customer.example", "m1@customer.example")
    assert record.author.external_id == "ana@customer.example" and record.author.name == "Ana Lima"
    assert record.text == "Subject: Where is my order?\n\nMy order #1042 has not arrived."
    assert record.created_at == datetime(2026, 12, 4, 9, 0, tzinfo=UTC)


def test_a_follow_up_joins_the_thread_root_from_references_else_in_reply_to() -> None:
    by_refs = heard(mail("m3@c.example", "Any news?", in_reply_to="ours@example.com",
                         references="<m1@c.example> <ours@example.com>"))
    only_parent = heard(mail("m4@c.example", "Hello?", in_reply_to="m1@c.example"))
    assert by_refs is not None and only_parent is not None
    assert by_refs.thread_key == only_parent.thread_key == "m1@c.example"
    assert by_refs.in_reply_to == "ours@example.com"
    assert by_refs.text == "Any news?"  # a reply's subject is not repeated


@pytest.mark.parametrize("headers", [
    {"Auto_Submitted": "auto-replied"},
    {"Auto_Submitted": "auto-generated; owner-email=x@y"},
    {"Precedence": "bulk"},
    {"Precedence": "auto_reply"},
    {"Precedence": "list"},
    {"X_Autoreply": "yes"},
    {"Return_Path": "<>"},
])
def test_auto_replies_bulk_and_bounces_are_no_case(headers: dict[str, str]) -> None:
    assert heard(mail("auto@c.example", "I am out of office", **headers)) is None


def test_auto_submitted_no_is_a_person() -> None:
    assert heard(mail("p@c.example", Auto_Submitted="no")) is not None


def test_a_delivery_report_is_no_case() -> None:
    report = mail("dsn@mx.example", "Delivery failed", sender="Mail Delivery System <mailer-daemon@mx.example>")
    report.make_mixed()
    report.set_type("multipart/report")
    report.set_param("report-type", "delivery-status")
    assert heard(report) is None


def test_mail_from_the_support_address_itself_is_no_case() -> None:
    assert heard(mail("own@example.com", sender=f"Support <{USER.upper()}>")) is None


def test_html_is_read_as_text_without_scripts_or_styles() -> None:
    message = mail("h@c.example")
    message.set_content("<html><head><style>p{color:red}</style><script>alert('x')</script></head>"
                        "<body><p>Hello <b>team</b>,</p><p>my parcel &amp; invoice are missing.</p></body></html>",
                        subtype="html")
    record = heard(message)
    assert record is not None
    assert "alert" not in record.text and "color" not in record.text
    assert "Hello\nteam\n," in record.text and "my parcel & invoice are missing." in record.text


def test_plain_text_is_preferred_to_html() -> None:
    message = mail("alt@c.example", "plain words")
    message.add_alternative("<p>html words</p>", subtype="html")
    record = heard(message)
    assert record is not None and record.text.endswith("plain words")


def test_attachments_are_listed_with_their_size_not_mirrored() -> None:
    message = mail("att@c.example", "See the photo.")
    message.add_attachment(b"x" * 2048, maintype="image", subtype="jpeg", filename="box.jpg")
    message.add_attachment(b"%PDF", maintype="application", subtype="pdf", filename="invoice.pdf")
    record = heard(message)
    assert record is not None
    assert "See the photo." in record.text
    assert "📎 Attachments (not mirrored; open them in the mailbox): box.jpg (2 KB), invoice.pdf (4 B)" in record.text


def test_the_quoted_history_below_a_reply_is_cut() -> None:
    text = "Still nothing, sorry.\n\nOn Thu, 3 Dec 2026, Support <support@example.com> wrote:\n> We are on it.\n"
    record = heard(mail("q@c.example", text, in_reply_to="x@example.com"))
    assert record is not None and record.text == "Still nothing, sorry."


def test_long_message_ids_are_stored_as_a_digest_that_fits_the_columns() -> None:
    long_id = "a" * 200 + "@c.example"
    record = heard(mail(long_id))
    assert record is not None
    assert record.external_id.startswith("h:") and len(record.external_id) <= ids.MAX_EXTERNAL_ID
    assert len(record.thread_key) <= ids.MAX_THREAD_KEY
    assert heard(mail(long_id)) == record  # stable: re-reading is a no-op


def test_a_date_in_the_future_is_taken_as_now() -> None:
    record = heard(mail("f@c.example", date="Fri, 04 Dec 2099 09:00:00 +0000"))
    assert record is not None and record.created_at == NOW


def test_mail_without_a_message_id_gets_a_stable_one() -> None:
    message = mail("x@c.example")
    del message["Message-ID"]
    first, again = heard(message), heard(message)
    assert first is not None and first.external_id.endswith("@no-message-id") and first == again


def test_reply_ids_are_stable_per_key_and_references_keep_root_and_latest() -> None:
    assert ids.reply_id("k1", USER) == ids.reply_id("k1", USER) != ids.reply_id("k2", USER)
    assert ids.reply_id("k1", USER).endswith("@example.com")
    chain = ids.references([f"r{i}@x" for i in range(30)], "p@x")
    assert len(chain) == ids.MAX_REFERENCES and chain[0] == "r0@x" and chain[-1] == "p@x"


HEADERS = st.sampled_from(["From", "Reply-To", "Subject", "Message-ID", "In-Reply-To", "References", "Date",
                           "Content-Type", "Content-Transfer-Encoding", "Auto-Submitted", "Precedence"])


@settings(max_examples=300, deadline=None)
@given(headers=st.lists(st.tuples(HEADERS, st.text(max_size=80)), max_size=8), body=st.binary(max_size=300))
def test_no_e_mail_stops_a_folder(headers: list[tuple[str, str]], body: bytes) -> None:
    raw = "".join(f"{name}: {value}\r\n" for name, value in headers).encode("utf-8", "surrogateescape") + b"\r\n"
    record = parse.inbound_or_unreadable(raw + body, USER, NOW)
    if record is not None:
        assert len(record.external_id) <= ids.MAX_EXTERNAL_ID and len(record.thread_key) <= ids.MAX_THREAD_KEY
        assert len(record.author.external_id) <= 64 and record.created_at <= NOW


def test_an_e_mail_the_parser_cannot_take_is_a_case_that_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(raw: bytes) -> None:
        raise LookupError("unknown encoding: x-hostile")

    monkeypatch.setattr(parse, "read", broken)
    record = parse.inbound_or_unreadable(b"From: a@b.example\r\n\r\nhi", USER, NOW)
    assert record is not None and record.external_id.endswith("@unreadable")
    assert "could not read" in record.text and record.author.name == "unknown sender"
