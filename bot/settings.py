"""Configuration from the environment (and `.env`), validated once at start-up.

A malformed value stops start-up with a message naming the variable. Secrets are `SecretStr`, so
they print as '**********' in logs, reprs and error messages.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, SecretStr, ValidationError, ValidationInfo, field_validator, model_validator
from pydantic import functional_validators as fv
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.config_file import ConfigError, parse_duration
from bot.inbound.routing import CHANNEL_ID, RoutingConfig, load_routing_config
from bot.replies.permissions import parse_agents
from bot.replies.survey import parse_kinds as parse_csat_kinds
from bot.settings_email import EmailSettings
from bot.settings_storm import StormSettings
from bot.sla.policy import SlaConfig, load_sla_config
from bot.store.database import check_database_url
from connectors.x.queries import parse_search_queries
from connectors.x.spend import PRICES, parse_prices

__all__ = ["ConfigError", "Settings", "load_settings", "secret"]

# Slack channel names: lower-case letters, digits, '-' and '_' (up to 80); resolved to an ID at start.
_CHANNEL_NAME = re.compile(r"^#?[a-z0-9][a-z0-9_-]{0,79}$")
# (least, most) per duration setting; the README's configuration table lists the same bounds.
DURATION_BOUNDS: dict[str, tuple[timedelta, timedelta]] = {
    "parley_poll_interval": (timedelta(seconds=1), timedelta(days=1)),
    "parley_slack_min_interval": (timedelta(milliseconds=1), timedelta(minutes=1)),
    "parley_reminder_interval": (timedelta(seconds=5), timedelta(days=1)),
    "parley_leader_interval": (timedelta(seconds=1), timedelta(minutes=5)),
    "parley_sla_first_response": (timedelta(minutes=1), timedelta(days=30)),
    "parley_startup_wait": (timedelta(seconds=1), timedelta(minutes=10)),
    "x_dm_interval": (timedelta(seconds=1), timedelta(hours=1)),
}
# What each Slack token variable must hold, checked before any network call.
_TOKEN_KINDS = {
    "slack_bot_token": ("xoxb-", "the bot token (xoxb-…, OAuth & Permissions → Bot User OAuth Token)"),
    "slack_app_token": ("xapp-", "the app-level token (xapp-…, Basic Information → App-Level Tokens, "
                                 "scope connections:write)"),
}


class Settings(EmailSettings, StormSettings, BaseSettings):  # EMAIL_*, PARLEY_STORM_*: settings_email/_storm.py
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore",
                                      case_sensitive=False)

    # Slack
    slack_bot_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_app_token: SecretStr | None = None  # present -> Socket Mode
    slack_api_url: str = "https://slack.com/api/"
    port: int = Field(default=3000, ge=1, le=65535)
    parley_channel: str | None = None

    # X
    x_bearer_token: SecretStr | None = None
    x_consumer_key: SecretStr | None = None
    x_consumer_secret: SecretStr | None = None
    x_access_token: SecretStr | None = None
    x_access_token_secret: SecretStr | None = None
    x_api_url: str = "https://api.twitter.com"
    x_search_queries: Annotated[dict[str, str], NoDecode] = Field(default_factory=dict)
    x_enterprise: bool = False  # an Enterprise plan: public replies to any post (no 2026 self-serve gate)
    x_daily_budget: float | None = Field(default=None, gt=0)  # USD; connectors/x/spend.py
    x_monthly_budget: float | None = Field(default=None, gt=0)
    x_prices: Annotated[dict[str, float], NoDecode, fv.BeforeValidator(parse_prices)] = Field(default=dict(PRICES))
    # GET /2/dm_events allows 15 requests per 15 minutes per user: one poll a minute at most.
    x_dm_interval: Annotated[timedelta, NoDecode] = timedelta(seconds=60)
    x_dm_requests: int = Field(default=15, ge=1)  # per 15 minutes (higher only on an Enterprise plan)

    # Facebook
    facebook_page_id: str | None = None
    facebook_page_token: SecretStr | None = None
    facebook_app_secret: SecretStr | None = None
    facebook_verify_token: SecretStr | None = None
    facebook_graph_url: str = "https://graph.facebook.com/"
    # v25.0 is served until 29 July 2028 (https://developers.facebook.com/docs/graph-api/changelog,
    # "Available Graph API versions"); v23.0 only until 8 October 2027.
    facebook_graph_version: str = "v25.0"

    # Instagram: the professional account linked to the Page (same Graph URL); its token, else the Page's.
    instagram_account_id: str | None = None
    instagram_token: SecretStr | None = None

    # Parley
    database_url: str = "sqlite:///parley.db"
    parley_poll_interval: Annotated[timedelta, NoDecode] = timedelta(seconds=60)
    # How far back a stream with no cursor yet (a new install, a new search query) reads; 0 = none.
    # Everything after its starting point is always read; what this bound leaves out is reported.
    parley_backfill: Annotated[timedelta, NoDecode] = timedelta(hours=24)
    parley_config: Path | None = None
    parley_log_level: str = "INFO"
    # Slack allows about one message per second per channel; the emulator can go faster.
    parley_slack_min_interval: Annotated[timedelta, NoDecode] = timedelta(seconds=1)
    # Who may send to customers: Slack user ids (U…) and/or user-group ids (S…); unset = everyone.
    parley_agents: str | None = None
    # Who gets SLA escalations and the daily digest by DM: user ids and/or user-group ids.
    parley_managers: str | None = None
    # Who is pinged about an unassigned case's SLA warning/breach (user/group ids); unset = @here.
    parley_on_duty: str | None = None
    # The short public reply after an X DM ("take it private"); {first_name}, {handle}, {ref}.
    parley_nudge_template: str = "Hi {first_name}, we've sent you a DM 📩"
    # Private conversation kinds asked "How did we do? 1-5" when resolved, e.g. "messenger,x:dm" (CSAT).
    parley_csat: Annotated[frozenset[str], NoDecode, fv.BeforeValidator(parse_csat_kinds)] = frozenset()
    parley_sla_first_response: Annotated[timedelta | None, NoDecode] = None  # normal-priority target
    parley_reminder_interval: Annotated[timedelta, NoDecode] = timedelta(minutes=1)
    # How often a replica checks or tries to take scheduler leadership (PostgreSQL; bot/leader.py).
    parley_leader_interval: Annotated[timedelta, NoDecode] = timedelta(seconds=5)
    parley_digest_time: str = "09:00"  # local time (business-hours time zone) of the daily digest
    parley_digest_channel: str | None = None  # also post the digest here (managers get it by DM)
    # How long start-up keeps retrying an unreachable database or Slack before giving up (exit 2).
    parley_startup_wait: Annotated[timedelta, NoDecode] = timedelta(seconds=30)

    routing: RoutingConfig = Field(default_factory=RoutingConfig, exclude=True)
    # The `sla:` and `business_hours:` sections of PARLEY_CONFIG (defaults without a file; set below).
    sla: SlaConfig = Field(default_factory=SlaConfig, exclude=True)

    @field_validator("parley_poll_interval", "parley_slack_min_interval", "parley_reminder_interval",
                     "parley_leader_interval", "parley_startup_wait", "x_dm_interval", mode="before")
    @classmethod
    def _duration(cls, value: Any, info: ValidationInfo) -> timedelta:
        least, most = DURATION_BOUNDS[info.field_name or ""]
        return parse_duration(value, minimum=least, maximum=most)

    @field_validator("parley_backfill", mode="before")
    @classmethod
    def _backfill(cls, value: Any) -> timedelta:
        return timedelta(0) if str(value).strip() in ("0", "0s", "none") else parse_duration(value)

    @field_validator("parley_sla_first_response", mode="before")
    @classmethod
    def _optional_duration(cls, value: Any) -> timedelta | None:
        if value in (None, ""):
            return None
        least, most = DURATION_BOUNDS["parley_sla_first_response"]
        return parse_duration(value, minimum=least, maximum=most)

    @field_validator("slack_app_token", mode="before")
    @classmethod
    def _unset_when_empty(cls, value: Any) -> Any:
        # An empty SLACK_APP_TOKEN= line means HTTP mode, not Socket Mode with no token.
        return None if value == "" else value

    @field_validator("slack_bot_token", "slack_app_token")
    @classmethod
    def _token_kind(cls, value: SecretStr | None, info: ValidationInfo) -> SecretStr | None:
        if value is None:
            return None
        prefix, wanted = _TOKEN_KINDS[info.field_name or ""]
        token = value.get_secret_value().strip()
        if not token.startswith(prefix):
            # Name the kind of token that was given, never the token itself.
            kinds = {"xoxb-": "a bot token", "xapp-": "an app-level token", "xoxp-": "a user token"}
            given = next((k for p, k in kinds.items() if token.startswith(p)), "not a Slack token")
            raise ValueError(f"this is {given}; expected {wanted}")
        return SecretStr(token)

    @field_validator("parley_channel")
    @classmethod
    def _channel(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.strip()
        if CHANNEL_ID.match(value):
            return value
        if _CHANNEL_NAME.match(value):
            return "#" + value.lstrip("#")  # resolved to its ID at start-up (bot/delivery/slack_startup.py)
        if not value:
            raise ValueError("must not be empty: set a channel ID like C0123ABCD (channel details → About), or unset "
                             "it when PARLEY_CONFIG routes every conversation")
        raise ValueError("expected a channel ID like C0123ABCD or a channel name like #support")

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        return check_database_url(value)

    @field_validator("parley_digest_time")
    @classmethod
    def _clock_time(cls, value: str) -> str:
        match = re.fullmatch(r"\s*([01]?\d|2[0-3]):([0-5]\d)\s*", value)
        if not match:
            raise ValueError(f"{value!r} should be a time of day like 09:00")
        return f"{int(match.group(1)):02d}:{match.group(2)}"

    @field_validator("parley_agents", "parley_managers", "parley_on_duty")
    @classmethod
    def _slack_ids(cls, value: str | None) -> str | None:
        for token in parse_agents(value):
            if not re.fullmatch(r"[UWS][A-Z0-9]{1,}", token):
                raise ValueError(f"{token!r} is not a Slack user id (U…/W…) or user-group id (S…)")
        return value

    @field_validator("x_search_queries", mode="before")
    @classmethod
    def _queries(cls, value: Any) -> dict[str, str]:
        return parse_search_queries(value)

    @field_validator("facebook_graph_version")
    @classmethod
    def _graph_version(cls, value: str) -> str:
        if not re.fullmatch(r"v\d+\.\d+", value):
            raise ValueError(f"{value!r} should look like v25.0")
        return value

    @field_validator("parley_log_level")
    @classmethod
    def _log_level(cls, value: str) -> str:
        if value.upper() not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
            raise ValueError("use DEBUG, INFO, WARNING or ERROR")
        return value.upper()

    @field_validator("slack_api_url", "x_api_url", "facebook_graph_url")
    @classmethod
    def _url(cls, value: str) -> str:
        if not re.match(r"^https?://[^\s/]+", value):
            raise ValueError(f"{value!r} is not an http(s) URL")
        return value

    @model_validator(mode="after")
    def _complete_credential_sets(self) -> Settings:
        x_user = {
            "X_CONSUMER_KEY": self.x_consumer_key,
            "X_CONSUMER_SECRET": self.x_consumer_secret,
            "X_ACCESS_TOKEN": self.x_access_token,
            "X_ACCESS_TOKEN_SECRET": self.x_access_token_secret,
        }
        given = [k for k, v in x_user.items() if v]
        if given and len(given) != len(x_user):
            missing = ", ".join(k for k, v in x_user.items() if not v)
            raise ValueError(f"X needs all four user-context credentials; missing {missing}")
        if self.facebook_page_token and not self.facebook_page_id:
            raise ValueError("FACEBOOK_PAGE_TOKEN is set but FACEBOOK_PAGE_ID is not")
        if self.instagram_account_id and not (self.instagram_token or self.facebook_page_token):
            raise ValueError("INSTAGRAM_ACCOUNT_ID is set but neither INSTAGRAM_TOKEN nor FACEBOOK_PAGE_TOKEN is")
        if self.parley_config is not None:
            self.routing = load_routing_config(self.parley_config)
        self.sla = load_sla_config(self.parley_config)
        if self.parley_sla_first_response is not None:
            self.sla = self.sla.with_first_response(self.parley_sla_first_response)
        return self

    # --- derived ------------------------------------------------------------------------------
    @property
    def x_enabled(self) -> bool:
        return self.x_consumer_key is not None

    @property
    def facebook_enabled(self) -> bool:
        return bool(self.facebook_page_id and self.facebook_page_token)

    @property
    def instagram_enabled(self) -> bool:
        return bool(self.instagram_account_id and (self.instagram_token or self.facebook_page_token))

    @property
    def facebook_webhooks_enabled(self) -> bool:  # Meta's endpoint: Page and Instagram deliveries share it
        return (self.facebook_enabled or self.instagram_enabled) and bool(
            self.facebook_app_secret and self.facebook_verify_token)

    @property
    def socket_mode(self) -> bool:
        return self.slack_app_token is not None


def secret(value: SecretStr | None) -> str:
    return value.get_secret_value() if value is not None else ""


def load_settings(**overrides: Any) -> Settings:
    """Read the environment; turn validation failures (routing-file problems included, which the model
    validator raises) and an undecodable `.env` into a ConfigError of one line naming the variables."""
    try:
        return Settings(**overrides)
    except UnicodeDecodeError:
        env_file = overrides.get("_env_file", ".env")
        raise ConfigError(f"{env_file} (in {Path.cwd()}) is not UTF-8 text: write it as KEY=value lines, "
                          "or remove it") from None
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            # err["msg"] never contains the input for our validators; pydantic's own messages
            # describe the expected type, not the value, so secrets cannot leak here.
            message = err["msg"].removeprefix("Value error, ")
            name = ".".join(str(p) for p in err["loc"]).upper()
            problems.append(f"{name}: {message}" if name else message)
        raise ConfigError("; ".join(problems)) from None
