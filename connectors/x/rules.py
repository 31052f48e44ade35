"""X's rules: tweets count as twitter-text weighs them (280), DMs up to 10 000 characters, "take it
private" is a DM followed by a short public notice. No reply windows.
"""

from __future__ import annotations

from twitter_text import parse_tweet

from connectors.contract import (
    DirectMessage,
    Mode,
    OpSpec,
    Plan,
    PublicReply,
    Refusal,
    ReplyRequest,
    Rules,
    check_length,
    latest_of,
)

PLATFORM = "x"
LIMIT = 280  # weighted: links count 23, emoji and CJK 2 (twitter-text)
DM_LIMIT = 10_000
LENGTH_RULE = "links count 23, emoji and CJK 2"
REPLY, DM, NUDGE = "x_reply", "x_dm", "x_nudge"  # stored as the outbound message's kind
MENTIONS_KEY = "@mentions"  # search query names cannot contain "@", so this never collides
_TWEETS = ("mention", "search_hit")


def weighted_length(text: str) -> int:
    """`text`'s length as X counts it (links 23, emoji and CJK 2)."""
    return parse_tweet(text).weightedLength


def overflow(text: str) -> int:
    """How many weighted characters `text` is over X's 280 (0 when it fits)."""
    return max(weighted_length(text) - LIMIT, 0)


def check_tweet(text: str, what: str = "This reply") -> None:
    """Refuse a tweet X would refuse: over 280 weighted characters, or invalid characters."""
    result = parse_tweet(text)
    if result.weightedLength > LIMIT:
        over = result.weightedLength - LIMIT
        raise Refusal(
            f"{what} is {result.weightedLength} characters as X counts them (links count 23, emoji and "
            f"Chinese/Japanese/Korean characters 2): {over} over X's limit of {LIMIT}. Shorten it, or take "
            "it private.")
    if not result.valid:
        raise Refusal(f"X would refuse {what.lower()}: it contains characters X does not accept.")


def plan(request: ReplyRequest) -> Plan:
    """A DM conversation is answered in the DM; a tweet publicly, or privately by DM plus a notice."""
    if request.conversation_kind == "dm":
        check_length(request.text, DM_LIMIT, "An X DM")
        return Plan(DM, request.heard[-1].external_id)
    tweet = latest_of(request.heard, _TWEETS)
    if tweet is None:
        raise Refusal("There is no customer tweet in this conversation to reply to.")
    if request.mode == "public":
        check_tweet(request.text)
        return Plan(REPLY, tweet.external_id)
    check_length(request.text, DM_LIMIT, "An X DM")
    check_tweet(request.nudge_text, "The public DM notice (template)")
    return Plan(DM, tweet.external_id)


def explain(kind: str, mode: Mode, who: str) -> str:
    """What sending does on X, for the reply modal (`who` is already mrkdwn-escaped)."""
    if kind == "dm":
        return f"🔒 This is an X DM conversation: your text is sent to {who} in the DM."
    if mode == "private":
        return (f"🔒 Sends your text to {who} as an X DM, then posts a short public reply saying a DM was "
                "sent. If they don't accept DMs, nothing is posted and the thread says so.")
    return f"🌐 Posts publicly on X, as a reply to {who}'s latest tweet."


def count_hint(text: str) -> str:
    """"123/280 characters (links count 23, emoji and CJK 2)", or "⚠️ 17 over the 280 limit …"."""
    return RULES.count_hint(text)


RULES = Rules(
    platform=PLATFORM, name="X", emoji="🐦", plan=plan, explain=explain,
    ops={
        REPLY: OpSpec(public=True, action=PublicReply, sending="your public reply to {who} on X"),
        DM: OpSpec(public=False, action=DirectMessage, sending="your DM to {who} on X", nudge=NUDGE),
        NUDGE: OpSpec(public=True, action=PublicReply, sending="the public DM notice to {who} on X", is_nudge=True),
    },
    private_mode="sends an X DM, then a short public notice that a DM was sent",
    private_kinds=("dm",), handle_prefix="@", length=weighted_length, public_limit=LIMIT, length_rule=LENGTH_RULE,
    voice={MENTIONS_KEY: ("mention",)}, dm_fallback_code="403",
    permalink_hosts=("x.com", "www.x.com", "twitter.com", "www.twitter.com", "mobile.twitter.com", "mobile.x.com"),
)
