from datetime import timedelta

import pytest

from bot.settings import ConfigError, load_settings, parse_search_queries

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
