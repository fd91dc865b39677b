"""A member's own data: `/study mydata` (the file) and `/study forget` (the erasure)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import event, func, select

from bot.content.models import Content
from bot.core import StudyBot
from bot.features.groups import pause_gone_group
from bot.features.personal_data import SECTIONS, counts, find_member
from bot.features.posts import answered_count, reveal_blocks
from bot.seam import Attachment, ButtonStyle, Reply, Visibility
from bot.store.models import Base, DailyQuestion, Group, Outbox, User
from bot.store.records import GroupRecord
from tests.helpers import (
    Chat,
    FakeClock,
    answer_exam_question,
    pin_daily,
    question_in,
    single,
    wrong_letter,
)


def attachment(reply: Reply) -> Attachment:
    (found,) = [b for b in reply.blocks if isinstance(b, Attachment)]
    return found


def exported(chat: Chat) -> dict[str, Any]:
    reply = chat.send("/study mydata")
    file = attachment(reply)
    assert file.mime == "application/json" and file.filename.endswith(".json")
    data: dict[str, Any] = json.loads(file.data)
    return data


def answer_on_screen(chat: Chat, content: Content, reply: Reply, right: bool) -> Reply:
    q = question_in(content, reply)
    letters = list(q.answer) if right else [wrong_letter(q), *q.answer[1:]]
    if not q.multi:
        return chat.press(letters[0], reply)
    for letter in letters:
        reply = chat.press(letter, reply)
    return chat.press("Submit", reply)


def pending_dm(bot: StudyBot, chat: Chat, now: datetime) -> None:
    """A weekly progress DM the clock planned for the member and has not sent."""
    with bot.store.transaction() as s:
        g = s.scalar(select(Group).where(Group.channel_id == chat.channel))
        uid = s.scalar(select(User.id).where(User.external_id == chat.user))
        assert g is not None and uid is not None
        s.add(
            Outbox(
                workspace_id=g.workspace_id,
                group_id=g.id,
                platform=chat.platform,
                target_kind="user",
                target_id=chat.user,
                kind="progress_dm",
                local_date=now.date(),
                idem_key=f"progress_dm:{g.id}:{uid}:{now.date()}",
                payload={"user_id": uid},
                status="pending",
                attempts=0,
                next_attempt_at=now,
                created_at=now,
            )
        )


def study_everything(bot: StudyBot, alice: Chat, content: Content, clock: FakeClock) -> str:
    """Alice answers the daily question right, a quiz, a review and a mock exam question,
    reports a question, ticks a checklist item, goes away, records a pass and has a DM
    waiting. The daily question's id."""
    q = single(content, difficulty=2)
    pin_daily(bot, alice, content, q, date(2026, 3, 2))
    alice.press(q.answer[0], alice.send("/study today"))
    answer_on_screen(alice, content, alice.send("/study quiz 1"), right=False)
    alice.send("/study flag the key looks wrong")
    alice.send("/study check S1")
    alice.send("/study tz Europe/Berlin")
    alice.send("/study remind 18:30")
    alice.send("/study passed 2026-03-01")
    clock.set(2026, 3, 9, 12)
    review = alice.send("/study review")
    assert "Review 1 of" in review.plain_text(), review.plain_text()
    answer_on_screen(alice, content, review, right=True)
    answer_exam_question(alice, content, alice.send("/study exam"), right=True)
    alice.send("/study away 2")
    pending_dm(bot, alice, clock())
    return q.id


def test_every_table_keyed_by_a_member_is_exported_and_erased() -> None:
    """A new table with a user key must join `SECTIONS`, or this fails."""
    users = Base.metadata.tables["users"]
    keyed = {
        t.name
        for t in Base.metadata.sorted_tables
        if any(fk.column.table is users for fk in t.foreign_keys)
    }
    covered = {sec.table.name for sec in SECTIONS}
    assert keyed, "no table points at users?"
    assert keyed <= covered, f"not exported or erased: {sorted(keyed - covered)}"
    assert "outbox" in covered  # posts addressed to the member, by their platform id


def test_mydata_sends_the_member_everything_stored_about_them(
    bot: StudyBot, alice: Chat, content: Content, clock: FakeClock
) -> None:
    qid = study_everything(bot, alice, content, clock)
    reply = alice.send("/study mydata")
    assert reply.visibility is Visibility.EPHEMERAL
    text = reply.plain_text()
    assert "holds everything studybot stores about you in this workspace" in text
    assert "1 daily answer" in text and "/study forget erases all of it" in text
    data = json.loads(attachment(reply).data)
    assert data["format"] == "studybot-member-data" and data["version"] == 1
    assert data["member"] == {
        "platform": "console",
        "workspace": "W1",
        "user_id": "alice",
        "display_name": "Alice",
        "timezone": "Europe/Berlin",
        "weekly_dm": True,
        "first_seen": "2026-03-02T12:00:00+00:00",
    }
    for sec in SECTIONS:
        assert data[sec.key], f"{sec.key} is empty"
    (daily,) = data["daily_answers"]
    assert daily["question_id"] == qid and daily["right"] is True
    assert daily["channel"] == "C1" and daily["date"] == "2026-03-02"
    assert daily["chosen"] and daily["points"] > 0
    assert data["quiz_answers"][0]["right"] is False
    assert data["quiz_answers"][0]["set"] == data["quiz_sets"][0]["id"]
    assert data["review_answers"][0]["set"] == data["review_sets"][0]["id"]
    assert {c["question_id"] for c in data["review_cards"]} >= {qid}
    assert data["mock_exams"][0]["status"] == "open"
    assert data["mock_exam_answers"][0]["exam"] == data["mock_exams"][0]["id"]
    assert data["flags"][0]["reason"] == "the key looks wrong"
    assert data["checklist"] == [{"item": "S1", "ticked_at": "2026-03-02T12:00:00+00:00"}]
    assert data["passes"][0]["passed_on"] == "2026-03-01"
    assert data["away"][0]["start"] == "2026-03-09"
    (dm,) = data["direct_messages"]
    assert dm["kind"] == "progress_dm" and dm["status"] == "pending"
    assert data["memberships"] == [
        {
            "channel": "C1",
            "active": True,
            "joined_at": "2026-03-02T12:00:00+00:00",
            "reminder": "18:30",
        }
    ]
    assert data["lead_of"] == []


def test_mydata_and_forget_for_someone_never_seen_store_nothing(bot: StudyBot) -> None:
    stranger = Chat(bot, user="zed", name="Zed", channel="C9")
    assert stranger.send("/study mydata").plain_text() == (
        "studybot stores nothing about you in this workspace."
    )
    assert "stores nothing" in stranger.send("/study forget").plain_text()
    with bot.store.transaction(read_only=True) as s:
        assert s.scalar(select(func.count()).select_from(User)) == 0


def test_forget_asks_then_erases_everything_at_once(
    bot: StudyBot, alice: Chat, lead: Chat, content: Content, clock: FakeClock
) -> None:
    study_everything(bot, alice, content, clock)
    bob = Chat(bot, user="bob", name="Bob")
    bob.send("/study join")
    bob.press(question_in(content, bob.send("/study today")).answer[0])
    elsewhere = Chat(bot, user="alice", name="Alice", workspace="W2")  # same id, other team
    Chat(bot, user="lead", name="Lee", admin=True, workspace="W2").send("/study setup tz=UTC")
    elsewhere.send("/study join")
    elsewhere.send("/study check S2")
    bob_before = exported(bob)
    board = lead.send("/study leaderboard all").plain_text()
    assert "Alice" in board and "Bob" in board
    with bot.store.transaction(read_only=True) as s:
        was = find_member(s, "console", "W1", "alice")
        assert was is not None and len(counts(s, was)) == len(SECTIONS)

    ask = alice.send("/study forget")
    assert ask.visibility is Visibility.EPHEMERAL
    assert "erases everything studybot stores about you in this workspace" in ask.plain_text()
    assert "1 daily answer" in ask.plain_text() and "1 post addressed to you" in ask.plain_text()
    forget_me, cancel = ask.buttons()
    assert (forget_me.label, forget_me.style) == ("Forget me", ButtonStyle.DANGER)
    assert cancel.label == "Cancel"
    assert exported(alice)["daily_answers"], "asking erases nothing"

    done = alice.press("Forget me", ask)
    assert done.replace
    assert done.plain_text().startswith("Done: studybot erased everything it stored about you")
    assert "/study join makes you a new member" in done.plain_text()
    assert "stores nothing" in alice.send("/study mydata").plain_text()
    with bot.store.transaction(read_only=True) as s:
        assert find_member(s, "console", "W1", "alice") is None
        assert counts(s, was) == {}  # every section, the pending DM included
        assert s.get(User, was.user.id) is None
    board = lead.send("/study leaderboard all").plain_text()
    assert "Alice" not in board and "Bob" in board and "1. " in board
    bob_after = exported(bob)
    assert {k: v for k, v in bob_after.items() if k != "exported_at"} == {
        k: v for k, v in bob_before.items() if k != "exported_at"
    }
    assert exported(elsewhere)["checklist"][0]["item"] == "S2"

    alice.send("/study join")  # a new member, from nothing
    fresh = exported(alice)
    assert fresh["daily_answers"] == [] and fresh["review_cards"] == []
    assert fresh["memberships"][0]["joined_at"] == "2026-03-09T12:00:00+00:00"


def test_the_daily_reveal_and_answered_count_drop_a_forgotten_member(
    bot: StudyBot, alice: Chat, content: Content
) -> None:
    bob = Chat(bot, user="bob", name="Bob")
    bob.send("/study join")
    q = single(content)
    pin_daily(bot, alice, content, q, date(2026, 3, 2))
    for chat in (alice, bob):
        chat.press(q.answer[0], chat.send("/study today"))

    def reveal() -> str:
        with bot.store.transaction(read_only=True) as s:
            daily = s.scalar(select(DailyQuestion))
            assert daily is not None
            return Reply(tuple(reveal_blocks(s, content, daily))).plain_text()

    def answered() -> int:
        with bot.store.transaction(read_only=True) as s:
            daily = s.scalar(select(DailyQuestion))
            assert daily is not None
            return answered_count(s, daily.id)

    assert "2 of 2 got it right. First right: Alice, Bob." in reveal() and answered() == 2
    alice.press("Forget me", alice.send("/study forget"))
    assert "1 of 1 got it right. First right: Bob." in reveal() and answered() == 1


def test_forget_is_one_transaction(
    bot: StudyBot, alice: Chat, content: Content, clock: FakeClock
) -> None:
    """The user row goes last; when deleting it fails, every earlier delete is undone."""
    study_everything(bot, alice, content, clock)
    before = exported(alice)

    def fail_last(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith("DELETE FROM USERS"):
            raise RuntimeError("the disk is on fire")

    event.listen(bot.store.engine, "before_cursor_execute", fail_last)
    try:
        with pytest.raises(RuntimeError, match="on fire"):
            alice.press("Forget me", alice.send("/study forget"))
    finally:
        event.remove(bot.store.engine, "before_cursor_execute", fail_last)
    after = exported(alice)
    assert {k: v for k, v in after.items() if k != "exported_at"} == {
        k: v for k, v in before.items() if k != "exported_at"
    }


def test_only_the_member_can_press_their_button(bot: StudyBot, alice: Chat) -> None:
    alice.send("/study check S1")
    ask = alice.send("/study forget")
    bob = Chat(bot, user="bob", name="Bob")
    bob.send("/study join")
    refused = bob.press("Forget me", ask)
    assert refused.refused
    assert "Only the member who asked to be forgotten can press this button" in (
        refused.plain_text()
    )
    assert bob.press("Cancel", ask).refused
    assert exported(alice)["checklist"], "nothing of Alice's was erased"
    kept = alice.press("Cancel", ask)
    assert kept.plain_text() == "Nothing was erased." and kept.replace
    alice.press("Forget me", ask)
    again = alice.press("Forget me", ask)
    assert "Already done" in again.plain_text()


def test_a_lead_who_forgets_themself_is_no_longer_a_lead(
    bot: StudyBot, lead: Chat, alice: Chat
) -> None:
    lead.send("/study setup leads=alice")
    ask = alice.send("/study forget").plain_text()
    assert "You will no longer be a lead of #C1" in ask
    done = alice.press("Forget me").plain_text()
    assert "now names no lead" not in done  # Lee created the group: still a lead
    with bot.store.transaction(read_only=True) as s:
        g = s.scalar(select(Group))
        assert g is not None and g.leads == [] and g.created_by == "lead"

    lead.send("/study setup leads=alice")  # Alice is gone: the name is unknown now
    assert "No member here is called alice" in lead.text()
    done = lead.press("Forget me", lead.send("/study forget")).plain_text()
    assert "#C1 now names no lead: channel admins can name one" in done
    with bot.store.transaction() as s:
        g = s.scalar(select(Group))
        assert g is not None and g.created_by == "" and g.leads == []
        assert pause_gone_group(s, g.id, "channel_not_found") is None  # nobody left to tell
    admin = Chat(bot, user="root", name="Root", admin=True)  # channel admins still lead
    assert "Study group updated" in admin.send("/study setup time=08:00").plain_text()
    lee_again = Chat(bot, user="lead", name="Lee")  # back, but no longer the creator
    lee_again.send("/study join")
    assert "Only a group lead" in lee_again.send("/study setup time=07:00").plain_text()


def test_a_gone_channel_tells_a_named_lead_when_the_creator_is_gone(
    bot: StudyBot, lead: Chat, alice: Chat
) -> None:
    lead.send("/study setup leads=alice")
    lead.press("Forget me", lead.send("/study forget"))
    with bot.store.transaction() as s:
        g = GroupRecord.all(s)[0]
        told = pause_gone_group(s, g.id, "channel_not_found")
    assert told is not None and told[0].user_id == "alice"


def test_mydata_timestamps_are_utc(bot: StudyBot, alice: Chat, clock: FakeClock) -> None:
    clock.now = datetime(2026, 3, 2, 23, 30, tzinfo=UTC)
    alice.send("/study check S3")
    assert exported(alice)["checklist"][0]["ticked_at"] == "2026-03-02T23:30:00+00:00"
