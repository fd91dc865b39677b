"""Choosing the daily question: exam weights and the weakest domain."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from bot.context import Ctx
from bot.core import StudyBot
from bot.features.daily import daily_for
from bot.features.rotation import target_domain, weakest_domain
from bot.store.models import Answer, DailyQuestion
from tests.helpers import Chat

NOW = datetime(2026, 3, 30, 12, tzinfo=UTC)


def _history(bot: StudyBot, chat: Chat, weak: str, missed: bool) -> list[str]:
    """Fifteen answered posts (five of them `weak`), then the next fourteen days' domains."""
    content = bot.content
    with bot.store.transaction() as s:
        ctx = Ctx(s=s, content=content, now=bot.clock(), who=chat.who)
        g = ctx.update_group(start_date=date(2026, 1, 1))
        bank = content.by_track["associate"]
        history = [q for q in bank if q.domain == weak][:5]
        history += [q for q in bank if q.domain != weak][:10]
        base = date(2026, 5, 1)
        for i, q in enumerate(history):
            row = daily_for(ctx, g, base + timedelta(days=i))
            row.question_id = q.id
            s.add(
                Answer(
                    workspace_id=g.workspace_id,
                    group_id=g.id,
                    daily_id=row.id,
                    user_id=ctx.user.id,
                    question_id=q.id,
                    choice="A",
                    correct=not (missed and q.domain == weak),
                    points=0,
                    local_date=row.local_date,
                    answered_at=NOW,
                )
            )
        s.flush()
        start = date(2026, 5, 20)
        assert (weakest_domain(content, s, g, start) == weak) is missed
        assert target_domain(content, s, g, start, set()) is None
        out = [
            content.by_id[daily_for(ctx, g, start + timedelta(days=i)).question_id].domain
            for i in range(14)
        ]
        rows = s.scalars(select(DailyQuestion).where(DailyQuestion.group_id == g.id)).all()
        assert len({r.question_id for r in rows}) == len(rows)  # still no repeats
    return out


def test_daily_questions_keep_exam_weights_over_weeks(bot: StudyBot, lead: Chat) -> None:
    content = bot.content
    with bot.store.transaction() as s:
        ctx = Ctx(s=s, content=content, now=bot.clock(), who=lead.who)
        # phase 4 by March: the whole bank is in reach
        g = ctx.update_group(start_date=date(2026, 1, 1))
        days = [date(2026, 6, 1) + timedelta(days=i) for i in range(70)]
        picked = [content.by_id[daily_for(ctx, g, d).question_id].domain for d in days]
    track = content.track("associate")
    total_w = sum(d.weight for d in track.domains)
    counts = Counter(picked)
    for d in track.domains:
        assert abs(counts[d.id] - 70 * d.weight / total_w) <= 1.5, (d.id, counts)
    for i in range(0, 70, 7):  # every week has every domain with a weight over 1/7
        week = Counter(picked[i : i + 7])
        assert week["model-training"] >= 1 and week["data-exploration"] >= 1


def test_daily_question_leans_to_the_weakest_domain(bot: StudyBot, lead: Chat) -> None:
    weak = "automl-platform"
    other = Chat(bot, user="lead", name="Lee", admin=True, channel="C2")
    other.send("/study setup track=associate start=2026-03-02 tz=UTC")
    with bot.store.transaction() as s:
        ctx = Ctx(s=s, content=bot.content, now=bot.clock(), who=lead.who)
        assert weakest_domain(bot.content, s, ctx.require_group(), date(2026, 6, 1)) is None
    leaned = _history(bot, lead, weak, missed=True)
    plain = _history(bot, other, weak, missed=False)
    assert leaned.count(weak) > plain.count(weak), (leaned, plain)
