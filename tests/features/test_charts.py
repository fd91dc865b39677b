"""The pictures: progress and leaderboard charts."""

from __future__ import annotations

import io

from PIL import Image as PILImage

from bot.charts import DomainBar, leaderboard_chart, progress_chart


def _check_png(png: bytes) -> tuple[int, int]:
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert len(png) < 200_000
    with PILImage.open(io.BytesIO(png)) as im:
        im.verify()
    with PILImage.open(io.BytesIO(png)) as im:
        return im.size


def test_progress_chart_is_a_small_valid_png() -> None:
    bars = [DomainBar(f"Domain number {i} with a long name", i / 5, i * 3) for i in range(5)]
    bars.append(DomainBar("Unanswered", None, 0))
    weeks = [(f"{d:02d} Mar", d * 7) for d in range(8)]
    w, h = _check_png(progress_chart(bars, 0.7, weeks))
    assert (w, h) == (800, 420)


def test_leaderboard_chart_is_a_small_valid_png() -> None:
    rows = [(f"Member {i} 👩‍💻 <@everyone> $x", 200 - i * 15) for i in range(12)]
    w, h = _check_png(leaderboard_chart(rows))
    assert w == 600 and h < 600
    assert _check_png(leaderboard_chart([]))[0] == 600
