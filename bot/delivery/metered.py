"""A Slack Web API client that counts what Parley posts and every 429 Slack answers (bot/metrics.py)."""

from __future__ import annotations

from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.web import SlackResponse

from bot.metrics import Metrics

POSTING = frozenset({"chat.postMessage", "chat.update", "chat.postEphemeral", "views.publish"})


class MeteredWebClient(WebClient):
    """slack_sdk's WebClient; every call goes through `api_call`, so counting there sees them all."""

    def __init__(self, *args: Any, metrics: Metrics, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.metrics = metrics

    def api_call(self, api_method: str, **kwargs: Any) -> SlackResponse:
        try:
            response = super().api_call(api_method, **kwargs)
        except SlackApiError as exc:
            if exc.response.status_code == 429:
                self.metrics.slack_429s.labels(api_method).inc()
            raise
        if api_method in POSTING:
            self.metrics.slack_posts.labels(api_method).inc()
        return response
