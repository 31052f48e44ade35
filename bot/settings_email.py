"""The e-mail connector's settings (EMAIL_*), a block `Settings` inherits (bot/settings.py).

E-mail is on when EMAIL_IMAP_URL is set; the rest of the set is then required, so a half-configured
mailbox stops start-up with the names of what is missing rather than failing at the first send.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode

from bot.config_file import parse_duration
from connectors.email.servers import parse_url

POLL_BOUNDS = (timedelta(seconds=1), timedelta(days=1))


class EmailSettings(BaseSettings):
    email_imap_url: str | None = None  # imaps://imap.example.com (TLS) or imap://… (STARTTLS)
    email_smtp_url: str | None = None  # smtps://smtp.example.com (TLS) or smtp://…:587 (STARTTLS)
    email_address: str | None = None  # the support address replies come from
    email_username: str | None = None  # the login for both servers; EMAIL_ADDRESS when unset
    email_password: SecretStr | None = None
    email_folders: Annotated[tuple[str, ...], NoDecode] = ("INBOX",)  # comma-separated
    email_sent_folder: str | None = None  # a copy of each reply is filed here (e.g. "Sent"); unset: none
    email_poll_interval: Annotated[timedelta, NoDecode] = Field(default=timedelta(seconds=60))
    email_sender_name: str = ""  # the From name on replies, e.g. "Acme Support"
    email_ca_file: Path | None = None  # a private CA's certificates (PEM), instead of the system's

    @field_validator("email_imap_url", "email_smtp_url")
    @classmethod
    def _server(cls, value: str | None, info: Any) -> str | None:
        if value in (None, ""):
            return None
        parse_url(value, "imap" if info.field_name == "email_imap_url" else "smtp")
        return value.strip()

    @field_validator("email_address")
    @classmethod
    def _address(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        value = value.strip()
        local, at, domain = value.rpartition("@")
        if not (local and at and "." in domain) or any(ch.isspace() for ch in value):
            raise ValueError(f"{value!r} is not an e-mail address like support@example.com")
        return value

    @field_validator("email_folders", mode="before")
    @classmethod
    def _folders(cls, value: Any) -> tuple[str, ...]:
        names = tuple(f.strip() for f in (value.split(",") if isinstance(value, str) else value) if f.strip())
        if not names:
            raise ValueError("name at least one folder, e.g. INBOX")
        return names

    @field_validator("email_poll_interval", mode="before")
    @classmethod
    def _interval(cls, value: Any) -> timedelta:
        return parse_duration(value, minimum=POLL_BOUNDS[0], maximum=POLL_BOUNDS[1])

    @model_validator(mode="after")
    def _complete_email_set(self) -> EmailSettings:
        given = {"EMAIL_IMAP_URL": self.email_imap_url, "EMAIL_SMTP_URL": self.email_smtp_url,
                 "EMAIL_ADDRESS": self.email_address, "EMAIL_PASSWORD": self.email_password}
        if any(given.values()) and not all(given.values()):
            missing = ", ".join(k for k, v in given.items() if not v)
            raise ValueError(f"e-mail needs EMAIL_IMAP_URL, EMAIL_SMTP_URL, EMAIL_ADDRESS and EMAIL_PASSWORD; "
                             f"missing {missing}")
        return self

    @property
    def email_enabled(self) -> bool:
        return bool(self.email_imap_url and self.email_smtp_url and self.email_address and self.email_password)

    @property
    def email_login(self) -> str:
        return self.email_username or self.email_address or ""
