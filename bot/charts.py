"""Pictures for replies: PNG bytes made in memory with matplotlib's Agg backend.

The object API (`Figure`, not `pyplot`) keeps no global state, so charts are safe to draw
from the thread pools the adapters use. Every chart stays well under 200 KB, and every
reply that carries one says the same in words (the image's alt text and the report).
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

MAX_BYTES = 200_000
DPI = 100
GREEN = "#2e7d32"
RED = "#c62828"
GREY = "#9e9e9e"
BLUE = "#1565c0"


@dataclass(frozen=True)
class DomainBar:
    name: str
    accuracy: float | None  # 0..1, None when unanswered
    answered: int


def _figure(width: float, height: float, constrained: bool = True) -> Any:
    """A figure; `constrained` lays it out for its labels, at the price of extra drawing
    passes (a chart with fixed margins sets them itself)."""
    from matplotlib.figure import Figure

    if not constrained:
        return Figure(figsize=(width, height), dpi=DPI)
    return Figure(figsize=(width, height), dpi=DPI, layout="constrained")


def _png(fig: Any) -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    data = b""
    for dpi in (DPI, DPI // 2):  # halving the resolution is never expected at these sizes
        buf = io.BytesIO()
        with warnings.catch_warnings():  # glyphs the font lacks (emoji in names) show as boxes
            warnings.simplefilter("ignore", UserWarning)
            fig.savefig(buf, format="png", dpi=dpi, metadata={"Software": None})
        data = buf.getvalue()
        if len(data) <= MAX_BYTES:
            break
    return data


def _short(name: str, width: int = 28) -> str:
    """A label as plain text: cut to `width`, and `$` escaped so matplotlib shows no math."""
    cut = name if len(name) <= width else name[: width - 1] + "…"
    return cut.replace("$", r"\$")


def progress_chart(
    domains: Sequence[DomainBar],
    pass_line: float,
    weekly_points: Sequence[tuple[str, int]],
    pass_label: str = "practice line",
) -> bytes:
    """Accuracy per exam domain against the pass line, and points per week."""
    fig = _figure(8.0, 4.2)
    left, right = fig.subplots(1, 2, width_ratios=(3, 2))
    names = [_short(d.name) for d in domains]
    values = [100 * (d.accuracy or 0.0) for d in domains]
    colours = [
        GREY if d.accuracy is None else (GREEN if d.accuracy >= pass_line else RED) for d in domains
    ]
    ys = list(range(len(domains)))
    left.barh(ys, values, color=colours)
    left.set_yticks(ys, names, fontsize=8)
    left.invert_yaxis()
    left.set_xlim(0, 100)
    left.set_xlabel("accuracy %")
    left.axvline(
        100 * pass_line,
        color="black",
        linestyle="--",
        linewidth=1,
        label=f"{100 * pass_line:.0f}% {pass_label}",
    )
    left.legend(loc="lower right", fontsize=7)
    for y, d in zip(ys, domains, strict=True):
        label = "no answers" if d.accuracy is None else f"{100 * d.accuracy:.0f}% of {d.answered}"
        left.text(1, y, label, va="center", fontsize=7, color="white" if d.accuracy else "black")
    left.set_title("Accuracy by exam domain", fontsize=10)

    labels = [w for w, _ in weekly_points]
    pts = [p for _, p in weekly_points]
    right.bar(range(len(pts)), pts, color=BLUE)
    right.set_xticks(range(len(pts)), labels, fontsize=7, rotation=45, ha="right")
    right.set_ylabel("points")
    right.set_title("Points per week", fontsize=10)
    if not any(pts):
        right.set_ylim(0, 10)
    return _png(fig)


def leaderboard_chart(rows: Sequence[tuple[str, int]]) -> bytes:
    """A horizontal bar chart of the top members' points, highest at the top."""
    shown = list(rows)[:10]
    fig = _figure(6.0, 0.9 + 0.38 * max(1, len(shown)))
    ax = fig.subplots()
    names = [_short(n, 24) for n, _ in shown]
    pts = [p for _, p in shown]
    ys = list(range(len(shown)))
    ax.barh(ys, pts, color=BLUE)
    ax.set_yticks(ys, names, fontsize=9)
    ax.invert_yaxis()
    ax.set_xlabel("points")
    top = max(pts, default=0)
    ax.set_xlim(0, max(10, top * 1.15))
    for y, p in zip(ys, pts, strict=True):
        ax.text(p, y, f" {p}", va="center", fontsize=8)
    ax.set_title("Top of the board", fontsize=10)
    return _png(fig)


@dataclass(frozen=True)
class MemberReadiness:
    name: str
    estimate: float  # 0..1
    low: float
    high: float


NAMED_ROWS = 40  # more members than this are drawn as an unlabelled spread


def readiness_chart(
    members: Sequence[MemberReadiness], pass_line: float, pass_label: str = "practice line"
) -> bytes:
    """Each member's estimated exam score with its 80% interval, lowest at the top, against
    the pass line; a large group is drawn without names (the report lists them)."""
    rows = sorted(members, key=lambda m: (m.estimate, m.name))
    named = len(rows) <= NAMED_ROWS
    height = 1.4 + 0.24 * max(1, len(rows)) if named else 6.0
    fig = _figure(7.0, height, constrained=False)  # fixed margins: one drawing pass
    left = 1.9 if named else 0.5  # inches: room for 24-character names
    fig.subplots_adjust(left=left / 7.0, right=0.97, top=1 - 0.35 / height, bottom=0.6 / height)
    ax = fig.subplots()
    ys = list(range(len(rows)))
    xs = [100 * m.estimate for m in rows]
    below = [100 * (m.estimate - m.low) for m in rows]
    above = [100 * (m.high - m.estimate) for m in rows]
    colours = [GREEN if m.estimate >= pass_line else RED for m in rows]
    if rows:
        ax.errorbar(
            xs,
            ys,
            xerr=[below, above],
            fmt="none",
            ecolor=GREY,
            elinewidth=1 if named else 0.6,
            capsize=2 if named else 0,
        )
        ax.scatter(xs, ys, c=colours, s=18 if named else 6, zorder=3)
    if named:
        ax.set_yticks(ys, [_short(m.name, 24) for m in rows], fontsize=8)
    else:
        ax.set_yticks([])
        ax.set_ylabel(f"{len(rows)} members, lowest estimate at the top", fontsize=8)
    ax.invert_yaxis()
    ax.set_ylim(len(rows) - 0.5 if rows else 0.5, -0.5)
    ax.set_xlim(0, 100)
    ax.set_xlabel("estimated exam score % (80% interval)")
    ax.axvline(
        100 * pass_line,
        color="black",
        linestyle="--",
        linewidth=1,
        label=f"{100 * pass_line:.0f}% {pass_label}",
    )
    ax.legend(loc="upper right", fontsize=7)  # the top rows are the lowest, on the left
    ax.set_title("Readiness by member", fontsize=10)
    return _png(fig)
