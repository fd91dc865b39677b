"""The Block Kit renderer: escaping, styles, and limits on its own."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from slack_sdk.errors import SlackObjectFormationError

from adapters.slack.render import (
    chunks,
    decode_action_id,
    encode_action_id,
    escape,
    fallback_text,
    mrkdwn,
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
    bold,
    code,
    link,
    mention,
    text,
)
from tests.slack.limits import assert_no_broadcast, assert_valid_block_kit, assert_within_limits

HOSTILE = [
    "<!channel>",
    "<!here>",
    "<!everyone>",
    "<@U123>",
    "&lt;",
    "<#C1|general>",
    "<https://evil.example|click me>",
    "a & b > c < d",
    "<!subteam^S1|@team>",
]


@pytest.mark.parametrize("name", HOSTILE)
def test_user_text_is_escaped_everywhere(name: str) -> None:
    reply = Reply.of(
        Heading(f"Your progress · {name}"),
        Paragraph(text("Welcome ", bold(name), " and ", Span(name), " ", code(name))),
        Fields((Field(name, text(name)),)),
        ProgressBar(name, 1, 2),
        Context(text(name)),
        Buttons((Button(name, "x", "v"),)),
    )
    rendered = render(reply)
    dumped = str(rendered.blocks) + rendered.text
    assert_no_broadcast(dumped)
    assert "<@U123>" not in dumped
    assert "<#C1" not in dumped and "<https://evil" not in dumped
    assert escape(name) in dumped


def test_escape_replaces_exactly_three_characters() -> None:
    assert escape("a&b<c>d *e* _f_ `g`") == "a&amp;b&lt;c&gt;d *e* _f_ `g`"
    assert escape("&lt;") == "&amp;lt;"  # shown to readers as typed


def test_styles() -> None:
    out = mrkdwn(
        text(
            "x ",
            bold(" Lee "),
            code("/study today"),
            " ",
            link("docs", "https://docs.databricks.com/a?b=1&c=2"),
            mention("U0ABC12", "Lee"),
        )
    )
    assert out == (
        "x  *Lee* `/study today` <https://docs.databricks.com/a?b=1&amp;c=2|docs><@U0ABC12>"
    )


def test_only_core_chosen_mentions_and_safe_links() -> None:
    assert mrkdwn(text(mention("not-an-id", "<!channel>"))) == "@&lt;!channel&gt;"
    assert mrkdwn(text(link("x", "javascript:alert(1)"))) == "x"
    assert mrkdwn(text(link("a|b", "https://e.com/x|y>z"))) == "<https://e.com/x%7Cy%3Ez|a¦b>"


def test_bold_and_code_markers_cannot_be_broken() -> None:
    assert mrkdwn(text(bold("a*b"), code("c`d"))) == "*a∗b*`cˋd`"
    assert mrkdwn(text(bold("one\ntwo"))) == "*one*\n*two*"


def test_action_ids_unique_and_reversible() -> None:
    reply = Reply.of(Buttons(tuple(Button(c, "answer", f"d:1:{c}") for c in "ABCD")))
    ids = [e["action_id"] for e in render(reply).blocks[0]["elements"]]
    assert len(set(ids)) == 4
    assert {decode_action_id(i) for i in ids} == {"answer"}
    assert decode_action_id(encode_action_id("a:b", 3)) == "a:b"
    assert decode_action_id("other") == "other"


def test_button_styles_and_values() -> None:
    r = render(
        Reply.of(
            Buttons(
                (
                    Button("Go", "a", "1", ButtonStyle.PRIMARY),
                    Button("Stop", "a", "2", ButtonStyle.DANGER),
                    Button("Meh", "a", "3"),
                )
            )
        )
    )
    els = r.blocks[0]["elements"]
    assert [e.get("style") for e in els] == ["primary", "danger", None]
    assert [e["value"] for e in els] == ["1", "2", "3"]


def test_long_paragraph_is_split_at_lines() -> None:
    lines = [Span(f"line {i} " + "x" * 90 + ("\n" if i < 99 else "")) for i in range(100)]
    r = render(Reply.of(Paragraph(tuple(lines))))
    assert len(r.blocks) > 3
    assert_within_limits({"blocks": r.blocks})
    joined = "\n".join(b["text"]["text"] for b in r.blocks)
    assert joined.count("line ") == 100


def test_one_huge_line_is_cut_without_breaking_entities() -> None:
    s = mrkdwn(text("<" * 5000))
    parts = chunks(s, 3000)
    assert all(len(p) <= 3000 for p in parts)
    assert "".join(parts) == s
    assert all(p.endswith(";") for p in parts[:-1])


def test_limits_many_fields_buttons_and_blocks() -> None:
    reply = Reply.of(
        Fields(tuple(Field(f"f{i}", text("v" * 2500)) for i in range(23))),
        *[Paragraph(text(f"p{i}")) for i in range(60)],
        Buttons(tuple(Button(f"{i} " + "L" * 100, "a", str(i)) for i in range(30))),
    )
    r = render(reply)
    assert_within_limits({"blocks": r.blocks})
    assert len(r.blocks) == 50
    assert sum(len(b["elements"]) for b in r.blocks if b["type"] == "actions") == 30
    assert any("shortened" in str(b) for b in r.blocks)


def test_repeated_blocks_are_shortened_by_position() -> None:
    """A repeated block is one shared dict: shortening must still count each occurrence."""
    reply = Reply.of(
        *[Divider() for _ in range(70)],
        Buttons((Button("A", "answer", "1"),)),
    )
    r = render(reply)
    assert_within_limits({"blocks": r.blocks})
    assert len(r.blocks) == 50
    assert [b["type"] for b in r.blocks][-2:] == ["context", "actions"]


def test_a_repeated_question_is_built_once_and_rendered_the_same() -> None:
    """Every member of a group gets the same question of the day: its blocks are built
    and validated once, and each member's message is the same JSON."""
    question = (
        Heading("Question of the day"),
        Paragraph(text("Which MLflow API logs a model?")),
        Buttons(tuple(Button(c, "answer", f"d:7:{c}") for c in "ABCD")),
    )
    first = render(Reply.of(*question, Context(text("You joined this study group."))))
    again = render(Reply.of(*question))
    assert again.blocks == first.blocks[:3]
    assert all(a is b for a, b in zip(again.blocks, first.blocks, strict=False))
    assert_within_limits({"blocks": first.blocks})


def test_images_become_uploads_and_other_blocks() -> None:
    r = render(
        Reply.of(
            Heading("h" * 400),
            Divider(),
            ProgressBar("Checklist", 3, 4),
            Image(b"\x89PNG", "chart <b>", "c.png"),
        )
    )
    assert [b["type"] for b in r.blocks] == ["header", "divider", "section", "context"]
    assert len(r.blocks[0]["text"]["text"]) == 150
    assert "3/4 (75%)" in r.blocks[2]["text"]["text"]
    assert "chart &lt;b&gt;" in r.blocks[3]["elements"][0]["text"]
    assert [i.filename for i in r.images] == ["c.png"]


def test_fallback_text_is_escaped() -> None:
    assert fallback_text(Reply.message("hi <!here>")) == "hi &lt;!here&gt;"
    assert fallback_text(Reply.of(Divider())) == "studybot"


@pytest.mark.parametrize(
    "bad",
    [
        {"type": "header", "text": {"type": "plain_text", "text": "h" * 151}},
        {"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}},
        {"type": "section", "fields": [{"type": "mrkdwn", "text": "f"}] * 11},
        {"type": "actions", "elements": [{"type": "button", "text": "A", "action_id": "a"}]},
        {"type": "section", "txt": {"type": "mrkdwn", "text": "misnamed"}},
        {"type": "paragraph", "text": {"type": "mrkdwn", "text": "no such block"}},
    ],
)
def test_the_block_kit_check_rejects_bad_blocks(bad: dict[str, object]) -> None:
    with pytest.raises((AssertionError, SlackObjectFormationError)):
        assert_valid_block_kit([bad])


_pieces = [*"ab <>&*`|\n", *HOSTILE, "x" * 700, "L" * 90]
_texts = st.lists(st.sampled_from(_pieces), max_size=8).map("".join)
_spans = st.builds(
    lambda kind, s: kind(s),
    st.sampled_from(
        [Span, bold, code, lambda s: link(s, "https://e.com/" + s), lambda s: mention("U0A1", s)]
    ),
    _texts,
)
_text = st.lists(_spans, max_size=4).map(lambda spans: text(*spans))
_blocks = st.one_of(
    st.builds(Heading, _texts),
    st.builds(Paragraph, _text),
    st.builds(Context, _text),
    st.builds(Divider),
    st.builds(ProgressBar, _texts, st.integers(0, 9), st.integers(0, 9)),
    st.builds(
        lambda fs: Fields(tuple(Field(label, value) for label, value in fs)),
        st.lists(st.tuples(_texts, _text), min_size=1, max_size=12),
    ),
    st.builds(
        lambda bs: Buttons(tuple(Button(label, "a:b", v, style) for label, v, style in bs)),
        st.lists(
            st.tuples(_texts, st.text(max_size=30), st.sampled_from(list(ButtonStyle))),
            min_size=1,
            max_size=27,
        ),
    ),
)


@settings(max_examples=150, deadline=None)
@given(st.lists(_blocks, max_size=60))
def test_every_rendered_reply_is_valid_block_kit(blocks: list[object]) -> None:
    """Any reply renders (the models validate it) and reads back the same, within limits."""
    r = render(Reply.of(*blocks))  # type: ignore[arg-type]
    assert_within_limits({"blocks": r.blocks})
