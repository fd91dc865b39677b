"""A group's own questions as the core reads them: the group's view of the content, the
pools its settings draw from, and the store's rows.

A group's view is the bank plus that group's own questions, never another group's: the
daily rotation, quizzes, reviews, mock exams, progress and reports of a group all read
their questions from it, so an own question cannot reach another group by any path.
`setup own=` says how the rotation and quizzes use them (mix: with the bank's; only: the
group's alone, while any is in rotation; off: not at all) and `setup own_exam=on` lets
mock exams draw them too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.content.drafts import CHOICE_KEYS, body_of, letters_of
from bot.content.models import Content, Question
from bot.store.models import Group, GroupQuestion
from bot.store.records import GroupRecord

MODES = ("mix", "only", "off")  # `setup own=`
MIX, ONLY, OFF = MODES


def rows(s: Session, group_id: int) -> list[GroupQuestion]:
    """The group's own questions, retired ones too, in the order they were added."""
    return list(
        s.scalars(
            select(GroupQuestion)
            .where(GroupQuestion.group_id == group_id)
            .order_by(GroupQuestion.number)
        )
    )


def find(s: Session, group_id: int, question_id: str) -> GroupQuestion | None:
    return s.scalar(
        select(GroupQuestion).where(
            GroupQuestion.group_id == group_id, GroupQuestion.question_id == question_id
        )
    )


def question_of(row: GroupQuestion) -> Question:
    """The stored question (checked by the bank's rules when it was written)."""
    return Question.model_validate({**row.body, "id": row.question_id})


def view(s: Session, content: Content, group_id: int | None) -> Content:
    """The content as a group sees it: the bank and the group's own questions (its
    retired ones among `retired`: never drawn, still shown where they were answered)."""
    if group_id is None:
        return content
    found = rows(s, group_id)
    if not found:
        return content
    own = tuple(question_of(r) for r in found)
    return content.with_own(own, frozenset(r.question_id for r in found if r.retired))


def exclusions(
    bank: Content, group: GroupRecord, excluded: frozenset[str], *, exam: bool = False
) -> frozenset[str]:
    """What a draw for the group leaves out: `excluded`, and what its settings keep out
    (own questions under own=off, or in a mock exam without own_exam=on; the bank's
    under own=only while the group has a question of its own to draw)."""
    own = bank.own_ids
    if not own:
        return excluded
    if group.own_questions == OFF or (exam and not group.own_in_exams):
        return excluded | own
    if group.own_questions == ONLY and not exam:
        track = bank.by_track.get(group.track, ())
        if any(q.id in own and q.id not in excluded for q in track):
            return excluded | frozenset(q.id for q in track if q.id not in own)
    return excluded


def in_rotation(bank: Content, group: GroupRecord) -> int:
    """The group's own questions a draw can take: of its track, not retired."""
    return sum(
        1
        for q in bank.by_track.get(group.track, ())
        if q.id in bank.own_ids and q.id not in bank.retired
    )


def add(
    s: Session, group: GroupRecord, questions: Sequence[Question], by: str, now: datetime
) -> list[Question]:
    """Store new questions of the group's own and give them their ids: the group's counter
    goes up by one UPDATE (the row lock orders two leads adding at once), so an id is
    never given twice, even after a question is retired."""
    if not questions:
        return []
    k = len(questions)
    last = s.execute(
        update(Group)
        .where(Group.id == group.id)
        .values(own_seq=Group.own_seq + k)
        .returning(Group.own_seq)
    ).scalar_one()
    out = []
    for i, q in enumerate(questions):
        number = last - k + 1 + i
        qid = f"g{group.id}-{number}"
        s.add(
            GroupQuestion(
                workspace_id=group.workspace_id,
                group_id=group.id,
                number=number,
                question_id=qid,
                body=body_of(q),
                retired=False,
                created_by=by,
                created_at=now,
                updated_at=now,
            )
        )
        out.append(q.model_copy(update={"id": qid}))
    s.flush()
    return out


def rewrite(row: GroupQuestion, q: Question, now: datetime) -> Question:
    """A lead's edit: the question keeps its id (answers and cards stay with it)."""
    row.body = body_of(q)
    row.updated_at = now
    return q.model_copy(update={"id": row.question_id})


def merged(body: Mapping[str, Any], fields: Mapping[str, str]) -> dict[str, Any]:
    """The stored question with the lead's fields in its place (the bank's schema). A new
    domain takes its own guide section and study area, filled in as `add` fills them."""
    data = dict(body)
    choices = [str(c) for c in data.get("choices", [])]
    choices += [""] * (len(CHOICE_KEYS) - len(choices))
    for i, key in enumerate(CHOICE_KEYS):
        if key in fields:
            choices[i] = fields[key].strip()
    while choices and not choices[-1]:
        choices.pop()
    data["choices"] = choices
    for key in ("prompt", "explanation"):
        if key in fields:
            data[key] = fields[key].strip()
    if "answer" in fields:
        data["answer"] = letters_of(fields["answer"]) if fields["answer"].strip() else None
    if "domain" in fields and fields["domain"].strip().lower() != data.get("domain"):
        data["domain"] = fields["domain"].strip().lower()
        data.pop("guide_section", None)
        data.pop("area", None)
    if "difficulty" in fields:
        data["difficulty"] = fields["difficulty"].strip()
    if "ref" in fields:
        data["refs"] = fields["ref"].split()
    return data


def current_fields(row: GroupQuestion) -> dict[str, str]:
    """The question as the words `add` takes (a form's initial values)."""
    q = question_of(row)
    values = {
        "prompt": q.prompt,
        "answer": ",".join(q.answer),
        "explanation": q.explanation,
        "domain": q.domain,
        "difficulty": str(q.difficulty),
        "ref": " ".join(str(r) for r in q.refs),
    }
    for key, choice in zip(CHOICE_KEYS, q.choices, strict=False):
        values[key] = choice
    return values
