""" "Report this question", the message shortcut, through the real Bolt App: on a message
showing a question it opens the reason's modal, whose submission files the same report as
`/study flag`; on any other message the member is told it shows no question."""

from __future__ import annotations

import json

from sqlalchemy import select

from bot.content.models import Content
from bot.store.db import Store
from bot.store.models import Flag
from tests.slack.conftest import SlackUser
from tests.slack.fakeslack import FakeSlack
from tests.slack.modal_helpers import blocks_by_id, opened_view, posted_to, shortcut, submit


def _shown_id(content: Content, blocks: list[dict[str, object]]) -> str:
    text = json.dumps(blocks, ensure_ascii=False)
    found = [qid for qid in content.by_id if f" {qid} ·" in text]
    assert len(found) == 1, text
    return found[0]


def test_the_shortcut_on_a_question_files_a_report(
    ali: SlackUser, fake: FakeSlack, content: Content, sqlite_store: Store
) -> None:
    today = ali.command("today")
    qid = _shown_id(content, today.blocks)
    fake.clear()
    shortcut(ali, {"text": "Question of the day", "blocks": today.blocks})
    view = opened_view(fake)
    assert fake.of("views.open")[0].args["trigger_id"] == "1.2.7"
    assert view["title"]["text"] == "Report this question"
    reason = blocks_by_id(view)["f_reason"]
    assert reason["element"]["multiline"] is True and qid in reason["label"]["text"]
    fake.clear()
    sent = submit(ali, view, reason="")  # Slack refuses an empty required field itself;
    assert "f_reason" in sent.errors  # the core names it beside the field all the same
    sent = submit(ali, view, reason="two of the choices are both right")
    assert sent.body == {}
    shown = posted_to(fake, "UALICE")
    assert f"Thanks: `{qid}` is reported to the maintainers" in shown.replace("\\u2019", "'")
    with sqlite_store.transaction(read_only=True) as s:
        flags = [(f.question_id, f.reason) for f in s.scalars(select(Flag))]
    assert flags == [(qid, "two of the choices are both right")]


def test_the_shortcut_on_another_message_says_it_shows_no_question(
    ali: SlackUser, fake: FakeSlack
) -> None:
    fake.clear()
    url = shortcut(
        ali,
        {
            "text": "lunch at noon?",
            "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "lunch at noon?"}}],
        },
    )
    path = url[len(fake.url) :]
    answers = [c.args for c in fake.of("response") if c.path == path]
    assert len(answers) == 1 and answers[0]["response_type"] == "ephemeral"
    assert "does not show a question" in json.dumps(answers[0])
    assert fake.of("views.open") == []
