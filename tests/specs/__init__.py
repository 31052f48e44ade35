"""Public platform specs vendored for the tests (source, version and licence in README.md here).

Tests validate against these copies, never against a file outside the repository, so a clone
anywhere runs the same checks.
"""

from pathlib import Path

HERE = Path(__file__).resolve().parent
X_API_V2_OPENAPI = HERE / "x-api-v2.openapi.json"
SLACK_MANIFEST_SCHEMA_V1 = HERE / "slack-manifest.schema.v1.json"
