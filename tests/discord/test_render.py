"""The renderer: escaping, styles, colours and Discord's limits."""

from __future__ import annotations

import pytest

from adapters.discord.render import (
    DESCRIPTION_MAX,
    EMBEDS_MAX,
    GREEN,
    RED,
    TOTAL_MAX,
    TRUNCATED,
    escape,
    markdown,
    render,
)
from bot.seam import (
    Button,
    Buttons,
    ButtonStyle,
    Context,
    Divider,
    Field,
    Fields,
    Heading,
    Image,
    Paragraph,
    ProgressBar,
    Reply,
    Span,
    Style,
    Visibility,
    bold,
    code,
    link,
    mention,
    text,
)


def total(embeds) -> int:  # type: ignore[no-untyped-def]
    return sum(len(e) for e in embeds)


def test_escape_neutralises_mentions_and_markdown() -> None:
    assert escape("@everyone") == "@\u200beveryone"
    assert escape("@here") == "@\u200bhere"
    assert escape("<@&123456789012345678>") == "\\<@\u200b&123456789012345678>"
    assert escape("<@&123> <#1> <t:0:R>") == "\\<@&123> \\<#1> \\<t:0:R>"
    assert escape("**x**") == "\\*\\*x\\*\\*"
    assert escape("[a](https://b.c)").startswith("\\[")


def test_styles() -> None:
    t = text(
        "a ",
        bold("b"),
        " ",
        code("c`d"),
        " ",
        link("docs", "https://x.y/(z)"),
        " ",
        mention("123456789012345678", "Ann"),
        " ",
        mention("U1", "@everyone"),
    )
    md = markdown(t)
    assert "**b**" in md
    assert "`` c`d ``" in md
    assert "[docs](https://x.y/%28z%29)" in md
    assert "<@123456789012345678>" in md
    assert "@\u200beveryone" in md and "@@" not in md.replace("@\u200b", "")
    assert markdown((Span("j", Style.LINK, url="javascript:alert(1)"),)) == "j"


def test_blocks_become_embeds() -> None:
    reply = Reply.of(
        Heading("✅ Correct: A"),
        Paragraph(text("one")),
        Context(text("small")),
        Fields((Field("Points", text("15")), Field("Long", text("x" * 60)))),
        ProgressBar("Checklist", 3, 10),
        Divider(),
        Heading("❌ Not quite"),
        Paragraph(text("two")),
    )
    r = render(reply)
    assert [e.title for e in r.embeds] == ["✅ Correct: A", "❌ Not quite"]
    assert r.embeds[0].colour == GREEN and r.embeds[1].colour == RED
    d = r.embeds[0].description or ""
    assert "one" in d and "-# small" in d and "3/10" in d and "█" in d
    assert [(f.name, f.inline) for f in r.embeds[0].fields] == [("Points", True), ("Long", False)]


def test_long_description_is_split_and_total_capped() -> None:
    lines = [text(f"line {i} " + "y" * 90) for i in range(200)]
    reply = Reply.of(Heading("Long"), *(Paragraph(t) for t in lines))
    r = render(reply)
    assert all(len(e.description or "") <= DESCRIPTION_MAX for e in r.embeds)
    assert len(r.embeds) <= EMBEDS_MAX
    assert total(r.embeds) <= TOTAL_MAX
    assert r.embeds[-1].footer.text == TRUNCATED


def test_more_than_25_fields_continue_in_another_embed() -> None:
    fields = tuple(Field(f"f{i}", text(str(i))) for i in range(30))
    r = render(Reply.of(Heading("Many"), Fields(fields)))
    assert [len(e.fields) for e in r.embeds] == [25, 5]


def test_buttons_rows_labels_and_ids() -> None:
    many = tuple(Button(f"B{i}" + "x" * 100, "answer", f"d:1:{i}") for i in range(30))
    r = render(Reply.of(Buttons(many)))
    assert len(r.rows) == 5 and all(len(row) <= 5 for row in r.rows)
    assert all(len(b.label) <= 80 for row in r.rows for b in row)
    too_long = Button("X", "answer", "v" * 120)
    dup = Button("A", "answer", "d:1:A")
    r2 = render(
        Reply.of(Buttons((dup, dup, too_long, Button("P", "board", "week:2", ButtonStyle.PRIMARY))))
    )
    assert r2.custom_ids() == ["sb:answer:d:1:A", "sb:board:week:2"]


def test_image_is_attached() -> None:
    r = render(Reply.of(Heading("Chart"), Image(b"\x89PNG", "a chart", "c.png")))
    assert r.embeds[0].image.url == "attachment://c.png"
    assert [f.filename for f in r.files()] == ["c.png"]


def test_colour_by_visibility() -> None:
    assert (
        render(Reply.message("hi", visibility=Visibility.DM)).embeds[0].colour.value
        != render(Reply.message("hi")).embeds[0].colour.value
    )


@pytest.mark.anyio
async def test_send_kwargs_view_is_not_kept(anyio_backend: str) -> None:
    r = render(Reply.of(Paragraph(text("q")), Buttons((Button("A", "answer", "d:1:A"),))))
    kw = r.send_kwargs()
    view = kw["view"]
    assert view.is_finished() and kw["allowed_mentions"].everyone is False
    [item] = view.children
    assert item.custom_id == "sb:answer:d:1:A"
