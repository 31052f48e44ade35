"""SLA engine: business hours, the policy from PARLEY_CONFIG, and the pure per-conversation clock.

No database and no Slack here; the reminder jobs, digest and cards build on these functions.
"""

from bot.sla.clock import (
    ClockInput,
    SlaState,
    SlaStatus,
    evaluate,
    first_response_time,
    format_duration,
    pause_ended,
    sla_label,
)
from bot.sla.hours import BusinessHours
from bot.sla.policy import SlaConfig, Targets, load_sla_config

__all__ = [
    "BusinessHours",
    "ClockInput",
    "SlaConfig",
    "SlaState",
    "SlaStatus",
    "Targets",
    "evaluate",
    "first_response_time",
    "format_duration",
    "load_sla_config",
    "pause_ended",
    "sla_label",
]
