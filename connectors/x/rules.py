"""X's rules: tweets count as twitter-text weighs them (280), DMs up to 10 000 characters, "take it
private" is a DM followed by a short public notice. No reply windows.

The reply gate: since 23 Feb 2026 X lets an app on a self-serve (pay-per-use) plan reply publicly
only to a post whose author mentioned the brand or quoted one of its posts (issue 10; the docs corpus
has no page for this rule, so the date and wording follow the issue text). The connector stores such
a post as a `mention` whichever stream found it (`connectors/x/streams.py`), so a `search_hit` is a
post X would refuse a reply to: the planner refuses before any X call and offers a DM or a link to
reply by hand, and taking it private sends the DM alone (the public notice is a reply too).
`X_ENTERPRISE=true` (an Enterprise plan) lifts the gate: `rules_for(enterprise=True)`.
"""

from __future__ import annotations

from dataclasses import replace
from functools import partial
from typing import TYPE_CHECKING

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
from connectors.x import spend

if TYPE_CHECKING:
    from twitter_text import ParsedResult

PLATFORM = "x"
LIMIT = 280  # weighted: links count 23, emoji and CJK 2 (twitter-text)
DM_LIMIT = 10_000
LENGTH_RULE = "links count 23, emoji and CJK 2"
REPLY, DM, NUDGE = "x_reply", "x_dm", "x_nudge"  # stored as the outbound message's kind
DM_ONLY = "x_dm_only"  # a DM answering a post X lets us not reply to: no public notice follows
# Parley's satisfaction question in the DM. X API v2's DM create takes only `text` and one attachment
# (https://docs.x.com/x-api/direct-messages/manage/api-reference/post-dm_conversations-with-participant_id-messages);
# quick-reply options were a v1.1 `direct_messages/events/new` feature, so the customer answers 1-5 in text.
SURVEY = "x_dm_csat"
ADDRESSED = "mention"  # the kind of a post that mentions or quotes the brand (X allows a reply)
INTENT_URL = "https://x.com/intent/post?in_reply_to={id}"  # reply by hand, as the brand, on x.com
MENTIONS_KEY = "@mentions"  # search query names cannot contain "@", so this never collides
_TWEETS = ("mention", "search_hit")
SEARCH_HIT_NOTICE = ("⛔ No public reply possible: on a self-serve API plan X lets the brand reply only to posts "
                     "that mention it or quote one of its posts. Take it private (a DM, if they accept DMs from "
                     "the brand) or reply by hand on x.com from the post's link.")


def parse_tweet(text: str) -> ParsedResult:
    """twitter-text's reading of `text`. Imported on the first count: twitter-text compiles a regular
    expression of every emoji at import, about 15 MB that a process counting no X reply never needs
    (bench/memory.py)."""
    from twitter_text import parse_tweet as parse  # noqa: PLC0415 (memory, not a cycle: see above)

    return parse(text)


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


def reply_not_allowed(tweet_id: str | None, why: str = "this post does neither: it was found by a search") -> str:
    """Why X refuses a public reply here and what staff can do instead (plain words)."""
    by_hand = " or reply by hand on x.com" + (f": {INTENT_URL.format(id=tweet_id)}" if tweet_id else "")
    return ("X only lets this app reply publicly to posts that mention the brand or quote one of its posts "
            "(X's rule for self-serve API plans since 23 Feb 2026), and "
            f"{why}. Nothing was sent. Take it private instead (a DM, if they accept DMs from the brand; "
            f"no public notice is posted){by_hand}.")


def plan(request: ReplyRequest, *, gate: bool = True) -> Plan:
    """A DM conversation is answered in the DM; a tweet publicly, or privately by DM plus a notice.
    With the gate (self-serve plans), a post that neither mentions nor quotes the brand gets no public
    reply: a public answer is refused before any X call, a private one is the DM without the notice."""
    if request.conversation_kind == "dm":
        check_length(request.text, DM_LIMIT, "An X DM")
        return Plan(DM, request.heard[-1].external_id)
    tweet = latest_of(request.heard, _TWEETS)
    if tweet is None:
        raise Refusal("There is no customer tweet in this conversation to reply to.")
    closed = gate and tweet.kind != ADDRESSED
    if request.mode == "public":
        if closed:
            raise Refusal(reply_not_allowed(tweet.external_id))
        check_tweet(request.text)
        return Plan(REPLY, tweet.external_id)
    check_length(request.text, DM_LIMIT, "An X DM")
    if closed:
        return Plan(DM_ONLY, tweet.external_id)
    check_tweet(request.nudge_text, "The public DM notice (template)")
    return Plan(DM, tweet.external_id)


def explain(kind: str, mode: Mode, who: str, *, gate: bool = True) -> str:
    """What sending does on X, for the reply modal (`who` is already mrkdwn-escaped)."""
    if kind == "dm":
        return f"🔒 This is an X DM conversation: your text is sent to {who} in the DM."
    closed = gate and kind not in ("", ADDRESSED)
    if closed and mode == "public":
        return ("⛔ X won't take a public reply here: it only lets this app reply to posts that mention the brand "
                "or quote one of its posts, and this post was found by a search. Choose *Take it private* "
                f"(a DM to {who}, if they accept DMs), or reply by hand on x.com from the post's link.")
    if closed:
        return (f"🔒 Sends your text to {who} as an X DM. No public notice: X would refuse a public reply to a "
                "post found by a search. If they don't accept DMs, the thread says so.")
    if mode == "private":
        return (f"🔒 Sends your text to {who} as an X DM, then posts a short public reply saying a DM was "
                "sent. If they don't accept DMs, nothing is posted and the thread says so.")
    return f"🌐 Posts publicly on X, as a reply to {who}'s latest tweet."


def cost_hint(text: str) -> str:
    """A warning when the reply holds a link: X bills a post with a URL $0.200, not $0.015 (13 times)."""
    if spend.post_unit(text) != spend.POST_URL:
        return ""
    return "💲 has a link: X bills a post with a URL about 13 times a plain one ($0.20 instead of $0.015)"


def count_hint(text: str) -> str:
    """"123/280 characters (links count 23, emoji and CJK 2)", or "⚠️ 17 over the 280 limit …"."""
    return RULES.count_hint(text)


RULES = Rules(
    platform=PLATFORM, name="X", emoji="🐦", plan=plan, explain=explain,
    ops={
        REPLY: OpSpec(public=True, action=PublicReply, sending="your public reply to {who} on X"),
        DM: OpSpec(public=False, action=DirectMessage, sending="your DM to {who} on X", nudge=NUDGE),
        NUDGE: OpSpec(public=True, action=PublicReply, sending="the public DM notice to {who} on X", is_nudge=True),
        DM_ONLY: OpSpec(public=False, action=DirectMessage, sending="your DM to {who} on X", public_fallback=False),
        SURVEY: OpSpec(public=False, action=DirectMessage, sending="the satisfaction question to {who} on X",
                       public_fallback=False, survey=True),
    },
    private_mode="sends an X DM, then a short public notice that a DM was sent",
    private_kinds=("dm",), handle_prefix="@", length=weighted_length, public_limit=LIMIT, length_rule=LENGTH_RULE,
    cost_hint=cost_hint,
    voice={MENTIONS_KEY: ("mention",)}, dm_fallback_code="403",
    card_notices={"search_hit": SEARCH_HIT_NOTICE},
    permalink_hosts=("x.com", "www.x.com", "twitter.com", "www.twitter.com", "mobile.twitter.com", "mobile.x.com"),
)


def rules_for(*, enterprise: bool) -> Rules:
    """X's rules for this account: an Enterprise plan (`X_ENTERPRISE=true`) may reply to any post."""
    if not enterprise:
        return RULES
    return replace(RULES, plan=partial(plan, gate=False), explain=partial(explain, gate=False), card_notices={})
