"""The one template engine: `{first_name}`, `{handle}`, `{agent}` and `{ref}` in text people typed.

Used for saved replies (the reply modal's template picker) and for the public nudge after an X DM
(`PARLEY_NUDGE_TEMPLATE`). The rules are the same for both:

- One pass: each placeholder is replaced by its value once, and the values are never scanned again,
  so a customer called `{ref}` stays `{ref}` (a customer's name is their text, not ours).
- Anything else in braces (`{name}`, `{unknown}`, `{`, `{{x}}`) is left exactly as typed, and so is a
  variable the caller has no value for (the nudge is posted by the brand, so it has no `{agent}`).
  Templates are typed by people and must never make a reply fail.

Customer data is untrusted: a display name can be `@acme_ceo is a fraud` or a link. So a *public*
text (a public reply, the nudge) addresses the customer by their verified handle only: `{first_name}`
becomes `@handle` and `{handle}` the handle, both empty where the network has no handles or the
stored one is not a handle. A *private* text (a DM) may use the first word of the display name, with
every word that looks like a link or a mention left out.

A leaf module: it imports nothing from Parley, so cards, replies and commands can all use it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

VARIABLES = ("first_name", "handle", "agent", "ref")
_BRACED = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
# A handle as networks with handles issue them: X usernames are 1-15 letters, digits and "_"
# (https://help.x.com/en/managing-your-account/x-username-rules); a little room for others.
_HANDLE = re.compile(r"[A-Za-z0-9_]{1,30}")
# A word a platform could turn into a link, mention or tag: anything with @ # / : or a dot inside
# ("evil.example", "https://…", "@acme"), or a character Slack/X treat as markup.
_UNSAFE_WORD = re.compile(r"[@#/:\\<>]|\w\.\w|[\uff20\ufe6b]")  # and the full-width and small @


def fill(text: str, values: Mapping[str, str]) -> str:
    """`text` with every `{variable}` that has a value in `values` replaced, in one pass.

    Only names in `VARIABLES` are ever filled; everything else in braces is left as typed.
    """
    def one(match: re.Match[str]) -> str:
        name = match.group(1)
        return values[name] if name in VARIABLES and name in values else match.group(0)

    return _BRACED.sub(one, text)


def unknown(text: str) -> list[str]:
    """The `{words}` in `text` that are not variables, in order of first use (they are sent as typed)."""
    return list(dict.fromkeys(m for m in _BRACED.findall(text) if m not in VARIABLES))


def verified_handle(handle: str | None, prefix: str) -> str:
    """The stored handle if the network has handles (`prefix`, "@" on X) and it is shaped like one; else ""."""
    handle = handle or ""
    return handle if prefix and _HANDLE.fullmatch(handle) else ""


def safe_words(text: str | None) -> list[str]:
    """The words of a customer-supplied name, without any that could become a link, mention or tag."""
    return [word for word in (text or "").split() if not _UNSAFE_WORD.search(word)]


def customer_values(*, name: str | None, handle: str | None, ref: int | str | None,
                    agent: str | None = None, public: bool = False, prefix: str = "") -> dict[str, str]:
    """The values for a customer's conversation. `{ref}` is its number ("" if unknown), `{agent}` is
    present only when the caller knows who is writing.

    Public (`public=True`, `prefix` the network's handle prefix): `{first_name}` is `@handle` and
    `{handle}` the handle, both "" without a verified handle; the display name is never used.
    Private: `{first_name}` is the first safe word of the display name (else of the handle) and
    `{handle}` the handle without unsafe words; words that look like links or mentions are dropped.
    """
    if public:
        verified = verified_handle(handle, prefix)
        values = {"first_name": f"{prefix}{verified}" if verified else "", "handle": verified}
    else:
        shown = safe_words(name) or safe_words(handle)
        values = {"first_name": shown[0] if shown else "", "handle": " ".join(safe_words(handle))}
    values["ref"] = "" if ref is None else str(ref)
    if agent is not None:
        values["agent"] = agent
    return values
