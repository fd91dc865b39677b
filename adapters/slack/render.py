"""Render a core `Reply` as Block Kit, built with slack_sdk's block models.

The models' `to_dict()` validates every object (text lengths, element counts, styles), and
costs tens of microseconds a block; replies are rendered on every command and click, so the
blocks that repeat (a group's question of the day, its buttons, headings) are built once
and their JSON shared (`block_cache`). The tests also parse every message that goes over the
wire back into the models and run their validation (`tests/slack/limits.py`).

Slack parses `&`, `<` and `>` as control characters in message text: `<!channel>` pings a
channel and `<@U1>` a user. User-supplied text therefore has exactly those three characters
replaced (docs/platform-rules.md, "Slack escaping") before it enters any text object; the
only `<...>` sequences in a rendered message are links and user mentions the core asked for.

Block Kit limits are kept here rather than trusted to the core: long text is split over
several sections, fields and buttons over several blocks, and a message that would exceed
50 blocks is shortened visibly, keeping its buttons.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)
from slack_sdk.models.blocks import Block as SlackModel

from bot.seam import (
    Attachment,
    Block,
    Buttons,
    ButtonStyle,
    Context,
    Divider,
    Fields,
    Heading,
    Image,
    Paragraph,
    ProgressBar,
    Reply,
    Span,
    Style,
    Text,
    Visibility,
)

MAX_BLOCKS = 50
SECTION_TEXT = 3000
FIELD_TEXT = 2000
FIELDS_PER_SECTION = 10
HEADER_TEXT = 150
BUTTON_TEXT = 75
BUTTON_VALUE = 2000
ACTION_ID = 255
BUTTONS_PER_BLOCK = 25
CONTEXT_ELEMENTS = 10
CONTEXT_TEXT = 2000
FALLBACK_TEXT = 300
BAR_WIDTH = 20

SlackBlock = dict[str, Any]

# Slack action ids must be unique within a block, while the core reuses one action id for
# all answer buttons; the adapter adds a prefix and the button's index and strips them on
# the way back. The prefix also lets one listener match every button the core can make.
ACTION_PREFIX = "sb:"
ACTION_PATTERN = re.compile(r"^sb:.+:\d+$")
_SLACK_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")
_SLACK_CHANNEL_ID = re.compile(r"^[CG][A-Z0-9]+$")
_SAFE_SCHEMES = ("https://", "http://", "mailto:")


def escape(s: str) -> str:
    """Replace Slack's three control characters, and nothing else."""
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def encode_action_id(action_id: str, index: int) -> str:
    return f"{ACTION_PREFIX}{action_id}:{index}"


def decode_action_id(slack_action_id: str) -> str:
    """The core's action id from a Slack one; unknown shapes come back unchanged."""
    if not slack_action_id.startswith(ACTION_PREFIX):
        return slack_action_id
    core, _, index = slack_action_id[len(ACTION_PREFIX) :].rpartition(":")
    return core if core and index.isdigit() else slack_action_id


# --------------------------------------------------------------------------- inline text


def _link(span: Span) -> str:
    url = span.url or span.text
    if not url.startswith(_SAFE_SCHEMES):
        return escape(span.text)
    safe_url = escape(url.replace("|", "%7C").replace("<", "%3C").replace(">", "%3E"))
    label = escape(span.text).replace("|", "¦")
    return f"<{safe_url}|{label}>" if label and span.text != url else f"<{safe_url}>"


def _wrap(s: str, mark: str) -> str:
    """Bold/code markers must touch non-space characters: keep surrounding spaces outside."""
    lines = []
    for line in s.split("\n"):
        core = line.strip()
        if not core:
            lines.append(line)
            continue
        lead = line[: len(line) - len(line.lstrip())]
        trail = line[len(line.rstrip()) :]
        lines.append(f"{lead}{mark}{core}{mark}{trail}")
    return "\n".join(lines)


def span_mrkdwn(span: Span) -> str:
    if span.style is Style.BOLD:
        return _wrap(escape(span.text.replace("*", "∗")), "*")
    if span.style is Style.CODE:
        return _wrap(escape(span.text.replace("`", "ˋ")), "`")
    if span.style is Style.LINK:
        return _link(span)
    if span.style is Style.USER:
        if span.user_id and _SLACK_USER_ID.match(span.user_id):
            return f"<@{span.user_id}>"
        return escape(f"@{span.text}")
    if span.style is Style.CHANNEL and span.channel_id and _SLACK_CHANNEL_ID.match(span.channel_id):
        return f"<#{span.channel_id}>"  # Slack shows the channel's name
    return escape(span.text)


def mrkdwn(t: Text) -> str:
    """A core `Text` as Slack mrkdwn: user text escaped, styles as markers."""
    return "".join(span_mrkdwn(s) for s in t)


def _safe_cut(s: str, limit: int) -> int:
    """A cut position <= limit that does not split an entity (`&amp;`) or a `<link>`."""
    cut = limit
    amp = s.rfind("&", max(0, cut - 6), cut)
    if amp != -1 and ";" not in s[amp:cut]:
        cut = amp
    lt = s.rfind("<", 0, cut)
    if lt != -1 and s.rfind(">", lt, cut) == -1 and cut - lt < 600:
        cut = lt
    return max(cut, 1)


def truncate(s: str, limit: int) -> str:
    """Shorten rendered text to `limit` characters with an ellipsis, without breaking markup."""
    if len(s) <= limit:
        return s
    return s[: _safe_cut(s, limit - 1)] + "…"


def chunks(s: str, limit: int) -> list[str]:
    """Split rendered text at line breaks into pieces of at most `limit` characters."""
    out: list[str] = []
    current = ""
    for line in s.split("\n"):
        while len(line) > limit:
            if current:
                out.append(current)
                current = ""
            cut = _safe_cut(line, limit)
            out.append(line[:cut])
            line = line[cut:]
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) <= limit:
            current = candidate
        else:
            out.append(current)
            current = line
    if current or not out:
        out.append(current)
    return [c if c.strip() else " " for c in out]


# --------------------------------------------------------------------------- blocks


@dataclass
class Rendered:
    """Blocks as JSON-ready dicts, notification text, and pictures and files to upload
    separately.

    The dicts of repeated blocks are shared between messages (see `block_cache`): read them,
    send them, never change them in place."""

    blocks: list[dict[str, Any]]
    text: str
    images: list[Image] = field(default_factory=list)
    files: list[Attachment] = field(default_factory=list)

    @property
    def uploads(self) -> list[Image | Attachment]:
        return [*self.images, *self.files]


def bar(done: int, total: int) -> str:
    filled = 0 if total <= 0 else round(BAR_WIDTH * min(max(done, 0), total) / total)
    return "█" * filled + "░" * (BAR_WIDTH - filled)


def _section(s: str) -> SectionBlock:
    return SectionBlock(text=MarkdownTextObject(text=s))


def _context(parts: list[str]) -> ContextBlock:
    return ContextBlock(elements=[MarkdownTextObject(text=p) for p in parts])


_STYLES = {ButtonStyle.PRIMARY: "primary", ButtonStyle.DANGER: "danger"}


def _button(label: str, action_id: str, value: str, style: ButtonStyle) -> ButtonElement:
    return ButtonElement(
        text=PlainTextObject(text=truncate(escape(label), BUTTON_TEXT) or "…"),
        action_id=action_id,
        value=value or None,
        style=_STYLES.get(style),
    )


def _models(
    block: Block, first_button: int, visibility: Visibility = Visibility.EPHEMERAL
) -> list[SlackModel]:
    """slack_sdk's block models for one core block; buttons are numbered from
    `first_button` (action ids must be unique within a message)."""
    if isinstance(block, Paragraph):
        return [_section(c) for c in chunks(mrkdwn(block.text), SECTION_TEXT)]
    if isinstance(block, Heading):
        if not block.text.strip():
            return []  # Slack rejects a header without text, and it would show nothing
        return [HeaderBlock(text=PlainTextObject(text=truncate(escape(block.text), HEADER_TEXT)))]
    if isinstance(block, Context):
        parts = chunks(mrkdwn(block.text), CONTEXT_TEXT)
        return [
            _context(parts[i : i + CONTEXT_ELEMENTS])
            for i in range(0, len(parts), CONTEXT_ELEMENTS)
        ]
    if isinstance(block, Buttons):
        elements = []
        for index, b in enumerate(block.buttons, start=first_button):
            if len(b.value) > BUTTON_VALUE:
                raise ValueError(f"button value longer than {BUTTON_VALUE}: {b.label!r}")
            action_id = encode_action_id(b.action_id, index)
            if len(action_id) > ACTION_ID:
                raise ValueError(f"action id longer than {ACTION_ID}: {b.action_id!r}")
            elements.append(_button(b.label, action_id, b.value, b.style))
        return [
            ActionsBlock(elements=elements[i : i + BUTTONS_PER_BLOCK])
            for i in range(0, len(elements), BUTTONS_PER_BLOCK)
        ]
    if isinstance(block, Fields):
        texts = [
            truncate(f"*{escape(f.label)}*\n{mrkdwn(f.value)}", FIELD_TEXT) for f in block.fields
        ]
        return [
            SectionBlock(
                fields=[MarkdownTextObject(text=t) for t in texts[i : i + FIELDS_PER_SECTION]]
            )
            for i in range(0, len(texts), FIELDS_PER_SECTION)
        ]
    if isinstance(block, ProgressBar):
        pct = f"{block.fraction:.0%}"
        line = (
            f"*{escape(block.label)}*\n`{bar(block.done, block.total)}` "
            f"{block.done}/{block.total} ({pct})"
        )
        return [_section(truncate(line, SECTION_TEXT))]
    if isinstance(block, Image):
        return [_context([truncate(f"📈 {escape(block.alt)} (picture attached)", CONTEXT_TEXT)])]
    if isinstance(block, Attachment):
        # Only a channel post carries its files beside it: a private reply's go to the
        # member's DMs (an ephemeral message cannot carry a file).
        where = "attached" if visibility is Visibility.CHANNEL else "in your DMs with the app"
        note = f"📎 {escape(block.title)}: `{escape(block.filename)}` ({where})"
        return [_context([truncate(note, CONTEXT_TEXT)])]
    assert isinstance(block, Divider)
    return [DividerBlock()]


def _dicts(block: Block, first_button: int) -> tuple[SlackBlock, ...]:
    """The JSON of one core block: slack_sdk's models, validated by their `to_dict()`."""
    return tuple(m.to_dict() for m in _models(block, first_button))


# Headings, questions, answer buttons and footers repeat: every member of a group sees the
# same question of the day, so its blocks are built and validated once, not per member
# (the models' `to_dict()` costs tens of microseconds a block).
block_cache = functools.lru_cache(maxsize=2048)(_dicts)
_REPEATING = (Heading, Paragraph, Buttons, Context, Divider)


def _fit(blocks: list[SlackBlock]) -> list[SlackBlock]:
    """At most 50 blocks: keep the buttons and as much of the text as fits, in order."""
    if len(blocks) <= MAX_BLOCKS:
        return blocks
    # by position: a repeated block (a divider, say) is the same shared dict each time
    actions = [i for i, b in enumerate(blocks) if b["type"] == "actions"][: MAX_BLOCKS // 2]
    room = MAX_BLOCKS - len(actions) - 1
    kept_text = [i for i, b in enumerate(blocks) if b["type"] != "actions"][:room]
    out = [blocks[i] for i in sorted((*kept_text, *actions))]
    note = _context(["(This message was shortened to fit Slack's limits.)"]).to_dict()
    cut_at = next((i for i, b in enumerate(out) if b["type"] == "actions"), len(out))
    out.insert(cut_at, note)
    return out


def fallback_text(reply: Reply) -> str:
    """The notification text: the first heading or paragraph, escaped."""
    for b in reply.blocks:
        if isinstance(b, Heading) and b.text.strip():
            return truncate(escape(b.text), FALLBACK_TEXT)
        if isinstance(b, Paragraph | Context):
            s = "".join(s.text for s in b.text).strip()
            if s:
                return truncate(escape(s), FALLBACK_TEXT)
    return "studybot"


def render(reply: Reply) -> Rendered:
    """Block Kit for a reply, built with slack_sdk's block models."""
    images: list[Image] = []
    files: list[Attachment] = []
    buttons = 0
    blocks: list[SlackBlock] = []
    for b in reply.blocks:
        if isinstance(b, Attachment):
            blocks.extend(m.to_dict() for m in _models(b, buttons, reply.visibility))
            files.append(b)
            continue
        blocks.extend((block_cache if isinstance(b, _REPEATING) else _dicts)(b, buttons))
        if isinstance(b, Buttons):
            buttons += len(b.buttons)
        elif isinstance(b, Image):
            images.append(b)
    return Rendered(_fit(blocks), fallback_text(reply), images, files)
