"""The one template engine: saved replies and the X nudge fill placeholders once, the same way."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.placeholders import VARIABLES, customer_values, fill, unknown
from bot.replies.rules import render_nudge


def _all(value: str) -> dict[str, str]:
    return dict.fromkeys(VARIABLES, value)


def test_fill_replaces_known_and_keeps_unknown_placeholders() -> None:
    values = {"first_name": "María", "handle": "maria_gz", "agent": "Sam", "ref": "42"}
    out = fill("Hi {first_name} (@{handle}), {agent} here about #{ref}. {name} {unknown} { {", values)
    assert out == "Hi María (@maria_gz), Sam here about #42. {name} {unknown} { {"


def test_fill_never_expands_a_value_twice() -> None:
    values = customer_values(name="", handle="{agent}", ref=1, agent="Sam")
    assert fill("{handle} {agent}", values) == "{agent} Sam"


def test_a_variable_without_a_value_is_left_as_typed() -> None:
    assert fill("{agent} on #{ref}", {"ref": "7"}) == "{agent} on #7"


def test_only_variables_are_filled_even_when_a_caller_passes_more() -> None:
    assert fill("{name} {first_name}", {"name": "X", "first_name": "Dana"}) == "{name} Dana"


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="{}abfirst_nmehdlgtr ", max_size=200), st.text(max_size=20))
def test_fill_never_raises(text: str, value: str) -> None:
    out = fill(text, _all(value))
    if "{" not in text:
        assert out == text


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="{}abfirst_nmehdlgtr ", max_size=60))
def test_a_value_is_inserted_verbatim(value: str) -> None:
    """Whatever a customer calls themselves, it reaches the text exactly as it is."""
    assert fill("<{handle}>", {"handle": value}) == f"<{value}>"


def test_customer_values_first_name_from_name_then_handle() -> None:
    assert customer_values(name="Dana Scully", handle="dana", ref=12)["first_name"] == "Dana"
    assert customer_values(name="", handle="dana_s", ref=12)["first_name"] == "dana_s"
    assert customer_values(name="   ", handle=None, ref=None) == {"first_name": "", "handle": "", "ref": ""}
    assert "agent" not in customer_values(name="Dana", handle="d", ref=1)
    assert customer_values(name="Dana", handle="d", ref=1, agent="Sam")["agent"] == "Sam"


def test_unknown_lists_non_variables_once_in_order() -> None:
    assert unknown("{name} {first_name} {x} {name} {{y}} {") == ["name", "x", "y"]


# --- the X nudge uses the same engine ------------------------------------------------------------


def test_nudge_does_not_re_expand_a_customer_named_like_a_placeholder() -> None:
    """The old nudge replaced variables one after another, so a customer named `{ref}` got "Hi 12"."""
    values = customer_values(name="{ref}", handle="x", ref=12)
    assert fill("Hi {first_name}, ref {ref}", values) == "Hi {ref}, ref 12"
    assert render_nudge("Hi {first_name} @{handle}", handle="{first_name}", prefix="@", ref=1) == "Hi  @"


def test_nudge_fills_like_a_saved_reply() -> None:
    assert render_nudge("Hi {first_name} (@{handle}) #{ref}", handle="dana", prefix="@", ref=12) == \
        "Hi @dana (@dana) #12"
    assert render_nudge("Hi {first_name}", handle="", prefix="@", ref=None) == "Hi "


HOSTILE_NAMES = ["@acme_ceo is a fraud", "https://evil.example/free-money", "evil.example/free-money",
                 "\uff20acme_ceo", "<!channel>", "#boycott acme", "www.evil.example"]


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_a_public_text_never_uses_the_display_name(name: str) -> None:
    """The brand's public words name the customer by verified handle: a display name set to a
    mention or a link never reaches a public post."""
    values = customer_values(name=name, handle="real_dana", ref=3, public=True, prefix="@")
    assert values["first_name"] == "@real_dana" and values["handle"] == "real_dana"
    nudge = render_nudge("Hi {first_name}, we've sent you a DM 📩", handle="real_dana", prefix="@", ref=3)
    assert nudge == "Hi @real_dana, we've sent you a DM 📩"


def test_a_public_text_without_a_verified_handle_names_nobody() -> None:
    """Facebook has no handles (it stores the display name there): public values stay empty."""
    assert customer_values(name="Dana", handle="Dana Scully", ref=1, public=True, prefix="")["first_name"] == ""
    assert customer_values(name="Dana", handle="@acme is bad", ref=1, public=True, prefix="@")["handle"] == ""


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_a_private_text_drops_links_and_mentions_from_the_display_name(name: str) -> None:
    first = customer_values(name=name, handle="real_dana", ref=3)["first_name"]
    assert "@" not in first and "://" not in first and "evil" not in first and "\uff20" not in first
    assert "<" not in first and "#" not in first


def test_a_private_text_keeps_a_plain_display_name() -> None:
    assert customer_values(name="https://x.example Dana", handle="d", ref=1)["first_name"] == "Dana"
    assert customer_values(name="Ben & Jerry", handle="bj", ref=1)["first_name"] == "Ben"


def test_nudge_leaves_agent_and_non_variables_as_typed() -> None:
    """The nudge is posted by the brand, with no agent; `{name}` is not a variable anywhere."""
    assert render_nudge("{agent} {name} {ref}", handle="dana", prefix="@", ref=None) == "{agent} {name} "
