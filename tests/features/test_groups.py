"""Setting up a study group, joining and leaving it, and workspaces kept apart."""

from __future__ import annotations

from bot.content.models import Content
from bot.core import StudyBot
from tests.helpers import Chat, question_in


def test_setup_creates_group_and_shows_settings(lead: Chat) -> None:
    reply = lead.send("/study setup")
    text = reply.plain_text()
    assert "Databricks Certified Machine Learning Associate" in text
    assert "09:00 on Mon–Fri" in text
    assert "Cohort start: Mon 02 Mar 2026" in text


def test_setup_changes_only_given_values(lead: Chat) -> None:
    lead.send("/study setup tz=Europe/Berlin time=07:45 days=mon,wed,fri exam=2026-06-01")
    text = lead.send("/study setup").plain_text()
    assert "Timezone: Europe/Berlin" in text
    assert "07:45 on Mon, Wed, Fri" in text
    assert "Exam date: Mon 01 Jun 2026" in text
    assert "Cohort start: Mon 02 Mar 2026" in text


def test_non_lead_setup_is_refused_and_changes_nothing(lead: Chat, alice: Chat) -> None:
    reply = alice.send("/study setup tz=Asia/Kolkata")
    assert "Only a group lead" in reply.plain_text()
    assert "Timezone: UTC" in lead.send("/study setup").plain_text()


def test_named_lead_may_change_settings(lead: Chat, alice: Chat) -> None:
    lead.send("/study setup leads=alice")
    assert "Study group updated" in alice.send("/study setup time=10:00").plain_text()


def test_setup_first_time_needs_a_lead(bot: StudyBot) -> None:
    chat = Chat(bot, user="bob", name="Bob", admin=False, channel="C9")
    assert "Only a group lead" in chat.send("/study setup track=associate").plain_text()
    assert "no study group yet" in chat.send("/study today").plain_text()


def test_invalid_values_name_the_accepted_form(lead: Chat) -> None:
    cases = {
        "tz=Mars/Olympus": "Use an IANA name in the form Area/City",
        "start=03/02/2026": "Use YYYY-MM-DD",
        "time=9am": "Use 24-hour HH:MM",
        "days=mon,funday": "Use weekday names separated by commas",
        "track=expert": "Use track=associate or track=professional",
        "colour=blue": "Unknown option 'colour' for setup",
        "exam=2026-01-01": "must come after the start date",
    }
    for arg, message in cases.items():
        assert message in lead.send(f"/study setup {arg}").plain_text(), arg
    # a failed setup with a valid part writes nothing (one transaction per action)
    lead.send("/study setup time=11:00 tz=Nowhere/Land")
    assert "09:00 on Mon–Fri" in lead.send("/study setup").plain_text()


def test_join_leave_and_rejoin(alice: Chat) -> None:
    assert "already in this study group" in alice.send("/study join").plain_text()
    assert "You left the study group" in alice.send("/study leave").plain_text()
    assert "not in this study group" in alice.send("/study leave").plain_text()
    assert "Welcome to the study group" in alice.send("/study join").plain_text()


def test_leads_are_members_the_platform_knows(bot: StudyBot, lead: Chat) -> None:
    """`leads=Grace` used to be stored as typed (and `--as Grace`, id grace, refused);
    `leads=Nobody` was accepted."""
    grace = Chat(bot, user="grace", name="Grace")
    grace.send("/study join")
    text = lead.send("/study setup leads=Grace").plain_text()
    assert "Leads: Grace" in text
    assert "Study group updated" in grace.send("/study setup time=09:00").plain_text()
    refused = lead.send("/study setup leads=Grace,Nobody,Zed").plain_text()
    assert "No member here is called Nobody, Zed" in refused
    assert "`studybot console --as NAME`" in refused and "Nothing was changed" in refused
    assert "Leads: Grace" in lead.send("/study setup").plain_text()


def test_leaving_sticks_until_join(alice: Chat) -> None:
    """`/study today` after `leave` used to rejoin the member without a word."""
    alice.send("/study today")
    alice.send("/study leave")
    for line in ("/study today", "/study quiz", "/study progress"):
        text = alice.send(line).plain_text()
        assert "You left this study group. `/study join` brings you back" in text, line
    assert "not in this study group" in alice.send("/study leave").plain_text()
    assert "Welcome to the study group" in alice.send("/study join").plain_text()
    assert "Question of the day" in alice.send("/study today").plain_text()


def test_workspaces_are_isolated(bot: StudyBot, lead: Chat, content: Content) -> None:
    other = Chat(bot, user="lead", name="Lee", admin=True, workspace="W2")
    assert "no study group yet" in other.send("/study today").plain_text()
    reply = lead.send("/study today")
    q = question_in(content, reply)
    stranger = Chat(bot, user="lead", name="Lee", workspace="W2")
    assert "no study group yet" in stranger.press(q.letters()[0], reply).plain_text()
