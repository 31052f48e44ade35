"""Facebook's rules: public comments (8 000 characters), one private reply per comment or visitor post
within 7 days, Messenger within 24 hours of the customer's last message or 7 days as a human agent.

Private replies go to "a person who published a post on your business' Facebook Page or who
commented on a post or comment", once, within 7 days of the post or comment
(https://developers.facebook.com/docs/messenger-platform/discovery/private-replies).
"""

from __future__ import annotations

from datetime import datetime, timedelta

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

PLATFORM = "facebook"
MESSENGER_LIMIT = 2_000
COMMENT_LIMIT = 8_000
MESSENGER_WINDOW = timedelta(hours=24)
HUMAN_AGENT_WINDOW = timedelta(days=7)
PRIVATE_REPLY_WINDOW = timedelta(days=7)
COMMENT, PRIVATE, MESSENGER = "fb_comment", "fb_private", "messenger"  # stored as the outbound message's kind
SURVEY = "messenger_csat"  # Parley's satisfaction question, with quick replies (never HUMAN_AGENT-tagged)
PAGE_KEY = "Facebook Page"  # share of voice: comments and visitor posts on the brand's Page

MESSENGER_24H = Window("messenger_24h", "Messenger 24-hour window", MESSENGER_WINDOW, timedelta(hours=2),
                       "only replies tagged HUMAN_AGENT are allowed, "
                       "up to 7 days after the customer's message")
MESSENGER_7D = Window("messenger_human_agent", "Messenger 7-day human-agent window", HUMAN_AGENT_WINDOW,
                      timedelta(hours=24), "Facebook allows no reply at all until the customer writes again")
PRIVATE_REPLY_7D = Window("fb_private_reply", "Facebook 7-day private-reply window", PRIVATE_REPLY_WINDOW,
                          timedelta(hours=24), "only a public reply under the comment is possible")


def messenger_tag(last_customer_message: datetime, now: datetime) -> bool:
    """Whether a Messenger reply needs the HUMAN_AGENT tag (outside the 24-hour window)."""
    return now - last_customer_message > MESSENGER_WINDOW


def _messenger(request: ReplyRequest) -> Plan:
    check_length(request.text, MESSENGER_LIMIT, "Messenger")
    latest = request.heard[-1]
    age = request.now - latest.created_at
    if age > HUMAN_AGENT_WINDOW:
        raise Refusal(
            f"The customer last wrote on Messenger {days(age)} ago. Facebook allows a reply within 24 hours, "
            "or within 7 days as a human agent; after that only the customer can restart the conversation. "
            "Nothing was sent.")
    return Plan(MESSENGER, latest.external_id, human_agent_tag=messenger_tag(latest.created_at, request.now))


def plan(request: ReplyRequest) -> Plan:
    """Messenger in Messenger; a comment or visitor post publicly, or by one private reply to the
    customer's latest comment or visitor post."""
    if request.conversation_kind == "messenger":
        return _messenger(request)
    comment = latest_of(request.heard, ("comment",))
    if request.mode == "public":
        check_length(request.text, COMMENT_LIMIT, "A Facebook comment")
        if request.conversation_kind == "visitor_post":
            return Plan(COMMENT, request.thread_key)  # answer on the visitor's post itself
        return Plan(COMMENT, (comment or request.heard[-1]).external_id)
    comment = latest_of(request.heard, ("comment", "visitor_post"))
    what = "visitor post" if comment is not None and comment.kind == "visitor_post" else "comment"
    if comment is None:
        raise Refusal("Facebook private replies answer a comment or a visitor post, and the customer has "
                      "written neither here. Reply publicly instead.")
    if comment.external_id in request.private_replied:
        raise Refusal(f"Facebook allows only one private reply per {what}, and the customer's latest {what} "
                      "already has one. Reply publicly, or wait until they write again.")
    age = request.now - comment.created_at
    if age > PRIVATE_REPLY_WINDOW:
        raise Refusal(f"The customer's {what} is {days(age)} old; Facebook allows a private reply only "
                      "within 7 days. Reply publicly instead.")
    check_length(request.text, MESSENGER_LIMIT, "A Facebook private reply")
    return Plan(PRIVATE, comment.external_id)


def explain(kind: str, mode: Mode, who: str) -> str:
    """What sending does on Facebook, for the reply modal (`who` is already mrkdwn-escaped)."""
    if kind == "messenger":
        return (f"🔒 This is a Messenger conversation: your text is sent to {who} in Messenger. More than 24 hours "
                "after their last message it goes as a human-agent reply, allowed up to 7 days.")
    if mode == "private":
        return (f"🔒 Sends one private reply in Messenger to {who}, about their comment or post. Facebook allows "
                "only one private reply per comment or post, within 7 days of it.")
    return f"🌐 Posts a public reply on Facebook under {who}'s comment."


RULES = Rules(
    platform=PLATFORM, name="Facebook", emoji="📘", plan=plan, explain=explain,
    ops={
        COMMENT: OpSpec(public=True, action=PublicReply, sending="your public reply to {who} on Facebook"),
        PRIVATE: OpSpec(public=False, action=PrivateReply,
                        sending="your private reply (Messenger) to {who}'s Facebook comment"),
        MESSENGER: OpSpec(public=False, action=DirectMessage, sending="your Messenger reply to {who}"),
        SURVEY: OpSpec(public=False, action=DirectMessage, sending="the satisfaction question to {who} in Messenger",
                       survey=True),
    },
    private_mode="sends one private reply in Messenger about the customer's comment or post (within 7 days)",
    kind_names={"messenger": ("💬", "Messenger")}, private_kinds=("messenger",),
    windows={"messenger": (MESSENGER_24H, MESSENGER_7D), "comment": (PRIVATE_REPLY_7D,),
             "visitor_post": (PRIVATE_REPLY_7D,)},
    voice={PAGE_KEY: ("comment", "visitor_post")}, human_agent_after=MESSENGER_WINDOW,
    permalink_hosts=("facebook.com", "www.facebook.com", "m.facebook.com", "web.facebook.com"),
    hide_kinds=("comment",),  # comments on the Page's posts (is_hidden); a visitor post is not a comment
)
