from datetime import timedelta

import pytest

from bot.settings import ConfigError, load_settings
from connectors.x.queries import parse_search_queries

ENV_NAMES = [
    "SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN", "SLACK_API_URL", "PARLEY_CHANNEL",
    "X_BEARER_TOKEN", "X_CONSUMER_KEY", "X_CONSUMER_SECRET", "X_ACCESS_TOKEN", "X_ACCESS_TOKEN_SECRET",
    "X_API_URL", "X_SEARCH_QUERIES", "FACEBOOK_PAGE_ID", "FACEBOOK_PAGE_TOKEN", "FACEBOOK_APP_SECRET",
    "FACEBOOK_VERIFY_TOKEN", "FACEBOOK_GRAPH_URL", "FACEBOOK_GRAPH_VERSION", "DATABASE_URL",
    "PARLEY_POLL_INTERVAL", "PARLEY_CONFIG", "PORT", "PARLEY_BACKFILL",
]


@pytest.fixture(autouse=True)
def clean_env(monkeypatch, tmp_path):
    for name in ENV_NAMES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # no stray .env


def test_search_queries_parse():
    queries = parse_search_queries('acme: (acme OR "acme corp") -is:retweet; rival: rivalco -is:retweet')
    assert queries == {"acme": '(acme OR "acme corp") -is:retweet', "rival": "rivalco -is:retweet"}


def test_defaults():
    settings = load_settings()
    assert settings.slack_api_url == "https://slack.com/api/"
    assert settings.x_api_url == "https://api.twitter.com"
    assert settings.facebook_graph_url == "https://graph.facebook.com/"
    assert settings.database_url == "sqlite:///parley.db"
    assert settings.port == 3000
    assert not settings.x_enabled and not settings.facebook_enabled and not settings.socket_mode


@pytest.mark.parametrize(("value", "expected"), [(None, timedelta(hours=24)), ("2d", timedelta(days=2)),
                                                ("0", timedelta(0))])
def test_backfill_is_a_duration_and_zero_means_none(monkeypatch, value, expected):
    if value is not None:
        monkeypatch.setenv("PARLEY_BACKFILL", value)
    assert load_settings().parley_backfill == expected


def test_malformed_value_names_the_variable(monkeypatch):
    monkeypatch.setenv("PARLEY_POLL_INTERVAL", "every now and then")
    with pytest.raises(ConfigError, match="PARLEY_POLL_INTERVAL"):
        load_settings()


def test_partial_x_credentials_name_what_is_missing(monkeypatch):
    monkeypatch.setenv("X_CONSUMER_KEY", "ck-value-123")
    with pytest.raises(ConfigError) as err:
        load_settings()
    assert "X_ACCESS_TOKEN_SECRET" in str(err.value)
    assert "ck-value-123" not in str(err.value)


def test_secrets_never_printed(monkeypatch):
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-very-secret-token")
    monkeypatch.setenv("PORT", "not-a-port")
    with pytest.raises(ConfigError) as err:
        load_settings()
    assert "PORT" in str(err.value)
    assert "xoxb-very-secret-token" not in str(err.value)
    monkeypatch.setenv("PORT", "3000")
    assert "xoxb-very-secret-token" not in repr(load_settings())


def test_dotenv_is_read(tmp_path):
    (tmp_path / ".env").write_text("PARLEY_CHANNEL=C0DOTENV\nX_SEARCH_QUERIES=acme: acme\n")
    settings = load_settings()
    assert settings.parley_channel == "C0DOTENV"
    assert settings.x_search_queries == {"acme": "acme"}


def test_bad_search_queries(monkeypatch):
    monkeypatch.setenv("X_SEARCH_QUERIES", "no colon here")
    with pytest.raises(ConfigError, match="X_SEARCH_QUERIES"):
        load_settings()


def test_routing_file_errors_are_specific(monkeypatch, tmp_path):
    config = tmp_path / "parley.yaml"
    config.write_text("routing:\n  - {channel: general, platform: x}\n")
    monkeypatch.setenv("PARLEY_CONFIG", str(config))
    with pytest.raises(ConfigError, match="not a Slack channel ID"):
        load_settings()
    monkeypatch.setenv("PARLEY_CONFIG", str(tmp_path / "missing.yaml"))
    with pytest.raises(ConfigError, match="no such file"):
        load_settings()
    config.write_text("routing: [unclosed\n")
    monkeypatch.setenv("PARLEY_CONFIG", str(config))
    with pytest.raises(ConfigError, match="not valid"):
        load_settings()


def test_routing_file_toml(monkeypatch, tmp_path):
    config = tmp_path / "parley.toml"
    config.write_text('[[routing]]\nchannel = "C0SPANISH"\nlanguage = "es"\n')
    monkeypatch.setenv("PARLEY_CONFIG", str(config))
    assert load_settings().routing.routing[0].channel == "C0SPANISH"


def _one_line_error(monkeypatch, **env: str) -> str:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    message = str(caught.value)
    assert "\n" not in message
    return message


@pytest.mark.parametrize(("name", "value", "expected"), [
    ("DATABASE_URL", "", "must not be empty"),
    ("DATABASE_URL", "nonsense", "is not a database URL"),
    ("DATABASE_URL", "mysql://parley:hunter22@db/parley", "mysql is not supported (Parley supports SQLite and "
                                                          "PostgreSQL)"),
    ("DATABASE_URL", "postgresql+asyncpg://parley:hunter22@db/parley", "driver is not supported"),
    ("DATABASE_URL", "sqlite:////no/such/directory/parley.db", "'/no/such/directory' of the SQLite file does not"),
    ("PARLEY_POLL_INTERVAL", "99999999999999999999s", "at most 1d"),
    ("PARLEY_SLA_FIRST_RESPONSE", "99999999999999999999d", "at most 30d"),
    ("PARLEY_REMINDER_INTERVAL", "0.0000001s", "at least 5s"),
    ("PARLEY_LEADER_INTERVAL", "1h", "at most 5m"),
    ("PARLEY_CHANNEL", "", "must not be empty"),
    ("PARLEY_CHANNEL", "support channel", "a channel ID like C0123ABCD or a channel name like #support"),
    ("SLACK_APP_TOKEN", "xoxb-1234-5678-abcdef", "this is a bot token; expected the app-level token (xapp-"),
    ("SLACK_BOT_TOKEN", "xapp-1-A0-1234-abcdef", "this is an app-level token; expected the bot token (xoxb-"),
    ("SLACK_BOT_TOKEN", "xoxp-1234-5678-abcdef", "this is a user token; expected the bot token (xoxb-"),
])
def test_each_bad_setting_is_one_line_naming_it(monkeypatch, name, value, expected):
    message = _one_line_error(monkeypatch, **{name: value})
    assert message.startswith(f"{name}: ") and expected in message
    assert "hunter22" not in message  # a database password
    if name.startswith("SLACK_"):
        assert value not in message


def test_several_bad_settings_are_still_one_line(monkeypatch):
    message = _one_line_error(monkeypatch, PORT="not-a-port", PARLEY_CHANNEL="")
    assert "PORT: " in message and "; PARLEY_CHANNEL: " in message


def test_a_channel_name_is_kept_for_resolution_at_start(monkeypatch):
    monkeypatch.setenv("PARLEY_CHANNEL", "support")
    assert load_settings().parley_channel == "#support"
    monkeypatch.setenv("PARLEY_CHANNEL", " C0SUPPORT ")
    assert load_settings().parley_channel == "C0SUPPORT"


def test_an_empty_app_token_means_http_mode(monkeypatch):
    monkeypatch.setenv("SLACK_APP_TOKEN", "")
    assert not load_settings().socket_mode


def test_durations_at_their_bounds_are_accepted(monkeypatch):
    monkeypatch.setenv("PARLEY_POLL_INTERVAL", "1s")
    monkeypatch.setenv("PARLEY_REMINDER_INTERVAL", "1d")
    settings = load_settings()
    assert settings.parley_poll_interval.total_seconds() == 1
    assert settings.parley_reminder_interval.total_seconds() == 86400


def test_a_binary_dotenv_is_one_line(tmp_path):
    (tmp_path / ".env").write_bytes(b"SLACK_BOT_TOKEN=\xff\xfe\x00\x80garbage\n")
    with pytest.raises(ConfigError, match=r"^\.env \(in .*\) is not UTF-8 text"):
        load_settings()


def test_an_unknown_key_in_the_config_file_is_named(monkeypatch, tmp_path):
    config = tmp_path / "parley.yaml"
    config.write_text("routing:\n  - {channel: C0X, platfrom: x}\n")
    message = _one_line_error(monkeypatch, PARLEY_CONFIG=str(config))
    assert message == f"PARLEY_CONFIG: {config}: routing[0].platfrom: unknown key"
    config.write_text("sla:\n  first_responce: {normal: 1h}\n")
    assert _one_line_error(monkeypatch).endswith("sla.first_responce: unknown key")
