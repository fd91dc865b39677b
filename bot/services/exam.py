"""Timed mock exams shaped like the real one, run privately (DMs, or the terminal).

The track's question count and time limit come from the content; the questions are drawn
to the domain weights (the midpoints of the guide's ranges), avoiding questions the member
saw in the last 14 days where the bank allows. Every bit of state lives in the store, so an
exam survives a restart: the deadline is checked whenever the member acts, and the clock
calls `close_expired_exams` to submit the ones whose time ran out while nobody acted.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.commands import SLASH, TRACKS
from bot.content.models import Content, Question, Track
from bot.errors import UserError
from bot.seam import (
    Block,
    Button,
    Buttons,
    ButtonStyle,
    Context,
    Field,
    Fields,
    Heading,
    Paragraph,
    Reply,
    Span,
    Visibility,
    bold,
    code,
    text,
)
from bot.services import review
from bot.services.context import Ctx
from bot.services.flags import pulled
from bot.services.readiness import PRACTICE_LINE
from bot.store.learning import ExamAnswer, ExamAttempt, ReviewAnswer
from bot.store.models import Answer, Group, QuizAnswer, User, Workspace
from bot.store.rows import GroupLike
from bot.timeutil import as_utc, fmt_date

RECENT_DAYS = 14
MISSED_PER_PAGE = 3
JUMP_BUTTONS = 5

PICK = "exam.pick"  # value "<attempt>.<position>:<selection>"
GO = "exam.go"  # value "<attempt>.<position>"
FLAG = "exam.flag"  # value "<attempt>.<position>"
SUBMIT = "exam.submit"  # value "<attempt>": the review-before-submit page
CONFIRM = "exam.confirm"  # value "<attempt>"
REPORT = "exam.report"  # value "<attempt>:<page>"
ACTIONS = (PICK, GO, FLAG, SUBMIT, CONFIRM, REPORT)

OPEN, SUBMITTED, EXPIRED = "open", "submitted", "expired"


# --------------------------------------------------------------------------- drawing


def quotas(track: Track, n: int, rng: random.Random) -> dict[str, int]:
    """Questions per domain: the whole parts of n × weight, and the leftover seats by
    systematic sampling on the fractional parts, so each domain's expected count is exactly
    n × its weight share."""
    total = sum(d.weight for d in track.domains)
    exact = {d.id: n * d.weight / total for d in track.domains}
    out = {k: int(v) for k, v in exact.items()}
    fracs = [(k, exact[k] - out[k]) for k in exact]
    seats = n - sum(out.values())
    if seats > 0:
        u = rng.random()
        points = [u + i for i in range(seats)]
        cum = 0.0
        for k, f in fracs:
            lo, cum = cum, cum + f
            out[k] += sum(1 for p in points if lo <= p < cum)
        short = n - sum(out.values())  # rounding at the very end of the interval
        for k, _f in sorted(fracs, key=lambda x: -x[1])[:short]:
            out[k] += 1
    return out


def draw(
    content: Content,
    track: Track,
    n: int,
    recent: set[str],
    excluded: frozenset[str],
    rng: random.Random,
) -> list[Question]:
    """n questions to the domain weights; unseen-lately first within each domain; a domain
    short of questions hands its seats to the others."""
    bank = [q for q in content.by_track.get(track.id, ()) if q.id not in excluded]
    by_domain: dict[str, list[Question]] = defaultdict(list)
    for q in bank:
        by_domain[q.domain].append(q)
    ordered: dict[str, list[Question]] = {}
    for d in track.domains:
        fresh = [q for q in by_domain[d.id] if q.id not in recent]
        stale = [q for q in by_domain[d.id] if q.id in recent]
        rng.shuffle(fresh)
        rng.shuffle(stale)
        ordered[d.id] = fresh + stale
    want = quotas(track, min(n, len(bank)), rng)
    picked: list[Question] = []
    spare = 0
    for d in track.domains:
        take = ordered[d.id][: want[d.id]]
        spare += want[d.id] - len(take)
        picked += take
        ordered[d.id] = ordered[d.id][len(take) :]
    if spare:
        rest = [q for d in track.domains for q in ordered[d.id]]
        rest.sort(key=lambda q: q.id in recent)  # fresh ones first
        picked += rest[:spare]
    rng.shuffle(picked)
    return picked


def recently_seen(s: Session, user_id: int, now: datetime) -> set[str]:
    since = as_utc(now) - timedelta(days=RECENT_DAYS)
    seen: set[str] = set()
    for col, when, owner in (
        (Answer.question_id, Answer.answered_at, Answer.user_id),
        (QuizAnswer.question_id, QuizAnswer.answered_at, QuizAnswer.user_id),
        (ReviewAnswer.question_id, ReviewAnswer.answered_at, ReviewAnswer.user_id),
    ):
        seen.update(s.scalars(select(col).where(owner == user_id, when >= since)))
    seen.update(
        s.scalars(
            select(ExamAnswer.question_id)
            .join(ExamAttempt, ExamAttempt.id == ExamAnswer.attempt_id)
            .where(
                ExamAttempt.user_id == user_id,
                ExamAttempt.started_at >= since,
                ExamAnswer.shown_at.is_not(None),  # drawn but never shown is not seen
            )
        )
    )
    return seen


# --------------------------------------------------------------------------- the command


def exam(ctx: Ctx, args: Mapping[str, str]) -> Reply:
    """`exam` starts or resumes; `exam flag` marks the question on screen; `exam submit`."""
    word = (args.get("track") or "").strip().lower()
    if word and word not in (*TRACKS, "flag", "submit"):
        raise UserError(
            f"Unknown exam option {word!r}. Use associate, professional, flag or submit: "
            f"`{SLASH} exam`, `{SLASH} exam flag`."
        )
    attempt = open_attempt(ctx.s, ctx.user.id)
    if attempt is not None and _expired(attempt, ctx.now):
        close(ctx.s, ctx.content, attempt, ctx.now, expired=True)
        return _report(
            ctx, attempt, 0, note=f"Time ran out, so your exam was submitted. New one: {SLASH} exam"
        )
    if attempt is not None:
        if word == "flag":
            return _toggle_flag(ctx, attempt, attempt.position)
        if word == "submit":
            return _review_page(ctx, attempt)
        note = "Resuming your exam in progress."
        if word in TRACKS and word != attempt.track:
            note = (
                f"You have a {attempt.track} exam in progress; submit it before starting "
                f"another ({SLASH} exam submit)."
            )
        return _show(ctx, attempt, attempt.position, note=note)
    if word in ("flag", "submit"):
        raise UserError(f"You have no exam in progress. Start one with `{SLASH} exam`.")
    g = ctx.require_group()
    ctx.ensure_member()
    return _start(ctx, g, word or g.track)


def _start(ctx: Ctx, g: GroupLike, track_id: str) -> Reply:
    track = ctx.content.track(track_id)
    fmt = track.exam
    excluded = ctx.content.stale | pulled(ctx.s, ctx.flag_threshold)
    recent = recently_seen(ctx.s, ctx.user.id, ctx.now)
    rng = random.Random(f"exam:{ctx.user.id}:{ctx.now.isoformat()}")
    picked = draw(ctx.content, track, fmt.questions, recent, excluded, rng)
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
    return _show(ctx, attempt, 0, note=note)


def expire_mine(ctx: Ctx) -> None:
    """Submit the caller's exam if its time ran out (run before reports that count it)."""
    attempt = open_attempt(ctx.s, ctx.user.id)
    if attempt is not None and _expired(attempt, ctx.now):
        close(ctx.s, ctx.content, attempt, ctx.now, expired=True)


def after_exam_check(
    handler: Callable[[Ctx, Mapping[str, str]], Reply],
) -> Callable[[Ctx, Mapping[str, str]], Reply]:
    """A command handler that first submits the caller's timed-out exam, if any."""

    def run(ctx: Ctx, args: Mapping[str, str]) -> Reply:
        expire_mine(ctx)
        return handler(ctx, args)

    run.__doc__ = handler.__doc__
    return run


def open_attempt(s: Session, user_id: int) -> ExamAttempt | None:
    return s.scalar(
        select(ExamAttempt).where(ExamAttempt.user_id == user_id, ExamAttempt.status == OPEN)
    )


def _expired(attempt: ExamAttempt, now: datetime) -> bool:
    return attempt.status == OPEN and as_utc(now) >= as_utc(attempt.deadline)


# --------------------------------------------------------------------------- buttons


def press(ctx: Ctx, action_id: str, value: str) -> Reply:
    """Every exam button. Presses may come from a DM, so none of them needs a group."""
    head, _, tail = value.partition(":")
    aid, _, pos_raw = head.partition(".")
    if not aid.isdigit():
        raise UserError(f"That button is no longer valid. `{SLASH} exam` shows your exam.")
    attempt = ctx.s.get(ExamAttempt, int(aid))
    if attempt is None or not _owns(ctx, attempt):
        raise UserError(f"That exam belongs to someone else. Yours: `{SLASH} exam`.")
    if action_id == REPORT:
        if attempt.status == OPEN and not _expired(attempt, ctx.now):
            raise UserError("That exam is still in progress.")
        if attempt.status == OPEN:
            close(ctx.s, ctx.content, attempt, ctx.now, expired=True)
        page = int(tail) if tail.isdigit() else 0
        return _replace(_report(ctx, attempt, page))
    if _expired(attempt, ctx.now):
        close(ctx.s, ctx.content, attempt, ctx.now, expired=True)
        return _report(ctx, attempt, 0, note="Time is up: your exam was submitted automatically.")
    if attempt.status != OPEN:
        return _report(ctx, attempt, 0, note="This exam is already submitted.")
    if action_id == SUBMIT:
        return _replace(_review_page(ctx, attempt))
    if action_id == CONFIRM:
        close(ctx.s, ctx.content, attempt, ctx.now, expired=False)
        return _report(ctx, attempt, 0)
    if not pos_raw.isdigit() or int(pos_raw) >= attempt.total:
        raise UserError("That exam has no such question.")
    position = int(pos_raw)
    if action_id == GO:
        return _replace(_show(ctx, attempt, position))
    if action_id == FLAG:
        return _replace(_toggle_flag(ctx, attempt, position))
    if action_id == PICK:
        return _replace(_pick(ctx, attempt, position, tail))
    raise UserError("That button is no longer supported. Try the command again.")


def _owns(ctx: Ctx, attempt: ExamAttempt) -> bool:
    """The presser is the exam's member. Compared by platform and platform user id, not by
    workspace row: a press in a DM may arrive under another workspace id (Discord DMs have
    no guild), and the exam must still answer its owner."""
    owner = ctx.s.get(User, attempt.user_id)
    ws = ctx.s.get(Workspace, attempt.workspace_id)
    return (
        owner is not None
        and ws is not None
        and owner.external_id == ctx.who.user_id
        and ws.platform == ctx.who.platform
    )


def _replace(reply: Reply) -> Reply:
    return Reply(reply.blocks, reply.visibility, replace=True)


def _row(s: Session, attempt: ExamAttempt, position: int) -> ExamAnswer:
    row = s.scalar(
        select(ExamAnswer).where(
            ExamAnswer.attempt_id == attempt.id, ExamAnswer.position == position
        )
    )
    if row is None:
        raise UserError("That exam has no such question.")
    return row


def _question(content: Content, qid: str) -> Question:
    q = content.by_id.get(qid)
    if q is None:
        raise UserError("That question has been retired from the bank.")
    return q


def _pick(ctx: Ctx, attempt: ExamAttempt, position: int, raw: str) -> Reply:
    row = _row(ctx.s, attempt, position)
    q = _question(ctx.content, row.question_id)
    selection = "".join(sorted(set(raw.upper())))
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
        return _show(ctx, attempt, position, note=f"Saved: {selection or 'no answer'}.")
    return _show(ctx, attempt, position + 1, note=f"Saved {selection} for question {position + 1}.")


def _toggle_flag(ctx: Ctx, attempt: ExamAttempt, position: int) -> Reply:
    row = _row(ctx.s, attempt, position)
    row.flagged = not row.flagged
    state = "Flagged" if row.flagged else "Unflagged"
    return _show(ctx, attempt, position, note=f"{state} question {position + 1} for review.")


# --------------------------------------------------------------------------- showing


def _tz(ctx: Ctx, attempt: ExamAttempt) -> str:
    """The member's own timezone, else their group's, else UTC."""
    owner = ctx.s.get(User, attempt.user_id)
    if owner is not None and owner.tz:
        return owner.tz
    if attempt.group_id is not None:
        g = ctx.s.get(Group, attempt.group_id)
        if g is not None:
            return g.tz
    return "UTC"


def remaining_label(deadline: datetime, now: datetime) -> str:
    left = max(0, int((as_utc(deadline) - as_utc(now)).total_seconds()))
    h, rem = divmod(left, 3600)
    m, sec = divmod(rem, 60)
    if h:
        return f"{h} h {m:02d} min left"
    if m >= 5:
        return f"{m} min left"
    return f"{m} min {sec:02d} s left"


def _clock_line(ctx: Ctx, attempt: ExamAttempt, rows: Sequence[ExamAnswer]) -> str:
    tz = _tz(ctx, attempt)
    ends = as_utc(attempt.deadline).astimezone(ZoneInfo(tz))
    answered = sum(1 for r in rows if r.choice)
    flagged = sum(1 for r in rows if r.flagged)
    return (
        f"⏱ {remaining_label(attempt.deadline, ctx.now)} (ends {ends:%H:%M} {tz}) · "
        f"answered {answered} of {attempt.total} · flagged {flagged}"
    )


def _rows(s: Session, attempt: ExamAttempt) -> list[ExamAnswer]:
    return list(
        s.scalars(
            select(ExamAnswer)
            .where(ExamAnswer.attempt_id == attempt.id)
            .order_by(ExamAnswer.position)
        )
    )


def _show(ctx: Ctx, attempt: ExamAttempt, position: int, note: str = "") -> Reply:
    rows = _rows(ctx.s, attempt)
    row = rows[position]
    q = _question(ctx.content, row.question_id)
    attempt.position = position
    if row.shown_at is None:
        row.shown_at = as_utc(ctx.now)
    sel = row.choice
    lines: list[Span] = []
    for i, (letter, choice) in enumerate(zip(q.letters(), q.choices, strict=True)):
        if i:
            lines.append(Span("\n"))
        mark = "☑ " if letter in sel else ""
        lines.extend([bold(f"{mark}{letter}."), Span(f" {choice}")])
    flag = " ⚑" if row.flagged else ""
    blocks: list[Block] = []
    if note:
        blocks.append(Context(text(note)))
    blocks += [
        Heading(f"Mock exam · Question {position + 1} of {attempt.total}{flag}"),
        Context(text(_clock_line(ctx, attempt, rows))),
        Paragraph(text(q.prompt.strip())),
        Paragraph(tuple(lines)),
    ]
    ref = f"{attempt.id}.{position}"
    choices: list[Button] = []
    for letter in q.letters():
        if q.multi:
            new = "".join(sorted(set(sel) ^ {letter}))
            label = f"☑ {letter}" if letter in sel else letter
        else:
            new, label = letter, (f"☑ {letter}" if letter == sel else letter)
        style = ButtonStyle.PRIMARY if letter in sel else ButtonStyle.DEFAULT
        choices.append(Button(label, PICK, f"{ref}:{new}", style))
    blocks.append(Buttons(tuple(choices)))
    nav: list[Button] = []
    if position > 0:
        nav.append(Button("◀ Previous", GO, f"{attempt.id}.{position - 1}"))
    if position + 1 < attempt.total:
        nav.append(Button("Next ▶", GO, f"{attempt.id}.{position + 1}"))
    nav.append(Button("⚑ Unflag" if row.flagged else "⚑ Flag", FLAG, ref))
    nav.append(Button("Review & submit", SUBMIT, str(attempt.id), ButtonStyle.PRIMARY))
    blocks.append(Buttons(tuple(nav)))
    how = f"pick {len(q.answer)} letters" if q.multi else "pick a letter"
    blocks.append(Context(text(f"Question id {q.id} · {how}; you can change it until you submit.")))
    return Reply(tuple(blocks), Visibility.DM)


def _review_page(ctx: Ctx, attempt: ExamAttempt) -> Reply:
    rows = _rows(ctx.s, attempt)
    unanswered = [r.position for r in rows if not r.choice]
    flagged = [r.position for r in rows if r.flagged]
    blocks: list[Block] = [
        Heading("Mock exam · review before you submit"),
        Context(text(_clock_line(ctx, attempt, rows))),
    ]
    summary = [Field("Answered", text(f"{attempt.total - len(unanswered)} of {attempt.total}"))]
    summary.append(Field("Flagged", text(_numbers(flagged) or "none")))
    summary.append(Field("Unanswered", text(_numbers(unanswered) or "none")))
    blocks.append(Fields(tuple(summary)))
    blocks.append(
        Paragraph(
            text(
                "Unanswered questions count as wrong. Submitting ends the exam; "
                "when the time runs out it is submitted as it stands."
            )
        )
    )
    jumps: list[Button] = []
    for pos in [*flagged, *unanswered]:
        if len(jumps) == JUMP_BUTTONS * 2:
            break
        label = f"{'⚑ ' if pos in flagged else ''}Q{pos + 1}"
        b = Button(label, GO, f"{attempt.id}.{pos}")
        if all(x.value != b.value for x in jumps):
            jumps.append(b)
    if jumps:
        blocks.append(Buttons(tuple(jumps)))
    blocks.append(
        Buttons(
            (
                Button(
                    f"◀ Back to Q{attempt.position + 1}", GO, f"{attempt.id}.{attempt.position}"
                ),
                Button("Submit exam", CONFIRM, str(attempt.id), ButtonStyle.DANGER),
            )
        )
    )
    return Reply(tuple(blocks), Visibility.DM)


def _numbers(positions: Sequence[int]) -> str:
    shown = ", ".join(str(p + 1) for p in positions[:20])
    return shown + (f" and {len(positions) - 20} more" if len(positions) > 20 else "")


# --------------------------------------------------------------------------- grading


def close(s: Session, content: Content, attempt: ExamAttempt, now: datetime, expired: bool) -> bool:
    """Grade and close an open attempt, once (a conditional UPDATE claims it); the member's
    review cards are updated in the same transaction. False if it was already closed."""
    finished = min(as_utc(now), as_utc(attempt.deadline)) if expired else as_utc(now)
    claimed = s.execute(
        update(ExamAttempt)
        .where(ExamAttempt.id == attempt.id, ExamAttempt.status == OPEN)
        .values(status=EXPIRED if expired else SUBMITTED, finished_at=finished)
        .execution_options(synchronize_session=False)
    )
    s.refresh(attempt)
    if int(getattr(claimed, "rowcount", 0) or 0) != 1:
        return False
    right = 0
    rows = _rows(s, attempt)
    # answered questions, and the ones shown but left blank (a miss), in the order they happened
    seen = [r for r in rows if r.choice or r.shown_at is not None]
    answered = sorted(seen, key=lambda r: as_utc(r.answered_at or r.shown_at or finished))
    for r in rows:
        q = content.by_id.get(r.question_id)
        r.correct = bool(q is not None and r.choice and q.is_correct(r.choice))
        right += int(r.correct)
    for r in answered:
        q = content.by_id.get(r.question_id)
        if q is None:
            continue
        when = as_utc(r.answered_at or finished)
        seconds = (
            (when - as_utc(r.shown_at)).total_seconds() if r.shown_at and r.answered_at else None
        )
        review.record(s, attempt.workspace_id, attempt.user_id, q, bool(r.correct), when, seconds)
    attempt.correct = right
    return True


def close_expired_exams(session: Session, content: Content, now: datetime) -> int:
    """Submit every open exam whose time has run out; the clock calls this each tick.
    Returns how many this call closed (a racing process's closes are not counted)."""
    due = list(
        session.scalars(
            select(ExamAttempt)
            .where(ExamAttempt.status == OPEN, ExamAttempt.deadline <= as_utc(now))
            .order_by(ExamAttempt.id)
        )
    )
    return sum(1 for a in due if close(session, content, a, now, expired=True))


# --------------------------------------------------------------------------- the report


@dataclass(frozen=True)
class DomainScore:
    domain_id: str
    name: str
    weight_label: str
    right: int
    total: int

    @property
    def percent(self) -> float | None:
        return None if self.total == 0 else 100 * self.right / self.total


def domain_scores(
    content: Content, attempt: ExamAttempt, rows: Sequence[ExamAnswer]
) -> list[DomainScore]:
    track = content.track(attempt.track)
    out = []
    for d in track.domains:
        mine = [r for r in rows if r.domain == d.id]
        out.append(
            DomainScore(d.id, d.name, d.weight_label, sum(1 for r in mine if r.correct), len(mine))
        )
    return out


def verdict(content: Content, attempt: ExamAttempt) -> tuple[str, str]:
    """(result line, the rule it was judged by)."""
    pct = 100 * (attempt.correct or 0) / max(1, attempt.total)
    track = content.track(attempt.track)
    if attempt.passing is not None:
        ok = pct >= attempt.passing
        return (
            f"{'Pass' if ok else 'Fail'} (pass mark {attempt.passing}%)",
            f"The {attempt.guide} exam guide publishes a pass mark of {attempt.passing}%.",
        )
    ok = pct >= PRACTICE_LINE
    side = "Above" if ok else "Below"
    note = track.exam.passing_note.strip() or "Databricks publishes no passing score."
    return (
        f"{side} the {PRACTICE_LINE}% practice line",
        f"No official pass mark: {note} The {PRACTICE_LINE}% line is a practice target, "
        "not the exam's rule.",
    )


def _report(ctx: Ctx, attempt: ExamAttempt, page: int, note: str = "") -> Reply:
    return report_reply(ctx.s, ctx.content, attempt, page, _tz(ctx, attempt), note)


def report_reply(
    s: Session, content: Content, attempt: ExamAttempt, page: int, tz: str, note: str = ""
) -> Reply:
    """The report of a closed attempt (also what the clock can DM after a time-out)."""
    rows = _rows(s, attempt)
    track = content.track(attempt.track)
    right = attempt.correct or 0
    pct = 100 * right / max(1, attempt.total)
    result, rule = verdict(content, attempt)
    started = as_utc(attempt.started_at)
    finished = as_utc(attempt.finished_at or attempt.deadline)
    used = max(0, int((finished - started).total_seconds() // 60))
    how = (
        f"time ran out after {attempt.minutes} min; submitted automatically"
        if attempt.status == EXPIRED
        else f"submitted after {used} of {attempt.minutes} min"
    )
    blocks: list[Block] = []
    if note:
        blocks.append(Context(text(note)))
    blocks += [
        Heading(f"Mock exam report · {track.name}"),
        Fields(
            (
                Field("Score", text(f"{right} of {attempt.total} ({pct:.0f}%)")),
                Field("Result", text(result)),
                Field("Taken", text(f"{fmt_date(started.astimezone(ZoneInfo(tz)).date())}; {how}")),
            )
        ),
        Context(text(rule)),
    ]
    lines: list[Span] = [bold("By domain (your score · exam weight)")]
    for d in domain_scores(content, attempt, rows):
        score = (
            "no questions" if d.percent is None else f"{d.right} of {d.total} ({d.percent:.0f}%)"
        )
        lines.append(Span(f"\n• {d.name}: {score} · weight {d.weight_label}"))
    blocks.append(Paragraph(tuple(lines)))
    missed = [r for r in rows if not r.correct]
    pages = max(1, -(-len(missed) // MISSED_PER_PAGE))
    page = min(max(0, page), pages - 1)
    if not missed:
        blocks.append(Paragraph(text("No missed questions. Well done.")))
    else:
        shown = missed[page * MISSED_PER_PAGE : (page + 1) * MISSED_PER_PAGE]
        first = page * MISSED_PER_PAGE + 1
        blocks.append(
            Heading(f"Missed questions {first}–{first + len(shown) - 1} of {len(missed)}")
        )
        for r in shown:
            blocks.append(Paragraph(_missed(content, r)))
        nav: list[Button] = []
        if page > 0:
            nav.append(Button("◀ Earlier missed", REPORT, f"{attempt.id}:{page - 1}"))
        if page + 1 < pages:
            nav.append(Button("More missed ▶", REPORT, f"{attempt.id}:{page + 1}"))
        if nav:
            blocks.append(Buttons(tuple(nav)))
    blocks.append(
        Context(
            text(
                "The questions you saw come back in your review queue when due: ",
                code(f"{SLASH} review"),
                ". Past attempts: ",
                code(f"{SLASH} exams"),
                ".",
            )
        )
    )
    return Reply(tuple(blocks), Visibility.DM)


def _missed(content: Content, r: ExamAnswer) -> tuple[Span, ...]:
    q = content.by_id.get(r.question_id)
    if q is None:
        return text(bold(f"Q{r.position + 1} · {r.question_id}"), " (retired from the bank)")
    prompt = q.prompt.strip()
    if len(prompt) > 300:
        prompt = prompt[:299] + "…"
    mine = r.choice or "no answer"
    right = "; ".join(f"{x}. {q.choices[q.letters().index(x)]}" for x in q.answer)
    return text(
        bold(f"Q{r.position + 1} · {q.id}"),
        f"\n{prompt}\nYou: {mine} · Right: {right}\n",
        q.explanation.strip(),
    )


# --------------------------------------------------------------------------- `exams`


def exams(ctx: Ctx, _args: Mapping[str, str]) -> Reply:
    attempt = open_attempt(ctx.s, ctx.user.id)
    if attempt is not None and _expired(attempt, ctx.now):
        close(ctx.s, ctx.content, attempt, ctx.now, expired=True)
    past = list(
        ctx.s.scalars(
            select(ExamAttempt)
            .where(ExamAttempt.user_id == ctx.user.id)
            .order_by(ExamAttempt.started_at.desc(), ExamAttempt.id.desc())
            .limit(20)
        )
    )
    if not past:
        return Reply.message(
            "No mock exams yet. Start one with ", code(f"{SLASH} exam"), " (it runs in your DMs)."
        )
    lines: list[Span] = []
    buttons: list[Button] = []
    for i, a in enumerate(past):
        if i:
            lines.append(Span("\n"))
        tz = _tz(ctx, a)
        day = fmt_date(as_utc(a.started_at).astimezone(ZoneInfo(tz)).date())
        lines.append(bold(f"#{a.id}"))
        if a.status == OPEN:
            left = remaining_label(a.deadline, ctx.now)
            lines.append(Span(f" · {day} · {a.track} · in progress, {left} ({SLASH} exam)"))
            continue
        pct = 100 * (a.correct or 0) / max(1, a.total)
        result, _rule = verdict(ctx.content, a)
        how = "timed out" if a.status == EXPIRED else "submitted"
        lines.append(
            Span(
                f" · {day} · {a.track} · {a.correct or 0}/{a.total} ({pct:.0f}%) · {result} · {how}"
            )
        )
        if len(buttons) < JUMP_BUTTONS:
            buttons.append(Button(f"Report #{a.id}", REPORT, f"{a.id}:0"))
    blocks: list[Block] = [Heading("Your mock exams"), Paragraph(tuple(lines))]
    if buttons:
        blocks.append(Buttons(tuple(buttons)))
    blocks.append(Context(text("Most recent first. Only you can see this.")))
    return Reply(tuple(blocks), Visibility.EPHEMERAL)
