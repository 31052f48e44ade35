"""The customer profile in one line: on the card (a context block) and per account in
`/social customer`. Pure: a `bot.store.profile.CustomerProfile` in, mrkdwn out."""

from __future__ import annotations

from bot.cards.mrkdwn import human_count
from bot.cards.records import platform_name
from bot.store.models import Tone
from bot.store.profile import CustomerProfile

_TONE_MARK: dict[str, str] = {Tone.NEGATIVE: "😠", Tone.NEUTRAL: "😐", Tone.POSITIVE: "🙂", Tone.UNKNOWN: "❔"}
_OPEN_SHOWN = 3


def profile_line(profile: CustomerProfile, *, on_card: bool = True) -> str:
    """"🧾 2 earlier cases on X · also open: #12 · tone 😠😐🙂 · 1.2k followers" (on the card), or
    the account's totals ("4 cases · …") beside its name in a list. No customer text in it."""
    site = platform_name(profile.platform)
    if on_card:
        count = profile.earlier_cases
        earlier = f"{count} earlier case{'s' if count != 1 else ''}" if count else "first case"
        parts = [f"🧾 {earlier} on {site}"]
    else:
        parts = [f"{profile.cases} case{'s' if profile.cases != 1 else ''}"]
    if profile.open_elsewhere:
        shown = ", ".join(f"#{ref}" for ref in profile.open_elsewhere[:_OPEN_SHOWN])
        more = len(profile.open_elsewhere) - _OPEN_SHOWN
        parts.append(f"also open: {shown}" + (f" +{more}" if more > 0 else ""))
    if profile.tone_trend:
        parts.append("tone " + "".join(_TONE_MARK.get(t, "❔") for t in profile.tone_trend))
    if profile.csat_scores:
        given = profile.csat_scores
        many = f" ({len(given)} ratings)" if len(given) > 1 else ""
        parts.append(f"rated us {sum(given) / len(given):.1f}/5{many}")
    if profile.followers is not None:
        parts.append(f"{human_count(profile.followers)} follower{'s' if profile.followers != 1 else ''}")
    return " · ".join(parts)
