"""The one template engine: `{first_name}`, `{handle}`, `{agent}` and `{ref}` in text people typed.

Used for saved replies (the reply modal's template picker) and for the public nudge after an X DM
(`PARLEY_NUDGE_TEMPLATE`). The rules are the same for both:

- One pass: each placeholder is replaced by its value once, and the values are never scanned again,
  so a customer called `{ref}` stays `{ref}` (a customer's name is their text, not ours).
- Anything else in braces (`{name}`, `{unknown}`, `{`, `{{x}}`) is left exactly as typed, and so is a
  variable the caller has no value for (the nudge is posted by the brand, so it has no `{agent}`).
  Templates are typed by people and must never make a reply fail.

A leaf module: it imports nothing from Parley, so cards, replies and commands can all use it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

VARIABLES = ("first_name", "handle", "agent", "ref")
_BRACED = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


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


def customer_values(*, name: str | None, handle: str | None, ref: int | str | None,
                    agent: str | None = None) -> dict[str, str]:
    """The values for a customer's conversation: `{first_name}` is the first word of their display
    name (their handle when they have none), `{ref}` the conversation's number ("" if unknown), and
    `{agent}` only when the caller knows who is writing."""
    shown = (name or handle or "").split()
    values = {"first_name": shown[0] if shown else "", "handle": handle or "",
              "ref": "" if ref is None else str(ref)}
    if agent is not None:
        values["agent"] = agent
    return values
