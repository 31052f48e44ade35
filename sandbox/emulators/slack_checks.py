"""What the Slack emulator checks in a request, and how it reads blocks back as text.

The checks are the ones real Slack applies that matter to Parley: at most 50 blocks, section text
at most 3000 characters, well-formed message metadata. Failures raise `ApiError(name)`, which the
emulator answers as `{"ok": false, "error": name}` with HTTP 200, as Slack does.
"""

from __future__ import annotations

import json
from typing import Any

MAX_BLOCKS = 50
MAX_SECTION_TEXT = 3000


class ApiError(Exception):
    """Raised inside a handler to answer `{"ok": false, "error": name}`."""

    def __init__(self, error: str) -> None:
        super().__init__(error)
        self.error = error


def truthy(value: Any) -> bool:
    return value is True or str(value).lower() in {"1", "true"}


def json_arg(value: Any, error: str) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            raise ApiError(error) from None
    return value


def _text_of(obj: Any) -> str:
    return obj.get("text", "") if isinstance(obj, dict) else ""


def check_blocks(blocks: Any) -> list[dict]:
    """Parse and validate blocks the way Slack rejects them (invalid_blocks / invalid_blocks_format)."""
    blocks = json_arg(blocks, "invalid_blocks_format")
    if not isinstance(blocks, list) or not all(isinstance(b, dict) and "type" in b for b in blocks):
        raise ApiError("invalid_blocks_format")
    if len(blocks) > MAX_BLOCKS:
        raise ApiError("invalid_blocks")
    block_ids = [b["block_id"] for b in blocks if "block_id" in b]
    if len(block_ids) != len(set(block_ids)) or any(len(str(i)) > 255 for i in block_ids):
        raise ApiError("invalid_blocks")
    if not all(_block_ok(b) for b in blocks):
        raise ApiError("invalid_blocks")
    return blocks


def _block_ok(block: dict) -> bool:
    kind = block["type"]
    if kind == "section":
        fields = block.get("fields", [])
        return (
            ("text" in block or bool(fields))
            and len(_text_of(block.get("text"))) <= MAX_SECTION_TEXT
            and len(fields) <= 10
            and all(len(_text_of(f)) <= 2000 for f in fields)
        )
    if kind == "header":
        return len(_text_of(block.get("text"))) <= 150
    if kind == "context":
        return 0 < len(block.get("elements", [])) <= 10
    if kind == "actions":
        elements = block.get("elements", [])
        return 0 < len(elements) <= 25 and all(
            len(_text_of(e.get("text"))) <= 75 for e in elements if e.get("type") == "button"
        )
    return True


def options_ok(blocks: Any) -> bool:
    """Select menus as Slack takes them: at most 100 options, each option's `text` and `description`
    at most 75 characters and its `value` at most 150
    (https://api.slack.com/reference/block-kit/composition-objects#option)."""
    for block in blocks if isinstance(blocks, list) else []:
        elements = [*block.get("elements", []), block.get("accessory") or {}] if isinstance(block, dict) else []
        for element in elements:
            options = element.get("options") if isinstance(element, dict) else None
            if options is None:
                continue
            if not 0 < len(options) <= 100 or not all(
                    len(_text_of(o.get("text"))) <= 75 and len(_text_of(o.get("description"))) <= 75
                    and 0 < len(str(o.get("value", ""))) <= 150 for o in options):
                return False
    return True


def check_metadata(metadata: Any) -> dict:
    metadata = json_arg(metadata, "invalid_metadata_format")
    if not isinstance(metadata, dict):
        raise ApiError("invalid_metadata_format")
    if not isinstance(metadata.get("event_type"), str) or not isinstance(metadata.get("event_payload"), dict):
        raise ApiError("invalid_metadata_schema")
    return metadata


def block_lines(blocks: list[dict]) -> list[str]:
    """The readable text of sections, headers and contexts (what a person sees on a card)."""
    lines: list[str] = []
    for block in blocks:
        if block.get("type") in {"section", "header"}:
            lines.append(_text_of(block.get("text")))
            lines.extend(_text_of(f) for f in block.get("fields", []))
        elif block.get("type") == "context":
            lines.append("  ".join(_text_of(e) for e in block.get("elements", []) if _text_of(e)))
    return [line for line in lines if line]


