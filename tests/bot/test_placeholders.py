"""The one template engine: saved replies and the X nudge fill placeholders once, the same way."""

from __future__ import annotations

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
    assert render_nudge("Hi {first_name}, ref {ref}", handle="x", name="{ref}", ref=12) == "Hi {ref}, ref 12"
    assert render_nudge("Hi {first_name} @{handle}", handle="{first_name}", name="", ref=1) == \
        "Hi {first_name} @{first_name}"


def test_nudge_fills_like_a_saved_reply() -> None:
    assert render_nudge("Hi {first_name} (@{handle}) #{ref}", handle="dana", name="Dana S", ref=12) == \
        "Hi Dana (@dana) #12"
    assert render_nudge("Hi {first_name}", handle="", name="", ref=None) == "Hi "


def test_nudge_leaves_agent_and_non_variables_as_typed() -> None:
    """The nudge is posted by the brand, with no agent; `{name}` is not a variable anywhere."""
    assert render_nudge("{agent} {name} {ref}", handle="dana", name="Dana", ref=None) == "{agent} {name} "
