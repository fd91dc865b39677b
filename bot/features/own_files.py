"""Files of a group's own questions: import (all or nothing) and export (the bank's YAML).

`studybot content import` and `/study import` (a file attached in chat) share `import_file`:
every question of the file is checked by the bank's rules first, and one problem anywhere
imports nothing; the problems are listed as `FILE:LINE: problem`, the CSV header being
line 1. A question whose `id` is one of the group's own (an exported file, edited and
brought back) is rewritten in place; any other is added with a new id.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.content.drafts import CSV_HEADER, check, read_entries, to_yaml
from bot.content.models import Content, Question
from bot.context import Ctx
from bot.errors import OperatorError, UserError
from bot.features import own_bank
from bot.forms import FieldKind, Form, FormField
from bot.registry import SLASH, Audience, Kind, Param, command
from bot.seam import Context, Paragraph, Reply, code, text
from bot.store.models import Group, GroupQuestion, Workspace
from bot.store.records import GroupRecord, WorkspaceRecord

MAX_BYTES = 2_000_000  # a few thousand questions; a bigger upload is a mistake
PROBLEMS_SHOWN = 40  # a chat message holds this many; the count says how many more
LEADS_ONLY = (
    "Only a group lead can import the group's own questions (channel admins and the leads "
    "the group names). Nothing was imported."
)
ATTACH = {  # how each platform sends a file with the command: a lead's words, the command
    "discord": ("attach it to the command's file option: ", f"{SLASH} questions import file:"),
    "slack": ("the form it opens takes the file: ", f"{SLASH} import"),
    "console": ("give its path: ", f"{SLASH} import PATH"),
}


@dataclass(frozen=True)
class Imported:
    added: list[str]
    updated: list[str]

    def summary(self) -> str:
        parts = []
        if self.added:
            parts.append(f"added {len(self.added)} ({_span(self.added)})")
        if self.updated:
            parts.append(f"updated {len(self.updated)} ({_span(self.updated)})")
        return " and ".join(parts) or "nothing to import"


def _span(ids: list[str]) -> str:
    return ids[0] if len(ids) == 1 else f"{ids[0]} … {ids[-1]}"


class ImportRefused(Exception):
    """A file with problems: nothing was imported; `problems` are `FILE:LINE: problem`."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


def import_file(
    s: Session,
    content: Content,
    group: GroupRecord,
    name: str,
    raw: bytes,
    by: str,
    now: datetime,
) -> Imported:
    """Check every question of the file, then store them all, or raise `ImportRefused`
    naming every problem (nothing is written)."""
    if len(raw) > MAX_BYTES:
        raise ImportRefused([f"{name}:1: the file is over {MAX_BYTES // 1_000_000} MB"])
    entries, unread = read_entries(name, raw)
    problems = [f"{name}:{p.line}: {p.message}" for p in unread]
    existing = {r.question_id: r for r in own_bank.rows(s, group.id)}
    new: list[Question] = []
    updates: list[tuple[GroupQuestion, Question]] = []
    first: dict[str, int] = {}
    for e in entries:
        q, found = check(e.data, content, group.track)
        problems += [f"{name}:{e.line}: {p}" for p in found]
        qid = str(e.data.get("id") or "")
        if qid and qid in first:
            problems.append(f"{name}:{e.line}: duplicate id {qid} (first at line {first[qid]})")
        first.setdefault(qid, e.line)
        if q is None:
            continue
        if qid in existing:
            updates.append((existing[qid], q))
        else:
            new.append(q)
    if not entries and not problems:
        problems.append(f"{name}:1: no questions in the file")
    if problems:
        raise ImportRefused(problems)
    updated = [own_bank.rewrite(row, q, now).id for row, q in updates]
    added = [q.id for q in own_bank.add(s, group, new, by, now)]
    return Imported(added, updated)


def export_yaml(s: Session, content: Content, group: GroupRecord, label: str) -> tuple[str, int]:
    """The group's questions in rotation as the bank's YAML (retired ones left out), and
    how many; `studybot content import` and `/study import` read it back."""
    live = [own_bank.question_of(r) for r in own_bank.rows(s, group.id) if not r.retired]
    head = (
        f"# The own questions of the study group {label} ({len(live)}), in the bank's schema.\n"
        "# Edit and import again: a question keeps its id; one without an id is added.\n"
    )
    return head + (to_yaml(live) if live else yaml.safe_dump([])), len(live)


def group_named(s: Session, spec: str) -> GroupRecord:
    """The group `PLATFORM:WORKSPACE:CHANNEL` names (an operator's `--group`)."""
    parts = spec.split(":")
    if len(parts) != 3 or not all(parts):
        raise OperatorError(
            f"--group {spec!r} is not PLATFORM:WORKSPACE:CHANNEL (for the terminal's group: "
            "console:console:study-group)"
        )
    platform, workspace, channel = parts
    ws = s.scalar(
        select(Workspace.id).where(
            Workspace.platform == platform, Workspace.external_id == workspace
        )
    )
    found = (
        GroupRecord.all(s, Group.workspace_id == ws, Group.channel_id == channel)
        if ws is not None
        else []
    )
    if not found:
        raise OperatorError(
            f"no study group {spec}: a lead starts one with `/study setup` in that channel"
        )
    return found[0]


def workspace_of(s: Session, group: GroupRecord) -> WorkspaceRecord:
    ws = WorkspaceRecord.get(s, group.workspace_id)
    assert ws is not None
    return ws


# --------------------------------------------------------------------------- in chat


@command(
    "import",
    summary="Import the group's own questions from a CSV or YAML file (group lead)",
    audience=Audience.LEAD,
    params=(Param("file", Kind.FILE, "a CSV or YAML file of questions"),),
    details=(
        "CSV with the header " + ",".join(CSV_HEADER) + " (one question a row), or YAML in "
        "the bank's schema, such as `studybot content export` writes. All or nothing: one "
        "bad row imports nothing, and every problem is named as FILE:LINE: problem (the CSV "
        "header is line 1). A question whose id is one of the group's own is updated in "
        "place; any other is added with a new id. On Discord attach the file to the "
        "command, on Slack `/study import` opens a form to upload it, in the terminal give "
        "its path."
    ),
    examples=("/study import questions.csv",),
    family="questions",
)
def import_command(ctx: Ctx, args: Mapping[str, str]) -> Reply:
    g = ctx.require_group()
    if not ctx.is_lead():
        raise UserError(LEADS_ONLY)
    if not ctx.files:
        how, words = ATTACH.get(ctx.who.platform, ATTACH["slack"])
        return Reply(
            (
                Paragraph(
                    text(
                        "Send a CSV or YAML file of questions with the command: ",
                        how,
                        code(words),
                        ". A CSV's header is ",
                        code(",".join(CSV_HEADER)),
                        "; YAML is the bank's schema, as ",
                        code("studybot content export"),
                        " writes it.",
                    )
                ),
            ),
            form=Form(
                command="import",
                title="Import questions",
                submit="Import",
                fields=(
                    FormField(
                        "file",
                        "A CSV or YAML file of questions",
                        kind=FieldKind.FILE,
                        hint="CSV header: " + ",".join(CSV_HEADER),
                        essential=True,
                    ),
                ),
            ),
        )
    problems: list[str] = []
    done: list[tuple[str, Imported]] = []
    for upload in ctx.files:
        try:
            result = import_file(
                ctx.s, ctx.content, g, upload.filename, upload.data, ctx.who.user_id, ctx.now
            )
        except ImportRefused as e:
            problems += e.problems
            continue
        done.append((upload.filename, result))
    if problems:  # rolls back what an earlier file of the same command wrote
        raise UserError(_refusal(problems))
    lines = [f"Imported from {name}: {r.summary()}." for name, r in done]
    return Reply.of(
        Paragraph(text("\n".join(lines))),
        Context(text(code(f"{SLASH} questions"), " lists them with their statistics.")),
    )


def _refusal(problems: list[str]) -> str:
    shown = "\n".join(problems[:PROBLEMS_SHOWN])
    more = len(problems) - PROBLEMS_SHOWN
    rest = f"\n… and {more} more problem(s)." if more > 0 else ""
    return (
        f"Nothing was imported: {len(problems)} problem(s) to fix first.\n{shown}{rest}\n"
        "Fix them and import the file again."
    )
