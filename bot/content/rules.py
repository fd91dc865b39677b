"""The rules a question must keep, in the bank's files and among a group's own.

`content check` and a lead's `/study add` word their problems alike because both come
from here: what a question may name (`Known`), the rules the model's types cannot say,
then the model itself.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from bot.content.models import (
    CHOOSE_COUNT,
    CHOOSE_RE,
    ID_RE,
    LETTERS,
    Area,
    Content,
    Phase,
    Question,
    Track,
)

M = TypeVar("M", bound=BaseModel)
HTTPS_RE = re.compile(r"^https://[A-Za-z0-9.-]+\.[A-Za-z]{2,}(/\S*)?$")
BANNED_CHOICES = ("all of the above", "none of the above")


@dataclass(frozen=True)
class Known:
    """What a question may name: each track's domains and guide sections, the study areas
    and the phases. The bank's files and a group's own questions are checked against it."""

    domains: dict[str, set[str]]
    sections: dict[str, set[str]]
    areas: set[str]
    phases: set[int]

    @classmethod
    def of(cls, tracks: Iterable[Track], phases: Iterable[Phase], areas: Iterable[Area]) -> Known:
        tracks = list(tracks)
        return cls(
            {t.id: {d.id for d in t.domains} for t in tracks},
            {t.id: {s.id for s in t.guide_sections} for t in tracks},
            {a.id for a in areas},
            {p.number for p in phases},
        )

    @classmethod
    def of_content(cls, content: Content) -> Known:
        return cls.of(content.tracks, content.phases, content.areas)


def parse_question(data: Mapping[str, Any], known: Known) -> tuple[Question | None, list[str]]:
    """One question in the bank's schema, or every problem with it, worded as `content
    check` words them: the bank's rules first, then the model's types."""
    problems, letters = _rule_problems(data, known)
    if problems:
        return None, problems
    return validated(Question, {**data, "answer": tuple(letters)})


def validated(cls: type[M], data: Any) -> tuple[M | None, list[str]]:
    """The model, or pydantic's errors as `field: message` lines."""
    try:
        return cls.model_validate(data), []
    except ValidationError as e:
        out = []
        for err in e.errors():
            loc = ".".join(str(x) for x in err["loc"])
            out.append(f"{loc}: {err['msg']}" if loc else err["msg"])
        return None, out


def _rule_problems(data: Mapping[str, Any], known: Known) -> tuple[list[str], list[str]]:
    """The bank's rules a model's types cannot say, and the answer's letters."""
    problems: list[str] = []
    bad = problems.append
    qid = str(data.get("id", "?"))
    if not ID_RE.match(qid):
        bad("id must be lower-case letters, digits and dashes")
    track = data.get("track")
    domains, sections = known.domains, known.sections
    if track not in domains:
        bad(f"unknown track {track!r} (known: {', '.join(sorted(domains))})")
    elif data.get("domain") not in domains[track]:
        known_domains = ", ".join(sorted(domains[track]))
        bad(f"unknown domain {data.get('domain')!r} for track {track} (known: {known_domains})")
    section = data.get("guide_section")
    if track in sections and section not in sections[track]:
        known_sections = ", ".join(sorted(sections[track]))
        if section is None:
            bad(
                "missing guide_section: the exam guide's section it tests "
                f"(one of: {known_sections})"
            )
        else:
            bad(f"unknown guide_section {section!r} for track {track} (known: {known_sections})")
    if data.get("area") not in known.areas:
        bad(f"unknown area {data.get('area')!r} (known: {', '.join(sorted(known.areas))})")
    if data.get("phase") not in known.phases:
        bad(f"unknown phase {data.get('phase')!r} (known: {sorted(known.phases)})")
    prompt = data.get("prompt")
    if not isinstance(prompt, str) or not prompt.strip():
        bad("empty prompt")
        prompt = ""
    explanation = data.get("explanation")
    if not isinstance(explanation, str) or not explanation.strip():
        bad("empty explanation")

    choices = data.get("choices")
    if not isinstance(choices, list | tuple) or not all(isinstance(c, str) for c in choices):
        bad("choices must be a list of strings")
        choices = []
    if len(choices) < 2:
        bad(f"needs at least two choices, has {len(choices)}")
    if len(choices) > len(LETTERS):
        bad(f"at most {len(LETTERS)} choices")
    normalized = [" ".join(c.lower().split()) for c in choices]
    if any(not c for c in normalized):
        bad("empty choice")
    dup = sorted({c for c in normalized if normalized.count(c) > 1 and c})
    if dup:
        bad(f"duplicate choice {dup[0]!r}")
    if any(b in c for c in normalized for b in BANNED_CHOICES):
        bad('"all of the above" / "none of the above" is not allowed')

    answer = data.get("answer")
    given = list(answer) if isinstance(answer, list | tuple) else [answer]
    letters = [a for a in given if isinstance(a, str) and len(a) == 1]
    if not given or len(letters) != len(given):
        bad(f"answer must be a letter or a list of letters, got {answer!r}")
        letters = []
    valid = LETTERS[: len(choices)]
    for a in letters:
        if a not in valid:
            bad(f"answer {a!r} is outside the choices {', '.join(valid) or '(none)'}")
    if len(set(letters)) != len(letters):
        bad("answer repeats a letter")
    m = CHOOSE_RE.search(prompt)
    if len(letters) > 1 and not m:
        bad(
            f"single-answer question has several answers {letters}; "
            f'a multi-answer prompt says "(Choose {len(letters)}.)"'
        )
    if m and CHOOSE_COUNT[m.group(1).lower()] != len(letters):
        bad(f'prompt says "{m.group(0)}" but answer has {len(letters)} letters')

    refs = data.get("refs")
    if not isinstance(refs, list | tuple) or not refs:
        bad("refs must list at least one https URL")
        refs = []
    for ref in refs:
        if not isinstance(ref, str) or not HTTPS_RE.match(ref):
            bad(f"ref is not an https URL: {ref!r}")
    return problems, letters
