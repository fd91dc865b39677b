"""Typed content: what content/ holds once it has been validated."""

from __future__ import annotations

import math
import re
from datetime import date
from functools import cached_property

from pydantic import BaseModel, ConfigDict, Field, field_validator

LETTERS = "ABCDEFGH"
ID_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
OWN_ID_RE = re.compile(r"^g\d+-\d+$")  # a group's own question: g<group id>-<number>
CHOOSE_RE = re.compile(r"\(choose (two|three|four|2|3|4)\.?\)", re.IGNORECASE)
CHOOSE_COUNT = {"two": 2, "three": 3, "four": 4, "2": 2, "3": 3, "4": 4}


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ExamFormat(Strict):
    guide: str  # exam-guide version, e.g. "2025-03"
    guide_date: date | None = None
    questions: int = Field(gt=0)
    minutes: int = Field(gt=0)
    passing: int | None = Field(default=None, ge=1, le=100)  # percent; None: not published
    passing_note: str = ""
    recert_years: int = 2
    fee_usd: int | None = None
    # How many mock exams' worth of questions the bank keeps for every guide section
    # (`studybot content stats` checks it): a mock a week without repeats early on.
    bank_mocks: int = Field(default=5, ge=1)


class GuideSection(Strict):
    """A section of the official exam guide: mocks and readiness follow these weights."""

    id: str
    name: str
    weight: float = Field(gt=0)

    @property
    def weight_label(self) -> str:
        return f"{self.weight:g}%"


class Domain(Strict):
    id: str
    name: str
    weight_min: float = Field(ge=0, le=100)
    weight_max: float = Field(ge=0, le=100)
    guide_section: str | None = None  # the exam guide's section this domain maps to
    topics: tuple[str, ...] = ()

    @property
    def weight(self) -> float:
        """The midpoint of the weight range: what draws and reports use."""
        return (self.weight_min + self.weight_max) / 2

    @property
    def weight_label(self) -> str:
        if self.weight_min == self.weight_max:
            return f"{self.weight_min:g}%"
        return f"{self.weight_min:g}–{self.weight_max:g}%"


class Track(Strict):
    id: str
    name: str
    exam: ExamFormat
    guide_sections: tuple[GuideSection, ...] = ()
    domains: tuple[Domain, ...]

    def domain(self, domain_id: str) -> Domain | None:
        return next((d for d in self.domains if d.id == domain_id), None)

    def section(self, section_id: str) -> GuideSection | None:
        return next((s for s in self.guide_sections if s.id == section_id), None)

    def bank_target(self, section: GuideSection) -> int:
        """Questions a section needs for `exam.bank_mocks` mocks' worth."""
        total = sum(s.weight for s in self.guide_sections) or 1.0
        return math.ceil(self.exam.questions * section.weight / total * self.exam.bank_mocks)


class Item(Strict):
    """A checkable item: a phase goal, a success-checklist line or a project step."""

    id: str
    text: str


class Phase(Strict):
    number: int = Field(ge=1)
    name: str
    weeks_min: int = Field(ge=1)
    weeks_max: int = Field(ge=1)
    goals: tuple[str, ...] = ()
    topics: tuple[str, ...]
    checklist: tuple[Item, ...] = ()


class Area(Strict):
    id: str
    name: str
    topics: tuple[str, ...] = ()


class Resource(Strict):
    title: str
    url: str
    kind: str  # docs | mlflow | academy | community | practice
    areas: tuple[str, ...] = ()
    note: str = ""

    @field_validator("url")
    @classmethod
    def _https(cls, v: str) -> str:
        if not v.startswith("https://"):
            raise ValueError("url must start with https://")
        return v


class Project(Strict):
    id: str
    name: str
    description: str
    steps: tuple[Item, ...]


class VersionRange(Strict):
    """Versions a fact holds for, either end open: `{min: "13.3", max: "16.4"}`."""

    min: str | None = None
    max: str | None = None

    def passed_by(self, version: str) -> bool:
        """Whether `version` is past the range's end (the fact no longer holds there)."""
        return self.max is not None and version_key(version) > version_key(self.max)


def version_key(version: str) -> tuple[int, ...]:
    """`"16.4"` as `(16, 4)`, for comparing versions (a non-numeric part counts as 0)."""
    return tuple(int(p) if p.isdigit() else 0 for p in version.split("."))


class Platform(Strict):
    """The Databricks Runtime for Machine Learning the study plan teaches on."""

    runtime: str
    note: str = ""


class LibraryRange(VersionRange):
    name: str


class ValidFor(Strict):
    """What a question's fact depends on: a Databricks Runtime for ML range, a library's."""

    runtime: VersionRange | None = None
    library: LibraryRange | None = None
    note: str = ""


class Question(Strict):
    id: str
    track: str
    domain: str
    area: str
    phase: int
    difficulty: int = Field(ge=1, le=3)
    guide: str | None = None
    guide_section: str  # the official exam guide's section it tests
    valid_for: ValidFor | None = None
    prompt: str
    choices: tuple[str, ...]
    answer: tuple[str, ...]
    explanation: str
    refs: tuple[str, ...]
    file: str = ""
    line: int = 0

    @cached_property
    def multi(self) -> bool:
        return len(self.answer) > 1

    def letters(self) -> str:
        return LETTERS[: len(self.choices)]

    def answer_text(self) -> str:
        return ", ".join(self.answer)

    def is_correct(self, selection: str) -> bool:
        return sorted(selection) == sorted(self.answer)


class Content(Strict):
    """All content, indexed for the core's look-ups."""

    tracks: tuple[Track, ...]
    phases: tuple[Phase, ...]
    areas: tuple[Area, ...]
    resources: tuple[Resource, ...]
    success: tuple[Item, ...]
    projects: tuple[Project, ...]
    questions: tuple[Question, ...]
    platform: Platform | None = None
    # A group's view of the content (`with_own`) also holds that group's own questions:
    # their ids, and the ones its leads retired (never drawn, still shown where answered).
    own_ids: frozenset[str] = frozenset()
    withdrawn: frozenset[str] = frozenset()

    @cached_property
    def by_id(self) -> dict[str, Question]:
        return {q.id: q for q in self.questions}

    @cached_property
    def by_track(self) -> dict[str, tuple[Question, ...]]:
        out: dict[str, list[Question]] = {t.id: [] for t in self.tracks}
        for q in self.questions:
            out.setdefault(q.track, []).append(q)
        return {k: tuple(v) for k, v in out.items()}

    @cached_property
    def stale(self) -> frozenset[str]:
        """Questions written against an exam guide other than their track's current one."""
        return self._stale(self.questions)

    def _stale(self, questions: tuple[Question, ...]) -> frozenset[str]:
        guides = {t.id: t.exam.guide for t in self.tracks}
        return frozenset(
            q.id for q in questions if q.guide is not None and q.guide != guides.get(q.track)
        )

    @cached_property
    def outdated(self) -> frozenset[str]:
        """Questions whose `valid_for` runtime range the platform's runtime has passed."""
        return self._outdated(self.questions)

    def _outdated(self, questions: tuple[Question, ...]) -> frozenset[str]:
        if self.platform is None:
            return frozenset()
        rt = self.platform.runtime
        return frozenset(
            q.id
            for q in questions
            if q.valid_for is not None
            and q.valid_for.runtime is not None
            and q.valid_for.runtime.passed_by(rt)
        )

    @cached_property
    def retired(self) -> frozenset[str]:
        """Questions never drawn: written for an older guide, outdated by the runtime, or
        (a group's own) retired by a lead."""
        return self.stale | self.outdated | self.withdrawn

    def with_own(self, own: tuple[Question, ...], withdrawn: frozenset[str]) -> Content:
        """This content with a group's own questions added: one group's view. Built
        without validating the bank again (its look-ups are computed afresh)."""
        if not own:
            return self
        fields = {name: getattr(self, name) for name in type(self).model_fields}
        fields.update(
            questions=self.questions + own,
            own_ids=frozenset(q.id for q in own),
            withdrawn=withdrawn,
        )
        view = type(self).model_construct(**fields)
        # The bank's look-ups extended by the few own questions, not recomputed: a view is
        # made for every action that draws or shows a group's question.
        tracks = {k: list(v) for k, v in self.by_track.items()}
        for q in own:
            tracks.setdefault(q.track, []).append(q)
        view.__dict__.update(
            by_id={**self.by_id, **{q.id: q for q in own}},
            by_track={k: tuple(v) for k, v in tracks.items()},
            stale=self.stale | self._stale(own),
            outdated=self.outdated | self._outdated(own),
        )
        return view

    def track(self, track_id: str) -> Track:
        for t in self.tracks:
            if t.id == track_id:
                return t
        raise KeyError(track_id)

    def area(self, area_id: str) -> Area | None:
        return next((a for a in self.areas if a.id == area_id), None)

    @cached_property
    def checklist_items(self) -> dict[str, tuple[str, Item]]:
        """Every checkable item by upper-case id, with the list it belongs to."""
        out: dict[str, tuple[str, Item]] = {}
        for ph in self.phases:
            for it in ph.checklist:
                out[it.id.upper()] = (f"Phase {ph.number}: {ph.name}", it)
        for it in self.success:
            out[it.id.upper()] = ("Success checklist", it)
        for p in self.projects:
            for it in p.steps:
                out[it.id.upper()] = (f"Project {p.id}: {p.name}", it)
        return out
