"""The learning engine's pure parts: exam drawing, readiness, pacing, charts, daily lean."""

from __future__ import annotations

import io
import math
import random
from collections import Counter
from datetime import UTC, date, datetime, timedelta

from fsrs import Card, Rating, State
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image as PILImage
from sqlalchemy import select

from bot.charts import DomainBar, leaderboard_chart, progress_chart
from bot.cohort import calendar
from bot.content.models import Content
from bot.context import Ctx
from bot.core import StudyBot
from bot.features.daily import daily_for
from bot.features.exam.draw import draw, quotas
from bot.features.readiness import Answered, member_pace, next_steps, phase_done, readiness
from bot.features.review_cards import SCHEDULER, first_review
from bot.features.rotation import target_domain, weakest_domain
from bot.store.models import Answer, DailyQuestion
from tests.helpers import Chat

NOW = datetime(2026, 3, 30, 12, tzinfo=UTC)


# ------------------------------------------------------------------ exam drawing


def test_quotas_sum_to_n_and_follow_weights_on_average(content: Content) -> None:
    for track in content.tracks:
        n = track.exam.questions
        total_w = sum(d.weight for d in track.domains)
        sums: Counter[str] = Counter()
        runs = 2000
        rng = random.Random(7)
        for _ in range(runs):
            q = quotas(track, n, rng)
            assert sum(q.values()) == n
            for d in track.domains:
                exact = n * d.weight / total_w
                assert math.floor(exact) <= q[d.id] <= math.ceil(exact)
            sums.update(q)
        for d in track.domains:
            assert abs(sums[d.id] / runs - n * d.weight / total_w) < 0.05, d.id


def test_drawn_exams_match_the_weights_over_many_draws(content: Content) -> None:
    track = content.track("associate")
    total_w = sum(d.weight for d in track.domains)
    counts: Counter[str] = Counter()
    runs = 300
    for seed in range(runs):
        picked = draw(content, track, 48, set(), frozenset(), random.Random(seed))
        assert len(picked) == 48 and len({q.id for q in picked}) == 48
        assert all(q.track == "associate" for q in picked)
        counts.update(q.domain for q in picked)
    for d in track.domains:
        share = counts[d.id] / (48 * runs)
        assert abs(share - d.weight / total_w) < 0.005, (d.id, share)


def test_drawing_avoids_recent_questions_where_the_bank_allows(content: Content) -> None:
    track = content.track("associate")
    bank = content.by_track["associate"]
    by_domain = Counter(q.domain for q in bank)
    # everything but 5 of each domain was seen lately: the 25 unseen come first
    recent: set[str] = set()
    kept: Counter[str] = Counter()
    for q in bank:
        if kept[q.domain] < 5:
            kept[q.domain] += 1
        else:
            recent.add(q.id)
    assert sum(by_domain.values()) - len(recent) == 25
    picked = draw(content, track, 48, recent, frozenset(), random.Random(1))
    fresh = [q for q in picked if q.id not in recent]
    assert len(picked) == 48
    assert len(fresh) == 25  # all unseen ones used, the rest filled from the seen ones


def test_drawing_never_uses_excluded_questions(content: Content) -> None:
    track = content.track("professional")
    bank = content.by_track["professional"]
    excluded = frozenset(q.id for q in bank if q.domain == "model-deployment")
    picked = draw(content, track, 59, set(), excluded, random.Random(3))
    assert len(picked) == 59
    assert not {q.id for q in picked} & excluded  # the seats went to the other domains


# ------------------------------------------------------------------ readiness


def _answers(content: Content, domain: str, right: int, wrong: int, at: datetime) -> list[Answered]:
    qs = [q for q in content.by_track["associate"] if q.domain == domain]
    out = [Answered(q.id, True, at) for q in qs[:right]]
    out += [Answered(q.id, False, at) for q in qs[right : right + wrong]]
    return out


def test_readiness_without_answers_is_half_with_a_wide_interval(content: Content) -> None:
    r = readiness(content, content.track("associate"), [], NOW)
    assert r.estimate == 0.5 and r.answered == 0
    assert r.low < 0.35 and r.high > 0.65


def test_readiness_on_a_known_answer_set(content: Content) -> None:
    track = content.track("associate")
    answers: list[Answered] = []
    for d in track.domains:  # 8 right, 2 wrong in every domain, all answered just now
        answers += _answers(content, d.id, 8, 2, NOW)
    r = readiness(content, track, answers, NOW)
    # Beta(1 + 8, 1 + 2) per domain: mean 0.75 everywhere, so the weighted mean is 0.75
    assert math.isclose(r.estimate, 0.75, abs_tol=1e-9)
    shares = [d.weight / sum(x.weight for x in track.domains) for d in track.domains]
    var = sum(s * s * (9 * 3) / (12**2 * 13) for s in shares) + 0.75 * 0.25 / 48
    assert math.isclose(r.high - r.estimate, 1.2816 * math.sqrt(var), rel_tol=1e-6)
    assert r.answered == 50
    assert 0.6 < r.chance < 0.9  # 0.75 against a 0.70 line, with that spread


def test_recent_answers_weigh_more(content: Content) -> None:
    track = content.track("associate")
    d = track.domains[0].id
    old_wrong = _answers(content, d, 0, 6, NOW - timedelta(days=42))
    new_right = _answers(content, d, 6, 0, NOW)
    # the same six answers, right ones recent: the estimate for the domain is high
    r = readiness(content, track, [*old_wrong, *new_right], NOW)
    est = r.domains[0]
    assert math.isclose(est.alpha, 7.0) and math.isclose(est.beta, 1 + 6 * 0.125)
    assert est.mean > 0.75
    flipped = readiness(
        content,
        track,
        [
            *_answers(content, d, 6, 0, NOW - timedelta(days=42)),
            *_answers(content, d, 0, 6, NOW),
        ],
        NOW,
    )
    assert flipped.domains[0].mean < 0.25
    # answers beyond 90 days do not count at all
    ancient = readiness(content, track, _answers(content, d, 0, 6, NOW - timedelta(days=91)), NOW)
    assert ancient.answered == 0


# ------------------------------------------------------------------ pacing


def test_pace_on_track_behind_and_ahead(content: Content) -> None:
    start = date(2026, 3, 2)
    cal = calendar(content.phases, start, None)  # phases of 21, 28, 28, 21 days
    track = content.track("associate")
    nothing = phase_done(content, track, cal, set(), [])
    assert member_pace(cal, start, nothing).label == "on track"
    assert member_pace(cal, start + timedelta(days=10), nothing).label == "10 days behind"
    phase1 = {q.id for q in content.by_track["associate"] if q.phase == 1}
    all_items = {it.id.upper() for it in content.phases[0].checklist}
    done = phase_done(content, track, cal, all_items, phase1)
    assert done[1] == 1.0
    p = member_pace(cal, start + timedelta(days=10), done)
    assert p.label == "11 days ahead" and p.actual_phase == 2 and p.expected_phase == 1
    half = phase_done(content, track, cal, set(), phase1)  # questions without the checklist
    assert half[1] == 0.5
    assert member_pace(cal, start + timedelta(days=10), half).label == "on track"  # 10.5 vs 10
    assert "starts on" in member_pace(cal, start - timedelta(days=3), nothing).label


def test_next_three_things(content: Content) -> None:
    track = content.track("associate")
    steps = next_steps(content.phases, set(), 2, 4, track.domains[2], False)
    assert len(steps) == 3
    assert steps[0] == (f"Catch up: {content.phases[0].checklist[0].text}", "check F1-1")
    late = next_steps(
        content.phases,
        {it.id.upper() for ph in content.phases[:2] for it in ph.checklist},
        2,
        4,
        track.domains[2],
        True,
    )
    assert late == [
        ("Review your 4 due cards", "review"),
        (f"Practise your weakest domain, {track.domains[2].name}", f"quiz {track.domains[2].id}"),
        ("Sit a timed mock exam", "exam"),
    ]


# ------------------------------------------------------------------ charts


def _check_png(png: bytes) -> tuple[int, int]:
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert len(png) < 200_000
    with PILImage.open(io.BytesIO(png)) as im:
        im.verify()
    with PILImage.open(io.BytesIO(png)) as im:
        return im.size


def test_progress_chart_is_a_small_valid_png() -> None:
    bars = [DomainBar(f"Domain number {i} with a long name", i / 5, i * 3) for i in range(5)]
    bars.append(DomainBar("Unanswered", None, 0))
    weeks = [(f"{d:02d} Mar", d * 7) for d in range(8)]
    w, h = _check_png(progress_chart(bars, 0.7, weeks))
    assert (w, h) == (800, 420)


def test_leaderboard_chart_is_a_small_valid_png() -> None:
    rows = [(f"Member {i} 👩‍💻 <@everyone> $x", 200 - i * 15) for i in range(12)]
    w, h = _check_png(leaderboard_chart(rows))
    assert w == 600 and h < 600
    assert _check_png(leaderboard_chart([]))[0] == 600


# ------------------------------------------------------------------ daily lean


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


@given(
    rating=st.sampled_from(list(Rating)),
    when=st.datetimes(
        min_value=datetime(2020, 1, 1), max_value=datetime(2040, 1, 1), timezones=st.just(UTC)
    ),
)
def test_a_first_review_is_what_fsrs_itself_computes(rating: Rating, when: datetime) -> None:
    new = Card(card_id=0, state=State.Learning, step=0, due=when)
    expected, _log = SCHEDULER.review_card(new, rating, review_datetime=when)
    got = first_review(rating, when)
    assert (got.state, got.step, got.stability, got.difficulty) == (
        expected.state,
        expected.step,
        expected.stability,
        expected.difficulty,
    )
    assert (got.due, got.last_review) == (expected.due, expected.last_review)
    assert first_review(rating, when) is not got  # each caller gets its own card
