"""End-to-end fixtures: the three emulators, and the real app built against them."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest
from sqlmodel import func, select

from app import build
from bot.runtime import Parley
from bot.settings import load_settings
from bot.store.models import Message, OutboxItem, OutboxStatus
from sandbox.emulators.stack import EmulatorStack, free_port

CHANNEL = "C0SUPPORT"


@pytest.fixture
def stack() -> Iterator[EmulatorStack]:
    with EmulatorStack() as stack:
        stack.slack.add_channel("social-support", id=CHANNEL)
        yield stack


def stack_env(stack: EmulatorStack, database_url: str, **overrides: str) -> dict[str, str]:
    env = stack.environment(database_url=database_url, channel=CHANNEL, port=free_port())
    env["PARLEY_SLACK_MIN_INTERVAL"] = "10ms"
    env.update(overrides)
    return env


@pytest.fixture
def make_parley(stack: EmulatorStack, database_url: str) -> Iterator[Callable[..., Parley]]:
    built: list[Parley] = []

    def make(**overrides: str) -> Parley:
        env = stack_env(stack, database_url, **overrides)
        parley = build(load_settings(_env_file=None, **{k.lower(): v for k, v in env.items()}))
        built.append(parley)
        return parley

    yield make
    for parley in built:
        parley.stop()


def count(parley: Parley, model: type) -> int:
    with parley.store.transaction() as session:
        return session.exec(select(func.count()).select_from(model)).one()


def undelivered(parley: Parley) -> int:
    with parley.store.transaction() as session:
        return session.exec(select(func.count()).select_from(OutboxItem)
                            .where(OutboxItem.status != OutboxStatus.SENT)).one()


def run_until(parley: Parley, done: Callable[[], bool], *, timeout: float = 30.0) -> None:
    """Drive the app's own job functions (poll, outbox drain) until `done`, with a deadline."""
    deadline = time.monotonic() + timeout
    while True:
        parley.poll_all()
        parley.outbox.drain()
        if done():
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"not done after {timeout}s: {count(parley, Message)} messages, "
                                 f"{undelivered(parley)} undelivered")
        time.sleep(0.05)
