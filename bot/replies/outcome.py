"""What became of one outbound message, as the Sender reports it to handlers and jobs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.store.keys import row_id
from bot.store.models import DeliveryStatus, Message


@dataclass(frozen=True)
class DeliveryOutcome:
    """What became of one outbound message. `status` SENDING means another deliverer has it now."""

    message_id: int
    status: DeliveryStatus
    external_id: str | None = None  # the platform's id once SENT
    url: str | None = None
    error: str | None = None  # plain words for staff
    fallback_url: str | None = None  # X DM refused: a DM link to offer in a public reply instead
    followup: DeliveryOutcome | None = None  # X take-private: the public notice after the DM

    @classmethod
    def of(cls, message: Message, **extra: Any) -> DeliveryOutcome:
        sent = message.delivery_status == DeliveryStatus.SENT
        return cls(row_id(message), DeliveryStatus(message.delivery_status),
                   message.external_id if sent else None, message.url, message.delivery_error, **extra)


def with_followup(outcome: DeliveryOutcome, followup: DeliveryOutcome) -> DeliveryOutcome:
    return DeliveryOutcome(outcome.message_id, outcome.status, outcome.external_id, outcome.url, outcome.error,
                           outcome.fallback_url, followup)
