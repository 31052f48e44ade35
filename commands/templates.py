"""`/social template list | add <name> <text> | show <name>`: the saved replies staff pick from.

Storage rules (names lower-case, letters/digits/-/_, re-adding replaces) live in bot/replies/templates.py,
the placeholder rules in bot/replies/placeholders.py;
this module parses what people type and answers ephemerally.
"""

from __future__ import annotations

from slack_bolt import Respond

from bot import ids, placeholders
from bot.cards import escape, template_list, template_shown
from bot.replies import templates as store
from bot.runtime import Parley
from commands.context import UserError, echo, slack_to_plain
from commands.social import Invocation, subcommand

USAGE = "template list|add <name> <text>|show <name>"
_EXAMPLE_ADD = "/social template add thanks Thanks {first_name}, we're on it!"


def _name(token: str, usage: str) -> str:
    try:
        return store.normalise_name(token)
    except ValueError:
        shown = f"`{echo(token)}` is not" if token else "Missing"
        raise UserError(f"{shown} a template name: use letters, digits, - or _ (at most {store.NAME_MAX}). "
                        f"Usage: `/social {escape(usage)}`") from None


def _list(parley: Parley, invocation: Invocation, respond: Respond, rest: str) -> None:
    with parley.store.transaction() as session:
        rows = [(t.name, t.text) for t in store.all_templates(session)]
    respond(response_type="ephemeral", **template_list(rows).payload())


def _add(parley: Parley, invocation: Invocation, respond: Respond, rest: str) -> None:
    words = rest.split(None, 1)
    name = _name(words[0] if words else "", "template add <name> <text>")
    text = slack_to_plain(words[1]).strip() if len(words) > 1 else ""
    if not text:
        raise UserError(f"Missing text for template `{name}`. Usage: `/social template add &lt;name&gt; &lt;text&gt;`, "
                        f"e.g. `{_EXAMPLE_ADD}`")
    with parley.store.transaction() as session:
        created = store.save_template(session, name=name, text=text, actor=invocation.user_id,
                                      now=parley.sender.clock())
    said = f"Saved template `{name}`." if created else f"Updated template `{name}` (its old text is replaced)."
    unknown = placeholders.unknown(text)
    if unknown:
        listed = ", ".join(f"`{{{escape(u)}}}`" for u in unknown[:10])
        said += (f" Note: {listed} {'is not a variable' if len(unknown) == 1 else 'are not variables'} and will be "
                 "sent as typed; the variables are `{first_name}` `{handle}` `{agent}` `{ref}`.")
    respond(response_type="ephemeral", text=said)


def _show(parley: Parley, invocation: Invocation, respond: Respond, rest: str) -> None:
    name = _name(rest.strip(), "template show <name>")
    with parley.store.transaction() as session:
        template = store.find_template(session, name)
        if template is None:
            raise UserError(f"There is no template `{name}`. `/social template list` shows them all; "
                            f"`/social template add {name} &lt;text&gt;` creates it.")
        shown = template_shown(template.name, template.text)
    respond(response_type="ephemeral", **shown.payload())


_ACTIONS = {"list": _list, "add": _add, "show": _show}


@subcommand(ids.SUB_TEMPLATE, USAGE, "saved replies: list them, add or replace one, show one in full "
            "(variables `{first_name}` `{handle}` `{agent}` `{ref}`)", "template add thanks Thanks {first_name}!")
def template(parley: Parley, invocation: Invocation, respond: Respond) -> None:
    words = invocation.args.split(None, 1)
    action = words[0].lower() if words else "list"
    run = _ACTIONS.get(action)
    if run is None:
        raise UserError(f"`template {echo(words[0])}` is not a template command. Use `/social template list`, "
                        "`/social template add &lt;name&gt; &lt;text&gt;` or `/social template show &lt;name&gt;`.")
    run(parley, invocation, respond, words[1] if len(words) > 1 else "")
