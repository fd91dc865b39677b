"""Block Kit limits, checked on what actually went over the wire (docs/platform-rules.md)."""

from __future__ import annotations

import json
from typing import Any

from slack_sdk.models.blocks import Block

MENTIONS = ("<!channel", "<!here", "<!everyone", "<!subteam")


def assert_valid_block_kit(blocks: list[dict[str, Any]]) -> None:
    """The blocks are what slack_sdk's block models produce, and pass their validation.

    The renderer builds its blocks with those models; parsing what went over the wire back
    into them and calling `to_dict()` (which runs the models' validators: text lengths,
    element counts, button styles) must give the same JSON, so nothing was changed on the
    way and no field is misnamed, misplaced or over a limit.
    """
    parsed = Block.parse_all(blocks)
    assert all(p is not None for p in parsed), [b.get("type") for b in blocks]
    assert [p.to_dict() for p in parsed] == blocks


def assert_within_limits(message: dict[str, Any]) -> None:
    blocks = message.get("blocks") or []
    if isinstance(blocks, str):
        blocks = json.loads(blocks)
    assert_valid_block_kit(blocks)
    assert len(blocks) <= 50, len(blocks)
    for b in blocks:
        assert len(b.get("block_id", "")) <= 255
        if b["type"] == "section":
            if "text" in b:
                assert len(b["text"]["text"]) <= 3000
            assert len(b.get("fields", [])) <= 10
            for f in b.get("fields", []):
                assert len(f["text"]) <= 2000
        elif b["type"] == "header":
            assert len(b["text"]["text"]) <= 150
        elif b["type"] == "actions":
            assert len(b["elements"]) <= 25
            ids = [e["action_id"] for e in b["elements"]]
            assert len(ids) == len(set(ids)), ids
            for e in b["elements"]:
                assert len(e["text"]["text"]) <= 75
                assert len(e["action_id"]) <= 255
                assert len(e.get("value", "")) <= 2000
        elif b["type"] == "context":
            assert len(b["elements"]) <= 10


def assert_no_broadcast(text: str) -> None:
    for m in MENTIONS:
        assert m not in text, f"{m} in {text[:300]}"
