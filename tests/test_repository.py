"""The repository is self-contained: no project file reads a folder beside the clone.

The specs the tests validate against once lived in a `shared` folder next to the repository, which
only existed in one workspace; a clone anywhere else failed the test command. They are vendored in
tests/specs now, and this keeps it that way.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from tests.specs import SLACK_MANIFEST_SCHEMA_V1, X_API_V2_OPENAPI

ROOT = Path(__file__).resolve().parents[1]
CHECKED_SUFFIXES = {".py", ".sh", ".toml", ".cfg", ".ini", ".yml", ".yaml"}
SKIPPED_DIRS = {".git", ".venv", "venv", "build", "dist", "node_modules", "__pycache__"}
# "../shared" written out, or built as a path: `root.parent / "shared" / "specs"`.
SIBLING_SHARED = re.compile(r"""\.\.[/\\]shared\b|/\s*["']shared["']|["']shared["']\s*/|\bshared/specs\b""")


def _project_files() -> list[Path]:
    """Tracked files when this is a git checkout (what a clone gets), else every file in the tree."""
    try:
        listed = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return [p for p in ROOT.rglob("*") if p.is_file() and not SKIPPED_DIRS & set(p.relative_to(ROOT).parts)]
    return [ROOT / name for name in listed.decode().split("\0") if name]


def test_no_project_file_references_a_shared_folder_beside_the_repository() -> None:
    offenders = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in _project_files()
        if path.suffix in CHECKED_SUFFIXES and path.is_file() and path != Path(__file__).resolve()
        for number, line in enumerate(path.read_text("utf-8", errors="replace").splitlines(), 1)
        if SIBLING_SHARED.search(line)
    ]
    assert offenders == []


def test_the_pattern_catches_both_ways_the_specs_were_once_read() -> None:
    """Guards the test above: it would have failed on the code it replaced."""
    assert SIBLING_SHARED.search('SCHEMA = ROOT.parent / "shared" / "specs" / "slack-manifest.schema.v1.json"')
    assert SIBLING_SHARED.search("against ../shared/specs/x-api-v2.openapi.json")
    assert not SIBLING_SHARED.search('"""A migrated URL: SQLite, or the shared PostgreSQL test database."""')


def test_the_vendored_specs_are_inside_the_repository() -> None:
    for spec in (X_API_V2_OPENAPI, SLACK_MANIFEST_SCHEMA_V1):
        assert spec.is_file() and spec.is_relative_to(ROOT / "tests" / "specs")
