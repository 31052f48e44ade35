"""The bundled demo dataset loads, is rich enough for the demo, and bad data fails by name."""

from __future__ import annotations

import copy
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from sandbox.demo.dataset import KINDS_BY_PLATFORM, LABELS, Dataset, load_dataset, parse_dataset
from sandbox.emulators.x_query import Searchable, compile_query


@pytest.fixture(scope="module")
def demo() -> Dataset:
    return load_dataset()


def test_bundled_dataset_is_big_and_varied(demo: Dataset):
    items = demo.customer_items
    assert len(items) >= 70
    assert {i.platform for i in items} == {"x", "facebook", "instagram", "email"}
    kinds = Counter(i.kind for i in items)
    assert set(kinds) == {k for ks in KINDS_BY_PLATFORM.values() for k in ks}
    langs = Counter(i.lang for i in items)
    assert set(langs) == {"en", "es"}
    assert 0.30 <= langs["es"] / len(items) <= 0.45
    assert set(Counter(i.label for i in items)) == set(LABELS)
    assert {q for i in items for q in i.queries} == {"acme", "rival"}
    assert demo.brand.x_username == "acmecloud" and demo.brand.page_name == "Acme Cloud"


def test_some_customers_are_big_and_verified(demo: Dataset):
    x = [c for c in demo.customers if c.platform == "x"]
    assert any(c.verified and (c.followers or 0) >= 100_000 for c in x)
    assert any((c.followers or 0) < 100 for c in x)
    assert all(c.username for c in x)


def test_follow_ups_thread_on_every_kind_of_conversation(demo: Dataset):
    groups = Counter(demo.conversation_key(i) for i in demo.customer_items)
    threaded_kinds = {demo.item(root).kind if not root.startswith(("dm:", "messenger:")) else root.split(":")[0]
                      for (_, root, _), n in groups.items() if n > 1}
    assert {"mention", "search_hit", "comment", "dm", "messenger"} <= threaded_kinds
    # The same tweet found by a mention and a search is still one item.
    assert any(i.kind == "mention" and i.queries for i in demo.items)
    # A reply from someone else in a thread starts that person's own conversation.
    s5 = demo.item("s5")
    assert demo.thread_root(s5) == "s4"
    assert demo.conversation_key(s5) != demo.conversation_key(demo.item("s4"))


def test_second_wave_brings_follow_ups_and_is_newest(demo: Dataset):
    wave2 = demo.wave(2)
    assert wave2
    roots = {demo.conversation_key(i) for i in demo.wave(1)}
    assert any(demo.conversation_key(i) in roots for i in wave2), "some wave-2 items continue a thread"
    assert max(i.minutes_ago for i in wave2) <= min(i.minutes_ago for i in demo.wave(1))
    first = demo.wave(1)
    assert [i.minutes_ago for i in first] == sorted((i.minutes_ago for i in first), reverse=True)


def test_brand_items_exist_for_skipping(demo: Dataset):
    brand = [i for i in demo.items if i.from_brand]
    assert {i.platform for i in brand} == {"x", "facebook"}
    assert not any(i.from_brand for i in demo.customer_items)


def test_created_at_counts_back_from_now(demo: Dataset):
    now = datetime(2025, 3, 4, 12, 0, tzinfo=UTC)
    assert demo.item("m1").created_at(now) == now - timedelta(minutes=95)


def test_load_from_a_path(tmp_path: Path):
    path = tmp_path / "d.yaml"
    path.write_text("brand: [", encoding="utf-8")
    with pytest.raises(ValueError, match="not valid YAML"):
        load_dataset(path)


# --- validation errors name the item --------------------------------------------------------------

BASE = {
    "brand": {"name": "Acme", "x_username": "acmecloud", "x_name": "Acme", "x_followers": 10,
              "x_verified": True, "page_name": "Acme"},
    "search_queries": {"acme": "acme"},
    "customers": [
        {"key": "ann", "platform": "x", "username": "ann", "name": "Ann", "followers": 5},
        {"key": "bob", "platform": "facebook", "name": "Bob", "followers": None},
    ],
    "page_posts": [{"key": "post", "text": "hello", "minutes_ago": 100}],
    "items": [
        {"key": "t1", "platform": "x", "kind": "mention", "author": "ann", "text": "@acmecloud hi",
         "minutes_ago": 50, "lang": "en"},
        {"key": "c1", "platform": "facebook", "kind": "comment", "on": "post", "author": "bob",
         "text": "hola", "minutes_ago": 40, "lang": "es"},
    ],
}


def _with(**changes: dict) -> dict:
    """BASE with items changed: {item key: {field: value or None to delete}}, new keys appended."""
    data = copy.deepcopy(BASE)
    by_key = {i["key"]: i for i in data["items"]}
    for key, fields in changes.items():
        target = by_key.get(key)
        if target is None:
            target = {"key": key}
            data["items"].append(target)
        for name, value in fields.items():
            if value is None:
                target.pop(name, None)
            else:
                target[name] = value
    return data


def test_base_is_valid():
    dataset = parse_dataset(copy.deepcopy(BASE))
    assert [i.key for i in dataset.items] == ["t1", "c1"]


T2 = {"platform": "x", "kind": "mention", "author": "ann", "text": "@acmecloud again", "minutes_ago": 10,
      "lang": "en"}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (_with(t1={"author": "zed"}), "item 't1': unknown author 'zed'"),
        (_with(t1={"author": "bob"}), "item 't1': author 'bob' is a facebook customer"),
        (_with(t2={**T2, "reply_to": "nope"}), "item 't2': unknown reply_to 'nope'"),
        (_with(t2={**T2, "reply_to": "c1"}), "item 't2': reply_to 'c1' is not an X tweet"),
        (_with(t2={**T2, "minutes_ago": 60, "reply_to": "t1"}), "item 't2': must be newer than 't1'"),
        (_with(c1={"on": "ghost"}), "item 'c1': unknown on 'ghost'"),
        (_with(c1={"on": None}), "item 'c1': a comment needs `on`"),
        (_with(c1={"kind": "dm"}), "item 'c1': kind 'dm' does not exist on facebook"),
        (_with(t1={"kind": "comment"}), "item 't1': kind 'comment' does not exist on x"),
        (_with(t1={"platform": "myspace"}), "item 't1': unknown platform 'myspace'"),
        (_with(t2={**T2, "key": "t1"}), "item 't1': duplicate key 't1'"),
        (_with(t2={**T2, "key": "post"}), "item 'post': duplicate key 'post'"),
        (_with(t1={"text": "hi there"}), "item 't1': a mention must contain @acmecloud"),
        (_with(t1={"queries": ["rival"]}), "item 't1': unknown search query 'rival'"),
        (_with(t1={"kind": "search_hit"}), "item 't1': a search_hit needs the queries"),
        (_with(c1={"queries": ["acme"]}), "item 'c1': only X tweets can match search queries"),
        (_with(t1={"lang": "english"}), "item 't1': lang must be a two-letter"),
        (_with(t1={"label": "angry"}), "item 't1': label must be one of"),
        (_with(t1={"wave": 3}), "item 't1': wave must be 1 or 2"),
        (_with(t1={"wave": 2}), "item 't1': a wave-2 item must be newer than every wave-1 item"),
        (_with(t1={"colour": "red"}), "item 't1': unknown field"),
        (_with(t1={"text": None}), "item 't1': missing text"),
        (_with(t1={"minutes_ago": -5}), "item 't1': minutes_ago must not be negative"),
        (_with(t1={"reply_to": "c1", "kind": "dm"}), "item 't1': reply_to is only for X tweets"),
    ],
)
def test_validation_errors_name_the_item(data: dict, message: str):
    with pytest.raises(ValueError) as excinfo:
        parse_dataset(data)
    assert message in str(excinfo.value)


def test_reply_cannot_answer_a_later_wave():
    data = _with(t1={"wave": 2, "minutes_ago": 1}, t2={**T2, "minutes_ago": 0, "reply_to": "t1"})
    data["items"][1]["minutes_ago"] = 40  # c1 stays in wave 1
    with pytest.raises(ValueError, match="item 't2': answers 't1', which only arrives in wave 2"):
        parse_dataset(data)


def test_customer_errors_are_specific():
    data = copy.deepcopy(BASE)
    data["customers"][0].pop("username")
    with pytest.raises(ValueError, match="customer 'ann': X customers need a username"):
        parse_dataset(data)
    data = copy.deepcopy(BASE)
    data["customers"].append({"key": "ann", "platform": "x", "username": "a2", "name": "A"})
    with pytest.raises(ValueError, match="customer 'ann': duplicate key 'ann'"):
        parse_dataset(data)
    data = copy.deepcopy(BASE)
    data["customers"][0]["followers"] = "lots"
    with pytest.raises(ValueError, match="customer 'ann': followers must be a count"):
        parse_dataset(data)


def test_comment_on_a_visitor_post_is_refused():
    data = _with(v1={"platform": "facebook", "kind": "visitor_post", "author": "bob", "text": "hi",
                     "minutes_ago": 30, "lang": "en"},
                 c2={"platform": "facebook", "kind": "comment", "author": "bob", "text": "hi", "on": "v1",
                     "minutes_ago": 20, "lang": "en"})
    with pytest.raises(ValueError, match="item 'c2': on 'v1' must be a page post or a comment"):
        parse_dataset(data)


def test_declared_queries_agree_with_the_x_emulator_matcher(demo: Dataset):
    """The emulator's search must return exactly the tweets the dataset says each query finds."""
    matchers = {name: compile_query(query) for name, query in demo.search_queries.items()}
    for item in demo.items:
        if item.kind not in ("mention", "search_hit"):
            continue
        author = demo.brand.x_username if item.from_brand else demo.customer(item.author).username
        tweet = Searchable(text=item.text, author_username=author or "", lang=item.lang,
                           is_reply=item.reply_to is not None)
        found = {name for name, matches in matchers.items() if matches(tweet)}
        assert found == set(item.queries), item.key


def test_without_a_mail_server_the_demo_leaves_the_email_cases_out() -> None:
    demo = load_dataset()
    rest = demo.without("email")
    assert {i.platform for i in rest.items} == {"x", "facebook", "instagram"}
    assert all(c.platform != "email" for c in rest.customers)
    assert len(rest.items) == len(demo.items) - sum(i.platform == "email" for i in demo.items)
