"""`/social template list|add|show` and `/social help` as signed requests through the HTTP endpoint,
on SQLite and PostgreSQL."""

from __future__ import annotations

import json

import pytest
from sqlmodel import select

from bot import ids
from bot.store.models import AuditEntry, Template
from tests.e2e.slack_requests import AGENT, serve  # noqa: F401  (serve is a fixture)

pytestmark = pytest.mark.e2e


def test_templates_are_added_listed_shown_and_updated(serve):  # noqa: F811
    slack = serve()
    answers: list[dict] = []

    def ask(text: str) -> dict:
        assert slack.command(text).status_code == 200
        answers.append(slack.responses(len(answers) + 1)[len(answers)])
        assert answers[-1]["response_type"] == "ephemeral"
        return answers[-1]

    empty = ask("template list")
    added = ask("template add Thanks Thanks {first_name}, we're on it! &amp; more")
    ask("template add sorry-late_2 Sorry for the wait, {handle}.")
    listing = ask("template")  # list is the default
    shown = ask("template show THANKS")
    updated = ask("template add thanks Hi {first_name}, fixed it.")
    shown_again = ask("template show thanks")

    assert "No templates yet" in empty["text"]
    assert added["text"] == "Saved template `thanks`."
    rows = json.dumps(listing["blocks"], ensure_ascii=False)
    assert "*sorry-late_2*" in rows and "*thanks*" in rows
    assert rows.index("*sorry-late_2*") < rows.index("*thanks*")  # by name
    assert "Thanks {first_name}, we're on it! &amp; more" in json.dumps(shown["blocks"], ensure_ascii=False)
    assert "Updated template `thanks`" in updated["text"]
    assert "Hi {first_name}, fixed it." in json.dumps(shown_again["blocks"], ensure_ascii=False)
    with slack.parley.store.transaction() as session:
        stored = {t.name: t.text for t in session.exec(select(Template)).all()}
        audit = session.exec(select(AuditEntry.actor, AuditEntry.action, AuditEntry.detail)
                             .order_by(AuditEntry.id)).all()
    assert stored == {"thanks": "Hi {first_name}, fixed it.", "sorry-late_2": "Sorry for the wait, {handle}."}
    assert [tuple(a) for a in audit] == [(AGENT, "template_add", "thanks"), (AGENT, "template_add", "sorry-late_2"),
                                         (AGENT, "template_update", "thanks")]


def test_template_mistakes_say_what_to_type_and_store_nothing(serve):  # noqa: F811
    slack = serve()
    texts = []
    for n, text in enumerate(["template show nope", "template add thanks", "template add bad!name hi",
                              f"template add {'x' * 65} hi", "template frobnicate", "template add"], 1):
        assert slack.command(text).status_code == 200
        texts.append(slack.responses(n)[n - 1]["text"])

    assert "no template `nope`" in texts[0] and "/social template list" in texts[0]
    assert "Missing text for template `thanks`" in texts[1]
    assert "`bad!name` is not a template name" in texts[2]
    assert "is not a template name" in texts[3] and "at most 64" in texts[3]
    assert "`template frobnicate` is not a template command" in texts[4]
    assert "Missing a template name" in texts[5]
    with slack.parley.store.transaction() as session:
        assert session.exec(select(Template)).all() == []
        assert session.exec(select(AuditEntry)).all() == []


def test_help_documents_every_subcommand_with_what_to_type(serve):  # noqa: F811
    slack = serve()
    assert slack.command("help").status_code == 200
    [answer] = slack.responses(1)

    text = answer["text"]
    assert answer["response_type"] == "ephemeral"
    missing = [name for name in ids.SUBCOMMANDS if f"`/social {name}" not in text]
    assert missing == []
    assert "`/social reply #N &lt;text&gt;`" in text  # "<text>" would be read as a link by Slack
    assert "e.g. `/social snooze #12 2h`" in text and "e.g. `/social assign #12 me`" in text
