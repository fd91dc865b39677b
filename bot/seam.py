"""The seam between the core and the adapters (docs/architecture.md, "The seam").

Everything a platform sends in becomes an `Invocation` or an `Action`; everything the core
says back is a `Reply`. Nothing here knows a platform or a markup dialect: user-supplied
strings travel as data inside `Span`s and each renderer escapes them for its platform.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol, runtime_checkable

from bot.forms import Form

# --------------------------------------------------------------------------- inbound


@dataclass(frozen=True)
class Who:
    """The caller, as the platform reports them."""

    platform: str  # "slack" | "discord" | "console"
    workspace_id: str  # Slack team id, Discord guild id, or "console"
    channel_id: str
    user_id: str
    display_name: str
    is_admin: bool = False  # the platform says this user may administer the channel
    # False when the adapter has only a stand-in for the display name (Slack's username
    # before `users.info` answered): it names a new user but never renames a known one.
    name_known: bool = True


@dataclass(frozen=True)
class Upload:
    """A file the caller sent with a command (`/study import`): Discord's attachment
    option, a Slack modal's file input, a path in the terminal."""

    filename: str
    data: bytes


@dataclass(frozen=True)
class Invocation:
    """A command: who called it and what they asked, already parsed.

    A form's submission is an invocation too: its fields' values are `args`, in the
    text form's grammar, so one handler and one set of rules serve both."""

    who: Who
    command: str
    args: Mapping[str, str] = field(default_factory=dict)
    files: tuple[Upload, ...] = ()


@dataclass(frozen=True)
class Action:
    """A button press; `action_id` and `value` are what the core put on the button."""

    who: Who
    action_id: str
    value: str


# --------------------------------------------------------------------------- replies


class Style(StrEnum):
    PLAIN = "plain"
    BOLD = "bold"
    CODE = "code"
    LINK = "link"
    USER = "user"  # a mention of one user the core chose to mention; never a group mention
    CHANNEL = "channel"  # a channel by its id (a group's): shown with its name where possible


@dataclass(frozen=True)
class Span:
    text: str
    style: Style = Style.PLAIN
    url: str | None = None  # for LINK
    user_id: str | None = None  # for USER
    channel_id: str | None = None  # for CHANNEL


Text = tuple[Span, ...]
Inline = str | Span


def text(*parts: Inline) -> Text:
    """Build a `Text` from plain strings and styled spans."""
    return tuple(p if isinstance(p, Span) else Span(p) for p in parts)


def bold(s: str) -> Span:
    return Span(s, Style.BOLD)


def code(s: str) -> Span:
    return Span(s, Style.CODE)


def link(label: str, url: str) -> Span:
    return Span(label, Style.LINK, url=url)


def mention(user_id: str, fallback: str) -> Span:
    return Span(fallback, Style.USER, user_id=user_id)


def channel(channel_id: str) -> Span:
    """A channel by id; a platform that cannot name it shows `#<id>`."""
    return Span(f"#{channel_id}", Style.CHANNEL, channel_id=channel_id)


def plain(t: Text) -> str:
    """The text without styles, for alt text, logs and length checks."""
    return "".join(s.text for s in t)


@dataclass(frozen=True)
class Heading:
    text: str


@dataclass(frozen=True)
class Paragraph:
    text: Text


@dataclass(frozen=True)
class Field:
    label: str
    value: Text


@dataclass(frozen=True)
class Fields:
    fields: tuple[Field, ...]


@dataclass(frozen=True)
class ProgressBar:
    label: str
    done: int
    total: int

    @property
    def fraction(self) -> float:
        return 0.0 if self.total <= 0 else min(1.0, self.done / self.total)


class ButtonStyle(StrEnum):
    DEFAULT = "default"
    PRIMARY = "primary"
    DANGER = "danger"


@dataclass(frozen=True)
class Button:
    label: str
    action_id: str
    value: str
    style: ButtonStyle = ButtonStyle.DEFAULT


@dataclass(frozen=True)
class Buttons:
    buttons: tuple[Button, ...]


@dataclass(frozen=True)
class Image:
    png: bytes
    alt: str
    filename: str = "chart.png"


@dataclass(frozen=True)
class Attachment:
    """A file the reply carries (a member's data export); each platform delivers it as a
    file: Slack uploads it, Discord attaches it, the terminal saves it and prints where."""

    data: bytes
    filename: str
    mime: str
    title: str


@dataclass(frozen=True)
class Context:
    text: Text


@dataclass(frozen=True)
class Divider:
    pass


Block = (
    Heading | Paragraph | Fields | ProgressBar | Buttons | Image | Attachment | Context | Divider
)


class Visibility(StrEnum):
    CHANNEL = "channel"
    EPHEMERAL = "ephemeral"  # only the caller sees it
    DM = "dm"  # the caller's direct messages


@dataclass(frozen=True)
class Reply:
    """A platform-neutral message.

    `replace` asks the adapter to replace the message the pressed button sat on (toggling
    a multi-answer choice, paging a leaderboard) instead of sending a new one. `refused`
    marks the answer to something the core would not do (a third pick on a two-answer
    question, someone else's button): it never replaces the screen, whose buttons stay
    usable.
    """

    blocks: tuple[Block, ...]
    visibility: Visibility = Visibility.EPHEMERAL
    replace: bool = False
    refused: bool = False
    # A form the platform opens instead of showing `blocks` where it can (`setup` alone
    # from a lead); `blocks` remain the answer where it cannot.
    form: Form | None = None
    # A refused form submission's problems by field name ("" for the form as a whole),
    # shown beside the fields (Slack's response_action errors).
    field_errors: tuple[tuple[str, str], ...] = ()
    # The name of the discussion thread this post is the root of, or is posted in (the
    # daily question's): a platform that opens threads itself (Discord) names it so.
    thread_name: str | None = None

    @staticmethod
    def of(
        *blocks: Block, visibility: Visibility = Visibility.EPHEMERAL, replace: bool = False
    ) -> Reply:
        return Reply(tuple(blocks), visibility, replace)

    @staticmethod
    def message(*parts: Inline, visibility: Visibility = Visibility.EPHEMERAL) -> Reply:
        return Reply((Paragraph(text(*parts)),), visibility)

    @staticmethod
    def refusal(message: str) -> Reply:
        return Reply((Paragraph(text(message)),), Visibility.EPHEMERAL, refused=True)

    def buttons(self) -> list[Button]:
        return [b for blk in self.blocks if isinstance(blk, Buttons) for b in blk.buttons]

    def plain_text(self) -> str:
        """Every word of the reply as plain text: the console's pipe mode and tests read it."""
        return "\n".join(_block_plain(b) for b in self.blocks)


def _block_plain(b: Block) -> str:
    if isinstance(b, Heading):
        return b.text
    if isinstance(b, Paragraph | Context):
        return plain(b.text)
    if isinstance(b, Fields):
        return "\n".join(f"{f.label}: {plain(f.value)}" for f in b.fields)
    if isinstance(b, ProgressBar):
        return f"{b.label}: {b.done}/{b.total}"
    if isinstance(b, Buttons):
        return " ".join(f"[{x.label}]" for x in b.buttons)
    if isinstance(b, Image):
        return f"(image: {b.alt})"
    if isinstance(b, Attachment):
        return f"(file: {b.filename}, {b.title})"
    return "---"


# --------------------------------------------------------------------------- outbound


@dataclass(frozen=True)
class ChannelTarget:
    """A channel; with `thread`, a reply in the thread of that post of the channel (the
    day's reveal under its question), `broadcast` also showing it in the channel where the
    platform can (Slack's reply_broadcast). A messenger without threads posts in the
    channel; one whose platform refuses the thread raises `ThreadRefused`."""

    workspace_id: str
    channel_id: str
    thread: MessageRef | None = None
    broadcast: bool = False


@dataclass(frozen=True)
class UserTarget:
    workspace_id: str
    user_id: str


@dataclass(frozen=True)
class MessageRef:
    """Where a posted message lives, so it can be updated (Slack ts, Discord message id)."""

    workspace_id: str
    channel_id: str
    message_id: str


class DeliveryError(Exception):
    """Base of the errors a `Messenger` raises for the delivery worker."""


class RateLimited(DeliveryError):
    def __init__(self, retry_after: float) -> None:
        super().__init__(f"rate limited; retry after {retry_after:.1f}s")
        self.retry_after = retry_after


class TargetGone(DeliveryError):
    """Channel deleted, bot removed, DMs closed: do not retry."""


class Transient(DeliveryError):
    """5xx, timeouts: retry with backoff."""


class ThreadRefused(DeliveryError):
    """The platform will not take the post in the thread (the bot may not open or post in
    threads there, the channel has none, the root post is gone): nothing was posted, and
    the worker posts it in the channel instead."""


@runtime_checkable
class Messenger(Protocol):
    """What the clock needs of a platform; each adapter implements one."""

    def post(self, target: ChannelTarget, reply: Reply) -> MessageRef: ...

    def update(self, ref: MessageRef, reply: Reply) -> None: ...

    def dm(self, user: UserTarget, reply: Reply) -> MessageRef: ...


@runtime_checkable
class KeyedMessenger(Protocol):
    """Optional: a messenger that can tag a post with an idempotency key and find it again.

    The delivery worker uses it when a post's outcome is unknown (a worker died between
    calling the platform and recording the result), so a retry never posts twice.
    """

    def post_keyed(self, target: ChannelTarget, reply: Reply, key: str) -> MessageRef: ...

    def find_posted(self, target: ChannelTarget, key: str) -> MessageRef | None: ...


@runtime_checkable
class LinkingMessenger(Protocol):
    """Optional: a messenger that can link to a message it posted, so a DM can point at
    the channel post it is about (a member's reminder at the day's question). None when
    it cannot; a link is never worth failing the DM for."""

    def link(self, ref: MessageRef) -> str | None: ...
