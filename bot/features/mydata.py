"""`/study mydata` and `/study forget`: a member's own data as a file, and its erasure.

What is stored and how it is exported and erased lives in bot/features/personal_data.py;
here are the commands and the confirmation buttons. Both answer only the caller, and work
in any channel of the workspace, in a study group or not.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from bot.context import Ctx
from bot.features.personal_data import (
    Member,
    counts,
    erase,
    export_json,
    export_name,
    find_member,
    led_groups,
    summary,
)
from bot.registry import SLASH, Audience, ButtonValue, button, command
from bot.seam import (
    Attachment,
    Buttons,
    ButtonStyle,
    Context,
    Heading,
    Inline,
    Paragraph,
    Reply,
    code,
    text,
)
from bot.store.records import UserRecord

NOTHING = "studybot stores nothing about you in this workspace."


def _mine(ctx: Ctx) -> Member | None:
    """The caller's stored self, found without creating a user row for a stranger."""
    w = ctx.who
    return find_member(ctx.s, w.platform, w.workspace_id, w.user_id)


@command(
    "mydata",
    summary="A file of everything studybot stores about you here (only you see it)",
    audience=Audience.MEMBER,
    details=(
        "A JSON file: your settings, memberships, answers, review cards, mock exams, "
        f"reports, checklist ticks and the posts addressed to you. `{SLASH} forget` erases it."
    ),
)
def mydata(ctx: Ctx, _args: Mapping[str, str]) -> Reply:
    m = _mine(ctx)
    if m is None:
        return Reply.message(NOTHING)
    data = export_json(ctx.s, m, ctx.now).encode("utf-8")
    return Reply.of(
        Heading("Your data"),
        Paragraph(
            text(
                "The attached JSON file holds everything studybot stores about you in this "
                f"workspace: {summary(counts(ctx.s, m))}. ",
                code(f"{SLASH} forget"),
                " erases all of it.",
            )
        ),
        Attachment(data, export_name(m), "application/json", "Your studybot data"),
        Context(text("Only you can see this.")),
    )


@dataclass(frozen=True)
class Forget(ButtonValue):
    """ "Forget me" and "Cancel" under `/study forget`: the member's user row id."""

    user_id: int
    actions = ("forget", "keep")

    def encode(self) -> str:
        return str(self.user_id)

    @classmethod
    def decode(cls, value: str) -> Forget:
        return cls(int(value) if value.isdigit() else 0)


@command(
    "forget",
    summary="Erase everything studybot stores about you here (asks you to confirm)",
    audience=Audience.MEMBER,
    details=(
        "Shows what will be erased and a Forget me button; nothing is erased until you "
        f"press it. `{SLASH} mydata` first gives you a copy."
    ),
)
def forget(ctx: Ctx, _args: Mapping[str, str]) -> Reply:
    m = _mine(ctx)
    if m is None:
        return Reply.message(NOTHING)
    lines: list[Inline] = [
        "This erases everything studybot stores about you in this workspace, at once and "
        f"for good: {summary(counts(ctx.s, m))}. Leaderboards and counts will no longer "
        "include you. ",
        code(f"{SLASH} mydata"),
        " gives you a copy first.",
    ]
    led = [g.channel for g in led_groups(ctx.s, m)]
    if led:
        lines += [
            f" You will no longer be a lead of {_channels(led)}; where nobody else is named, "
            "channel admins can still change the settings and name leads with ",
            code(f"{SLASH} setup leads=…"),
            ".",
        ]
    v = Forget(m.user.id)
    return Reply.of(
        Heading("Forget me?"),
        Paragraph(text(*lines)),
        Buttons((v.button("Forget me", "forget", ButtonStyle.DANGER), v.button("Cancel", "keep"))),
    )


def _channels(ids: list[str]) -> str:
    return ", ".join(f"#{c}" for c in ids)


def _pressed_by_owner(ctx: Ctx, v: Forget) -> Member | Reply:
    """The member the button belongs to, if the caller is that member; else the answer."""
    m = _mine(ctx)
    if m is not None and m.user.id == v.user_id:
        return m
    if UserRecord.get(ctx.s, v.user_id) is None:
        return Reply.of(Paragraph(text("Already done: that member's data was erased.")))
    return Reply.refusal(
        "Only the member who asked to be forgotten can press this button. To erase your own "
        f"data, use `{SLASH} forget`."
    )


@button(Forget, "forget")
def forget_me(ctx: Ctx, v: Forget) -> Reply:
    m = _pressed_by_owner(ctx, v)
    if isinstance(m, Reply):
        return m
    done = erase(ctx.s, m)
    lines: list[Inline] = [
        f"Done: studybot erased everything it stored about you here: {summary(done.rows)}. ",
        code(f"{SLASH} join"),
        " makes you a new member any time.",
    ]
    if done.leaderless:
        lines += [
            f" {_channels(done.leaderless)} now names no lead: channel admins can name one with ",
            code(f"{SLASH} setup leads=…"),
            ".",
        ]
    return Reply.of(Paragraph(text(*lines)), replace=True)


@button(Forget, "keep")
def keep_me(ctx: Ctx, v: Forget) -> Reply:
    m = _pressed_by_owner(ctx, v)
    if isinstance(m, Reply):
        return m
    return Reply.of(Paragraph(text("Nothing was erased.")), replace=True)
