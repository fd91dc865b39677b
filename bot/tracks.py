"""The tracks commands accept and the ids help shows: whatever the content declares.

The code names no track or domain of its own, so a content pack for another certification
needs no code change: defaults are the content's first track, a `track` word is checked
against the loaded tracks, and help's examples are filled with the content's ids.
"""

from __future__ import annotations

from bot.content.models import Content, Track
from bot.errors import UserError


def default_track(content: Content) -> Track:
    """The track a new group starts on: the first one the curriculum lists."""
    return content.tracks[0]


def track_ids(content: Content) -> tuple[str, ...]:
    return tuple(t.id for t in content.tracks)


def parse_track(content: Content, raw: str, how: str = "track=") -> str:
    """A track id the content declares (any case); a mistake names the ones it does."""
    word = raw.strip().lower()
    if word in track_ids(content):
        return word
    known = " or ".join(f"{how}{t}" for t in track_ids(content))
    raise UserError(f"Unknown track {raw!r}. Use {known}.")


def example_ids(content: Content, track_id: str | None = None) -> dict[str, str]:
    """What help's examples put in place of `{track}`, `{domain}` and `{other_track}`: the
    group's track (or the first) and its first domain."""
    track = next((t for t in content.tracks if t.id == track_id), default_track(content))
    other = next((t for t in content.tracks if t.id != track.id), track)
    domain = track.domains[0].id if track.domains else "DOMAIN"
    return {"track": track.id, "domain": domain, "other_track": other.id}
