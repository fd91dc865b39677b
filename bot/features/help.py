"""`/study help`: the command list, or one command's help, from the registry."""

from __future__ import annotations

import difflib
from collections.abc import Mapping

from bot.context import Ctx
from bot.errors import UserError
from bot.registry import COMMANDS, SLASH, Audience, Kind, Param, command
from bot.seam import Block, Context, Field, Fields, Heading, Paragraph, Reply, Span, code, text
from bot.tracks import example_ids, track_ids


@command(
    "help",
    summary="List the commands, or show one command's help",
    audience=Audience.ANYONE,
    params=(Param("command", Kind.WORD, "a command name, e.g. quiz"),),
    examples=("/study help", "/study help setup"),
)
def help_(ctx: Ctx, args: Mapping[str, str]) -> Reply:
    name = (args.get("command") or "").lower().lstrip("/")
    if name:
        cmd = COMMANDS.get(name)
        if cmd is None:
            guess = difflib.get_close_matches(name, list(COMMANDS), n=1, cutoff=0.3)
            hint = f" Did you mean `{guess[0]}`?" if guess else ""
            raise UserError(f"No command {name!r}.{hint} `{SLASH} help` lists them all.")
        blocks: list[Block] = [
            Heading(f"{SLASH} {cmd.name}"),
            Paragraph(text(cmd.summary)),
            Paragraph(text("Usage: ", code(cmd.usage(track_ids(ctx.content))))),
        ]
        if cmd.params:
            blocks.append(Fields(tuple(Field(p.name, text(p.help)) for p in cmd.params)))
        if cmd.details:
            blocks.append(Paragraph(text(cmd.details)))
        if cmd.examples:
            g = ctx.group
            examples = cmd.examples_for(example_ids(ctx.content, g.track if g else None))
            blocks.append(Context(text("Examples: ", *_joined([code(e) for e in examples]))))
        blocks.append(Context(text(f"Who: {cmd.audience.value}")))
        return Reply.of(*blocks)
    lines: list[Span] = []
    for i, c in enumerate(COMMANDS.values()):
        if i:
            lines.append(Span("\n"))
        lines += [code(c.usage(track_ids(ctx.content))), Span(f" — {c.summary}")]
    return Reply.of(
        Heading("Study bot commands"),
        Paragraph(tuple(lines)),
        Context(text(f"{SLASH} help <command> shows one command in detail.")),
    )


def _joined(spans: list[Span], sep: str = " · ") -> list[Span]:
    out: list[Span] = []
    for i, sp in enumerate(spans):
        if i:
            out.append(Span(sep))
        out.append(sp)
    return out
