"""The scopes `parley check` expects are manifest.yml's, and the emulator grants the same by default."""

from __future__ import annotations

from pathlib import Path

import yaml

from bot.doctor.slack import BOT_SCOPES
from sandbox.emulators.slack_workspace import DEFAULT_SCOPES

MANIFEST = Path(__file__).parents[3] / "manifest.yml"


def test_the_expected_scopes_are_the_manifests() -> None:
    manifest = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))
    assert sorted(BOT_SCOPES) == sorted(manifest["oauth_config"]["scopes"]["bot"])
    assert set(BOT_SCOPES) == DEFAULT_SCOPES
