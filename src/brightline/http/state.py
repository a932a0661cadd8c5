"""What every request handler of one worker process shares."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from typing import cast

from fastapi import Request
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from brightline.clearinghouse.dashboard import DashboardCache
from brightline.custody import custody_key
from brightline.evidence import EvidenceStore
from brightline.http.auth_cache import AuthCache
from brightline.matching.indexes import MatchIndexes
from brightline.matching.service import pdq_query_distance
from brightline.settings import Settings
from brightline.signals import HashingLimits
from brightline.signals.registry import SignalTypeRegistry


@dataclass
class ServiceState:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    registry: SignalTypeRegistry
    indexes: MatchIndexes
    limits: HashingLimits
    evidence: EvidenceStore
    """Where media that matched is kept, encrypted, when a request flags it for review."""
    auth: AuthCache = field(default_factory=AuthCache)
    dashboards: DashboardCache = field(default_factory=DashboardCache)
    """The clearinghouse dashboard per scope, rebuilt after each analysis run."""
    ready: bool = False
    _distance: tuple[int, float] | None = None

    def cached_pdq_query_distance(self) -> int | None:
        """The distance read by :meth:`pdq_query_distance`, if still fresh; None if it must be
        read again (which needs a session)."""
        if self._distance is None:
            return None
        if time.monotonic() - self._distance[1] > self.settings.service.index_sync_seconds:
            return None
        return self._distance[0]

    def pdq_query_distance(self, session: Session) -> int:
        """How far PDQ lookups search: the largest enabled bank threshold, re-read at most once
        per index sync interval (it is one query saved on every lookup). A threshold raised
        moments ago applies from the next read; each hit is still checked against its own
        bank's current threshold."""
        now = time.monotonic()
        if (
            self._distance is None
            or now - self._distance[1] > self.settings.service.index_sync_seconds
        ):
            self._distance = (pdq_query_distance(session=session), now)
        return self._distance[0]

    @cached_property
    def custody_key(self) -> bytes:
        """The chain-of-custody key, read once (views of preserved evidence are recorded)."""
        return custody_key(self.settings)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One transaction: committed if the block succeeds, rolled back if it raises."""
        with self.sessions.begin() as session:
            yield session


def service_state(request: Request) -> ServiceState:
    return cast(ServiceState, request.app.state.brightline)
