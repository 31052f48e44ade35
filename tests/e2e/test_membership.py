"""On start the real app joins the public channels routing can target and names each missing invite."""

from __future__ import annotations


def test_start_joins_routed_public_channels_and_names_the_missing_invites(stack, make_parley, tmp_path):
    public = stack.slack.add_channel("social-es", id="C0SOCIALES", member=False)
    private = stack.slack.add_channel("vip", id="C0VIPCASES", private=True, member=False)
    config = tmp_path / "parley.yml"
    config.write_text(f"routing:\n  - {{channel: {private.id}, platform: facebook}}\n")
    parley = make_parley(PARLEY_CHANNEL=public.id, PARLEY_CONFIG=str(config))

    parley.start_background()

    assert public.member and not private.member
    assert list(parley.outbox.missing_invites.hints) == [private.id]
    assert "/invite @Parley" in parley.outbox.missing_invites.hints[private.id]
    assert {c.args()["channel"] for c in stack.slack.calls_to(r"conversations\.join$")} == {public.id, private.id}
