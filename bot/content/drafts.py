"""A group's own questions as leads write them, turned into the bank's schema and checked
by the bank's own rules (`rules.parse_question`), so a lead hears the problems
`studybot content check` would name.

A lead writes the fields a question needs (`prompt`, choices `a` to `d`, `answer`,
`explanation`, `domain`, `difficulty`, `ref`): in chat as `key=value` words, in a form, or
as a CSV row; a YAML file in the bank's schema may give every field. What a lead leaves out
comes from the content: the track is the group's, the guide section the one the curriculum
maps the domain to (else the one most of the domain's questions test), the study area the
one most of the domain's questions have, the phase the first, the difficulty medium.
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import yaml

from bot.content.loader import _LineLoader, _strip_lines
from bot.content.models import LETTERS, Content, Question
from bot.content.rules import Known, parse_question

CHOICE_KEYS = tuple(letter.lower() for letter in LETTERS[:4])  # a= b= c= d=
FIELDS = ("prompt", *CHOICE_KEYS, "answer", "explanation", "domain", "difficulty", "ref")
CSV_HEADER = FIELDS  # prompt,a,b,c,d,answer,explanation,domain,difficulty,ref
DEFAULT_DIFFICULTY = 2
DRAFT_ID = "g0-0"  # stands in for the id the store gives a new question
EXPORT_ORDER = (
    "id",
    "track",
    "domain",
    "guide_section",
    "area",
    "phase",
    "difficulty",
    "guide",
    "valid_for",
    "prompt",
    "choices",
    "answer",
    "explanation",
    "refs",
)


def letters_of(raw: str) -> list[str] | str:
    """`B`, `A,C`, `a c` or `AC` as the bank writes answers: a letter, or a list."""
    text = raw.strip().upper()
    parts = [p for p in re.split(r"[\s,;]+", text) if p]
    if len(parts) == 1 and len(parts[0]) > 1 and parts[0].isalpha():
        parts = list(parts[0])
    return parts[0] if len(parts) == 1 else parts


def from_fields(values: Mapping[str, str]) -> dict[str, Any]:
    """A lead's fields (chat words, a form, a CSV row) in the bank's schema, as far as
    they go: choices up to the last one given (an empty one before it is a problem)."""
    given = [(values.get(k) or "").strip() for k in CHOICE_KEYS]
    last = max((i for i, c in enumerate(given) if c), default=-1)
    data: dict[str, Any] = {
        "prompt": (values.get("prompt") or "").strip(),
        "choices": given[: last + 1],
        "explanation": (values.get("explanation") or "").strip(),
        "refs": (values.get("ref") or "").split(),
    }
    answer = (values.get("answer") or "").strip()
    data["answer"] = letters_of(answer) if answer else None
    if (values.get("domain") or "").strip():
        data["domain"] = values["domain"].strip().lower()
    if (values.get("difficulty") or "").strip():
        data["difficulty"] = values["difficulty"].strip()
    return data


def completed(data: Mapping[str, Any], content: Content, track_id: str) -> dict[str, Any]:
    """The draft with what the lead left out filled in from the content (module doc)."""
    out = {k: v for k, v in data.items() if k not in ("id", "file", "line")}
    out["id"] = DRAFT_ID
    out.setdefault("track", track_id)
    out.setdefault("difficulty", DEFAULT_DIFFICULTY)
    track = next((t for t in content.tracks if t.id == out["track"]), None)
    domain = track.domain(str(out.get("domain"))) if track else None
    same = (
        [q for q in content.by_track.get(track.id, ()) if q.domain == domain.id]
        if (track and domain)
        else []
    )
    if "guide_section" not in out and track is not None and track.guide_sections:
        # the domain's section; for an unknown domain a stand-in, so that only the
        # domain is named as the problem (the lead gives no section)
        common = Counter(q.guide_section for q in same).most_common(1)
        section = domain.guide_section if domain is not None else None
        out["guide_section"] = (
            section or (common[0][0] if common else None) or (track.guide_sections[0].id)
        )
    if "area" not in out and content.areas:
        common = Counter(q.area for q in same).most_common(1)
        out["area"] = common[0][0] if common else content.areas[0].id
    if "phase" not in out and content.phases:
        out["phase"] = content.phases[0].number  # a lead's question is for now
    return out


def check(
    data: Mapping[str, Any], content: Content, track_id: str
) -> tuple[Question | None, list[str]]:
    """The draft as a question, or every problem the bank's rules find in it."""
    if "track" in data and data["track"] != track_id:
        return None, [f"track {data['track']!r} is not this group's track ({track_id})"]
    return parse_question(completed(data, content, track_id), Known.of_content(content))


def body_of(q: Question) -> dict[str, Any]:
    """What the store keeps of a question: every field but its id and file position."""
    return q.model_dump(mode="json", exclude={"id", "file", "line"}, exclude_none=True)


def exported(q: Question) -> dict[str, Any]:
    """A question as the bank's YAML writes it (one letter, or a list for several)."""
    data = {"id": q.id, **body_of(q)}
    data["answer"] = q.answer[0] if len(q.answer) == 1 else list(q.answer)
    return {k: data[k] for k in EXPORT_ORDER if k in data and data[k] not in ("", None, [])}


def to_yaml(questions: list[Question]) -> str:
    return yaml.safe_dump(
        [exported(q) for q in questions], sort_keys=False, allow_unicode=True, width=88
    )


# --------------------------------------------------------------------------- files


@dataclass(frozen=True)
class Entry:
    """One question of a file: its first line, and its fields in the bank's schema (the
    id it was exported with, if any, in `data["id"]`)."""

    line: int
    data: dict[str, Any]


@dataclass(frozen=True)
class FileProblem:
    line: int
    message: str


def read_entries(name: str, raw: bytes) -> tuple[list[Entry], list[FileProblem]]:
    """The questions of a CSV (header `prompt,a,b,c,d,answer,explanation,domain,
    difficulty,ref`, itself line 1) or YAML file (the bank's schema), with the problems
    that stop it from being read at all."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return [], [FileProblem(1, "the file is not UTF-8 text")]
    if _is_csv(name, text):
        return _csv_entries(text)
    return _yaml_entries(text)


def _is_csv(name: str, text: str) -> bool:
    lower = name.lower()
    if lower.endswith(".csv"):
        return True
    if lower.endswith((".yaml", ".yml")):
        return False
    return text.lstrip().lower().startswith("prompt,")


def _csv_entries(text: str) -> tuple[list[Entry], list[FileProblem]]:
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [h.strip().lower() for h in next(reader)]
    except StopIteration:
        return [], [FileProblem(1, "the file is empty")]
    except csv.Error as e:
        return [], [FileProblem(1, f"malformed CSV: {e}")]
    if sorted(header) != sorted(CSV_HEADER) or len(header) != len(CSV_HEADER):
        wanted, got = ",".join(CSV_HEADER), ",".join(header)
        return [], [FileProblem(1, f"the header must be {wanted}; got {got}")]
    entries: list[Entry] = []
    problems: list[FileProblem] = []
    for line, row in _rows(reader):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            problems.append(
                FileProblem(line, f"has {len(row)} fields; the header has {len(header)}")
            )
            continue
        entries.append(Entry(line, from_fields(dict(zip(header, row, strict=True)))))
    return entries, problems


def _rows(reader: Any) -> Iterator[tuple[int, list[str]]]:
    """Each CSV record with the line it starts on (a quoted field may span lines)."""
    start = reader.line_num + 1
    for row in reader:
        yield start, row
        start = reader.line_num + 1


def _yaml_entries(text: str) -> tuple[list[Entry], list[FileProblem]]:
    try:
        raws = yaml.load(text, Loader=_LineLoader)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line = mark.line + 1 if mark else 1
        return [], [FileProblem(line, f"malformed YAML: {e.problem or e}")]
    except yaml.YAMLError as e:
        return [], [FileProblem(1, f"malformed YAML: {e}")]
    if not isinstance(raws, list):
        return [], [FileProblem(1, "a question file must be a YAML list of questions")]
    entries: list[Entry] = []
    problems: list[FileProblem] = []
    for raw in raws:
        if not isinstance(raw, dict):
            problems.append(FileProblem(1, "each question must be a mapping"))
            continue
        entries.append(Entry(int(raw.get("__line__", 1)), _strip_lines(raw)))
    return entries, problems
