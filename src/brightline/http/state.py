"""What every request handler of one worker process shares."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import cast

from fastapi import Request
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from brightline.http.auth_cache import AuthCache
from brightline.matching.indexes import MatchIndexes
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
    auth: AuthCache = field(default_factory=AuthCache)
    ready: bool = False

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One transaction: committed if the block succeeds, rolled back if it raises."""
        with self.sessions.begin() as session:
            yield session


def service_state(request: Request) -> ServiceState:
    return cast(ServiceState, request.app.state.brightline)
