"""API v1 match log: every reported match, by time, bank and signal type."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request

from brightline.http.auth import Auditor
from brightline.http.routes.matching import ERRORS
from brightline.http.schemas import MatchEventOut, MatchEventsOut
from brightline.http.state import service_state
from brightline.matchlog import query_match_events
from brightline.matchlog.service import MAX_PAGE

router = APIRouter(prefix="/v1/match-events", tags=["match log"])


@router.get("", response_model=MatchEventsOut, responses=ERRORS, summary="Query the match log")
def list_match_events(
    request: Request,
    _: Auditor,
    since: Annotated[datetime | None, Query(description="From this time (inclusive).")] = None,
    until: Annotated[datetime | None, Query(description="Before this time.")] = None,
    bank: Annotated[str | None, Query(max_length=200)] = None,
    signal_type: Annotated[str | None, Query(max_length=64)] = None,
    after_id: Annotated[int, Query(ge=0, le=2**62)] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
) -> MatchEventsOut:
    """Oldest first. To page, pass the ``next_after_id`` of one answer as ``after_id``."""
    state = service_state(request)
    with state.transaction() as session:
        events = query_match_events(
            session=session,
            since=since,
            until=until,
            bank=bank,
            signal_type=signal_type,
            after_id=after_id,
            limit=limit,
        )
        out = [
            MatchEventOut(
                id=event.id,
                occurred_at=event.occurred_at,
                bank=event.bank_name,
                entry_id=event.entry_id,
                signal_type=event.signal_type,
                value=event.value,
                distance=event.distance,
                source=event.source,
                content_sha256=event.content_sha256,
            )
            for event in events
        ]
    return MatchEventsOut(events=out, next_after_id=out[-1].id if len(out) == limit else None)
