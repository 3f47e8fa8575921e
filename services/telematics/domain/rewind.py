"""Where to derive again from when rows arrive for a time already derived (a vehicle that
was offline sends its backlog after newer rows). Derivation restarts, with nothing open,
at a moment where nothing was open: the start of a trip or charging session that the late
rows fall in, or could have extended (a trip goes on after a gap under an hour), and so on
back, then re-derives forward over the late rows, correcting what it derived before.

At a trip's start no other trip was open, so trips before it need not be looked at again;
likewise for charging sessions. A run too short to have been kept (a trip under 10 m) is
not known, so the late rows are never joined to one.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from services.telematics.domain.points import GAP


@dataclass(frozen=True)
class Span:
    """When a trip (or a charging session) ran: stored, or still open."""

    started_at: datetime
    ended_at: datetime
    trip: bool


def rewind_start(
    moment: datetime, spans: Sequence[Span], quiet: frozenset[bool] = frozenset()
) -> tuple[datetime, frozenset[bool]] | None:
    """The start of the latest span of each kind before `moment` (`True`: trips, `False`:
    charging sessions; an earlier one had ended when it began), when it was open at `moment`
    or rows at `moment` could have extended it, unless its kind is known to be quiet there;
    the earlier of the two, with the kinds known to be quiet at it. None: nothing was open."""
    candidates = []
    for kind in (True, False):
        before = [span for span in spans if span.trip is kind and span.started_at < moment]
        latest = max(before, key=lambda span: span.started_at, default=None)
        if kind not in quiet and latest is not None and moment <= latest.ended_at + GAP:
            candidates.append(latest.started_at)
    if not candidates:
        return None
    start = min(candidates)
    return start, frozenset(span.trip for span in spans if span.started_at == start)
