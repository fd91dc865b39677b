"""`/study exam` (start, resume, flag, submit) and every mock exam button."""

from __future__ import annotations

import random
from collections.abc import Mapping
from datetime import timedelta

from sqlalchemy.exc import IntegrityError

from bot.context import Ctx
from bot.errors import UserError
from bot.features import own_bank
from bot.features.exam.attempt import (
    NO_SUCH,
    OPEN,
    ExamChoice,
    ExamQuestion,
    ExamRef,
    ReportPage,
    bank_of,
    expired,
    mine,
    open_attempt,
    question,
    row_at,
)
from bot.features.exam.draw import RECENT_DAYS, draw, recently_seen
from bot.features.exam.grading import close
from bot.features.exam.report import report
from bot.features.exam.screens import review_page, show
from bot.features.flags import pulled
from bot.registry import SLASH, Audience, Kind, Param, button, command
from bot.seam import Reply
from bot.store.models import ExamAnswer, ExamAttempt
from bot.store.records import GroupRecord
from bot.timeutil import as_utc
from bot.tracks import track_ids

WORDS = ("flag", "submit")  # what `exam` takes besides a track


@command(
    "exam",
    summary="A timed mock exam in your DMs; exam flag marks the question on screen",
    audience=Audience.MEMBER,
    params=(
        Param(
            "track",
            Kind.TRACK,
            "a track (default: the group's); or flag, or submit",
            choices=WORDS,
        ),
    ),
    details=(
        "The real exam's question count and time limit, as the track's exam guide sets "
        "them, drawn to the guide's section weights, avoiding questions you saw in the "
        "last 14 days. Answers can change until you submit; when time runs out the exam "
        "is submitted as it stands. One exam at a time; `/study exam` resumes it."
    ),
    examples=("/study exam", "/study exam {other_track}", "/study exam flag"),
)
def exam(ctx: Ctx, args: Mapping[str, str]) -> Reply:
    """`exam` starts or resumes; `exam flag` marks the question on screen; `exam submit`."""
    word = (args.get("track") or "").strip().lower()
    tracks = track_ids(ctx.content)
    if word and word not in (*tracks, *WORDS):
        raise UserError(
            f"Unknown exam option {word!r}. Use {', '.join(tracks)}, flag or submit: "
            f"`{SLASH} exam`, `{SLASH} exam flag`."
        )
    attempt = open_attempt(ctx.s, ctx.user.id)
    if attempt is not None and expired(attempt, ctx.now):
        close(ctx.s, ctx.content, attempt, ctx.now, expired=True)
        return report(
            ctx, attempt, 0, note=f"Time ran out, so your exam was submitted. New one: {SLASH} exam"
        )
    if attempt is not None:
        if word == "flag":
            return _toggle_flag(ctx, attempt, attempt.position)
        if word == "submit":
            return review_page(ctx, attempt)
        note = "Resuming your exam in progress."
        if word in tracks and word != attempt.track:
            note = (
                f"You have a {attempt.track} exam in progress; submit it before starting "
                f"another ({SLASH} exam submit)."
            )
        return show(ctx, attempt, attempt.position, note=note)
    if word in ("flag", "submit"):
        raise UserError(f"You have no exam in progress. Start one with `{SLASH} exam`.")
    g = ctx.require_group()
    ctx.ensure_member()
    return _start(ctx, g, word or g.track)


def _start(ctx: Ctx, g: GroupRecord, track_id: str) -> Reply:
    track = ctx.content.track(track_id)
    fmt = track.exam
    bank = ctx.bank  # the group's own questions join mock exams with `setup own_exam=on`
    excluded = own_bank.exclusions(
        bank, g, bank.retired | pulled(ctx.s, ctx.flag_threshold), exam=True
    )
    recent = recently_seen(ctx.s, ctx.user.id, ctx.now)
    rng = random.Random(f"exam:{ctx.user.id}:{ctx.now.isoformat()}")
    picked = draw(bank, track, fmt.questions, recent, excluded, rng)
    if not picked:
        raise UserError(f"The question bank has no {track.id} questions yet.")
    now = as_utc(ctx.now)
    attempt = ExamAttempt(
        workspace_id=ctx.workspace.id,
        group_id=g.id,
        user_id=ctx.user.id,
        track=track.id,
        guide=fmt.guide,
        question_ids=[q.id for q in picked],
        minutes=fmt.minutes,
        passing=fmt.passing,
        status=OPEN,
        position=0,
        started_at=now,
        deadline=now + timedelta(minutes=fmt.minutes),
        finished_at=None,
        correct=None,
        total=len(picked),
    )
    try:
        with ctx.s.begin_nested():
            ctx.s.add(attempt)
            ctx.s.flush()
    except IntegrityError:  # another process started one a moment ago
        raise UserError(f"You already have an exam in progress: `{SLASH} exam` shows it.") from None
    ctx.s.add_all(
        ExamAnswer(
            workspace_id=ctx.workspace.id,
            attempt_id=attempt.id,
            user_id=ctx.user.id,
            position=i,
            question_id=q.id,
            domain=q.domain,
            choice="",
            flagged=False,
            shown_at=None,
            answered_at=None,
            correct=None,
        )
        for i, q in enumerate(picked)
    )
    ctx.s.flush()
    fresh = sum(1 for q in picked if q.id not in recent)
    shape = f"{len(picked)} questions in {fmt.minutes} minutes"
    if len(picked) < fmt.questions:
        shape += f" (the bank allows {len(picked)} of the real exam's {fmt.questions})"
    note = (
        f"Mock exam started: {shape}, drawn to the {track.name} exam weights; "
        f"{fresh} of them not seen in the last {RECENT_DAYS} days. Change answers until you "
        f"submit; {SLASH} exam resumes, {SLASH} exam flag marks a question."
    )
    return show(ctx, attempt, 0, note=note)


# --------------------------------------------------------------------------- buttons


def _replace(reply: Reply) -> Reply:
    return Reply(reply.blocks, reply.visibility, replace=True)


def _in_progress(ctx: Ctx, attempt_id: int) -> tuple[ExamAttempt, Reply | None]:
    """The caller's attempt, and the report instead when it is closed or just timed out."""
    attempt = mine(ctx, attempt_id)
    if expired(attempt, ctx.now):
        close(ctx.s, ctx.content, attempt, ctx.now, expired=True)
        note = "Time is up: your exam was submitted automatically."
        return attempt, report(ctx, attempt, 0, note=note)
    if attempt.status != OPEN:
        return attempt, report(ctx, attempt, 0, note="This exam is already submitted.")
    return attempt, None


def _at(ctx: Ctx, attempt_id: int, position: int) -> tuple[ExamAttempt, Reply | None]:
    attempt, closed = _in_progress(ctx, attempt_id)
    if closed is None and not 0 <= position < attempt.total:
        raise UserError(NO_SUCH)
    return attempt, closed


@button(ReportPage)
def report_page(ctx: Ctx, v: ReportPage) -> Reply:
    attempt = mine(ctx, v.attempt)
    if attempt.status == OPEN and not expired(attempt, ctx.now):
        raise UserError("That exam is still in progress.")
    if attempt.status == OPEN:
        close(ctx.s, ctx.content, attempt, ctx.now, expired=True)
    return _replace(report(ctx, attempt, v.page))


@button(ExamRef, "exam.submit")
def review_before_submit(ctx: Ctx, v: ExamRef) -> Reply:
    attempt, closed = _in_progress(ctx, v.attempt)
    return closed or _replace(review_page(ctx, attempt))


@button(ExamRef, "exam.confirm")
def submit(ctx: Ctx, v: ExamRef) -> Reply:
    attempt, closed = _in_progress(ctx, v.attempt)
    if closed is not None:
        return closed
    close(ctx.s, ctx.content, attempt, ctx.now, expired=False)
    return report(ctx, attempt, 0)


@button(ExamQuestion, "exam.go")
def go(ctx: Ctx, v: ExamQuestion) -> Reply:
    attempt, closed = _at(ctx, v.attempt, v.position)
    return closed or _replace(show(ctx, attempt, v.position))


@button(ExamQuestion, "exam.flag")
def flag(ctx: Ctx, v: ExamQuestion) -> Reply:
    attempt, closed = _at(ctx, v.attempt, v.position)
    return closed or _replace(_toggle_flag(ctx, attempt, v.position))


@button(ExamChoice)
def pick(ctx: Ctx, v: ExamChoice) -> Reply:
    attempt, closed = _at(ctx, v.attempt, v.position)
    if closed is not None:
        return closed
    position = v.position
    row = row_at(ctx.s, attempt, position)
    q = question(bank_of(ctx, attempt), row.question_id)
    selection = "".join(sorted(set(v.selection.upper())))
    valid = q.letters()
    if any(ch not in valid for ch in selection) or (not selection and not q.multi):
        raise UserError(f"Choose from {', '.join(valid)}.")
    if q.multi and len(selection) > len(q.answer):
        raise UserError(
            f"This question needs {len(q.answer)} choices; untick one before picking another."
        )
    row.choice = selection
    row.answered_at = as_utc(ctx.now) if selection else None
    if q.multi or position + 1 >= attempt.total:
        reply = show(ctx, attempt, position, note=f"Saved: {selection or 'no answer'}.")
    else:
        reply = show(
            ctx, attempt, position + 1, note=f"Saved {selection} for question {position + 1}."
        )
    return _replace(reply)


def _toggle_flag(ctx: Ctx, attempt: ExamAttempt, position: int) -> Reply:
    row = row_at(ctx.s, attempt, position)
    row.flagged = not row.flagged
    state = "Flagged" if row.flagged else "Unflagged"
    return show(ctx, attempt, position, note=f"{state} question {position + 1} for review.")
