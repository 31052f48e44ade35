"""The start-up Slack check against the Slack emulator: tokens, retries, `#name` channels."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.config_file import ConfigError
from bot.delivery.slack_startup import SlackStartup, check_slack, retry_handlers, socket_mode_client
from sandbox.emulators.slack_api import SlackEmulator
from sandbox.emulators.stack import free_port

APP_TOKEN = "xapp-1-A0PARLEY-sandbox"


class SocketModeSlack(SlackEmulator):
    """The emulator plus an app-level token and apps.connections.open (Socket Mode's first call)."""

    def __init__(self) -> None:
        super().__init__(tokens=(SlackEmulator.TOKEN, APP_TOKEN))

    def m_apps_connections_open(self, args: dict) -> dict:
        return {"url": "wss://wss-primary.slack.invalid/link/?ticket=1"}


@pytest.fixture
def slack() -> Iterator[SocketModeSlack]:
    with SocketModeSlack() as emulator:
        emulator.add_channel("support", id="C0SUPPORT")
        emulator.add_channel("vip", id="G0VIP", private=True, member=False)
        yield emulator


def _startup(slack: SlackEmulator, **overrides: object) -> SlackStartup:
    values: dict = {"bot_token": SlackEmulator.TOKEN, "api_url": slack.base_url + "/api/", "wait": 1.0}
    return SlackStartup(**(values | overrides))


def test_good_tokens_pass_and_an_id_channel_is_kept(slack):
    assert check_slack(_startup(slack, channel="C0SUPPORT", app_token=APP_TOKEN)) == "C0SUPPORT"
    assert len(slack.calls_to(r"/api/auth\.test")) == 1
    assert len(slack.calls_to(r"/api/apps\.connections\.open")) == 1
    assert slack.calls_to(r"/api/conversations\.list") == []


def test_a_channel_name_is_resolved_to_its_id(slack):
    assert check_slack(_startup(slack, channel="#support")) == "C0SUPPORT"


@pytest.mark.parametrize("name", ["#nosuch", "#vip"])  # #vip: private, and the bot is not in it
def test_a_channel_name_that_cannot_be_resolved_says_to_use_the_id(slack, name):
    with pytest.raises(ConfigError) as caught:
        check_slack(_startup(slack, channel=name))
    assert str(caught.value).startswith(f"PARLEY_CHANNEL: no channel named {name} that Parley can see; use the "
                                        "channel ID")


def test_a_bad_bot_token_names_slack_bot_token(slack):
    with pytest.raises(ConfigError, match=r"^SLACK_BOT_TOKEN: Slack refused it \(auth.test: invalid_auth\)"):
        check_slack(_startup(slack, bot_token="xoxb-revoked"))
    assert len(slack.calls_to(r"/api/auth\.test")) == 1  # a refusal is not retried


def test_a_wrong_app_token_names_slack_app_token(slack):
    with pytest.raises(ConfigError, match=r"^SLACK_APP_TOKEN: Slack refused it .*invalid_auth.*connections:write"):
        check_slack(_startup(slack, app_token="xapp-1-A0OTHER-wrong"))


def test_not_allowed_token_type_names_the_variable(slack):
    slack.fail_next(r"/api/apps\.connections\.open", 200, body={"ok": False, "error": "not_allowed_token_type"})
    with pytest.raises(ConfigError, match=r"^SLACK_APP_TOKEN: .*not_allowed_token_type"):
        check_slack(_startup(slack, app_token=APP_TOKEN))


@pytest.mark.parametrize("status", [500, 502, 503])
def test_one_server_error_is_retried(slack, status):
    slack.fail_next(r"/api/auth\.test", status, body={"ok": False, "error": "service_unavailable"})
    assert check_slack(_startup(slack, channel="C0SUPPORT")) == "C0SUPPORT"
    assert len(slack.calls_to(r"/api/auth\.test")) == 2


def test_a_persistent_outage_ends_in_one_line(slack):
    slack.fail_next(r"/api/auth\.test", 503, times=100, body="<html>Service Unavailable</html>")
    with pytest.raises(ConfigError, match=r"^SLACK_API_URL: cannot reach Slack at .* after retrying for 1s ") as caught:
        check_slack(_startup(slack))
    assert len(slack.calls_to(r"/api/auth\.test")) == 3  # the first try and two retries (0.5 s, 1 s)
    assert "(HTTP 503)" in str(caught.value)


def test_refused_connections_are_retried_then_one_line():
    url = f"http://127.0.0.1:{free_port()}/api/"  # nothing listens there
    with pytest.raises(ConfigError) as caught:
        check_slack(SlackStartup(bot_token=SlackEmulator.TOKEN, api_url=url, wait=1.0))
    assert str(caught.value).startswith(f"SLACK_API_URL: cannot reach Slack at {url} after retrying for 1s (")
    assert "Connection refused" in str(caught.value)


def test_retry_budget_sets_the_number_of_retries():
    handlers = retry_handlers(30)
    assert {h.max_retry_count for h in handlers} == {9}  # 0.5+1+2+4+5*5 = 32.5 s >= 30 s


def test_socket_mode_opens_its_connection_through_a_503(slack):
    slack.fail_next(r"/api/apps\.connections\.open", 503)
    client = socket_mode_client(slack.base_url + "/api/", wait=1.0)
    assert client.apps_connections_open(app_token=APP_TOKEN)["url"].startswith("wss://")
    assert len(slack.calls_to(r"/api/apps\.connections\.open")) == 2
