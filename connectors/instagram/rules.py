"""Instagram's rules: public replies under comments and @mentions, one private reply per comment
within 7 days, DMs within 24 hours of the customer's last message or 7 days as a human agent.

Platform facts (Meta's documentation):
- `POST /{ig-comment-id}/replies` replies only to top-level comments ("replies to a reply will be
  added to the top-level comment") — developers.facebook.com/docs/instagram-platform/
  instagram-graph-api/reference/ig-comment/replies.
- `POST /{ig-user-id}/mentions?media_id=…[&comment_id=…]` answers a caption or comment that
  @mentions the account (reference/ig-user/mentions).
- Private replies: "a single message to an Instagram user who commented …", "within 7 days of when
  the comment was created" (business-messaging/instagram-messaging/features/private-replies).
- Messaging: "Your messaging app has 24 hours to respond"; a human agent may answer with the
  HUMAN_AGENT tag up to 7 days after the customer's last message (docs/instagram-messaging/overview).
- Captions and comments hold at most 2 200 characters; a DM's text at most 1 000.
"""

from __future__ import annotations

from datetime import timedelta

from connectors.contract import (
    DirectMessage,
    Mode,
    OpSpec,
    Plan,
    PrivateReply,
    PublicReply,
    Refusal,
    ReplyRequest,
    Rules,
    Window,
    check_length,
    days,
    latest_of,
)

PLATFORM = "instagram"
COMMENT_LIMIT = 2_200
DM_LIMIT = 1_000
DM_WINDOW = timedelta(hours=24)
HUMAN_AGENT_WINDOW = timedelta(days=7)
PRIVATE_REPLY_WINDOW = timedelta(days=7)
# Stored as the outbound message's kind; distinct from Facebook's so `shipped_op` finds each once.
REPLY, PRIVATE, DM = "ig_reply", "ig_private", "ig_dm"
# Parley's satisfaction question in Instagram Direct, with quick replies (at most 13, titles cut after
# 20 characters: https://developers.facebook.com/docs/messenger-platform/instagram/features/quick-replies/).
SURVEY = "ig_dm_csat"
MENTION_TARGET = "mention:"  # a PublicReply target "mention:{media_id}[:{comment_id}]"
ACCOUNT_KEY = "Instagram account"  # share of voice: comments on the account's media and @mentions

DM_24H = Window("ig_dm_24h", "Instagram 24-hour messaging window", DM_WINDOW, timedelta(hours=2),
                "only replies tagged HUMAN_AGENT are allowed, up to 7 days after the customer's message")
DM_7D = Window("ig_dm_human_agent", "Instagram 7-day human-agent window", HUMAN_AGENT_WINDOW,
               timedelta(hours=24), "Instagram allows no reply at all until the customer writes again")
PRIVATE_REPLY_7D = Window("ig_private_reply", "Instagram 7-day private-reply window", PRIVATE_REPLY_WINDOW,
                          timedelta(hours=24), "only a public reply under the comment is possible")


def mention_target(media_id: str, comment_id: str | None = None) -> str:
    """The PublicReply target that answers an @mention in a caption (or in a comment on that media)."""
    return MENTION_TARGET + media_id + (f":{comment_id}" if comment_id else "")


def _dm(request: ReplyRequest) -> Plan:
    check_length(request.text, DM_LIMIT, "An Instagram message")
    latest = request.heard[-1]
    age = request.now - latest.created_at
    if age > HUMAN_AGENT_WINDOW:
        raise Refusal(
            f"The customer last wrote on Instagram {days(age)} ago. Instagram allows a reply within 24 hours, "
            "or within 7 days as a human agent; after that only the customer can restart the conversation. "
            "Nothing was sent.")
    return Plan(DM, latest.external_id, human_agent_tag=age > DM_WINDOW)


def _public(request: ReplyRequest) -> Plan:
    check_length(request.text, COMMENT_LIMIT, "An Instagram comment")
    latest = request.heard[-1]
    if request.conversation_kind == "mention":
        # The thread is the media; a mention in a comment is answered under that comment.
        comment = None if latest.external_id == request.thread_key else latest.external_id
        return Plan(REPLY, mention_target(request.thread_key, comment))
    return Plan(REPLY, request.thread_key)  # the top-level comment: replies to replies land there anyway


def plan(request: ReplyRequest) -> Plan:
    """DMs in the DM; a comment publicly or by one private reply per comment; a mention publicly."""
    if request.conversation_kind == "dm":
        return _dm(request)
    if request.mode == "public":
        return _public(request)
    comment = latest_of(request.heard, ("comment",))
    if comment is None:
        raise Refusal("Instagram private replies answer a comment on the account's own posts; an @mention "
                      "elsewhere can only be answered publicly. Reply publicly instead.")
    if comment.external_id in request.private_replied:
        raise Refusal("Instagram allows only one private reply per comment, and the customer's latest comment "
                      "already has one. Reply publicly, or wait until they write again.")
    age = request.now - comment.created_at
    if age > PRIVATE_REPLY_WINDOW:
        raise Refusal(f"The customer's comment is {days(age)} old; Instagram allows a private reply only "
                      "within 7 days. Reply publicly instead.")
    check_length(request.text, DM_LIMIT, "An Instagram private reply")
    return Plan(PRIVATE, comment.external_id)


def explain(kind: str, mode: Mode, who: str) -> str:
    """What sending does on Instagram, for the reply modal (`who` is already mrkdwn-escaped)."""
    if kind == "dm":
        return (f"🔒 This is an Instagram DM: your text is sent to {who} in Instagram Direct. More than 24 hours "
                "after their last message it goes as a human-agent reply, allowed up to 7 days.")
    if mode == "private":
        return (f"🔒 Sends one private reply in Instagram Direct to {who}, about their comment. Instagram allows "
                "only one private reply per comment, within 7 days of it.")
    return f"🌐 Posts a public reply on Instagram under {who}'s comment."


RULES = Rules(
    platform=PLATFORM, name="Instagram", emoji="📸", plan=plan, explain=explain,
    ops={
        REPLY: OpSpec(public=True, action=PublicReply, sending="your public reply to {who} on Instagram"),
        PRIVATE: OpSpec(public=False, action=PrivateReply,
                        sending="your private reply (Instagram Direct) to {who}'s comment"),
        DM: OpSpec(public=False, action=DirectMessage, sending="your Instagram DM to {who}"),
        SURVEY: OpSpec(public=False, action=DirectMessage, sending="the satisfaction question to {who} on Instagram",
                       survey=True),
    },
    private_mode="sends one private reply in Instagram Direct about the customer's comment (within 7 days)",
    handle_prefix="@", private_kinds=("dm",),
    windows={"dm": (DM_24H, DM_7D), "comment": (PRIVATE_REPLY_7D,)},
    public_limit=COMMENT_LIMIT, length_rule="plain characters",
    voice={ACCOUNT_KEY: ("comment", "mention")}, human_agent_after=DM_WINDOW,
    hide_kinds=("comment",),  # only comments on the account's own media; an @mention elsewhere is not ours
)
