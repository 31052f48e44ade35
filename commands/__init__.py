"""Staff workflows, one module each. Every module exposes `register(app, parley)`; this list is the
one place they are wired (nothing is discovered automatically)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from slack_bolt import App

from commands import social

if TYPE_CHECKING:
    from app import Parley

REGISTRARS = [social.register]


def register_all(app: App, parley: Parley) -> None:
    for register in REGISTRARS:
        register(app, parley)
