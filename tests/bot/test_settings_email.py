"""EMAIL_* settings: on when the set is complete, refused in words when half given; routing and SLA
overrides that name the `email` platform pass the start-up check."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

import app
from bot.settings import ConfigError, load_settings

MAILBOX = {"email_imap_url": "imaps://imap.example.com", "email_smtp_url": "smtp://smtp.example.com:587",
           "email_address": "support@example.com", "email_password": "app-password"}


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("EMAIL_IMAP_URL", "EMAIL_SMTP_URL", "EMAIL_ADDRESS", "EMAIL_USERNAME", "EMAIL_PASSWORD",
                 "EMAIL_FOLDERS", "EMAIL_POLL_INTERVAL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


def test_email_is_off_by_default_and_on_with_the_whole_set() -> None:
    assert not load_settings(_env_file=None).email_enabled
    settings = load_settings(_env_file=None, **MAILBOX, email_folders="INBOX, Support Queue",
                             email_poll_interval="2m", email_sent_folder="Sent")
    assert settings.email_enabled and settings.email_login == "support@example.com"
    assert settings.email_folders == ("INBOX", "Support Queue")
    assert settings.email_poll_interval == timedelta(minutes=2)
    connector = app.build_registry(settings).connector("email")
    assert connector.sent_folder == "Sent" and connector.folders == ("INBOX", "Support Queue")  # type: ignore[attr-defined]


def test_a_half_configured_mailbox_names_what_is_missing() -> None:
    with pytest.raises(ConfigError, match="missing EMAIL_SMTP_URL, EMAIL_PASSWORD"):
        load_settings(_env_file=None, email_imap_url="imaps://imap.example.com", email_address="s@example.com")


@pytest.mark.parametrize(("name", "value", "words"), [
    ("email_imap_url", "https://imap.example.com", "imap://"),
    ("email_smtp_url", "smtp://user:pw@smtp.example.com", "not in the URL"),
    ("email_address", "support", "not an e-mail address"),
    ("email_folders", " , ", "at least one folder"),
    ("email_poll_interval", "0s", ""),
])
def test_malformed_values_stop_start_up_naming_the_variable(name: str, value: str, words: str) -> None:
    with pytest.raises(ConfigError, match=name.upper()) as error:
        load_settings(_env_file=None, **(MAILBOX | {name: value}))
    assert words in str(error.value)
    assert "app-password" not in str(error.value)


def test_routing_and_sla_overrides_by_platform_email_pass_the_start_up_check(tmp_path: Path) -> None:
    config = tmp_path / "parley.yaml"
    config.write_text("routing:\n  - {channel: C0MAIL, platform: email}\n"
                      "sla:\n  overrides:\n    - {platform: email, first_response: {normal: 8h}}\n")
    settings = load_settings(_env_file=None, **MAILBOX, parley_config=str(config))
    app.check_platforms(settings, app.build_registry(settings))  # no error
    assert settings.sla.targets("normal", "email", "C0MAIL") != settings.sla.targets("normal", "x", "C0MAIL")
