"""Which question a group gets on a date: the daily rotation.

Deterministic for a group and a date; nothing repeats until the track's bank is used up;
the exam's domain weights are followed over four weeks, leaning to the group's weakest
domain. The clock and `/study today` both call `pick_question`, so they agree. The bank is
the group's view of it: the shipped questions and the group's own, as `setup own=` says.
"""

from __future__ import annotations

import hashlib
from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.cohort import calendar
from bot.content.models import Content, Question
from bot.errors import UserError
from bot.features import own_bank
from bot.store.models import Answer, DailyQuestion
from bot.store.records import GroupRecord

BALANCE_DAYS = 28  # daily questions follow the exam's domain weights over this window
LEAN = 0.2  # the share of the weights moved to the group's weakest domain
WEAK_LOOKBACK_DAYS = 28
MIN_WEAK_ANSWERS = 5


def pick_question(
    content: Content,
    s: Session,
    group: GroupRecord,
    day: date,
    excluded: frozenset[str] = frozenset(),
) -> Question:
    """Choose deterministically: least-used questions of the track first (so nothing repeats
    until the bank is used up); among them the phases reached so far, then the domain the
    week's posts owe most (`target_domain`), then the current phase, then a hash of group,
    date and id."""
    content = own_bank.view(s, content, group.id)
    excluded = own_bank.exclusions(content, group, excluded | content.retired)
    bank = [q for q in content.by_track.get(group.track, ()) if q.id not in excluded]
    if not bank:
        raise UserError(f"The question bank has no {group.track} questions yet.")
    used = dict(
        s.execute(
            select(DailyQuestion.question_id, func.count())
            .where(DailyQuestion.group_id == group.id)
            .group_by(DailyQuestion.question_id)
        ).all()
    )
    least = min(used.get(q.id, 0) for q in bank)
    pool = [q for q in bank if used.get(q.id, 0) == least]
    phase = calendar(content.phases, group.start_date, group.exam_date).phase_number_at(day)
    eligible = [q for q in pool if q.phase <= phase] or pool
    target = target_domain(content, s, group, day, {q.domain for q in eligible})
    in_domain = [q for q in eligible if q.domain == target] or eligible
    preferred = [q for q in in_domain if q.phase == phase] or in_domain

    def rank(q: Question) -> str:
        return hashlib.sha256(f"{group.id}:{day.isoformat()}:{q.id}".encode()).hexdigest()

    return min(preferred, key=rank)


def weakest_domain(content: Content, s: Session, group: GroupRecord, day: date) -> str | None:
    """The group's weakest domain on its daily answers of the last four weeks: the lowest
    accuracy smoothed by a Beta(1, 1) prior; None until the group has a few answers."""
    since = day - timedelta(days=WEAK_LOOKBACK_DAYS)
    rows = s.execute(
        select(Answer.question_id, Answer.correct).where(
            Answer.group_id == group.id, Answer.local_date >= since, Answer.local_date < day
        )
    ).all()
    track = content.track(group.track)
    tally = {d.id: [0, 0] for d in track.domains}
    for qid, correct in rows:
        q = content.by_id.get(qid)
        if q is not None and q.domain in tally:
            tally[q.domain][0] += int(bool(correct))
            tally[q.domain][1] += 1
    if sum(n for _, n in tally.values()) < MIN_WEAK_ANSWERS:
        return None
    order = {d.id: i for i, d in enumerate(track.domains)}
    return min(tally, key=lambda d: ((tally[d][0] + 1) / (tally[d][1] + 2), order[d]))


def target_domain(
    content: Content, s: Session, group: GroupRecord, day: date, available: set[str]
) -> str | None:
    """The domain today's question should come from: over the last four weeks of posts each
    domain gets its share of the exam weights, with `LEAN` of the whole moved to the group's
    weakest domain; the domain furthest below its share is due (heavier weight breaks ties).
    So every week carries each domain about as often as the exam does, leaning to the weak."""
    track = content.track(group.track)
    domains = [d for d in track.domains if d.id in available]
    if not domains:
        return None
    since = day - timedelta(days=BALANCE_DAYS - 1)
    recent = s.scalars(
        select(DailyQuestion.question_id).where(
            DailyQuestion.group_id == group.id,
            DailyQuestion.local_date >= since,
            DailyQuestion.local_date < day,
        )
    )
    counts = {d.id: 0 for d in domains}
    for qid in recent:
        q = content.by_id.get(qid)
        if q is not None and q.domain in counts:
            counts[q.domain] += 1
    total_w = sum(d.weight for d in domains) or 1.0
    weak = weakest_domain(content, s, group, day)
    lean = LEAN if weak in counts else 0.0
    share = {
        d.id: (1 - lean) * d.weight / total_w + (lean if d.id == weak else 0.0) for d in domains
    }
    slots = sum(counts.values()) + 1
    order = {d.id: i for i, d in enumerate(domains)}
    weights = {d.id: d.weight for d in domains}
    return max(counts, key=lambda d: (share[d] * slots - counts[d], weights[d], -order[d]))
