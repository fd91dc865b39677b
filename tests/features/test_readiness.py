"""The readiness estimate and the member's pace."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta

import pytest

from bot.cohort import calendar
from bot.content.models import Content
from bot.features.readiness import Answered, member_pace, next_steps, phase_done, readiness

NOW = datetime(2026, 3, 30, 12, tzinfo=UTC)


def _answers(
    content: Content, domain: str, right: int, wrong: int, at: datetime, *, section: bool = False
) -> list[Answered]:
    qs = [
        q
        for q in content.by_track["associate"]
        if (q.guide_section if section else q.domain) == domain
    ]
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
    for sec in track.guide_sections:  # 8 right, 2 wrong in every section, just now
        answers += _answers(content, sec.id, 8, 2, NOW, section=True)
    r = readiness(content, track, answers, NOW)
    # Beta(1 + 8, 1 + 2) per section: mean 0.75 everywhere, so the weighted mean is 0.75
    assert math.isclose(r.estimate, 0.75, abs_tol=1e-9)
    shares = [sec.weight / 100 for sec in track.guide_sections]
    assert [e.share for e in r.sections] == pytest.approx(shares)
    var = sum(s * s * (9 * 3) / (12**2 * 13) for s in shares) + 0.75 * 0.25 / 48
    assert math.isclose(r.high - r.estimate, 1.2816 * math.sqrt(var), rel_tol=1e-6)
    assert r.answered == 40
    assert 0.6 < r.chance < 0.9  # 0.75 against a 0.70 line, with that spread


def test_readiness_weighs_sections_as_the_guide_does(content: Content) -> None:
    """Strength in Databricks Machine Learning (38% of the exam) counts for twice what the
    same strength in Data Processing (19%) does."""
    track = content.track("associate")

    def strong_in(section: str) -> float:
        answers = _answers(content, section, 10, 0, NOW, section=True)
        for other in track.guide_sections:
            if other.id != section:
                answers += _answers(content, other.id, 5, 5, NOW, section=True)
        return readiness(content, track, answers, NOW).estimate

    base = 0.5  # Beta(6, 6) everywhere else
    lift_ml = strong_in("databricks-ml") - base
    lift_dp = strong_in("data-processing") - base
    assert math.isclose(lift_ml / lift_dp, 38 / 19, rel_tol=1e-9)


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
