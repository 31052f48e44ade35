"""The suggested-answers blocks of the reply modal (bot/cards/suggestions.py): within Slack's
option limits, thread links escaped, nothing shown when there is nothing to suggest."""

from __future__ import annotations

from bot import ids
from bot.cards.suggestions import SuggestedAnswer, suggestion_blocks
from sandbox.emulators.slack_checks import options_ok

LONG = "Your refund <was> issued & is on its way " * 20


def test_nothing_to_suggest_adds_no_block():
    assert suggestion_blocks([]) == []


def test_answers_are_listed_with_links_and_offered_within_slack_limits():
    answers = [SuggestedAnswer(message_id=i, ref=10 + i, text=LONG, question=LONG,
                               link=f"https://acme.slack.com/archives/C1/p{i}" if i != 3 else None)
               for i in range(1, 8)]
    listing, picker = suggestion_blocks(answers, selected=2)
    lines = listing["text"]["text"].splitlines()[1:]
    assert len(lines) == 5  # at most SUGGESTIONS_MAX
    assert lines[0].startswith("• <https://acme.slack.com/archives/C1/p1|#11> “Your refund &lt;was&gt;")
    assert lines[2].startswith("• #13 “")  # no link known
    select = picker["elements"][0]
    assert select["action_id"] == ids.ACTION_MODAL_SUGGESTION and select["initial_option"]["value"] == "2"
    assert options_ok([picker])
    assert options_ok([{"type": "actions", "elements": [{"options": [{"text": {"text": "x" * 76}, "value": "1"}]}]}]) \
        is False  # the emulator is as strict as Slack
