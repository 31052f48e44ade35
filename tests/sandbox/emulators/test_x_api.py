"""The X emulator, driven by the real tweepy.Client, checked against X's own OpenAPI spec.

Every request tweepy sends and every answer the emulator gives is validated with openapi-core
against X's spec vendored in tests/specs/x-api-v2.openapi.json (paths, parameters incl. the
`tweet.fields` enums, request bodies, response schemas with their $refs). If the emulator drifts
from X, these fail.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from urllib.parse import urlsplit

import pytest
import requests
import tweepy
from jsonschema import ValidationError
from openapi_core import Config, OpenAPI
from openapi_core.contrib.requests import RequestsOpenAPIRequest, RequestsOpenAPIResponse
from openapi_core.exceptions import OpenAPIError
from openapi_schema_validator import OAS30Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

from connectors.x.transport import mount_base_url
from sandbox.emulators.x_api import XEmulator
from tests.specs import X_API_V2_OPENAPI

TWEET_FIELDS = ["author_id", "conversation_id", "created_at", "in_reply_to_user_id", "lang", "public_metrics",
                "referenced_tweets", "entities", "edit_controls", "possibly_sensitive", "reply_settings"]
USER_FIELDS = ["public_metrics", "verified", "verified_type", "created_at", "description", "protected",
               "profile_image_url", "receives_your_dm"]

pytestmark = [
    pytest.mark.e2e,
    # openapi-core cannot check OAuth2 security schemes and says so; X accepts OAuth 1.0a here.
    pytest.mark.filterwarnings("ignore:Unsupported scheme type:UserWarning"),
]


class Spec:
    """X's OpenAPI document, as openapi-core (requests + responses) and as strict JSON Schema.

    openapi-core coerces a JSON string like "3" where the schema says integer, so response bodies
    are also checked with OAS30Validator against the operation's schema, $refs resolved in place.
    """

    def __init__(self) -> None:
        self.document = json.loads(X_API_V2_OPENAPI.read_text())
        # The emulator listens on loopback; everything else about the spec is X's own.
        self.document["servers"] = [{"url": "http://127.0.0.1:{port}", "variables": {"port": {"default": "80"}}}]
        self.api = OpenAPI.from_dict(self.document, config=Config(
            extra_media_type_deserializers={"application/problem+json": json.loads}))
        self.registry = Registry().with_resource(
            "urn:x-api", Resource.from_contents(self.document, default_specification=DRAFT4))
        templates = sorted(self.document["paths"], key=lambda t: t.count("{"))  # /users/me before /users/{id}
        self.paths = [(re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", t) + "$"), t) for t in templates]

    def body_schema(self, method: str, path: str, status: int, content_type: str) -> dict:
        template = next(t for pattern, t in self.paths if pattern.match(path))
        responses = self.document["paths"][template][method.lower()]["responses"]
        entry = responses.get(str(status)) or responses["default"]
        return {"$ref": "urn:x-api" + entry["content"][content_type]["schema"]["$ref"]}


@pytest.fixture(scope="module")
def spec() -> Spec:
    return Spec()


class Recorder:
    """Every HTTP exchange tweepy made, validated against the spec on demand."""

    def __init__(self, spec: Spec) -> None:
        self.spec = spec
        self.exchanges: list[requests.Response] = []

    def hook(self, response: requests.Response, *args: object, **kwargs: object) -> None:
        self.exchanges.append(response)

    def validate(self, response: requests.Response, *, check_request: bool = True) -> None:
        request = RequestsOpenAPIRequest(response.request)
        if check_request:
            self.spec.api.validate_request(request)
        self.spec.api.validate_response(request, RequestsOpenAPIResponse(response))
        url = urlsplit(response.request.url or "")
        schema = self.spec.body_schema(response.request.method or "GET", url.path, response.status_code,
                                       response.headers["content-type"].split(";")[0])
        OAS30Validator(schema, registry=self.spec.registry).validate(response.json())

    def validate_all(self) -> int:
        for response in self.exchanges:
            self.validate(response)
        return len(self.exchanges)


@pytest.fixture
def x() -> Iterator[XEmulator]:
    with XEmulator(brand_username="acme", brand_name="Acme") as emulator:
        yield emulator  # type: ignore[misc]


@pytest.fixture
def recorder(spec: Spec) -> Recorder:
    return Recorder(spec)


@pytest.fixture
def client(x: XEmulator, recorder: Recorder) -> tweepy.Client:
    client = tweepy.Client(bearer_token="app-token", consumer_key="ck", consumer_secret="cs",
                           access_token=f"{x.brand_id}-at", access_token_secret="ats")
    mount_base_url(client.session, x.base_url)
    client.session.hooks["response"].append(recorder.hook)
    return client


def _mentions(client: tweepy.Client, x: XEmulator, **params: object) -> tweepy.Response:
    return client.get_users_mentions(x.brand_id, expansions=["author_id"], tweet_fields=TWEET_FIELDS,
                                     user_fields=USER_FIELDS, **params)


def test_users_me_is_the_brand(x: XEmulator, client: tweepy.Client, recorder: Recorder) -> None:
    me = client.get_me(user_auth=True, user_fields=USER_FIELDS)
    assert (me.data.id, me.data.username, me.data.name) == (int(x.brand_id), "acme", "Acme")
    assert recorder.validate_all() == 1
    assert x.calls_to(r"^/2/users/me$")[0].headers["authorization"].startswith("OAuth ")


def test_mentions_page_newest_first_until_since_id(x: XEmulator, client: tweepy.Client, recorder: Recorder) -> None:
    bob = x.add_user("bob", "Bob", followers=1234, verified=True)
    ids = [x.add_tweet(bob, f"@acme order {n} is late", lang="en") for n in range(12)]
    x.add_tweet(bob, "nothing to do with the brand")

    seen, token, pages = [], None, 0
    while True:
        page = _mentions(client, x, max_results=5, pagination_token=token)
        pages += 1
        seen += [t.id for t in page.data]
        assert page.meta["newest_id"] == str(page.data[0].id) and page.meta["oldest_id"] == str(page.data[-1].id)
        token = page.meta.get("next_token")
        if token is None:
            break
    assert pages == 3
    assert [str(i) for i in seen] == list(reversed(ids))
    author = page.includes["users"][0]
    assert (author.username, author.public_metrics["followers_count"], author.verified) == ("bob", 1234, True)
    tweet = page.data[0]
    assert tweet.edit_history_tweet_ids == [tweet.id] and tweet.conversation_id == tweet.id
    assert tweet.entities["mentions"][0] == {"start": 0, "end": 5, "username": "acme", "id": x.brand_id}

    newer = _mentions(client, x, since_id=ids[9], max_results=5)
    assert [str(t.id) for t in newer.data] == [ids[11], ids[10]] and "next_token" not in newer.meta
    none = _mentions(client, x, since_id=ids[11], max_results=5)
    assert none.data is None and none.meta == {"result_count": 0}
    assert recorder.validate_all() == 5
    assert x.calls_to("/mentions")[-1].query["since_id"] == ids[11]


def test_a_reply_joins_the_conversation_and_names_who_it_answers(x: XEmulator, client: tweepy.Client,
                                                                 recorder: Recorder) -> None:
    bob = x.add_user("bob", "Bob")
    root = x.add_tweet(bob, "@acme my parcel never came")
    follow_up = x.add_tweet(bob, "hello? anyone?", in_reply_to=root)
    page = _mentions(client, x, max_results=5)
    newest = page.data[0]
    assert str(newest.id) == follow_up and str(newest.conversation_id) == root
    assert newest.text == "@acme hello? anyone?"  # X prefixes the people being replied to
    assert newest.referenced_tweets[0].data == {"type": "replied_to", "id": root}
    assert int(follow_up) > int(root)
    created = datetime.fromisoformat(newest.data["created_at"].replace("Z", "+00:00"))
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", newest.data["created_at"]) and created.tzinfo
    recorder.validate_all()


@pytest.mark.parametrize(("query", "expected"), [
    ("acme", {"plain", "phrase", "retweet", "spanish", "brand"}),
    ('"acme corp"', {"phrase"}),
    ('(acme OR rivalco) -is:retweet', {"plain", "phrase", "spanish", "rival", "brand"}),
    ("acme -from:acme -is:retweet", {"plain", "phrase", "spanish"}),
    ("from:carla", {"spanish", "retweet"}),  # carla retweeted "plain"
    ("acme lang:es", {"spanish"}),
    ("rivalco OR (acme -corp -is:retweet lang:en)", {"plain", "rival", "brand"}),
])
def test_search_recent_matches_queries_honestly(x: XEmulator, client: tweepy.Client, recorder: Recorder,
                                                query: str, expected: set[str]) -> None:
    bob, carla = x.add_user("bob", "Bob"), x.add_user("carla", "Carla")
    names = {
        x.add_tweet(bob, "my acme kettle broke", lang="en"): "plain",
        x.add_tweet(bob, "Acme Corp support is slow", lang="en"): "phrase",
        x.add_tweet(carla, "mi pedido de acme no llega", lang="es"): "spanish",
        x.add_tweet(bob, "rivalco is better", lang="en"): "rival",
        x.add_tweet(x.brand_id, "acme news: new kettles", lang="en"): "brand",
        x.add_tweet(bob, "nothing here", lang="en"): "other",
    }
    names[x.add_tweet(carla, "", retweet_of=next(iter(names)))] = "retweet"
    found = client.search_recent_tweets(query, max_results=100, tweet_fields=TWEET_FIELDS)
    assert {names[str(t.id)] for t in found.data or []} == expected
    assert recorder.validate_all() == 1


def test_search_pages_with_next_token_and_honours_since_id(x: XEmulator, client: tweepy.Client,
                                                           recorder: Recorder) -> None:
    bob = x.add_user("bob", "Bob")
    ids = [x.add_tweet(bob, f"acme thing {n}") for n in range(15)]
    first = client.search_recent_tweets("acme", max_results=10)
    second = client.search_recent_tweets("acme", max_results=10, next_token=first.meta["next_token"])
    assert [str(t.id) for t in first.data + second.data] == list(reversed(ids))
    assert "next_token" not in second.meta
    later = client.search_recent_tweets("acme", max_results=10, since_id=ids[13])
    assert [str(t.id) for t in later.data] == [ids[14]]
    assert recorder.validate_all() == 3


def test_bad_queries_and_parameters_are_x_style_400s(x: XEmulator, client: tweepy.Client, recorder: Recorder) -> None:
    with pytest.raises(tweepy.BadRequest, match="missing"):
        client.search_recent_tweets("(acme OR rival")
    with pytest.raises(tweepy.BadRequest, match="non-negation"):
        client.search_recent_tweets("-acme")
    with pytest.raises(tweepy.BadRequest, match="not between 5 and 100"):
        client.get_users_mentions(x.brand_id, max_results=3)
    for response in recorder.exchanges:
        assert response.status_code == 400
        assert response.headers["content-type"] == "application/problem+json"
        recorder.validate(response, check_request=False)
    recorder.validate(recorder.exchanges[0])  # a malformed query is still a well-formed request
    with pytest.raises(OpenAPIError):  # max_results=3 is outside the spec's range: the check sees that too
        recorder.validate(recorder.exchanges[2])


def test_dm_events_newest_first_with_senders_and_pages(x: XEmulator, client: tweepy.Client,
                                                       recorder: Recorder) -> None:
    bob = x.add_user("bob", "Bob", followers=7)
    ids = [x.add_dm(bob, f"dm {n}") for n in range(3)]
    reply = client.create_direct_message(participant_id=bob, text="we're on it")
    first = client.get_direct_message_events(dm_event_fields=["created_at", "sender_id", "dm_conversation_id"],
                                             expansions=["sender_id"], user_fields=USER_FIELDS, max_results=2,
                                             event_types="MessageCreate")
    assert [str(e.id) for e in first.data] == [reply.data["dm_event_id"], ids[2]]
    assert first.data[1].sender_id == int(bob)
    low, high = sorted((x.brand_id, bob), key=int)
    assert first.data[1].dm_conversation_id == f"{low}-{high}" == reply.data["dm_conversation_id"]
    assert {u.username for u in first.includes["users"]} == {"acme", "bob"}
    rest = client.get_direct_message_events(pagination_token=first.meta["next_token"], max_results=2)
    assert [str(e.id) for e in rest.data] == [ids[1], ids[0]] and "next_token" not in rest.meta
    assert recorder.validate_all() == 3


def test_create_tweet_replies_and_shows_up_in_the_timeline(x: XEmulator, client: tweepy.Client,
                                                           recorder: Recorder) -> None:
    bob = x.add_user("bob", "Bob")
    root = x.add_tweet(bob, "@acme where is my refund")
    created = client.create_tweet(text="Sorry Bob, DM us your order number", in_reply_to_tweet_id=root)
    new_id = created.data["id"]
    assert x.created_tweets == [{"id": new_id, "text": "@bob Sorry Bob, DM us your order number",
                                 "in_reply_to_tweet_id": root}]
    assert x.calls_to("/2/tweets$", "POST")[0].json == {
        "reply": {"in_reply_to_tweet_id": root}, "text": "Sorry Bob, DM us your order number"}
    found = client.search_recent_tweets("from:acme", tweet_fields=TWEET_FIELDS, max_results=10)
    assert [(str(t.id), str(t.conversation_id)) for t in found.data] == [(new_id, root)]
    with pytest.raises(tweepy.Forbidden, match="duplicate content"):
        client.create_tweet(text="Sorry Bob, DM us your order number", in_reply_to_tweet_id=root)
    with pytest.raises(tweepy.Forbidden, match="deleted or not visible"):
        client.create_tweet(text="hello", in_reply_to_tweet_id=str(int(root) + 999))
    assert len(x.created_tweets) == 1
    assert recorder.validate_all() == 4


def test_dm_to_someone_who_refuses_dms_is_a_403(x: XEmulator, client: tweepy.Client, recorder: Recorder) -> None:
    closed = x.add_user("closed", "Closed", accepts_dms=False)
    with pytest.raises(tweepy.Forbidden, match="not permitted to send Direct Messages"):
        client.create_direct_message(participant_id=closed, text="hi")
    assert x.sent_dms == []
    x.set_accepts_dms(closed, True)
    sent = client.create_direct_message(participant_id=closed, text="hi")
    assert x.sent_dms[0]["id"] == sent.data["dm_event_id"]
    assert recorder.validate_all() == 2


def test_requests_without_credentials_get_401_and_app_tokens_cannot_read_dms(
        x: XEmulator, client: tweepy.Client, recorder: Recorder) -> None:
    anonymous = requests.get(f"{x.base_url}/2/users/{x.brand_id}/mentions", timeout=5)
    assert anonymous.status_code == 401 and anonymous.json()["title"] == "Unauthorized"
    recorder.validate(anonymous, check_request=False)  # the request itself lacks the required auth
    with pytest.raises(tweepy.Forbidden, match="Application-Only is forbidden"):
        client.get_direct_message_events(user_auth=False)
    recorder.validate_all()


def test_injected_429_carries_x_rate_limit_headers(x: XEmulator, client: tweepy.Client, recorder: Recorder) -> None:
    reset = x.rate_limit_next(r"/mentions$", times=1, reset_in_seconds=600)
    with pytest.raises(tweepy.TooManyRequests) as caught:
        client.get_users_mentions(x.brand_id)
    assert caught.value.reset_time == reset
    headers = recorder.exchanges[0].headers
    assert (headers["x-rate-limit-limit"], headers["x-rate-limit-remaining"]) == ("450", "0")
    ok = client.get_users_mentions(x.brand_id)
    assert ok.meta == {"result_count": 0}
    assert int(recorder.exchanges[1].headers["x-rate-limit-remaining"]) < 450
    assert recorder.validate_all() == 2


def test_the_spec_check_catches_a_drifting_payload(x: XEmulator, client: tweepy.Client, recorder: Recorder) -> None:
    bob = x.add_user("bob", "Bob")
    x.add_tweet(bob, "@acme hi")
    _mentions(client, x)
    good = recorder.exchanges[0]
    recorder.validate(good)
    for drift in (lambda b: b["data"][0].update(id=int(b["data"][0]["id"])),  # ids are strings on X
                  lambda b: b["includes"]["users"][0].pop("username"),  # required
                  lambda b: b.update(data=[]),  # X leaves `data` out rather than send it empty
                  lambda b: b["meta"].update(result_count="1"),  # only the strict body check sees this
                  lambda b: b["includes"]["users"][0]["public_metrics"].update(followers_count="3")):
        body = json.loads(good.content)
        drift(body)
        bad = requests.Response()
        bad.status_code, bad._content, bad.request = 200, json.dumps(body).encode(), good.request
        bad.headers.update(good.headers)
        with pytest.raises((OpenAPIError, ValidationError)):
            recorder.validate(bad)


def test_ids_are_snowflakes_that_only_grow() -> None:
    emulator = XEmulator(clock=lambda: 1_700_000_000.0)
    bob = emulator.add_user("bob", "Bob")
    first, second = emulator.add_tweet(bob, "a"), emulator.add_tweet(bob, "b")
    backdated = emulator.add_tweet(bob, "c", created_at=datetime(2020, 1, 1, tzinfo=UTC))
    assert (int(first) >> 22) + 1288834974657 == 1_700_000_000_000  # X's epoch, milliseconds
    assert int(first) < int(second) < int(backdated)
    assert emulator.tweets[backdated].created_at.year == 2020


def test_a_dm_takes_only_text_and_attachments_as_x_api_v2_does(x: XEmulator, client: tweepy.Client) -> None:
    # v1.1's quick_reply options are not part of v2's DM create body
    # (https://docs.x.com/x-api/direct-messages/manage/api-reference/post-dm_conversations-with-participant_id-messages).
    mia = x.add_user("mia", "Mia")
    with pytest.raises(tweepy.BadRequest, match="quick_reply"):
        client.request("POST", f"/2/dm_conversations/with/{mia}/messages",
                       json={"text": "Rate us", "quick_reply": {"type": "options", "options": []}}, user_auth=True)
    assert x.sent_dms == []
