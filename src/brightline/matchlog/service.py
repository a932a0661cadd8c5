"""Record and query match events. The caller owns the transaction.

Recording a match also counts it for the flood guard and queues a ``match`` webhook event, in the
same transaction: a committed match is always counted and notified, a rolled-back one never is.
"""

from __future__ import annotations

import enum
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from brightline.errors import InvalidInput
from brightline.events.flood_guard import count_matches
from brightline.events.models import EventType
from brightline.events.outbox import enqueue_events
from brightline.matching.service import Match
from brightline.matchlog.models import MatchEvent
from brightline.settings import FloodGuardSettings
from brightline.storage.base import utcnow

MAX_PAGE = 1000


class MatchSource(enum.StrEnum):
    UPLOAD = "upload"
    URL = "url"
    HASH = "hash"


def record_matches(
    *,
    session: Session,
    matches: Sequence[Match],
    source: MatchSource,
    content_sha256: str | None = None,
    api_key_id: int | None = None,
    request_id: str | None = None,
    flood_guard: FloodGuardSettings | None = None,
) -> list[int]:
    """Append one event per match, in the caller's transaction; returns the event ids.

    Each match also counts towards its entry's flood guard (``flood_guard``: the service's
    settings; defaults when not given) and is queued as a ``match`` webhook event whose payload
    says what matched and never anything about the content (no digest, file name or user text).
    """
    if not matches:
        return []
    now = utcnow()
    rows = [
        {
            "occurred_at": now,
            "bank_id": match.bank_id,
            "bank_name": match.bank,
            "entry_id": match.entry_id,
            "signal_type": match.signal_type,
            "value": match.value,
            "distance": match.distance,
            "source": source.value,
            "content_sha256": content_sha256,
            "api_key_id": api_key_id,
            "request_id": request_id,
        }
        for match in matches
    ]
    # In parameter order, so each id pairs with its match for the webhook payloads below.
    ids = [
        int(i)
        for i in session.scalars(
            insert(MatchEvent).returning(MatchEvent.id, sort_by_parameter_order=True), rows
        ).all()
    ]
    occurred_at = now.isoformat().replace("+00:00", "Z")
    enqueue_events(
        session=session,
        event_type=EventType.MATCH,
        events=[
            (
                f"match-{event_id}",
                {
                    "match_event_id": event_id,
                    "bank": match.bank,
                    "bank_id": match.bank_id,
                    "entry_id": match.entry_id,
                    "signal_type": match.signal_type,
                    "value": match.value,
                    "distance": match.distance,
                    "source": source.value,
                    "occurred_at": occurred_at,
                },
            )
            for event_id, match in zip(ids, matches, strict=True)
        ],
        now=now,
    )
    count_matches(
        session=session,
        matches_by_entry=Counter(match.entry_id for match in matches),
        now=now,
        settings=flood_guard or FloodGuardSettings(),
    )
    return ids


def query_match_events(
    *,
    session: Session,
    since: datetime | None = None,
    until: datetime | None = None,
    bank: str | None = None,
    signal_type: str | None = None,
    after_id: int = 0,
    limit: int = 100,
) -> list[MatchEvent]:
    """Events in id order (oldest first), after ``after_id``: page with the last id seen."""
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidInput(f"limit must be between 1 and {MAX_PAGE}")
    since, until = _in_utc("since", since), _in_utc("until", until)
    query = select(MatchEvent).where(MatchEvent.id > after_id)
    if since is not None:
        query = query.where(MatchEvent.occurred_at >= since)
    if until is not None:
        query = query.where(MatchEvent.occurred_at < until)
    if bank is not None:
        query = query.where(MatchEvent.bank_name == bank)
    if signal_type is not None:
        query = query.where(MatchEvent.signal_type == signal_type)
    return list(session.scalars(query.order_by(MatchEvent.id).limit(limit)))


def _in_utc(name: str, moment: datetime | None) -> datetime | None:
    """``moment`` in UTC, converted here rather than by the column type, where a time at the
    edge of the calendar (``9999-12-31T23:59-05:00``) would overflow inside the database call and
    answer 503 for what is the caller's mistake."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        raise InvalidInput(f"{name} needs a time zone (e.g. 2026-12-01T00:00:00Z)")
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        raise InvalidInput(f"{name} is outside the range of dates that can be searched") from None
