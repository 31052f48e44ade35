"""Put the demo dataset into the X and Graph emulators, wave by wave, as customers would post it."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, formataddr

from sandbox.demo.dataset import Dataset, Item
from sandbox.emulators.graph_instagram import dm_event, webhook
from sandbox.emulators.mail import USER, Dovecot
from sandbox.emulators.stack import EmulatorStack


@dataclass
class SeededWorld:
    """Ids the emulators gave to the dataset's customers and items."""

    x_users: dict[str, str] = field(default_factory=dict)  # customer key -> X user id
    facebook_users: dict[str, str] = field(default_factory=dict)  # customer key -> Facebook user id / PSID
    ids: dict[str, str] = field(default_factory=dict)  # item / page post key -> platform id
    messenger: list[tuple[Item, str]] = field(default_factory=list)  # (item, mid) seeded so far
    instagram_media: dict[str, str] = field(default_factory=dict)  # page post key -> Instagram media id
    instagram_dms: list[tuple[Item, str]] = field(default_factory=list)  # (item, mid) seeded so far
    email_threads: dict[str, tuple[str, str]] = field(default_factory=dict)  # author -> (first Message-ID, subject)


def seed_accounts(dataset: Dataset, stack: EmulatorStack, now: datetime) -> SeededWorld:
    world = SeededWorld()
    for customer in dataset.customers:
        if customer.platform == "x":
            world.x_users[customer.key] = stack.x.add_user(
                customer.username or customer.key, customer.name, followers=customer.followers or 0,
                verified=customer.verified)
        elif customer.platform == "facebook":
            world.facebook_users[customer.key] = stack.graph.user(customer.name)
    on_instagram = {i.on for i in dataset.items if i.platform == "instagram"}
    for post in sorted(dataset.page_posts, key=lambda p: -p.minutes_ago):
        posted = post.created_at(now)
        world.ids[post.key] = stack.graph.add_post(post.text, created_at=posted)
        if post.key in on_instagram:  # cross-posted: Instagram comments hang on it there
            world.instagram_media[post.key] = stack.graph.add_instagram_media(post.text, created_at=posted)
    return world


def seed_wave(dataset: Dataset, stack: EmulatorStack, world: SeededWorld, wave: int, now: datetime,
              mailbox: Dovecot | None = None) -> list[Item]:
    """Post every item of `wave` (oldest first, so platform ids grow with time); e-mails are filed
    into `mailbox`. Returns the items."""
    items = list(dataset.wave(wave))
    for item in items:
        created = item.created_at(now)
        if item.platform == "email":
            assert mailbox is not None, "a dataset with e-mail needs a mailbox"
            _seed_email(dataset, mailbox, world, item, created)
        elif item.platform == "instagram":
            _seed_instagram(dataset, stack, world, item, created)
        elif item.platform == "x":
            author = stack.x.brand_id if item.from_brand else world.x_users[item.author]
            if item.kind == "dm":
                world.ids[item.key] = stack.x.add_dm(author, item.text, created_at=created)
            else:
                world.ids[item.key] = stack.x.add_tweet(
                    author, item.text, in_reply_to=world.ids.get(item.reply_to or ""), created_at=created,
                    lang=item.lang)
        elif item.kind == "comment":
            commenter = None if item.from_brand else (world.facebook_users[item.author],
                                                      dataset.customer(item.author).name)
            world.ids[item.key] = stack.graph.add_comment(world.ids[item.on or ""], commenter, item.text,
                                                          created_at=created)
        elif item.kind == "visitor_post":
            world.ids[item.key] = stack.graph.add_post(
                item.text, by=(world.facebook_users[item.author], dataset.customer(item.author).name),
                created_at=created)
        else:  # messenger
            if item.from_brand:
                psid = world.facebook_users[_messenger_peer(dataset, item)]
                world.ids[item.key] = stack.graph.add_page_message(psid, item.text, created_at=created)
            else:
                psid = world.facebook_users[item.author]
                mid = stack.graph.add_messenger_message(psid, dataset.customer(item.author).name, item.text,
                                                        created_at=created)
                world.ids[item.key] = mid
                world.messenger.append((item, mid))
    return items


def _seed_instagram(dataset: Dataset, stack: EmulatorStack, world: SeededWorld, item: Item,
                    created: datetime) -> None:
    username = None if item.from_brand else dataset.customer(item.author).username or item.author
    if item.kind == "comment":
        target = world.instagram_media.get(item.on or "") or world.ids[item.on or ""]
        world.ids[item.key] = stack.graph.add_instagram_comment(target, username, item.text, created_at=created)
    elif item.kind == "mention":  # a post of the customer's own whose caption @mentions the brand
        world.ids[item.key] = stack.graph.add_instagram_media(item.text, by=username, created_at=created)
    else:
        world.ids[item.key] = mid = stack.graph.add_instagram_dm(username or "", item.text, created_at=created)
        world.instagram_dms.append((item, mid))


def _seed_email(dataset: Dataset, mailbox: Dovecot, world: SeededWorld, item: Item, created: datetime) -> None:
    """The customer's e-mail to the support address; their later ones answer their first."""
    customer = dataset.customer(item.author)
    own = f"{item.key}@mail.demo.example"
    message = EmailMessage()
    message["From"], message["To"] = formataddr((customer.name, customer.username or "")), USER
    first = world.email_threads.get(item.author)
    if first is None:
        subject = re.split(r"(?<=[.!?¿¡])\s", item.text)[0][:70]
        world.email_threads[item.author] = (own, subject)
        message["Subject"] = subject
    else:
        message["Subject"] = f"Re: {first[1]}"
        message["In-Reply-To"] = message["References"] = f"<{first[0]}>"
    message["Message-ID"], message["Date"] = f"<{own}>", format_datetime(created)
    message.set_content(item.text)
    mailbox.deliver(message)
    world.ids[item.key] = own


def instagram_dm_webhook(stack: EmulatorStack, item_mid: tuple[Item, str], username: str, sent: datetime) -> dict:
    """The body Meta POSTs (object `instagram`) for one incoming Instagram DM."""
    ig = stack.graph.instagram
    return webhook(ig.id, sent, messaging=[dm_event(ig, ig.user(username), item_mid[1])])


def _messenger_peer(dataset: Dataset, brand_item: Item) -> str:
    """The customer a brand Messenger reply answers: the latest customer Messenger item before it."""
    earlier = [i for i in dataset.items if i.kind == "messenger" and not i.from_brand
               and (i.wave, -i.minutes_ago) <= (brand_item.wave, -brand_item.minutes_ago)]
    return max(earlier, key=lambda i: (i.wave, -i.minutes_ago)).author


def messenger_webhook(page_id: str, psid: str, mid: str, text: str, created: datetime) -> dict:
    """The body Facebook POSTs for one incoming Messenger message."""
    ms = int(created.timestamp() * 1000)
    return {"object": "page", "entry": [{"id": page_id, "time": ms, "messaging": [{
        "sender": {"id": psid}, "recipient": {"id": page_id}, "timestamp": ms,
        "message": {"mid": mid, "text": text}}]}]}


def signed(payload: dict, app_secret: str) -> tuple[bytes, str]:
    body = json.dumps(payload).encode()
    return body, "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()
