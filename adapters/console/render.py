"""Render a `Reply` for the terminal with Rich; buttons become numbers.

User text goes into `rich.text.Text` objects as data, never into markup strings, so a
display name such as "[bold]x[/]" prints as typed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rich.console import Console, Group, RenderableType
from rich.panel import Panel
from rich.rule import Rule
from rich.table import Table
from rich.text import Text

from adapters.console import keys
from bot.seam import (
    Attachment,
    Block,
    Button,
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
    Style,
    Visibility,
)
from bot.seam import Text as ReplyText

BAR_WIDTH = 20


@dataclass
class Rendered:
    renderable: RenderableType
    buttons: list[Button]


def rich_text(t: ReplyText, base: str = "") -> Text:
    out = Text(style=base)
    for span in t:
        if span.style is Style.BOLD:
            out.append(span.text, style="bold")
        elif span.style is Style.CODE:
            out.append(span.text, style="cyan")
        elif span.style is Style.LINK:
            out.append(span.text, style="underline")
            if span.url and span.url != span.text:
                out.append(f" <{span.url}>", style="dim")
        elif span.style is Style.USER:
            out.append(f"@{span.text}", style="bold magenta")
        else:
            out.append(span.text)
    return out


def bar(done: int, total: int) -> str:
    filled = 0 if total <= 0 else round(BAR_WIDTH * min(done, total) / total)
    return "█" * filled + "░" * (BAR_WIDTH - filled)


def render(
    reply: Reply, image_dir: Path, channel: str = "study-group", file_dir: Path | None = None
) -> Rendered:
    """Pictures are saved in `image_dir`, files (a data export) in `file_dir` (default the
    same), and their paths printed."""
    parts: list[RenderableType] = []
    buttons: list[Button] = []
    labels = [k for k, _ in keys.keyed(reply.buttons())]
    for block in reply.blocks:
        if isinstance(block, Attachment):
            parts.append(_save(block, file_dir or image_dir))
            continue
        parts.append(_block(block, buttons, labels, image_dir))
    title = {
        Visibility.CHANNEL: f"#{channel}",
        Visibility.EPHEMERAL: "only you can see this",
        Visibility.DM: "direct message from studybot",
    }[reply.visibility]
    style = {"#": "blue", "o": "grey50", "d": "magenta"}[title[0]]
    return Rendered(
        Panel(Group(*parts), title=title, title_align="left", border_style=style), buttons
    )


def _block(
    block: Block, buttons: list[Button], labels: list[str], image_dir: Path
) -> RenderableType:
    if isinstance(block, Heading):
        return Text(block.text, style="bold")
    if isinstance(block, Paragraph):
        return rich_text(block.text)
    if isinstance(block, Context):
        return rich_text(block.text, base="dim")
    if isinstance(block, Fields):
        table = Table.grid(padding=(0, 2))
        table.add_column(style="bold")
        table.add_column()
        for f in block.fields:
            table.add_row(Text(f.label), rich_text(f.value))
        return table
    if isinstance(block, ProgressBar):
        return Text(f"{block.label:<22} {bar(block.done, block.total)} {block.done}/{block.total}")
    if isinstance(block, Buttons):
        line = Text()
        for b in block.buttons:
            buttons.append(b)
            style = (
                "bold green"
                if b.style is ButtonStyle.PRIMARY
                else ("bold red" if b.style is ButtonStyle.DANGER else "bold")
            )
            line.append(f"[{labels[len(buttons) - 1]}] ", style="yellow")
            line.append(b.label, style=style)
            line.append("   ")
        return line
    if isinstance(block, Image):
        image_dir.mkdir(parents=True, exist_ok=True)
        path = image_dir / block.filename
        path.write_bytes(block.png)
        return Text(f"{block.alt} (picture saved to {path})", style="dim")
    assert isinstance(block, Divider)
    return Rule(style="grey50")


def _save(file: Attachment, folder: Path) -> Text:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / Path(file.filename).name  # a name, never a path the reply chose
    path.write_bytes(file.data)
    return Text(f"📎 {file.title}: saved to {path}", style="dim")


def print_reply(
    console: Console, reply: Reply, image_dir: Path, file_dir: Path | None = None
) -> list[Button]:
    r = render(reply, image_dir, file_dir=file_dir)
    console.print(r.renderable)
    return r.buttons
