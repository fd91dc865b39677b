"""The forms standing in for key=value words: `setup` and `add` alone from a lead, their
fields filled from the group, and a submission's problems named beside their fields."""

from __future__ import annotations

from bot.content.models import Content
from bot.core import StudyBot
from bot.forms import FieldKind, Form
from tests.helpers import Chat

GOOD = {
    "prompt": "Which alias does the team's nightly job load?",
    "a": "champion",
    "b": "production",
    "c": "latest",
    "d": "staging",
    "answer": "A",
    "explanation": "A is right: the job loads models:/name@champion. B, C and D are wrong.",
    "domain": "model-deployment",
    "difficulty": "2",
    "ref": "https://docs.databricks.com/en/machine-learning/manage-model-lifecycle/index.html",
}


def submit(chat: Chat, form: Form, **values: str) -> str:
    """Submit a form with its initial values changed by `values`, as a platform would."""
    filled = {f.name: f.initial for f in form.fields} | values
    reply = chat.call(form.command, **form.args(filled))
    return reply.plain_text()


def test_setup_alone_gives_a_lead_the_form_filled_from_the_group(lead: Chat) -> None:
    lead.send("/study setup tz=Europe/Berlin time=07:45 days=mon,wed exam=2026-06-01 leads=lead")
    reply = lead.send("/study setup")
    assert "Timezone: Europe/Berlin" in reply.plain_text()  # the settings are still shown
    form = reply.form
    assert form is not None and form.command == "setup"
    fields = {f.name: f for f in form.fields}
    assert list(fields) == [
        "track", "start", "exam", "tz", "time", "days", "leads", "summary", "digest"
    ]  # fmt: skip
    assert (fields["track"].kind, fields["track"].initial) == (FieldKind.SELECT, "associate")
    assert {o.value for o in fields["track"].options} == {"associate", "professional"}
    assert (fields["start"].kind, fields["start"].initial) == (FieldKind.DATE, "2026-03-02")
    assert (fields["exam"].initial, fields["exam"].optional) == ("2026-06-01", True)
    assert (fields["tz"].kind, fields["tz"].initial) == (FieldKind.TIMEZONE, "Europe/Berlin")
    assert (fields["time"].kind, fields["time"].initial) == (FieldKind.TIME, "07:45")
    assert (fields["days"].kind, fields["days"].initial) == (FieldKind.CHECKBOXES, "mon,wed")
    assert [o.value for o in fields["days"].options][-1] == "sun"
    assert (fields["leads"].kind, fields["leads"].initial) == (FieldKind.USERS, "lead")
    assert fields["summary"].initial == "fri" and fields["digest"].initial == "on"
    assert {f.name for f in form.fields if f.essential} == {"tz", "time", "days", "start", "exam"}


def test_a_member_sees_the_settings_and_no_form(lead: Chat, alice: Chat) -> None:
    reply = alice.send("/study setup")
    assert "Timezone: UTC" in reply.plain_text()
    assert reply.form is None


def test_the_form_creates_a_group_in_a_new_channel(bot: StudyBot) -> None:
    admin = Chat(bot, user="ada", name="Ada", admin=True, channel="C7")
    reply = admin.send("/study setup")
    assert "no study group yet" in reply.plain_text() and not reply.refused
    assert reply.form is not None
    text = submit(admin, reply.form, tz="Asia/Kolkata", time="06:30", days="tue,thu")
    assert "Study group created" in text
    assert "06:30 on Tue, Thu" in text and "Timezone: Asia/Kolkata" in text
    member = Chat(bot, user="bob", name="Bob", channel="C8")
    refused = member.send("/study setup")
    assert refused.form is None and "no study group yet" in refused.plain_text()


def test_a_bad_submission_names_its_field_and_changes_nothing(lead: Chat) -> None:
    form = lead.send("/study setup").form
    assert form is not None
    reply = lead.call("setup", **form.args({"tz": "Mars/Olympus", "time": "08:00"}))
    assert reply.refused
    assert [k for k, _ in reply.field_errors] == ["tz"]
    assert "Use an IANA name in the form Area/City" in reply.field_errors[0][1]
    reply = lead.call("setup", **form.args({"start": "2026-03-02", "exam": "2026-01-01"}))
    assert reply.field_errors[0][0] == "exam"
    assert "must come after the start date" in reply.field_errors[0][1]
    reply = lead.call("setup", leads="nobody-here")
    assert reply.field_errors[0][0] == "leads" and "No member here" in reply.field_errors[0][1]
    assert "09:00 on Mon–Fri" in lead.send("/study setup").plain_text()  # nothing changed
    # the text form words the same problem as before
    assert "Use 24-hour HH:MM" in lead.send("/study setup time=9am").plain_text()


def test_a_valid_submission_saves_every_field(lead: Chat) -> None:
    form = lead.send("/study setup").form
    assert form is not None
    text = submit(lead, form, days="mon,fri", summary="mon", digest="off", exam="2026-07-01")
    assert "Study group updated" in text
    assert "09:00 on Mon, Fri" in text and "Weekly leaderboard: Mon" in text
    assert "Lead digest: off" in text and "Exam date: Wed 01 Jul 2026" in text


def test_add_alone_gives_a_lead_the_question_form(
    lead: Chat, alice: Chat, content: Content
) -> None:
    reply = lead.send("/study add")
    assert "key=value words" in reply.plain_text()
    form = reply.form
    assert form is not None and form.command == "add"
    fields = {f.name: f for f in form.fields}
    assert list(fields) == [
        "prompt", "a", "b", "c", "d", "answer", "explanation", "domain", "difficulty", "ref"
    ]  # fmt: skip
    assert fields["prompt"].kind is fields["explanation"].kind is FieldKind.LONG_TEXT
    domains = [d.id for d in content.track("associate").domains]
    assert [o.value for o in fields["domain"].options] == domains
    assert [o.value for o in fields["difficulty"].options] == ["1", "2", "3"]
    assert fields["c"].optional and fields["d"].optional and not fields["a"].optional
    assert "Only a group lead" in alice.send("/study add").plain_text()
    assert alice.last is not None and alice.last.form is None
    text = lead.call("add", **form.args(GOOD)).plain_text()
    assert "to this group's own questions" in text


def test_an_added_question_s_problems_stand_beside_their_fields(lead: Chat) -> None:
    bad = GOOD | {"prompt": "", "b": "Champion", "ref": "http://example.com", "domain": "x"}
    reply = lead.call("add", **bad)
    assert reply.refused
    errors = dict(reply.field_errors)
    assert "empty prompt" in errors["prompt"]
    assert "duplicate choice 'champion'" in errors["b"]
    assert "ref is not an https URL" in errors["ref"]
    assert "unknown domain 'x'" in errors["domain"]
    assert "The bank's checks found" in reply.plain_text()  # the words' message is whole
    assert "answer" in dict(lead.call("add", **GOOD | {"answer": "E"}).field_errors)
