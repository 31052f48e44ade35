"""`parley check` against the emulators: a good configuration, and each broken one named with its fix."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from app import cli
from bot.store.database import Store
from bot.store.models import utcnow
from bot.store.spend import StoreLedger
from connectors.x.spend import POST_URL, Charge
from sandbox.emulators.slack_api import SlackEmulator
from sandbox.emulators.slack_workspace import DEFAULT_SCOPES
from sandbox.emulators.stack import EmulatorStack, free_port

CHANNEL = "C0SUPPORT"
Check = Callable[..., tuple[int, str]]


@pytest.fixture
def stack() -> Iterator[EmulatorStack]:
    with EmulatorStack() as stack:
        stack.slack.add_channel("social-support", id=CHANNEL)
        yield stack


@pytest.fixture
def check(stack: EmulatorStack, tmp_path, monkeypatch, capsys) -> Check:
    """Run `parley check` with the stack's environment (Socket Mode on) plus `overrides`."""
    url = f"sqlite:///{tmp_path / 'parley.db'}"
    Store.from_url(url).dispose()  # migrated, as `parley run` leaves it
    monkeypatch.chdir(tmp_path)

    def run(*args: str, **overrides: str) -> tuple[int, str]:
        env = stack.environment(database_url=url, channel=CHANNEL, port=free_port())
        env["SLACK_APP_TOKEN"] = SlackEmulator.APP_TOKEN
        env.update(overrides)
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        code = cli(["check", *args])
        return code, capsys.readouterr().out

    return run


def test_a_good_configuration_passes_every_check(check: Check) -> None:
    code, out = check()
    assert code == 0, out
    lines = out.splitlines()
    assert all(line.startswith("✓") for line in lines[:-1]), out
    assert lines[-1] == "all good"
    for fact in ("slack: signed in as @parley", "bot scopes of manifest.yml granted", "Socket Mode connects",
                 f"Parley is in <#{CHANNEL}>", "x: signed in as @acme", "read, write and Direct Messages",
                 "DM events: reachable", "pages_messaging granted", "never expires",
                 "feed, messages webhooks", "database: schema current"):
        assert fact in out, fact


def test_a_bot_token_in_the_app_token_variable_names_the_variable(check: Check) -> None:
    code, out = check(SLACK_APP_TOKEN=SlackEmulator.TOKEN)
    assert code == 1
    assert "✗ settings: SLACK_APP_TOKEN: this is a bot token; expected the app-level token (xapp-" in out


def test_a_missing_scope_is_named_with_the_reinstall_fix(stack: EmulatorStack, check: Check) -> None:
    stack.slack.workspace.scopes = DEFAULT_SCOPES - {"usergroups:read"}
    code, out = check()
    assert code == 1
    assert "✗ slack: the bot token lacks usergroups:read — add them under OAuth & Permissions" in out


def test_a_private_routed_channel_without_the_bot_asks_for_the_invite(stack: EmulatorStack, check: Check) -> None:
    stack.slack.add_channel("vip-support", id="C0VIP", private=True, member=False)
    code, out = check(PARLEY_CHANNEL="C0VIP")
    assert code == 1
    assert "✗ slack: Parley is not in <#C0VIP> (channel_not_found) — " in out
    assert "run /invite @Parley in it" in out


def test_a_public_routed_channel_is_joined(stack: EmulatorStack, check: Check) -> None:
    stack.slack.add_channel("public-support", id="C0PUBLIC", member=False)
    code, out = check(PARLEY_CHANNEL="C0PUBLIC")
    assert code == 0, out
    assert stack.slack.channels["C0PUBLIC"].member


def test_an_x_app_without_dm_permission_says_how_to_change_it(stack: EmulatorStack, check: Check) -> None:
    stack.x.access_level = "read-write"
    code, out = check()
    assert code == 1
    assert "✗ x: app permission is read-write: Parley cannot read or send DMs" in out
    assert '"Read and write and Direct message", then regenerate the access token and secret' in out
    assert "✗ x: DM events: HTTP 403" in out


def test_a_page_token_without_pages_messaging(stack: EmulatorStack, check: Check) -> None:
    stack.graph.token.scopes.discard("pages_messaging")
    code, out = check()
    assert code == 1
    assert "✗ facebook: Messenger (reading and private replies): the Page token lacks pages_messaging" in out
    assert "App Review → Advanced Access" in out


def test_an_instagram_token_without_instagram_manage_comments(stack: EmulatorStack, check: Check) -> None:
    stack.graph.token.scopes.discard("instagram_manage_comments")
    code, out = check()
    assert code == 1
    assert ("✗ instagram: replying to and hiding comments: the token lacks instagram_manage_comments — add the "
            "permission to the app") in out
    assert "✓ instagram: the account @acme is reachable" in out and "✓ facebook: the Page token never expires" in out


def test_an_expired_page_token(stack: EmulatorStack, check: Check) -> None:
    stack.graph.expire_token()
    code, out = check()
    assert code == 1
    assert "✗ facebook: the Page token has expired — generate a non-expiring Page token" in out
    assert "✗ instagram: the Instagram token has expired (Graph code 190/463) — generate a new Page token" in out


def test_an_unsubscribed_page_is_named_and_subscribe_fixes_it(stack: EmulatorStack, check: Check) -> None:
    stack.graph.token.subscribed_fields = None
    code, out = check()
    assert code == 1
    assert "✗ facebook: the app is not subscribed to the Page's feed, messages — run `parley check --subscribe`" in out
    assert stack.graph.calls_to(r".*/subscribed_apps") and all(
        c.method == "GET" for c in stack.graph.calls_to(r".*/subscribed_apps"))

    code, out = check("--subscribe")
    assert code == 0, out
    assert "✓ facebook: subscribed the app to the Page's feed, messages" in out
    assert stack.graph.token.subscribed_fields == ["feed", "messages"]


def test_an_unmigrated_database_asks_for_the_upgrade(check: Check, tmp_path) -> None:
    code, out = check(DATABASE_URL=f"sqlite:///{tmp_path / 'empty.db'}")
    assert code == 1
    assert "✗ database: schema at nothing, newest is" in out and "run `parley db upgrade`" in out


def test_x_spend_warns_at_80_percent_and_fails_at_100_with_the_fix(check: Check, tmp_path) -> None:
    """What X billed is read from the database every replica writes (`x_charges`), not from memory."""
    store = Store.from_url(f"sqlite:///{tmp_path / 'parley.db'}")
    ledger, today = StoreLedger(store), utcnow().date()
    ledger.add([Charge(POST_URL, f"p{i}", today) for i in range(4)])  # $0.80
    code, out = check(X_MONTHLY_BUDGET="1")
    assert code == 0, out
    assert "⚠ x: spend today $0.80 · this month $0.80 of $1.00: 80% of the budget." in out
    assert out.splitlines()[-1].endswith("1 warning")

    ledger.add([Charge(POST_URL, f"p{i}", today) for i in range(4, 6)])  # $1.20
    store.dispose()
    code, out = check(X_MONTHLY_BUDGET="1")
    assert code == 1
    assert ("✗ x: spend today $1.20 · this month $1.20 of $1.00: 120% of the budget; stopped reading searches, "
            "own mentions, DMs — raise X_MONTHLY_BUDGET (USD) and restart Parley") in out
