"""manifest.yml must be a valid Slack app manifest and agree with the code."""

import json
from pathlib import Path

import jsonschema
import yaml

from bot import ids
from tests.specs import SLACK_MANIFEST_SCHEMA_V1

ROOT = Path(__file__).resolve().parents[1]


def _manifest() -> dict:
    return yaml.safe_load((ROOT / "manifest.yml").read_text())


def test_manifest_validates_against_slack_schema():
    schema = json.loads(SLACK_MANIFEST_SCHEMA_V1.read_text())
    jsonschema.Draft7Validator.check_schema(schema)
    jsonschema.Draft7Validator(schema).validate(_manifest())


def test_schema_rejects_unknown_keys():
    """Guards the test above: the schema really is strict."""
    schema = json.loads(SLACK_MANIFEST_SCHEMA_V1.read_text())
    bad = _manifest() | {"surprise": True}
    assert list(jsonschema.Draft7Validator(schema).iter_errors(bad))


def test_manifest_matches_the_code():
    manifest = _manifest()
    commands = [c["command"] for c in manifest["features"]["slash_commands"]]
    assert commands == [ids.SLASH_COMMAND]
    assert manifest["settings"]["socket_mode_enabled"] is True
    assert manifest["settings"]["interactivity"]["is_enabled"] is True
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    # posting cards/threads, reading history to find an already-posted outbox message by metadata
    assert {"chat:write", "commands", "channels:history", "metadata.message:read"} <= scopes
