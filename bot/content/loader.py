"""Load content/ and report every problem as `file:line: id: problem`.

Authors fix content in batches, so validation never stops at the first problem: it walks
every file and collects them all. YAML node marks give the line of each question.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bot.content.models import (
    OWN_ID_RE,
    Area,
    Content,
    Item,
    Phase,
    Platform,
    Project,
    Question,
    Resource,
    Track,
)
from bot.content.rules import Known, M, parse_question, validated


@dataclass(frozen=True)
class Problem:
    file: str
    line: int
    id: str
    message: str

    def __str__(self) -> str:
        if not self.file:  # the content folder itself: the message names it
            return self.message
        return f"{self.file}:{self.line}: {self.id}: {self.message}"


class ContentError(Exception):
    """Invalid content; `problems` lists all of it."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


_Base: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml: ~5x faster


class _LineLoader(_Base):  # type: ignore[valid-type,misc]
    """A SafeLoader that records each mapping's first line under the key `__line__`."""


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    mapping: dict[Any, Any] = loader.construct_mapping(node, deep=True)
    mapping["__line__"] = node.start_mark.line + 1
    return mapping


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _strip_lines(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: _strip_lines(v) for k, v in obj.items() if k != "__line__"}
    if isinstance(obj, list):
        return [_strip_lines(v) for v in obj]
    return obj


class _Reader:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.problems: list[Problem] = []

    def rel(self, path: Path) -> str:
        try:
            return str(path.relative_to(self.root.parent))
        except ValueError:
            return str(path)

    def add(self, path: Path, line: int, ident: str, message: str) -> None:
        self.problems.append(Problem(self.rel(path), line, ident, message))

    def load(self, path: Path) -> Any:
        if not path.exists():
            self.add(path, 0, "-", "file is missing")
            return None
        try:
            return yaml.load(path.read_text(encoding="utf-8"), Loader=_LineLoader)
        except yaml.MarkedYAMLError as e:
            mark = e.problem_mark or e.context_mark
            line = mark.line + 1 if mark else 0
            self.add(path, line, "-", f"malformed YAML: {e.problem or e}")
        except yaml.YAMLError as e:
            self.add(path, 0, "-", f"malformed YAML: {e}")
        return None

    def model(self, cls: type[M], raw: Any, path: Path, ident: str) -> M | None:
        line = raw.get("__line__", 0) if isinstance(raw, dict) else 0
        found, problems = validated(cls, _strip_lines(raw))
        for problem in problems:
            self.add(path, line, ident, problem)
        return found

    def models(self, cls: type[M], raws: Any, path: Path, what: str, key: str = "id") -> list[M]:
        if raws is None:
            return []
        if not isinstance(raws, list):
            self.add(path, 0, "-", f"{what} must be a list")
            return []
        out: list[M] = []
        for raw in raws:
            ident = str(raw.get(key, "?")) if isinstance(raw, dict) else "?"
            m = self.model(cls, raw, path, ident)
            if m is not None:
                out.append(m)
        return out


def load_content(root: Path | str) -> Content:
    """Load and validate content/; raise `ContentError` listing every problem."""
    content, problems = check_content(root)
    if problems or content is None:
        raise ContentError(problems)
    return content


def check_content(root: Path | str) -> tuple[Content | None, list[Problem]]:
    root = Path(root)
    r = _Reader(root)
    if not root.is_dir():
        what = "is a file, not a folder" if root.exists() else "not found"
        r.problems.append(
            Problem(
                "",
                0,
                "-",
                f"content directory {what}: {root} (set STUDYBOT_CONTENT_DIR to the folder that "
                "holds curriculum.yaml)",
            )
        )
        return None, r.problems

    cur_path = root / "curriculum.yaml"
    cur = r.load(cur_path) or {}
    tracks = r.models(Track, cur.get("tracks"), cur_path, "tracks")
    phases = r.models(Phase, cur.get("phases"), cur_path, "phases", key="number")
    areas = r.models(Area, cur.get("areas"), cur_path, "areas")
    resources = r.models(Resource, cur.get("resources"), cur_path, "resources", key="title")
    platform = None
    if cur.get("platform") is not None:
        platform = r.model(Platform, cur["platform"], cur_path, "platform")
    if not tracks:
        r.add(cur_path, 0, "-", "no tracks defined")

    chk_path = root / "checklists.yaml"
    chk = r.load(chk_path) or {}
    success = r.models(Item, chk.get("success"), chk_path, "success")
    projects = r.models(Project, chk.get("projects"), chk_path, "projects")

    _check_curriculum(r, cur_path, chk_path, tracks, phases, areas, resources, success, projects)

    questions = _load_questions(r, root / "questions", tracks, phases, areas)
    if r.problems:
        return None, r.problems
    content = Content(
        tracks=tuple(tracks),
        phases=tuple(sorted(phases, key=lambda p: p.number)),
        areas=tuple(areas),
        resources=tuple(resources),
        success=tuple(success),
        projects=tuple(projects),
        questions=tuple(questions),
        platform=platform,
    )
    return content, []


def _check_curriculum(
    r: _Reader,
    cur_path: Path,
    chk_path: Path,
    tracks: list[Track],
    phases: list[Phase],
    areas: list[Area],
    resources: list[Resource],
    success: list[Item],
    projects: list[Project],
) -> None:
    for t in tracks:
        sections = {s.id for s in t.guide_sections}
        if not sections:
            r.add(cur_path, 0, t.id, "no guide_sections: list the exam guide's sections")
        elif abs(sum(s.weight for s in t.guide_sections) - 100) > 0.5:
            r.add(cur_path, 0, t.id, "guide_sections weights must add up to 100")
        for d in t.domains:
            if d.weight_min > d.weight_max:
                r.add(cur_path, 0, f"{t.id}/{d.id}", "weight_min is above weight_max")
            if d.guide_section and sections and d.guide_section not in sections:
                r.add(cur_path, 0, f"{t.id}/{d.id}", f"unknown guide_section {d.guide_section!r}")
    numbers = [p.number for p in phases]
    if sorted(numbers) != list(range(1, len(numbers) + 1)):
        r.add(cur_path, 0, "phases", f"phase numbers must run 1..N, got {numbers}")
    area_ids = {a.id for a in areas}
    for res in resources:
        for a in res.areas:
            if a not in area_ids:
                r.add(cur_path, 0, res.title, f"unknown area {a!r}")
    seen: Counter[str] = Counter()
    items = [it for p in phases for it in p.checklist] + success
    items += [it for p in projects for it in p.steps]
    for it in items:
        seen[it.id.upper()] += 1
    for ident, n in seen.items():
        if n > 1:
            r.add(chk_path, 0, ident, "checklist item id used more than once")


def _load_questions(
    r: _Reader, qdir: Path, tracks: list[Track], phases: list[Phase], areas: list[Area]
) -> list[Question]:
    known = Known.of(tracks, phases, areas)
    files = sorted(qdir.glob("*/*.yaml")) if qdir.is_dir() else []
    if not files:
        r.add(qdir, 0, "-", "no question files (questions/<track>/*.yaml)")
    out: list[Question] = []
    first_seen: dict[str, str] = {}
    for path in files:
        raws = r.load(path)
        if raws is None:
            continue
        if not isinstance(raws, list):
            r.add(path, 1, "-", "a question file must be a YAML list of questions")
            continue
        for raw in raws:
            if not isinstance(raw, dict):
                r.add(path, 0, "?", "each question must be a mapping")
                continue
            line = int(raw.get("__line__", 0))
            qid = str(raw.get("id", "?"))
            where = f"{r.rel(path)}:{line}"
            if qid in first_seen:
                r.add(path, line, qid, f"duplicate id (first at {first_seen[qid]})")
            else:
                first_seen[qid] = where
            if OWN_ID_RE.match(qid):
                r.add(path, line, qid, "ids like g12-3 are kept for groups' own questions")
            data = {**_strip_lines(raw), "file": r.rel(path), "line": line}
            q, problems = parse_question(data, known)
            for problem in problems:
                r.add(path, line, qid, problem)
            if q is not None:
                if q.track != path.parent.name:
                    r.add(path, line, qid, f"track {q.track!r} is in the folder of another track")
                out.append(q)
    return out


def stats(content: Content) -> dict[str, Any]:
    """The bank's distribution, for authors and for scripts (`content stats --json`)."""
    out: dict[str, Any] = {"total": len(content.questions), "tracks": {}}
    for t in content.tracks:
        qs = content.by_track.get(t.id, ())
        positions: Counter[str] = Counter(a for q in qs for a in q.answer)
        out["tracks"][t.id] = {
            "total": len(qs),
            "multi_answer": sum(1 for q in qs if q.multi),
            "stale": sorted(q.id for q in qs if q.id in content.stale),
            "outdated": sorted(q.id for q in qs if q.id in content.outdated),
            "section": {
                sec.id: {
                    "questions": sum(
                        1 for q in qs if q.guide_section == sec.id and q.id not in content.retired
                    ),
                    "target": t.bank_target(sec),
                }
                for sec in t.guide_sections
            },
            "domain": {d.id: sum(1 for q in qs if q.domain == d.id) for d in t.domains},
            "area": dict(sorted(Counter(q.area for q in qs).items())),
            "phase": {str(k): v for k, v in sorted(Counter(q.phase for q in qs).items())},
            "difficulty": {str(k): v for k, v in sorted(Counter(q.difficulty for q in qs).items())},
            "answer_position": dict(sorted(positions.items())),
        }
    return out
