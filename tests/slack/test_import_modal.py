"""`/study import` on Slack through the real Bolt App: the form's file input, the file
downloaded with the bot token after the ack, and the modal updated with what happened:
one bad row imports nothing and names the row."""

from __future__ import annotations

import csv
import io
import json

import pytest
from sqlalchemy import func, select

from adapters.slack.form_listeners import download
from adapters.slack.modals import SlackFile
from bot.seam import DeliveryError
from bot.store.db import Store
from bot.store.models import GroupQuestion
from tests.slack.conftest import SlackUser
from tests.slack.fakeslack import FakeSlack
from tests.slack.modal_helpers import blocks_by_id, opened_view, submit
from tests.slack.test_modals import GOOD

HEADER = ["prompt", "a", "b", "c", "d", "answer", "explanation", "domain", "difficulty", "ref"]


def _csv(*rows: dict[str, str]) -> bytes:
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(HEADER)
    for row in rows:
        w.writerow([row[k] for k in HEADER])
    return out.getvalue().encode()


def _stored(store: Store) -> int:
    with store.transaction(read_only=True) as s:
        return int(s.scalar(select(func.count()).select_from(GroupQuestion)) or 0)


def _updated(fake: FakeSlack) -> str:
    call = fake.wait_for("views.update")[-1]
    view = call.args["view"]
    return json.dumps(json.loads(view) if isinstance(view, str) else view, ensure_ascii=False)


def test_a_file_with_a_bad_row_imports_nothing_and_names_it(
    lee: SlackUser, fake: FakeSlack, sqlite_store: Store
) -> None:
    fake.clear()
    lee.command("import")
    view = opened_view(fake)
    block = blocks_by_id(view)["f_file"]
    assert block["element"]["type"] == "file_input" and block["element"]["max_files"] == 1
    fake.clear()
    missing = submit(lee, view)
    assert "f_file" in missing.errors  # no file: said beside the input
    bad = _csv(GOOD, GOOD | {"prompt": "Which flavor logs a model?", "answer": "E"})
    sent = submit(lee, view, file=[fake.file("questions.csv", bad)])
    assert sent.action == "update" and "Reading questions.csv" in json.dumps(sent.body)
    assert sent.body["view"]["title"]["text"] == "Import questions"
    assert fake.of("download")[0].headers["authorization"] == "Bearer xoxb-test"
    shown = _updated(fake)
    assert '"text": "Import questions"' in shown  # the form's title stays
    assert "Nothing was imported" in shown and "questions.csv:3:" in shown
    assert "outside the choices" in shown
    assert _stored(sqlite_store) == 0
    fake.clear()
    submit(lee, view, file=[fake.file("good.csv", _csv(GOOD))])
    assert "Imported from good.csv" in _updated(fake)
    assert _stored(sqlite_store) == 1


def test_a_member_cannot_import(ali: SlackUser, fake: FakeSlack) -> None:
    fake.clear()
    assert "Only a group lead" in ali.command("import").text()
    assert fake.of("views.open") == []


def test_the_bot_token_goes_to_slack_alone(lee: SlackUser, fake: FakeSlack) -> None:
    client = lee.slack.app.client
    with pytest.raises(DeliveryError, match="not on Slack"):
        download(client, SlackFile("x.csv", "https://files.example.com/x.csv"))
    assert fake.of("download") == []
    gone = f"{fake.url}/files-pri/T1-F999/download/gone.csv"  # no such file: a sign-in page
    with pytest.raises(DeliveryError, match="web page"):
        download(client, SlackFile("gone.csv", gone))
