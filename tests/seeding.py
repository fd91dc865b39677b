"""Seed members and their answers straight into the store, shaped as the core writes them,
for tests that need dozens of members (a lead's report, question statistics)."""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import insert, select

from bot.content.models import Content, Question
from bot.core import StudyBot
from bot.store.db import Store
from bot.store.models import (
    Answer,
    DailyQuestion,
    ExamAnswer,
    ExamAttempt,
    Group,
    Membership,
    QuizAnswer,
    QuizSession,
    ReviewAnswer,
    ReviewSession,
    User,
)

T0 = datetime(2026, 3, 2, 10, tzinfo=UTC)
Picks = Sequence[tuple[Question, str]]  # a question and the selection picked ("B", "AC")


def group_id(store: Store, channel: str = "C1") -> tuple[int, int]:
    """The (group id, workspace id) of a channel's group."""
    with store.transaction(read_only=True) as s:
        row = s.execute(select(Group.id, Group.workspace_id).where(Group.channel_id == channel))
        gid, wid = row.one()
    return int(gid), int(wid)


def add_members(
    store: Store, gid: int, names: Sequence[str], joined: datetime, prefix: str = "s"
) -> list[int]:
    """Active members of the group, by display name; their user ids, in order."""
    with store.transaction() as s:
        wid = s.scalar(select(Group.workspace_id).where(Group.id == gid))
        ids = []
        for i, name in enumerate(names):
            uid = s.execute(
                insert(User).returning(User.id),
                {
                    "workspace_id": wid,
                    "external_id": f"{prefix}{i:03d}",
                    "display_name": name,
                    "tz": None,
                    "dm_enabled": True,
                    "created_at": joined,
                },
            ).scalar_one()
            s.execute(
                insert(Membership),
                {
                    "workspace_id": wid,
                    "group_id": gid,
                    "user_id": uid,
                    "active": True,
                    "joined_at": joined,
                },
            )
            ids.append(int(uid))
    return ids


def _workspace(s: Any, gid: int) -> int:
    return int(s.scalar(select(Group.workspace_id).where(Group.id == gid)))


def quiz(store: Store, gid: int, uid: int, picks: Picks, at: datetime) -> None:
    """A practice set answered in order, a minute apart."""
    with store.transaction() as s:
        wid = _workspace(s, gid)
        sid = s.execute(
            insert(QuizSession).returning(QuizSession.id),
            {
                "workspace_id": wid,
                "group_id": gid,
                "user_id": uid,
                "question_ids": [q.id for q, _ in picks],
                "created_at": at,
            },
        ).scalar_one()
        rows = [
            {
                "workspace_id": wid,
                "group_id": gid,
                "session_id": sid,
                "user_id": uid,
                "position": i,
                "question_id": q.id,
                "choice": choice,
                "correct": q.is_correct(choice),
                "points": 0,
                "local_date": (at + timedelta(minutes=i)).date(),
                "answered_at": at + timedelta(minutes=i),
            }
            for i, (q, choice) in enumerate(picks)
        ]
        if rows:
            s.execute(insert(QuizAnswer), rows)


def review(store: Store, gid: int, uid: int, picks: Picks, at: datetime) -> None:
    with store.transaction() as s:
        wid = _workspace(s, gid)
        sid = s.execute(
            insert(ReviewSession).returning(ReviewSession.id),
            {
                "workspace_id": wid,
                "group_id": gid,
                "user_id": uid,
                "question_ids": [q.id for q, _ in picks],
                "created_at": at,
            },
        ).scalar_one()
        s.execute(
            insert(ReviewAnswer),
            [
                {
                    "workspace_id": wid,
                    "session_id": sid,
                    "user_id": uid,
                    "position": i,
                    "question_id": q.id,
                    "choice": choice,
                    "correct": q.is_correct(choice),
                    "answered_at": at + timedelta(minutes=i),
                }
                for i, (q, choice) in enumerate(picks)
            ],
        )


def daily(store: Store, gid: int, uid: int, q: Question, choice: str, at: datetime) -> None:
    """An answer to the group's question of `at`'s date (the question made so if needed)."""
    with store.transaction() as s:
        wid = _workspace(s, gid)
        did = s.scalar(
            select(DailyQuestion.id).where(
                DailyQuestion.group_id == gid, DailyQuestion.local_date == at.date()
            )
        )
        if did is None:
            did = s.execute(
                insert(DailyQuestion).returning(DailyQuestion.id),
                {
                    "workspace_id": wid,
                    "group_id": gid,
                    "local_date": at.date(),
                    "question_id": q.id,
                    "created_at": at,
                },
            ).scalar_one()
        right = q.is_correct(choice)
        s.execute(
            insert(Answer),
            {
                "workspace_id": wid,
                "group_id": gid,
                "daily_id": did,
                "user_id": uid,
                "question_id": q.id,
                "choice": choice,
                "correct": right,
                "points": 15 if right else 0,
                "local_date": at.date(),
                "answered_at": at,
            },
        )


def exam(
    store: Store, gid: int, uid: int, picks: Picks, at: datetime, status: str = "submitted"
) -> None:
    """A mock exam; a pick of "" is a question left blank."""
    with store.transaction() as s:
        wid = _workspace(s, gid)
        closed = status != "open"
        aid = s.execute(
            insert(ExamAttempt).returning(ExamAttempt.id),
            {
                "workspace_id": wid,
                "group_id": gid,
                "user_id": uid,
                "track": picks[0][0].track,
                "guide": "test",
                "question_ids": [q.id for q, _ in picks],
                "minutes": 90,
                "passing": None,
                "status": status,
                "position": 0,
                "started_at": at,
                "deadline": at + timedelta(minutes=90),
                "finished_at": at + timedelta(minutes=60) if closed else None,
                "correct": sum(q.is_correct(c) for q, c in picks if c) if closed else None,
                "total": len(picks),
            },
        ).scalar_one()
        s.execute(
            insert(ExamAnswer),
            [
                {
                    "workspace_id": wid,
                    "attempt_id": aid,
                    "user_id": uid,
                    "position": i,
                    "question_id": q.id,
                    "domain": q.domain,
                    "choice": choice,
                    "flagged": False,
                    "shown_at": at + timedelta(minutes=i),
                    "answered_at": at + timedelta(minutes=i) if choice else None,
                    "correct": (bool(choice) and q.is_correct(choice)) if closed else None,
                }
                for i, (q, choice) in enumerate(picks)
            ],
        )


def join(store: Store, gid: int, uid: int, at: datetime) -> None:
    """An existing member joins another group of the workspace."""
    with store.transaction() as s:
        s.execute(
            insert(Membership),
            {
                "workspace_id": _workspace(s, gid),
                "group_id": gid,
                "user_id": uid,
                "active": True,
                "joined_at": at,
            },
        )


def singles(content: Content, n: int, skip: int = 0) -> list[Question]:
    return [q for q in content.by_track["associate"] if not q.multi][skip : skip + n]


def distractor(q: Question, k: int = 0) -> str:
    return [x for x in q.letters() if x not in q.answer][k]


def seed_wrong_key(
    bot: StudyBot,
    content: Content,
    strong: int,
    weak: int,
    prefix: str = "s",
    channel: str = "C1",
    at: datetime = T0,
) -> tuple[Question, list[Question], list[int]]:
    """Strong members get every question right but one, and three in four of them pick
    one distractor of the target question; weak members answer at random. Returns the
    target, all questions and the member ids (strong first)."""
    qs = singles(content, 12)
    target = qs[0]
    gid, _ = group_id(bot.store, channel)
    names = [f"Strong {i}" for i in range(strong)] + [f"Weak {i}" for i in range(weak)]
    ids = add_members(bot.store, gid, names, at - timedelta(days=1), prefix)
    rng = random.Random(16)
    for i, uid in enumerate(ids):
        picks: list[tuple[Question, str]] = []
        for j, q in enumerate(qs):
            if i >= strong:
                choice = rng.choice(q.letters())
            elif q is target:
                choice = distractor(q) if i % 4 != 3 else q.answer[0]
            else:
                choice = distractor(q, 1) if j == 1 + i % (len(qs) - 1) else q.answer[0]
            picks.append((q, choice))
        quiz(bot.store, gid, uid, picks, at + timedelta(hours=i))
    return target, qs, ids
