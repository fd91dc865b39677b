"""Render a `Reply` as Discord embeds plus rows of buttons, escaped and within the limits.

User-supplied strings arrive as plain spans; every one goes through `escape()` (markdown and
mentions), so a display name like `@everyone`, `<@&123…>` or `**x**` shows as typed and
pings nobody. The client also sets `AllowedMentions.none()`, and embeds never ping: three
locks on one door.

The result is plain data (`Rendered`); discord.py objects that need a running event loop
(views) are made at send time by `view()`.
"""

from __future__ import annotations

import io
import logging
import re
from dataclasses import dataclass, field
from typing import Any

import discord

from adapters.discord.buttons import ButtonSpec, custom_id, fits
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

log = logging.getLogger(__name__)

# Discord's limits (docs/platform-rules.md, "Discord limits").
TITLE_MAX = 256
DESCRIPTION_MAX = 4096
FIELDS_MAX = 25
FIELD_NAME_MAX = 256
FIELD_VALUE_MAX = 1024
EMBEDS_MAX = 10
TOTAL_MAX = 6000
ROWS_MAX = 5
PER_ROW = 5
LABEL_MAX = 80
BAR_WIDTH = 16
TRUNCATED = "… (cut short: too long for one Discord message)"

GREEN = discord.Colour.green()
RED = discord.Colour.red()
GOLD = discord.Colour.gold()
BLURPLE = discord.Colour.blurple()
PURPLE = discord.Colour.purple()
GREY = discord.Colour.dark_grey()

_SNOWFLAKE = re.compile(r"^\d{15,21}$")


def escape(s: str) -> str:
    """User text as inert text: no markdown, no masked links, no mentions.

    `escape_mentions` breaks `@everyone`, `@here` and mentions of real ids; escaping every
    `<` also keeps `<@&123>`, `<#1>`, `<t:0>` or `</cmd:1>` from rendering as a (deleted)
    role, channel, timestamp or command: they show exactly as typed.
    """
    return discord.utils.escape_mentions(discord.utils.escape_markdown(s)).replace("<", "\\<")


def _code(s: str) -> str:
    fence = "``" if "`" in s else "`"
    pad = " " if fence == "``" else ""
    body = s.replace("``", "`\u200b`")
    return f"{fence}{pad}{body}{pad}{fence}"


def _link(label: str, url: str | None) -> str:
    if not url or not url.startswith(("https://", "http://")):
        return escape(label)
    safe = url.replace("(", "%28").replace(")", "%29").replace(" ", "%20")
    return f"[{escape(label)}]({safe})"


def span_md(span: Span) -> str:
    if not span.text and span.style is not Style.USER:
        return ""
    if span.style is Style.BOLD:
        inner = escape(span.text)
        return f"**{inner}**" if inner.strip() else inner
    if span.style is Style.CODE:
        return _code(span.text)
    if span.style is Style.LINK:
        return _link(span.text, span.url)
    if span.style is Style.USER:
        if span.user_id and _SNOWFLAKE.match(span.user_id):
            return f"<@{span.user_id}>"  # a user mention; AllowedMentions.none() keeps it silent
        return escape("@" + span.text)
    return escape(span.text)


def markdown(t: Text) -> str:
    return "".join(span_md(s) for s in t)


def bar(done: int, total: int) -> str:
    filled = 0 if total <= 0 else round(BAR_WIDTH * min(max(done, 0), total) / total)
    return "█" * filled + "░" * (BAR_WIDTH - filled)


def _cut(s: str, limit: int) -> str:
    return s if len(s) <= limit else s[: limit - 1] + "…"


@dataclass
class _Draft:
    title: str = ""
    parts: list[str] = field(default_factory=list)
    fields: list[tuple[str, str, bool]] = field(default_factory=list)
    image: str | None = None

    def empty(self) -> bool:
        return not (self.title or self.parts or self.fields or self.image)


@dataclass
class Rendered:
    """One Discord message: embeds, button rows and attachments (pictures and files)."""

    embeds: list[discord.Embed]
    rows: list[list[ButtonSpec]]
    images: list[Image] = field(default_factory=list)
    content: str | None = None
    attachments: list[Attachment] = field(default_factory=list)

    def custom_ids(self) -> list[str]:
        return [b.custom_id for row in self.rows for b in row]

    def view(self) -> discord.ui.View | None:
        """A view for sending (needs a running loop). It is stopped at once so discord.py
        does not keep it per message: every press, before or after a restart, goes through
        the one `StudyButton` dynamic item."""
        from adapters.discord.buttons import StudyButton

        view = discord.ui.View(timeout=None)
        for r, row in enumerate(self.rows):
            for b in row:
                view.add_item(
                    StudyButton(b.action_id, b.value, label=b.label, style=b.style, row=r)
                )
        view.stop()
        return view

    def files(self) -> list[discord.File]:
        pictures = [
            discord.File(io.BytesIO(img.png), filename=img.filename, description=img.alt[:1024])
            for img in self.images
        ]
        return pictures + [
            discord.File(io.BytesIO(a.data), filename=a.filename, description=a.title[:1024])
            for a in self.attachments
        ]

    def send_kwargs(self) -> dict[str, Any]:
        """For `send`/`send_message`/`followup.send`: no field may be None there."""
        kw: dict[str, Any] = {
            "embeds": self.embeds,
            "allowed_mentions": discord.AllowedMentions.none(),
        }
        if self.content:
            kw["content"] = self.content
        if self.rows:
            kw["view"] = self.view()
        files = self.files()
        if files:
            kw["files"] = files
        return kw

    def edit_kwargs(self) -> dict[str, Any]:
        """For edits: replace everything, so stale buttons and pictures disappear."""
        return {
            "content": self.content,
            "embeds": self.embeds,
            "view": self.view() if self.rows else None,
            "attachments": self.files(),
            "allowed_mentions": discord.AllowedMentions.none(),
        }


def colour_for(title: str, visibility: Visibility) -> discord.Colour:
    if title.startswith("✅"):
        return GREEN
    if title.startswith("❌"):
        return RED
    if title.startswith("Leaderboard"):
        return GOLD
    if visibility is Visibility.DM:
        return PURPLE
    if visibility is Visibility.CHANNEL or title:
        return BLURPLE
    return GREY


def render(reply: Reply, notice: str | None = None) -> Rendered:
    """The reply as one message; `notice` (an adapter's own words) goes in the content."""
    drafts: list[_Draft] = [_Draft()]
    rows: list[list[ButtonSpec]] = []
    images: list[Image] = []
    attachments: list[Attachment] = []
    seen_ids: set[str] = set()
    for block in reply.blocks:
        if isinstance(block, Attachment):  # a file beside the message, named in its text
            attachments.append(block)
            drafts[-1].parts.append(f"-# 📎 {escape(block.title)}: {_code(block.filename)}")
            continue
        _add(block, drafts, rows, images, seen_ids)
    embeds = _pack([d for d in drafts if not d.empty()], reply.visibility)
    if len(rows) > ROWS_MAX:
        log.error("reply has %d button rows; Discord shows %d", len(rows), ROWS_MAX)
        rows = rows[:ROWS_MAX]
    return Rendered(embeds, rows, images, notice, attachments)


def _add(
    block: Block,
    drafts: list[_Draft],
    rows: list[list[ButtonSpec]],
    images: list[Image],
    seen_ids: set[str],
) -> None:
    cur = drafts[-1]
    if isinstance(block, Heading):
        if not cur.empty():
            cur = _Draft()
            drafts.append(cur)
        cur.title = block.text
    elif isinstance(block, Paragraph):
        cur.parts.append(markdown(block.text))
    elif isinstance(block, Context):
        lines = markdown(block.text).split("\n")
        cur.parts.append("\n".join(f"-# {line}" if line.strip() else line for line in lines))
    elif isinstance(block, Fields):
        for f in block.fields:
            value = markdown(f.value) or "–"
            cur.fields.append(
                (
                    _cut(escape(f.label) or "–", FIELD_NAME_MAX),
                    _cut(value, FIELD_VALUE_MAX),
                    len(value) <= 40,
                )
            )
    elif isinstance(block, ProgressBar):
        cur.parts.append(
            f"**{escape(block.label)}**\n`{bar(block.done, block.total)}` "
            f"{block.done}/{block.total}"
        )
    elif isinstance(block, Buttons):
        specs = []
        for b in block.buttons:
            cid = custom_id(b.action_id, b.value)
            if not fits(cid) or cid in seen_ids:
                log.error("button %r dropped: custom_id %r is too long or repeated", b.label, cid)
                continue
            seen_ids.add(cid)
            specs.append(
                ButtonSpec(
                    _cut(b.label.strip() or "·", LABEL_MAX), b.action_id, b.value, _STYLE[b.style]
                )
            )
        rows.extend(specs[i : i + PER_ROW] for i in range(0, len(specs), PER_ROW))
    elif isinstance(block, Image):
        if cur.image is not None:
            cur = _Draft()
            drafts.append(cur)
        images.append(block)
        cur.image = f"attachment://{block.filename}"
        cur.parts.append(f"-# {escape(block.alt)}")
    elif isinstance(block, Divider) and not cur.empty():
        drafts.append(_Draft())


_STYLE = {
    ButtonStyle.DEFAULT: discord.ButtonStyle.secondary,
    ButtonStyle.PRIMARY: discord.ButtonStyle.primary,
    ButtonStyle.DANGER: discord.ButtonStyle.danger,
}


def _split_description(text: str) -> list[str]:
    """Cut a long description at line breaks into pieces of at most 4096 characters."""
    out: list[str] = []
    while len(text) > DESCRIPTION_MAX:
        cut = text.rfind("\n", 0, DESCRIPTION_MAX)
        if cut <= 0:
            cut = DESCRIPTION_MAX
        out.append(text[:cut])
        text = text[cut:].lstrip("\n")
    out.append(text)
    return out


def _pack(drafts: list[_Draft], visibility: Visibility) -> list[discord.Embed]:
    """Drafts to embeds: split what is too long, stop at 10 embeds and 6000 characters."""
    pieces: list[discord.Embed] = []
    for d in drafts:
        title = _cut(d.title, TITLE_MAX)
        colour = colour_for(title, visibility)
        descs = _split_description("\n\n".join(p for p in d.parts if p))
        chunks = [d.fields[i : i + FIELDS_MAX] for i in range(0, len(d.fields), FIELDS_MAX)]
        n = max(len(descs), len(chunks), 1)
        for i in range(n):
            e = discord.Embed(
                title=title if i == 0 and title else None,
                description=descs[i] if i < len(descs) and descs[i] else None,
                colour=colour,
            )
            for name, value, inline in chunks[i] if i < len(chunks) else ():
                e.add_field(name=name, value=value, inline=inline)
            if i == 0 and d.image:
                e.set_image(url=d.image)
            pieces.append(e)
    out: list[discord.Embed] = []
    total = 0
    for e in pieces:
        size = len(e)
        if len(out) == EMBEDS_MAX or total + size > TOTAL_MAX:
            _mark_truncated(out, total)
            break
        out.append(e)
        total += size
    return out


def _mark_truncated(out: list[discord.Embed], total: int) -> None:
    if not out:
        return
    last = out[-1]
    room = TOTAL_MAX - total
    if room >= len(TRUNCATED) + 2:
        last.set_footer(text=TRUNCATED)
    elif last.description:
        keep = max(0, len(last.description) - (len(TRUNCATED) + 2 - room))
        last.description = last.description[:keep]
        last.set_footer(text=TRUNCATED)
